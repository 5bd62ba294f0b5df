// Display formatting. Money arrives as decimal strings and is handed to Intl as a string, so
// "0.10" + rounding never passes through binary floating point.

type Numeric = string | number;

const cache = new Map<string, Intl.NumberFormat>();

function formatter(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat("en-US", options);
    cache.set(key, f);
  }
  return f;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

function asIntl(value: Numeric): Intl.StringNumericLiteral | number {
  if (typeof value === "number") return value;
  const trimmed = value.trim();
  if (!DECIMAL.test(trimmed)) throw new RangeError(`Not a decimal: ${value}`);
  return trimmed as Intl.StringNumericLiteral;
}

/** $1,234.50 — or "—" when there is no value. */
export function formatMoney(
  value: Numeric | null | undefined,
  currency = "USD",
  options: { whole?: boolean; signed?: boolean } = {},
): string {
  if (value === null || value === undefined || value === "") return "—";
  const digits = options.whole ? 0 : 2;
  const key = `money:${currency}:${digits}:${options.signed ? 1 : 0}`;
  return formatter(key, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: options.signed ? "exceptZero" : "auto",
  }).format(asIntl(value));
}

/** A gain or loss: +$1,000.00, −$1,234.50 (a true minus sign, as the Money page writes it), $0.00. */
export function formatGain(value: Numeric | null | undefined, currency = "USD"): string {
  return formatMoney(value, currency, { signed: true }).replace(/^-/, "\u2212");
}

/** $1.2M, $350K: chart axes and tight spaces. */
export function formatMoneyCompact(value: Numeric, currency = "USD"): string {
  return formatter(`compact:${currency}`, {
    style: "currency",
    currency,
    notation: "compact",
    maximumFractionDigits: 1,
    trailingZeroDisplay: "stripIfInteger",
  }).format(asIntl(value));
}

/** A fraction ("0.0540") as a percentage: 5.4%. */
export function formatPercent(
  value: Numeric | null | undefined,
  options: { digits?: number; signed?: boolean } = {},
): string {
  if (value === null || value === undefined || value === "") return "—";
  const digits = options.digits ?? 1;
  return formatter(`pct:${digits}:${options.signed ? 1 : 0}`, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: options.signed ? "exceptZero" : "auto",
  }).format(asIntl(value));
}

/** A rate ("0.0025") as a percentage with up to two decimals: 0.25%, 1%, 0.05%. */
export function formatRate(value: Numeric | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return formatter("rate", {
    style: "percent",
    minimumFractionDigits: 0,
    maximumFractionDigits: 2,
  }).format(asIntl(value));
}

