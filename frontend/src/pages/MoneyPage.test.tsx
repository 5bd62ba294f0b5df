import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import type { AccountSummary, FeesSummary, Transaction } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import MoneyPage from "./MoneyPage";

const account: AccountSummary = {
  id: 4,
  goal_id: 3,
  goal_name: "Retirement",
  currency: "USD",
  market_date: "2024-04-12",
  value: "10000.00",
  cash: "12.00",
  invested: "9988.00",
  level: 6,
  drift: 0.01,
  holdings: [],
  account_type: "taxable",
  lot_method: "tax_min",
};

const fee: Transaction = {
  id: 31,
  kind: "fee",
  amount: "-2.09",
  market_date: "2024-03-28",
  description: "Advisory fee for March 2024 (0.25% a year, billed monthly)",
  created_at: "2024-03-28T22:00:00Z",
  entries: [],
};

const fees: FeesSummary = {
  market_date: "2024-04-12",
  year: 2024,
  schedule: { annual_rate: "0.0025", billing: "Billed monthly.", fund_expenses: "Paid inside the funds." },
  value: "10000.00",
  paid_ytd: "6.25",
  paid_since_inception: "20.00",
  owed: "0.00",
  accrued_this_month: "1.25",
  estimated_annual_fee: "25.00",
  fund_expense_ratio: "0.0006",
  estimated_annual_fund_expenses: "6.00",
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
  ],
};

describe("the Money page", () => {
  it("lists an advisory fee as a negative amount naming its month, and shows the account's fees", async () => {
    mockFetch((call) => {
      const path = new URL(call.url, "http://localhost").pathname;
      if (path === "/api/v1/accounts/") return json([account]);
      if (path === "/api/v1/fees/") return json(fees);
      if (path === "/api/v1/accounts/4/transactions/") return json({ count: 1, next: null, previous: null, results: [fee] });
      if (path === "/api/v1/accounts/4/recurring-deposits/") return json([]);
      return json({ message: "not found", code: "not_found", extra: {} }, 404);
    });
    render(
      <MemoryRouter>
        <MoneyPage />
      </MemoryRouter>,
    );

    const history = await screen.findByRole("table", { name: /Transactions for Retirement/ });
    const row = (await within(history).findByText("Advisory fee")).closest("tr")!;
    expect(row.querySelector(".num")!.textContent).toBe("−$2.09");
    expect(within(row).getAllByText("Advisory fee for March 2024 (0.25% a year, billed monthly)").length).toBeGreaterThan(0);

    const table = await screen.findByRole("table", { name: "Fees for Retirement" });
    const cell = (name: string) =>
      within(table).getByRole("rowheader", { name }).closest("tr")!.querySelector("td")!.textContent;
    expect(cell("Last fee (Mar 2024)")).toBe("$2.09");
    expect(cell("Paid in 2024")).toBe("$6.25");
    expect(cell("Paid since you started")).toBe("$20.00");
  });

  it("labels each account with its type, and shows an IRA withdrawal's tax note in the history", async () => {
    const roth: AccountSummary = { ...account, id: 5, goal_id: 6, goal_name: "Roth IRA", account_type: "roth_ira" };
    const withdrawal: Transaction = {
      id: 40,
      kind: "withdrawal",
      amount: "-100.00",
      market_date: "2024-04-12",
      description: "Withdrawal of $100.00",
      tax_note: "Your contributions come out tax-free; earnings may be taxed and penalised before age 59½ and five years.",
      created_at: "2024-04-12T22:00:00Z",
      entries: [],
    };
    mockFetch((call) => {
      const path = new URL(call.url, "http://localhost").pathname;
      if (path === "/api/v1/accounts/") return json([account, roth]);
      if (path === "/api/v1/fees/") return json(fees);
      if (path === "/api/v1/accounts/5/transactions/") return json({ count: 1, next: null, previous: null, results: [withdrawal] });
      if (path === "/api/v1/accounts/5/recurring-deposits/") return json([]);
      return json({ message: "not found", code: "not_found", extra: {} }, 404);
    });
    render(
      <MemoryRouter initialEntries={["/money?account=5"]}>
        <MoneyPage />
      </MemoryRouter>,
    );

    expect((await screen.findByTestId("account-type")).textContent).toBe("Roth IRA");
    const options = Array.from(screen.getByRole("combobox", { name: "Account" }).querySelectorAll("option"));
    expect(options.map((o) => o.textContent)).toEqual(["Retirement (Taxable)", "Roth IRA"]);
    const history = await screen.findByRole("table", { name: /Transactions for Roth IRA/ });
    const row = (await within(history).findByText("Withdrawal of $100.00")).closest("tr")!;
    expect(row.textContent).toContain(withdrawal.tax_note);
  });
});

describe("the Money page's held withdrawals", () => {
  it("lists pending holds with amount and date, and refreshes the list when a withdrawal is held", async () => {
    document.cookie = "csrftoken=t; path=/";
    const hold = {
      id: 17,
      account_id: 4,
      goal: 3,
      goal_name: "Retirement",
      amount: "3000.00",
      status: "pending",
      approvals_needed: 1,
      approvals_given: 0,
      created_at: "2024-04-12T15:30:00Z",
      expires_at: "2024-04-17T15:30:00Z",
      decided_at: null,
      transaction_id: null,
    };
    let held = false;
    const { calls } = mockFetch((call) => {
      const path = new URL(call.url, "http://localhost").pathname;
      if (path === "/api/v1/accounts/") return json([account]);
      if (path === "/api/v1/fees/") return json(fees);
      if (path === "/api/v1/accounts/4/transactions/") return json({ count: 0, next: null, previous: null, results: [] });
      if (path === "/api/v1/accounts/4/recurring-deposits/") return json([]);
      if (path === "/api/v1/withdrawal-holds/") return json(held ? [hold] : []);
      if (path === "/api/v1/accounts/4/withdrawals/") {
        held = true;
        return json({ message: "Your withdrawal of $3,000.00 is held for review.", transaction: null, hold: 17, account }, 202);
      }
      return json({ message: "not found", code: "not_found", extra: {} }, 404);
    });
    render(
      <MemoryRouter>
        <MoneyPage />
      </MemoryRouter>,
    );

    await screen.findByRole("table", { name: /Fees for Retirement/ });
    expect(screen.queryByRole("heading", { name: "Held for review" })).toBeNull();
    const holdCalls = () => calls.filter((c) => c.url.includes("/api/v1/withdrawal-holds/"));
    expect(holdCalls()[0]?.url).toBe("/api/v1/withdrawal-holds/?status=pending");

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "3000" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $3,000.00" }));

    expect((await screen.findByTestId("withdrawal-held")).textContent).toContain("held for review");
    await screen.findByRole("heading", { name: "Held for review" });
    const row = within(await screen.findByTestId("held-withdrawals")).getByRole("listitem");
    expect(row.textContent).toContain("$3,000.00 from Retirement");
    expect(row.textContent).toContain("Requested Apr 12, 2024");
    expect(row.textContent).toContain("open until Apr 17, 2024");
    expect(holdCalls().length).toBe(2);
  });
});
