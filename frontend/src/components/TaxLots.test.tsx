import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { TaxLot } from "../api/tax";
import type { Goal } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { TaxLots } from "./TaxLots";

const goal = { id: 7, name: "House fund", account_type: "taxable" } as Goal;

const lot = (id: number, acquired: string, basis: string, value: string, gain: string, term: "short" | "long"): TaxLot => ({
  id,
  ticker: "VTI",
  acquired_on: acquired,
  holding_from: acquired,
  term,
  quantity: "10.0000",
  remaining: "10.0000",
  unit_cost: "0",
  cost_basis: basis,
  price: "200.00",
  value,
  unrealised_gain: gain,
  basis_adjustment: "0.00",
});

describe("the goal page's tax lots", () => {
  it("stays collapsed until asked, then lists each lot and changes the lot method", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch((call) => {
      const path = new URL(call.url, "http://localhost").pathname;
      if (path === "/api/v1/goals/7/funding/") return json({ goal_id: 7, account_id: 11, currency: "USD" });
      if (path === "/api/v1/accounts/11/" && call.method === "PATCH") return json({ id: 11, lot_method: "hifo" });
      if (path === "/api/v1/accounts/11/") return json({ id: 11, lot_method: "tax_min", account_type: "taxable" });
      if (path === "/api/v1/accounts/11/lots/") {
        // 2,500.00 − 2,000.00 = +500.00 long-term; 1,800.00 − 2,000.00 = −200.00 short-term.
        return json([lot(1, "2021-03-01", "2000.00", "2500.00", "500.00", "long"), lot(2, "2023-02-01", "2000.00", "1800.00", "-200.00", "short")]);
      }
      return json({}, 404);
    });
    render(<TaxLots goal={goal} />);
    expect(calls).toHaveLength(0);
    const toggle = screen.getByRole("button", { name: "Show lots" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(toggle);

    const table = await screen.findByRole("table", { name: "Tax lots in House fund" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows[0]!.textContent).toContain("+$500.00");
    expect(rows[0]!.textContent).toContain("Long-term");
    expect(rows[1]!.textContent).toContain("\u2212$200.00");
    expect(rows[2]!.textContent).toContain("+$300.00"); // the total: 500 − 200

    const select = screen.getByLabelText("Which lots a sale uses") as HTMLSelectElement;
    expect(select.value).toBe("tax_min");
    fireEvent.change(select, { target: { value: "hifo" } });
    fireEvent.click(screen.getByRole("button", { name: "Change lot method" }));
    await screen.findByText(/Future sales in this account use highest cost first/);
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ lot_method: "hifo" });
  });
});
