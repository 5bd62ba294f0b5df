import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { AccountSummary, RebalanceProposal } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import RebalanceCard from "./RebalanceCard";

const account: AccountSummary = {
  id: 4,
  goal_id: 3,
  goal_name: "Retirement",
  currency: "USD",
  market_date: "2023-06-09",
  value: "4902.38",
  cash: "0.03",
  invested: "4902.35",
  level: 8,
  drift: 0.022,
  holdings: [],
  account_type: "taxable",
  lot_method: "tax_min",
};

const proposal: RebalanceProposal = {
  id: 9,
  account: 4,
  client_id: 2,
  status: "pending",
  market_date: "2023-05-31",
  drift: "0.2010",
  current_drift: 0.022,
  threshold: "0.0300",
  reason: "Drift is 20.1%, above the 3% threshold; the largest gap is us equity, 15.0% over target.",
  trades: [{ ticker: "EFA", side: "sell", units: "12.5", price: "70.0000", value: "875.00" }],
  before_weights: {},
  after_weights: {},
  superseded_reason: "",
  decided_at: null,
  created_at: "2023-05-31T22:00:00Z",
};

describe("the pending rebalance card", () => {
  it("shows the account's live drift, the same as the allocation card, and labels the proposal's", async () => {
    mockFetch(() => json([proposal]));
    render(<RebalanceCard accounts={[account]} />);

    const now = (await screen.findByText("Drift now")).closest("div")!;
    expect(within(now).getByText("2.2%")).toBeTruthy();
    const then = screen.getByText(/When proposed \(/).closest("div")!;
    expect(within(then).getByText("20.1%")).toBeTruthy();
    expect(screen.getByText(/Drift is 20.1%/).textContent).toMatch(/^When proposed: Drift is 20.1%/);
  });
});