/** Add decimal strings exactly (no floats): ["1.05", "2.1"] → "3.15". */
export function sumDecimal(values: string[]): string {
  const parts = values.map((v) => {
    const trimmed = v.trim();
    if (!DECIMAL.test(trimmed)) throw new RangeError(`Not a decimal: ${v}`);
    const negative = trimmed.startsWith("-");
    const [whole = "0", fraction = ""] = trimmed.replace(/^-/, "").split(".");
    return { negative, whole, fraction };
  });
  const scale = Math.max(0, ...parts.map((p) => p.fraction.length));
  let total = 0n;
  for (const p of parts) {
    const units = BigInt(p.whole + p.fraction.padEnd(scale, "0"));
    total += p.negative ? -units : units;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale ? `.${fraction}` : ""}`;
}

/** Is the string a positive amount with at most two decimals? Commas and a $ are allowed. */
export function normaliseAmount(input: string): string | null {
  const cleaned = input.replace(/[\s,$]/g, "");
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(cleaned)) return null;
  if (!/[1-9]/.test(cleaned)) return null; // zero, however written
  const [whole = "0", fraction = ""] = cleaned.split(".");
  const trimmedWhole = whole.replace(/^0+(?=\d)/, "");
  return fraction ? `${trimmedWhole}.${fraction.padEnd(2, "0")}` : `${trimmedWhole}.00`;
}

/** The server's limits on a deposit or withdrawal (CashFlowInputSerializer). */
export const MIN_CASH_FLOW = "0.01";
export const MAX_CASH_FLOW = "10000000.00";
/** A recurring deposit's limits (RecurringDepositInputSerializer). */
export const RECURRING_LIMITS = { min: "1.00", max: "1000000.00" } as const;

export type AmountCheck = { amount: string; problem: null } | { amount: null; problem: string };

/**
 * Check a typed amount against the server's limits, with a message for each way it can be
 * wrong (empty, not a number, too many decimals, too small, too large) — so an amount the
 * server would refuse is never sent. Commas, spaces and a $ are allowed.
 */
export function checkAmount(
  input: string,
  limits: { min?: string; max?: string } = {},
): AmountCheck {
  const min = limits.min ?? MIN_CASH_FLOW;
  const max = limits.max ?? MAX_CASH_FLOW;
  const cleaned = input.replace(/[\s,$]/g, "");
  const fail = (problem: string): AmountCheck => ({ amount: null, problem });
  if (!cleaned) return fail("Enter an amount.");
  if (cleaned.startsWith("-")) return fail(`Enter an amount of at least ${formatMoney(min)}.`);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return fail("Enter a number, e.g. 1000 or 250.50.");
  const [whole = "", fraction = ""] = cleaned.split(".");
  if (fraction.replace(/0+$/, "").length > 2) return fail("Enter whole cents: at most 2 decimal places.");
  const cents = fraction.slice(0, 2).padEnd(2, "0");
  const amount = `${(whole || "0").replace(/^0+(?=\d)/, "")}.${cents}`;
  if (compareDecimal(amount, max) > 0) return fail(`Enter an amount of at most ${formatMoney(max)}.`);
  if (compareDecimal(amount, min) < 0) {
    return fail(`Enter an amount of at least ${formatMoney(min)}.`);
  }
  return { amount, problem: null };
}

/** 1st, 2nd, 3rd, 4th … 28th: a day of the month. */
export function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}

/** A unit count for reading: at most 4 decimals, trailing zeros dropped ("0.1235", "12.5"). */
export function formatUnits(value: Numeric): string {
  return formatter("units", { minimumFractionDigits: 0, maximumFractionDigits: 4 }).format(asIntl(value));
}

/** Compare two non-negative decimal strings without floats: -1, 0 or 1. */
export function compareDecimal(a: string, b: string): number {
  const split = (s: string) => {
    const [w = "0", f = ""] = s.replace(/^-/, "").split(".");
    return [w.replace(/^0+(?=\d)/, ""), f] as const;
  };
  const [aw, af] = split(a);
  const [bw, bf] = split(b);
  if (aw.length !== bw.length) return aw.length < bw.length ? -1 : 1;
  if (aw !== bw) return aw < bw ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const ap = af.padEnd(width, "0");
  const bp = bf.padEnd(width, "0");
  return ap === bp ? 0 : ap < bp ? -1 : 1;
}

const dateFormat = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const monthFormat = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "short",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});

/** "2023-06-09" → Jun 9, 2023 (a calendar date: no time-zone shift). */
export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? value : dateFormat.format(date);
}

export function formatMonth(value: string | Date): string {
  const date = typeof value === "string" ? new Date(`${value.slice(0, 10)}T00:00:00Z`) : value;
  return monthFormat.format(date);
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTimeFormat.format(date);
}

/** Today as YYYY-MM-DD in the user's time zone. */
export function todayIso(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function addYearsIso(iso: string, years: number): string {
  const [y = "2000", m = "01", d = "01"] = iso.split("-");
  const month = m === "02" && d === "29" ? "02" : m;
  const day = m === "02" && d === "29" ? "28" : d;
  return `${Number(y) + years}-${month}-${day}`;
}

/** Chart-only: a decimal string as a number. Never feed the result back into money. */
export function chartNumber(value: Numeric | null | undefined): number {
  if (value === null || value === undefined || value === "") return 0;
  return typeof value === "number" ? value : Number(value);
}

export function humanize(value: string): string {
  const text = value.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
