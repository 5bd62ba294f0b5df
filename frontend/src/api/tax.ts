// The tax endpoints of /api/v1/ (issue #15): realised gains, lots, loss harvesting, documents.
// Hand-typed for now, written against the shapes the API promises; once the serializers land,
// `make api-types` generates them and these interfaces become names for the generated ones
// (as in types.ts). Money arrives as decimal strings ("1234.50") and stays a string.
import { get, patch, post } from "./client";
import type { AccountSummary, Goal } from "./types";

// --- Account types and lot methods ---------------------------------------------------------

export type AccountType = "taxable" | "traditional_ira" | "roth_ira";
export type LotMethod = "fifo" | "hifo" | "tax_min";

/** The fields a goal now carries (until schema.d.ts has them). */
export interface GoalTaxFields {
  account_type?: AccountType;
  suggested_account_type?: AccountType;
}
export type TaxedGoal = Goal & GoalTaxFields;

/** The fields an account now carries (until schema.d.ts has them). */
export interface AccountTaxFields {
  account_type?: AccountType;
  lot_method?: LotMethod;
}
export type TaxedAccount = AccountSummary & AccountTaxFields;

export const ACCOUNT_TYPES: readonly (readonly [AccountType, string, string])[] = [
  [
    "taxable",
    "Taxable account",
    "No limits on what you put in or take out; dividends and gains are taxed each year, and we harvest losses to lower the bill.",
  ],
  [
    "traditional_ira",
    "Traditional IRA",
    "Contributions may lower this year's taxes and growth is tax-deferred; withdrawals are taxed as income, and each year's contributions are capped.",
  ],
  [
    "roth_ira",
    "Roth IRA",
    "You contribute after tax; growth and withdrawals after age 59½ are tax-free, and each year's contributions are capped.",
  ],
];

export function accountTypeLabel(value: string | null | undefined): string {
  if (!value) return "—";
  return ACCOUNT_TYPES.find(([v]) => v === value)?.[1] ?? value;
}

/** The server's suggestion for a new goal (`suggested_account_type`): an IRA for retirement. */
export function suggestedAccountType(goalType: string | null | undefined): AccountType {
  return goalType === "retirement" ? "traditional_ira" : "taxable";
}

export const LOT_METHODS: readonly (readonly [LotMethod, string, string])[] = [
  [
    "tax_min",
    "Lowest tax (recommended)",
    "Sells the lots that cost you least in tax first: losses, then long-term gains, short-term gains last.",
  ],
  ["hifo", "Highest cost first", "Sells the lots you paid most for first, so the gain is usually smallest."],
  ["fifo", "First in, first out", "Sells the oldest lots first."],
];

export function lotMethodLabel(value: string | null | undefined): string {
  if (!value) return "—";
  return LOT_METHODS.find(([v]) => v === value)?.[1] ?? value;
}

// --- Shapes --------------------------------------------------------------------------------

export type Term = "short" | "long";

export interface GainFigures {
  proceeds: string;
  cost_basis: string;
  gain: string;
  wash_disallowed: string;
  /** gain + wash_disallowed: what counts for tax. */
  reportable: string;
}

export interface IraRoom {
  year: number;
  limit: string;
  contributed: string;
  room: string;
}

/** GET tax/summary/?year=: the one computation behind this page and the annual tax report. */
export interface TaxSummary {
  year: number;
  realized: { short_term: GainFigures; long_term: GainFigures; total: GainFigures };
  wash_sales: { count: number; disallowed: string };
  dividends: string;
  fees: string;
  harvested_losses: string;
  estimated_tax_saved: string;
  /** null when the client has no IRA. */
  ira: IraRoom | null;
}

export interface LotSaleRow {
  id: number;
  account: number;
  ticker: string;
  acquired_on: string;
  sold_on: string;
  quantity: string;
  proceeds: string;
  cost_basis: string;
  gain: string;
  wash_disallowed: string;
  term: Term;
}

/** GET realized-gains/?year=: every taxable account's sales of the year. */
export interface RealizedGains {
  year: number;
  short_term: GainFigures;
  long_term: GainFigures;
  total: GainFigures;
  sales: LotSaleRow[];
}

/** GET accounts/{id}/lots/: the account's open lots at the last close. */
export interface TaxLot {
  id: number;
  ticker: string;
  acquired_on: string;
  /** The holding period runs from here (a washed loss carries the older lot's date). */
  holding_from: string | null;
  term: Term;
  quantity: string;
  remaining: string;
  unit_cost: string;
  cost_basis: string;
  price: string;
  value: string;
  unrealised_gain: string;
  basis_adjustment: string;
}

export interface HarvestLot {
  lot: number;
  acquired_on: string;
  units: string;
  unit_cost: string;
  cost_basis: string;
  proceeds: string;
  gain: string;
  term: Term;
}

