// The tax endpoints of /api/v1/ (issue #15): realised gains, lots, loss harvesting, documents.
// The shapes are names for the types `make api-types` generates from the OpenAPI schema
// (schema.d.ts), as in types.ts. Money arrives as decimal strings ("1234.50") and stays a string.
import { get, patch, post } from "./client";
import type { components } from "./schema";
import type { AccountSummary } from "./types";

type Schemas = components["schemas"];

// --- Shapes --------------------------------------------------------------------------------

export type AccountType = Schemas["AccountTypeEnum"];
export type LotMethod = Schemas["LotMethodEnum"];
export type Term = Schemas["TermEnum"];
/** Proceeds, cost basis, gain, wash-sale disallowed and reportable (gain + disallowed). */
export type GainFigures = Schemas["TermTotalsOutput"];
export type IraRoom = Schemas["IraRoomOutput"];
/** GET tax/summary/?year=: the one computation behind this page and the annual tax report. */
export type TaxSummary = Schemas["TaxSummaryOutput"];
export type LotSaleRow = Schemas["LotSaleOutput"];
/** GET realized-gains/?year=: every taxable account's sales of the year. */
export type RealizedGains = Schemas["RealisedGainsOutput"];
/** GET accounts/{id}/lots/: the account's open lots at the last close. */
export type TaxLot = Schemas["LotOutput"];
export type HarvestLot = Schemas["TaxHarvestLotOutput"];
export type HarvestKind = Schemas["TaxHarvestKindEnum"];
export type HarvestStatus = Schemas["RebalanceStatusEnum"];
/** A proposed tax-loss harvest (or the switch back to the plan's fund), with its preview. */
export type TaxHarvest = Schemas["TaxHarvestOutput"];
export type DocumentKind = Schemas["DocumentKindEnum"];
export type TaxDocument = Schemas["DocumentOutput"];
/** POST documents/: a tax report for a year, or an account's statement for a month. */
export type DocumentRequest = Schemas["DocumentGenerateInputRequest"];
export type AccountPatch = Schemas["PatchedAccountPatchInputRequest"];

// --- Account types and lot methods: the words the pages use ----------------------------------

/** Each account type with its name in the app and what it means for the client. */
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

/** The short form for a label next to a name: "Taxable", "Traditional IRA", "Roth IRA". */
export function accountTypeShort(value: string | null | undefined): string {
  return value === "taxable" ? "Taxable" : accountTypeLabel(value);
}

/** An account's name with its type, unless the name says it already: "House fund (Taxable)". */
export function accountNameWithType(name: string, accountType: string | null | undefined): string {
  const type = accountTypeShort(accountType);
  return !accountType || name.toLowerCase().includes(type.toLowerCase()) ? name : `${name} (${type})`;
}

export function isIra(value: string | null | undefined): boolean {
  return value === "traditional_ira" || value === "roth_ira";
}

/** The server's rule for `suggested_account_type`, for a goal not made yet: an IRA for retirement. */
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

// --- Calls ---------------------------------------------------------------------------------

export const tax = {
  /** Without a year: the year of the last market close. */
  summary: (year: number | null, signal?: AbortSignal) =>
    get<TaxSummary>("tax/summary/", { signal, query: { year } }),
  realizedGains: (year: number | null, signal?: AbortSignal) =>
    get<RealizedGains>("realized-gains/", { signal, query: { year } }),
  lots: (accountId: number, signal?: AbortSignal) => get<TaxLot[]>(`accounts/${accountId}/lots/`, { signal }),
  account: (accountId: number, signal?: AbortSignal) => get<AccountSummary>(`accounts/${accountId}/`, { signal }),
  setLotMethod: (accountId: number, lotMethod: LotMethod) =>
    patch<AccountSummary>(`accounts/${accountId}/`, { lot_method: lotMethod } satisfies AccountPatch),
  harvests: (status: HarvestStatus | null, signal?: AbortSignal) =>
    get<TaxHarvest[]>("tax-harvests/", { signal, query: { status } }),
  /** Sells and buys at the next close: only after the client has confirmed the preview. */
  approveHarvest: (id: number) => post<TaxHarvest>(`tax-harvests/${id}/approve/`),
  rejectHarvest: (id: number) => post<TaxHarvest>(`tax-harvests/${id}/reject/`),
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
export function replacementWhy(harvest: Pick<TaxHarvest, "kind" | "sell" | "buy">): string {
  const exposure = exposureOf(harvest.buy) ?? exposureOf(harvest.sell);
  if (harvest.kind === "switch_back") {
    return (
      `Back to ${harvest.buy}, your plan's fund, now that the 30-day wash-sale window has passed` +
      (exposure ? `: the same ${exposure} exposure.` : ".")
    );
  }
  return (
    `${harvest.buy} replaces ${harvest.sell}: it keeps your ${exposure ?? "market"} exposure while ` +
    "the loss counts (it tracks a different index, so the wash-sale rule doesn't disallow the loss)."
  );
}
