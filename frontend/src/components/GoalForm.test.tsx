import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { Goal } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import { GoalForm } from "./GoalForm";

const goal: Goal = {
  id: 7,
  goal_type: "home_purchase",
  name: "A home of my own",
  target_amount: "80000.00",
  currency: "USD",
  target_date: "2035-06-01",
  initial_amount: "5000.00",
  monthly_contribution: "500.00",
  priority: "want",
  status: "active",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
} as Goal;

function server(call: Call) {
  if (call.method === "POST" && call.url.endsWith("/goals/")) return json(goal, 201);
  if (call.url.endsWith("/goals/7/funding/")) {
    return json({
      goal_id: 7,
      account_id: 11,
      currency: "USD",
      initial_amount: "5000.00",
      monthly_contribution: "500.00",
      scheduled_monthly: "0.00",
    });
  }
  if (call.url.endsWith("/accounts/11/deposits/")) return json({ message: "Deposited $5,000.00." }, 201);
  if (call.url.endsWith("/accounts/11/recurring-deposits/")) {
    return json({ id: 1, amount: "500.00", day_of_month: 1, next_run: "2035-01-01", active: true }, 201);
  }
  return json({}, 404);
}

const posts = (calls: Call[]) => calls.filter((c) => c.method === "POST");

function fillIn() {
  fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "home_purchase" } });
  fireEvent.change(screen.getByLabelText("Target amount"), { target: { value: "80,000" } });
  fireEvent.change(screen.getByLabelText("Starting amount (optional)"), { target: { value: "5000" } });
  fireEvent.change(screen.getByLabelText("Monthly contribution (optional)"), { target: { value: "500" } });
}

describe("creating a goal that funds itself", () => {
  it("moves no money, and creates nothing, before the client confirms the summary", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(server);
    const onSaved = vi.fn();
    render(<GoalForm onSaved={onSaved} />);
    fillIn();

    // The boxes are ticked by default: that is an offer, not a confirmation.
    expect(screen.getByLabelText(/Deposit the starting \$5,000\.00 now/)).toHaveProperty("checked", true);
    fireEvent.click(screen.getByRole("button", { name: "Review and create" }));

    const summary = await screen.findByTestId("money-summary");
    expect(summary.textContent).toContain("$5,000.00 deposited now");
    expect(summary.textContent).toContain("$500.00 every month on the 1st");
    expect(posts(calls)).toHaveLength(0);
    expect(onSaved).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Confirm and create" }));

    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(goal));
    const [create, deposit, recurring] = posts(calls);
    expect(create?.url).toMatch(/\/goals\/$/);
    expect(deposit?.body).toEqual({ amount: "5000.00" });
    expect(deposit?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(recurring?.body).toEqual({ amount: "500.00", day_of_month: 1 });
    expect(recurring?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("goes back without sending anything, and can create the goal alone", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(server);
    const onSaved = vi.fn();
    render(<GoalForm onSaved={onSaved} />);
    fillIn();
    fireEvent.click(screen.getByRole("button", { name: "Review and create" }));
    fireEvent.click(await screen.findByRole("button", { name: "Back" }));
    expect(posts(calls)).toHaveLength(0);

    fireEvent.click(screen.getByRole("button", { name: "Review and create" }));
    fireEvent.click(await screen.findByRole("button", { name: "Create the goal without moving money" }));

    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(goal));
    expect(posts(calls).map((c) => c.url.replace(/^.*\/api\/v1\//, ""))).toEqual(["goals/"]);
  });

  it("creates the goal straight away when the client unticks both offers", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(server);
    const onSaved = vi.fn();
    render(<GoalForm onSaved={onSaved} />);
    fillIn();
    fireEvent.click(screen.getByLabelText(/Deposit the starting/));
    fireEvent.click(screen.getByLabelText(/every month/));
    fireEvent.click(screen.getByRole("button", { name: "Create goal" }));

    await vi.waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(posts(calls)).toHaveLength(1);
  });
});

describe("the account type of a new goal", () => {
  it("suggests a traditional IRA for retirement and a taxable account otherwise, each explained", () => {
    mockFetch(server);
    render(<GoalForm onSaved={vi.fn()} />);
    const group = screen.getByRole("group", { name: "Account type" });
    const radio = (name: string) => screen.getByRole("radio", { name }) as HTMLInputElement;
    expect(group.contains(radio("Taxable account"))).toBe(true);
    expect(radio("Taxable account").checked).toBe(true);
    expect(radio("Taxable account").getAttribute("aria-describedby")).toBeTruthy();
    expect(radio("Roth IRA").labels?.[0]?.nextElementSibling?.textContent).toMatch(/tax-free/);

    fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "retirement" } });
    expect(radio("Traditional IRA").checked).toBe(true);
    fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "education" } });
    expect(radio("Taxable account").checked).toBe(true);
  });

  it("keeps the client's own choice when the goal type changes, and sends it", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(server);
    const onSaved = vi.fn();
    render(<GoalForm onSaved={onSaved} />);
    fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "retirement" } });
    fireEvent.click(screen.getByRole("radio", { name: "Roth IRA" }));
    fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "home_purchase" } });
    expect((screen.getByRole("radio", { name: "Roth IRA" }) as HTMLInputElement).checked).toBe(true);
    fireEvent.change(screen.getByLabelText("Target amount"), { target: { value: "80,000" } });
    fireEvent.click(screen.getByRole("button", { name: "Create goal" }));

    await vi.waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(posts(calls)[0]?.body).toMatchObject({ goal_type: "home_purchase", account_type: "roth_ira" });
  });

  it("is not offered when editing: the type is chosen once", () => {
    mockFetch(server);
    render(<GoalForm goal={goal} onSaved={vi.fn()} />);
    expect(screen.queryByRole("group", { name: "Account type" })).toBeNull();
  });
});
