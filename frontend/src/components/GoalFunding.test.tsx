import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { Goal, GoalFunding } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import { ScheduledVsPlan, scheduledVsPlan } from "./GoalFunding";

const goal = { id: 7, monthly_contribution: "500.00", currency: "USD" } as Goal;

function funding(scheduled: string): GoalFunding {
  return {
    goal_id: 7,
    account_id: 11,
    currency: "USD",
    initial_amount: "0.00",
    monthly_contribution: "500.00",
    scheduled_monthly: scheduled,
  };
}

describe("scheduled vs plan", () => {
  it("reads as money, and says nothing when the schedule matches the plan", () => {
    expect(scheduledVsPlan(funding("300.00"))).toBe("Scheduled $300.00/mo vs plan $500.00/mo");
    expect(scheduledVsPlan(funding("500.00"))).toBeNull();
    expect(scheduledVsPlan(funding("500"))).toBeNull();
  });

  it("shows the line on the goal page and replaces the schedule only once confirmed", async () => {
    document.cookie = "csrftoken=t; path=/";
    let scheduled = "300.00";
    const { calls } = mockFetch((call: Call) => {
      if (call.url.endsWith("/goals/7/funding/")) return json(funding(scheduled));
      if (call.method === "GET" && call.url.endsWith("/accounts/11/recurring-deposits/")) {
        return json([{ id: 3, amount: "300.00", day_of_month: 5, next_run: "2030-01-05", active: true }]);
      }
      if (call.method === "POST") {
        scheduled = "500.00";
        return json({ id: 4, amount: "500.00", day_of_month: 1, next_run: "2030-01-01", active: true }, 201);
      }
      if (call.method === "DELETE") return json(null, 204);
      return json({}, 404);
    });
    render(<ScheduledVsPlan goal={goal} />);

    expect((await screen.findByTestId("scheduled-vs-plan")).textContent).toContain(
      "Scheduled $300.00/mo vs plan $500.00/mo",
    );
    fireEvent.click(screen.getByRole("button", { name: "Update my monthly deposit…" }));
    expect(calls.filter((c) => c.method !== "GET")).toHaveLength(0);

    fireEvent.click(screen.getByRole("button", { name: "Confirm $500.00/mo" }));

    await screen.findByText("Your monthly deposit is now $500.00 on the 1st.");
    const writes = calls.filter((c) => c.method !== "GET");
    expect(writes.map((c) => c.method)).toEqual(["POST", "DELETE"]);
    expect(writes[0]?.body).toEqual({ amount: "500.00", day_of_month: 1 });
    expect(writes[0]?.headers["idempotency-key"]).toBeTruthy();
    expect(writes[1]?.url).toMatch(/recurring-deposits\/3\/$/);
    await vi.waitFor(() => expect(screen.queryByText(/Scheduled \$/)).toBeNull());
    // What is scheduled now, matching the plan: said plainly, with nothing left to offer.
    expect(screen.getByTestId("scheduled-monthly").textContent).toContain("scheduled $500.00/mo");
    expect(screen.queryByRole("button", { name: /Update my monthly deposit/ })).toBeNull();
  });
});
