import { describe, expect, it } from "vitest";

import {
  checkAmount,
  formatUnits,
  RECURRING_LIMITS,
  compareDecimal,
  formatDate,
  formatGain,
  formatMoney,
  formatMoneyCompact,
  formatPercent,
  formatRate,
  normaliseAmount,
  sumDecimal,
} from "./format";

describe("formatMoney", () => {
  it("formats the API's decimal strings as dollars", () => {
    expect(formatMoney("139039.03")).toBe("$139,039.03");
    expect(formatMoney("0.08")).toBe("$0.08");
    expect(formatMoney("-297.57")).toBe("-$297.57");
  });

  it("never goes through binary floating point", () => {
    // As floats these would print 2.67 and …234.10 / …234.12.
    expect(formatMoney("2.675")).toBe("$2.68");
    expect(formatMoney("12345678901234.11")).toBe("$12,345,678,901,234.11");
    expect(formatMoney("9007199254740993.00")).toBe("$9,007,199,254,740,993.00");
  });

  it("can round to whole dollars and show a sign", () => {
    expect(formatMoney("750000.00", "USD", { whole: true })).toBe("$750,000");
    expect(formatMoney("12.50", "USD", { signed: true })).toBe("+$12.50");
  });

  it("shows a dash when there is no amount, and refuses garbage", () => {
    expect(formatMoney(null)).toBe("—");
    expect(formatMoney("")).toBe("—");
    expect(() => formatMoney("12,00")).toThrow(RangeError);
  });

  it("abbreviates for chart axes", () => {
    expect(formatMoneyCompact(1_250_000)).toBe("$1.3M");
    expect(formatMoneyCompact("45000.00")).toBe("$45K");
  });
});

describe("formatPercent", () => {
  it("formats fractions from decimal strings", () => {
    expect(formatPercent("0.053994")).toBe("5.4%");
    expect(formatPercent("-0.037977", { signed: true })).toBe("-3.8%");
    expect(formatPercent("0.047926", { signed: true })).toBe("+4.8%");
    expect(formatPercent(0.9098, { digits: 0 })).toBe("91%");
    expect(formatPercent(null)).toBe("—");
  });
});

describe("normaliseAmount", () => {
  it("accepts what people type and returns a two-decimal string", () => {
    expect(normaliseAmount("1000")).toBe("1000.00");
    expect(normaliseAmount("1,000")).toBe("1000.00");
    expect(normaliseAmount("$ 250.5")).toBe("250.50");
    expect(normaliseAmount("0.01")).toBe("0.01");
    expect(normaliseAmount("007.10")).toBe("7.10");
  });

  it("rejects zero, negatives, too many decimals and words", () => {
    for (const bad of ["", "0", "0.00", "-5", "1.234", "ten", "1e3", "1.2.3"]) {
      expect(normaliseAmount(bad)).toBeNull();
    }
  });
});

describe("compareDecimal", () => {
  it("compares money without floats", () => {
    expect(compareDecimal("1000.00", "999.99")).toBe(1);
    expect(compareDecimal("999.9", "999.90")).toBe(0);
    expect(compareDecimal("0.10", "0.2")).toBe(-1);
    expect(compareDecimal("10000000000000000.01", "10000000000000000.02")).toBe(-1);
  });
});

describe("formatDate", () => {
  it("shows calendar dates without a time-zone shift", () => {
    expect(formatDate("2023-06-09")).toBe("Jun 9, 2023");
    expect(formatDate(null)).toBe("—");
  });
});

describe("formatRate", () => {
  it("shows a rate as a percentage with up to two decimals", () => {
    expect(formatRate("0.0025")).toBe("0.25%");
    expect(formatRate("0.01")).toBe("1%");
    expect(formatRate("0.000512")).toBe("0.05%");
    expect(formatRate(null)).toBe("—");
  });
});

describe("sumDecimal", () => {
  it("adds decimal strings exactly", () => {
    expect(sumDecimal(["0.10", "0.20"])).toBe("0.30");
    expect(sumDecimal(["1.05", "2.1", "3"])).toBe("6.15");
    expect(sumDecimal(["-0.05", "0.02"])).toBe("-0.03");
    expect(sumDecimal([])).toBe("0");
  });
});

describe("checkAmount", () => {
  it("accepts amounts within the server's limits, normalised to cents", () => {
    expect(checkAmount("$1,234.5")).toEqual({ amount: "1234.50", problem: null });
    expect(checkAmount("10000000")).toEqual({ amount: "10000000.00", problem: null });
    expect(checkAmount("0.01")).toEqual({ amount: "0.01", problem: null });
    expect(checkAmount("5.10", RECURRING_LIMITS)).toEqual({ amount: "5.10", problem: null });
  });

  it("says what is wrong", () => {
    expect(checkAmount(" ").problem).toBe("Enter an amount.");
    expect(checkAmount("1e5").problem).toBe("Enter a number, e.g. 1000 or 250.50.");
    expect(checkAmount("-5").problem).toBe("Enter an amount of at least $0.01.");
    expect(checkAmount("1.005").problem).toBe("Enter whole cents: at most 2 decimal places.");
    expect(checkAmount("9999999999.99").problem).toBe("Enter an amount of at most $10,000,000.00.");
    expect(checkAmount("0.50", RECURRING_LIMITS).problem).toBe("Enter an amount of at least $1.00.");
  });
});

describe("formatUnits", () => {
  it("keeps at most 4 decimals", () => {
    expect(formatUnits("0.12345678")).toBe("0.1235");
    expect(formatUnits("12.50000000")).toBe("12.5");
  });
});

describe("formatGain", () => {
  it("signs gains and losses, with a true minus sign, and leaves zero unsigned", () => {
    expect(formatGain("1000.00")).toBe("+$1,000.00");
    expect(formatGain("-1234.50")).toBe("\u2212$1,234.50");
    expect(formatGain("0.00")).toBe("$0.00");
    expect(formatGain(null)).toBe("—");
  });
});
