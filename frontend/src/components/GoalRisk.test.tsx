import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { AccountRisk, Goal, RiskScenario } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { GoalRisk, scenarioLines } from "./GoalRisk";

const goal = { id: 7, name: "House fund", currency: "USD", account_type: "taxable" } as Goal;

const horizon = (days: number, v: number | null, es: number | null) => ({
  days,
  windows: 100,
  var_historical: v,
  es_historical: es,
  var_parametric: null,
  es_parametric: null,
});

// Paths on a $10,000.00 account: 10,000 → 8,000 → 6,500 → 9,000 is 100% → 80% → 65% → 90% of the
// start, a worst fall of 35% ($3,500.00 = 0.35 × 10,000.00). The 2020 path: 10,000 → 8,800 →
// 9,500, a worst fall of 12% ($1,200.00).
const gfc: RiskScenario = {
  key: "gfc_2008",
  name: "2008 financial crisis",
  kind: "historical",
  start: "2007-10-09",
  end: "2009-03-09",
  change: -0.35,
  end_change: -0.1,
  loss: 0.35,
  loss_amount: "3500.00",
  worst_day: "2009-03-09",
  path: [
    { date: "2007-10-09", value: "10000.00" },
    { date: "2008-06-02", value: "8000.00" },
    { date: "2009-03-09", value: "6500.00" },
    { date: "2009-06-01", value: "9000.00" },
  ],
};
const covid: RiskScenario = {
  key: "covid_2020",
  name: "2020 COVID crash",
  kind: "historical",
  start: "2020-02-19",
  end: "2020-03-23",
  change: -0.12,
  end_change: -0.05,
  loss: 0.12,
  loss_amount: "1200.00",
  worst_day: "2020-03-23",
  path: [
    { date: "2020-02-19", value: "10000.00" },
    { date: "2020-03-23", value: "8800.00" },
    { date: "2020-04-30", value: "9500.00" },
  ],
};
const rates: RiskScenario = {
  key: "rates_up",
  name: "Rates up 2 points",
  kind: "hypothetical",
  start: null,
  end: null,
  change: -0.08,
  end_change: null,
  loss: 0.08,
  loss_amount: "800.00",
  worst_day: null,
  path: [],
};

const risk: AccountRisk = {
  account: 11,
  market_date: "2024-04-12",
  computed_at: "2024-04-12T23:00:00Z",
  value: "10000.00",
  weights: { VTI: 0.6, BND: 0.4 },
  cash_weight: 0,
  figures: {
    start: "2008-01-02",
    end: "2024-04-12",
    observations: 4100,
    volatility: 0.112,
    max_drawdown: 0.351,
    beta: 0.62,
    one_month: horizon(21, 0.06, 0.09),
    one_year: horizon(252, 0.18, 0.24),
  },
  stress: [covid, rates, gfc],
  summary_text:
    "In a market like the 2008 financial crisis this goal's portfolio could have fallen about 35%, about $3,500 of today's $10,000. " +
    "Judged by 2008–2024, in about one year out of twenty it could lose 18% or more.",
};

function route(status: number, body: unknown) {
  return mockFetch((call) => {
    const path = new URL(call.url, "http://localhost").pathname;
    if (path === "/api/v1/goals/7/funding/") return json({ goal_id: 7, account_id: 11, currency: "USD" });
    if (path === "/api/v1/accounts/11/risk/") return json(body, status);
    return json({ message: "not found", code: "not_found", extra: {} }, 404);
  });
}

describe("the goal page's risk section", () => {
  it("stays collapsed until asked, then puts the sentence first, the scenarios in a chart and a table, the figures in details", async () => {
    const { calls } = route(200, risk);
    render(<GoalRisk goal={goal} />);
    expect(calls).toHaveLength(0);
    const toggle = screen.getByRole("button", { name: "Show risk" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(toggle);

    const summary = await screen.findByTestId("risk-summary");
    expect(summary.textContent).toBe(risk.summary_text);
    // The sentence comes before the chart and the table.
    const chart = screen.getByRole("img");
    expect(summary.compareDocumentPosition(chart) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const label = chart.getAttribute("aria-label")!;
    expect(label).toContain("2008 financial crisis: lowest point 65.0% of the start on Mar 9, 2009");
    expect(label).toContain("2020 COVID crash: lowest point 88.0% of the start on Mar 23, 2020");
    expect(label).not.toContain("Rates up"); // a shock has no path to draw

    const table = screen.getByRole("table", { name: "Stress scenarios for House fund" });
    const rows = within(table).getAllByRole("row").slice(1);
    // Worst first: 35%, 12%, 8%.
    expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual([
      "2008 financial crisis",
      "2020 COVID crash",
      "Rates up 2 points",
    ]);
    expect(rows[0]!.textContent).toContain("\u221235.0%");
    expect(rows[0]!.textContent).toContain("\u2212$3,500.00");
    expect(rows[0]!.textContent).toContain("Oct 2007 – Mar 2009");
    expect(rows[2]!.textContent).toContain("A sudden shock");
    expect(rows[2]!.textContent).toContain("\u2212$800.00");

    const details = screen.getByText("Details: the figures behind this").closest("details")!;
    expect(details.open).toBe(false);
    const figures = within(details).getByTestId("risk-figures");
    const figure = (term: string) => within(figures).getByText(term).closest("div")!.querySelector("strong")!.textContent;
    expect(figure("Volatility (a year)")).toBe("11.2%");
    expect(figure("1-year value at risk (95%)")).toBe("18.0%");
    expect(figure("1-year expected shortfall (95%)")).toBe("24.0%");
    expect(figure("Largest fall from a peak")).toBe("35.1%");
    expect(figure("Beta to US stocks")).toBe("0.62");
    expect(details.textContent).toContain("In about one year out of twenty");
  });

  it("says plainly when the account holds nothing yet (409)", async () => {
    route(409, { message: "The account holds nothing yet.", code: "conflict", extra: {} });
    render(<GoalRisk goal={goal} />);
    fireEvent.click(screen.getByRole("button", { name: "Show risk" }));
    await screen.findByText("Nothing invested yet");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows other errors with a retry", async () => {
    route(500, { message: "Something went wrong on our side; nothing was changed.", code: "error", extra: {} });
    render(<GoalRisk goal={goal} />);
    fireEvent.click(screen.getByRole("button", { name: "Show risk" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Something went wrong on our side");
  });
});

describe("scenarioLines", () => {
  it("turns each historical path into % of its start and leaves shocks out", () => {
    // 8,000 / 10,000 = 80%; 6,500 / 10,000 = 65%; 9,000 / 10,000 = 90%.
    expect(scenarioLines([gfc, rates])).toEqual([{ key: "gfc_2008", name: "2008 financial crisis", percents: [100, 80, 65, 90] }]);
  });
});
