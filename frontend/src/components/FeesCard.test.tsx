import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { FeesSummary } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import FeesCard, { AccountFeesCard, lastMonthFee } from "./FeesCard";

const fees: FeesSummary = {
  market_date: "2024-04-12",
  year: 2024,
  schedule: {
    annual_rate: "0.0025",
    billing: "Billed monthly: one twelfth of the annual rate on each account's value.",
    fund_expenses: "Fund expense ratios are paid inside the funds (reflected in their prices), not billed by Meridian.",
  },
  value: "15012.50",
  paid_ytd: "9.38",
  paid_since_inception: "28.96",
  owed: "0.00",
  accrued_this_month: "1.25",
  estimated_annual_fee: "37.53",
  fund_expense_ratio: "0.000512",
  estimated_annual_fund_expenses: "7.69",
  accounts: [
    {
      account_id: 4,
      goal_name: "Retirement",
      value: "10000.00",
      paid_ytd: "6.25",
      paid_since_inception: "20.00",
      last_fee_month: "2024-03-01",
      last_fee_amount: "2.09",
      owed: "0.00",
      accrued_this_month: "1.25",
      estimated_annual_fee: "25.00",
      fund_expense_ratio: "0.0006",
      estimated_annual_fund_expenses: "6.00",
    },
    {
      account_id: 5,
      goal_name: "House",
      value: "5012.50",
      paid_ytd: "3.13",
      paid_since_inception: "8.96",
      last_fee_month: "2024-03-01",
      last_fee_amount: "1.05",
      owed: "0.00",
      accrued_this_month: "1.25",
      estimated_annual_fee: "12.53",
      fund_expense_ratio: "0.000337",
      estimated_annual_fund_expenses: "1.69",
    },
    {
      account_id: 6,
      goal_name: "Car",
      value: "0.00",
      paid_ytd: "0.00",
      paid_since_inception: "0.00",
      last_fee_month: null,
      last_fee_amount: null,
      owed: "0.00",
      accrued_this_month: "1.25",
      estimated_annual_fee: "0.00",
      fund_expense_ratio: null,
      estimated_annual_fund_expenses: "0.00",
    },
  ],
};

/** The value shown under a figure's label. */
function figure(label: string | RegExp): string | null {
  const box = screen.getByText(label).closest(".figure") as HTMLElement;
  return box.querySelector(".figure-value")!.textContent;
}

describe("the dashboard fees card", () => {
  it("shows the rate, last month's fee, this year's, since inception, the estimate and the funds' ratio", async () => {
    const { calls } = mockFetch(() => json(fees));
    render(<FeesCard />);

    await screen.findByText("Advisory fee");
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/fees/"]);
    expect(screen.getByRole("heading", { name: "Fees" })).toBeTruthy();
    expect(figure("Advisory fee")).toBe("0.25% a year");
    expect(figure("Last month's fee (Mar 2024)")).toBe("$3.14");
    expect(figure("Paid in 2024")).toBe("$9.38");
    expect(figure("Paid since you started")).toBe("$28.96");
    expect(figure("Estimated annual fee")).toBe("$37.53");
    expect(screen.getByText("At today's value of $15,012.50")).toBeTruthy();
    expect(figure("Fund expense ratio")).toBe("0.05%");
    expect(screen.getByText(/about \$7\.69 a year, paid inside the funds/)).toBeTruthy();
    expect(screen.getByText(/paid inside the funds \(reflected in their prices\)/)).toBeTruthy();
    expect(screen.getByText(/^Billed monthly/)).toBeTruthy();
  });

  it("says nothing has been billed before the first fee", async () => {
    mockFetch(() =>
      json({
        ...fees,
        paid_ytd: "0.00",
        accounts: fees.accounts.map((a) => ({ ...a, last_fee_month: null, last_fee_amount: null })),
      }),
    );
    render(<FeesCard />);

    await screen.findByText("Nothing billed yet");
    expect(figure("Last month's fee")).toBe("—");
    expect(figure("Paid in 2024")).toBe("$0.00");
  });
});

describe("fees building up and owed", () => {
  it("shows this month's accrual, and what is owed only when something is", async () => {
    mockFetch(() => json(fees));
    const { unmount } = render(<FeesCard />);
    await screen.findByText("Advisory fee");
    expect(figure("Building up this month")).toBe("$1.25");
    expect(screen.queryByText("Owed")).toBeNull();
    unmount();

    mockFetch(() => json({ ...fees, owed: "2.47" }));
    render(<FeesCard />);
    await screen.findByText("Owed");
    expect(figure("Owed")).toBe("$2.47");
    expect(screen.getByText(/taken from your next deposit/)).toBeTruthy();
  });
});

describe("last month's fee", () => {
  it("adds only the accounts billed for the latest month, exactly", () => {
    const accounts = [
      { ...fees.accounts[0]!, last_fee_month: "2024-02-01", last_fee_amount: "9.99" },
      { ...fees.accounts[1]!, last_fee_month: "2024-03-01", last_fee_amount: "0.10" },
      { ...fees.accounts[2]!, last_fee_month: "2024-03-01", last_fee_amount: "0.20" },
    ];
    expect(lastMonthFee(accounts)).toEqual({ month: "2024-03-01", amount: "0.30" });
    expect(lastMonthFee([fees.accounts[2]!])).toBeNull();
  });
});

describe("the Money page fees section", () => {
  it("shows a table per account with its last fee and month, this year, since inception, estimate and ratio", async () => {
    mockFetch(() => json(fees));
    render(<AccountFeesCard />);

    const retirement = await screen.findByRole("table", { name: "Fees for Retirement" });
    const cell = (table: HTMLElement, row: string | RegExp) =>
      within(table).getByRole("rowheader", { name: row }).closest("tr")!.querySelector("td")!.textContent;
    expect(cell(retirement, "Last fee (Mar 2024)")).toBe("$2.09");
    expect(cell(retirement, "Paid in 2024")).toBe("$6.25");
    expect(cell(retirement, "Paid since you started")).toBe("$20.00");
    expect(cell(retirement, "Estimated annual fee")).toBe("$25.00");
    expect(cell(retirement, "Fund expense ratio")).toBe("0.06%");

    const house = screen.getByRole("table", { name: "Fees for House" });
    expect(cell(house, "Fund expense ratio")).toBe("0.03%");
    expect(cell(house, "Paid in 2024")).toBe("$3.13");

    const car = screen.getByRole("table", { name: "Fees for Car" });
    expect(cell(car, "Last fee")).toBe("None yet");
    expect(cell(car, "Fund expense ratio")).toBe("—");
    expect(screen.getByRole("heading", { name: "Car", level: 3 })).toBeTruthy();
    expect(screen.getByText("0.25% a year")).toBeTruthy();
  });
});
