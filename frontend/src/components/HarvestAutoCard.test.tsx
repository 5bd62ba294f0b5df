import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { AccountType } from "../api/tax";
import { json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import { HarvestAutoCard } from "./HarvestAutoCard";

const account = (id: number, accountType: AccountType) => ({
  id,
  goal_id: id,
  goal_name: `Goal ${id}`,
  currency: "USD",
  market_date: "2023-06-09",
  value: "1000.00",
  cash: "0.00",
  invested: "1000.00",
  level: 5,
  drift: 0,
  holdings: [],
  account_type: accountType,
  lot_method: "tax_min",
});

/** clients/me/ as the server keeps it: a PATCH changes what the next GET says. */
function server(accountTypes: AccountType[], { refusePatch = false } = {}) {
  let harvestAuto = false;
  return (call: Call) => {
    const path = new URL(call.url, "http://localhost").pathname;
    if (path === "/api/v1/accounts/") return json(accountTypes.map((t, i) => account(i + 1, t)));
    if (path === "/api/v1/clients/me/" && call.method === "PATCH") {
      if (refusePatch) return json({ message: "Meridian is briefly unavailable.", code: "unavailable", extra: {} }, 503);
      harvestAuto = (call.body as { harvest_auto: boolean }).harvest_auto;
    }
    if (path === "/api/v1/clients/me/") return json({ id: 1, email: "maya@meridian.example", harvest_auto: harvestAuto });
    return json({ message: "not found", code: "not_found", extra: {} }, 404);
  };
}

describe("the automatic tax-loss harvesting switch", () => {
  it("is off by default, says harvests wait for approval, and turns on with one PATCH", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(server(["roth_ira", "taxable"]));
    render(<HarvestAutoCard />);

    const toggle = await screen.findByRole("switch", { name: "Automatic tax-loss harvesting" });
    expect((toggle as HTMLInputElement).checked).toBe(false);
    expect(screen.getByTestId("harvest-auto-hint").textContent).toMatch(/^Off: each harvest we propose waits for your approval/);

    fireEvent.click(toggle);
    await screen.findByText("Automatic tax-loss harvesting is on.");
    expect((toggle as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId("harvest-auto-hint").textContent).toMatch(/^On: harvests in your taxable accounts execute/);
    expect(calls.filter((c) => c.method === "PATCH").map((c) => [c.url, c.body])).toEqual([
      ["/api/v1/clients/me/", { harvest_auto: true }],
    ]);
  });

  it("is not shown to a client whose accounts are all IRAs (nothing there is harvested)", async () => {
    const { calls } = mockFetch(server(["traditional_ira", "roth_ira"]));
    const { container } = render(<HarvestAutoCard />);
    await waitFor(() => expect(calls.map((c) => new URL(c.url, "http://localhost").pathname).sort()).toEqual([
      "/api/v1/accounts/",
      "/api/v1/clients/me/",
    ]));
    // Both answers are in; the card still renders nothing.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByRole("switch")).toBeNull();
    expect(container.textContent).toBe("");
  });

  it("stays as it was, and says why, when the change is refused", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(server(["taxable"], { refusePatch: true }));
    render(<HarvestAutoCard />);
    const toggle = await screen.findByRole("switch", { name: "Automatic tax-loss harvesting" });
    fireEvent.click(toggle);
    expect((await screen.findByText("Meridian is briefly unavailable.")).closest("[role=alert]")).toBeTruthy();
    expect((toggle as HTMLInputElement).checked).toBe(false);
    expect(screen.getByTestId("harvest-auto-hint").textContent).toMatch(/^Off:/);
  });
});