export type HarvestKind = "harvest" | "switch_back";
export type HarvestStatus = "pending" | "approved" | "executed" | "rejected" | "expired" | "failed";

/** A proposed tax-loss harvest (or the switch back to the plan's fund), with its preview. */
export interface TaxHarvest {
  id: number;
  account: number;
  kind: HarvestKind;
  status: HarvestStatus | string;
  market_date: string;
  sell_ticker: string;
  buy_ticker: string;
  units: string;
  price: string;
  proceeds: string;
  buy_units: string;
  buy_price: string;
  lots: HarvestLot[];
  short_term_gain: string;
  long_term_gain: string;
  tax_rate_short: string;
  tax_rate_long: string;
  tax_saved: string;
  reason: string;
  created_at: string;
}

/** The API names the funds `sell` and `buy`; the pages read `sell_ticker` and `buy_ticker`. */
type HarvestWire = Omit<TaxHarvest, "sell_ticker" | "buy_ticker"> &
  Partial<Pick<TaxHarvest, "sell_ticker" | "buy_ticker">> & { sell?: string; buy?: string };

export function normaliseHarvest(raw: HarvestWire): TaxHarvest {
  return { ...raw, sell_ticker: raw.sell_ticker ?? raw.sell ?? "", buy_ticker: raw.buy_ticker ?? raw.buy ?? "" };
}

export type DocumentKind = "statement" | "tax_report";

export interface TaxDocument {
  id: number;
  kind: DocumentKind;
  title: string;
  account: number | null;
  period_start: string;
  period_end: string;
  created_at: string;
  pdf_url: string;
  csv_url: string;
}

export type DocumentRequest =
  | { kind: "tax_report"; year: number }
  | { kind: "statement"; account: number; year: number; month: number };

// --- Calls ---------------------------------------------------------------------------------

export const tax = {
  /** Without a year: the year of the last market close. */
  summary: (year: number | null, signal?: AbortSignal) =>
    get<TaxSummary>("tax/summary/", { signal, query: { year } }),
  realizedGains: (year: number | null, signal?: AbortSignal) =>
    get<RealizedGains>("realized-gains/", { signal, query: { year } }),
  lots: (accountId: number, signal?: AbortSignal) => get<TaxLot[]>(`accounts/${accountId}/lots/`, { signal }),
  account: (accountId: number, signal?: AbortSignal) => get<TaxedAccount>(`accounts/${accountId}/`, { signal }),
  setLotMethod: (accountId: number, lotMethod: LotMethod) =>
    patch<TaxedAccount>(`accounts/${accountId}/`, { lot_method: lotMethod }),
  harvests: async (status: HarvestStatus | null, signal?: AbortSignal) =>
    (await get<HarvestWire[]>("tax-harvests/", { signal, query: { status } })).map(normaliseHarvest),
  /** Sells and buys at the next close: only after the client has confirmed the preview. */
  approveHarvest: async (id: number) => normaliseHarvest(await post<HarvestWire>(`tax-harvests/${id}/approve/`)),
  rejectHarvest: async (id: number) => normaliseHarvest(await post<HarvestWire>(`tax-harvests/${id}/reject/`)),
  documents: (kind: DocumentKind | null, signal?: AbortSignal) =>
    get<TaxDocument[]>("documents/", { signal, query: { kind } }),
  createDocument: (body: DocumentRequest) => post<TaxDocument>("documents/", body),
};

// --- Wording -------------------------------------------------------------------------------

/** What each pair of funds holds: a replacement keeps the same exposure. */
const EXPOSURE: Record<string, string> = {
  VTI: "US stock",
  SPY: "US stock",
  VEU: "international stock",
  EFA: "international stock",
  BND: "US bond",
  AGG: "US bond",
  VNQ: "US real estate",
  IYR: "US real estate",
};

export function exposureOf(ticker: string): string | null {
  return EXPOSURE[ticker.toUpperCase()] ?? null;
}

/** Why the replacement fund: the exposure stays while the loss counts for tax. */
export function replacementWhy(harvest: Pick<TaxHarvest, "kind" | "sell_ticker" | "buy_ticker">): string {
  const exposure = exposureOf(harvest.buy_ticker) ?? exposureOf(harvest.sell_ticker);
  if (harvest.kind === "switch_back") {
    return (
      `Back to ${harvest.buy_ticker}, your plan's fund, now that the 30-day wash-sale window has passed` +
      (exposure ? `: the same ${exposure} exposure.` : ".")
    );
  }
  return (
    `${harvest.buy_ticker} replaces ${harvest.sell_ticker}: it keeps your ${exposure ?? "market"} exposure while ` +
    "the loss counts (it tracks a different index, so the wash-sale rule doesn't disallow the loss)."
  );
}
