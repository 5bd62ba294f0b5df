import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { StressCheck } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { StressCheckNote } from "./StressCheckNote";

const worst = {
  key: "gfc_2008",
  name: "2008 financial crisis",
  kind: "historical" as const,
  start: "2007-10-09",
  end: "2009-03-09",
  change: -0.312,
  end_change: -0.2,
  loss: 0.312,
  loss_amount: "3120.00",
  worst_day: "2009-03-09",
  path: [],
};

function check(overrides: Partial<StressCheck>): StressCheck {
  return {
    level: 7,
    market_date: "2024-04-12",
    worst,
    tolerance: { loss: 0.2, basis: ["q_loss_tolerance"] },
    exceeds: true,
    advisor_flag: { code: "stress_exceeds_tolerance", message: "Level 7 worst scenario…" },
    capped_from: null,
    client_text: "In the worst of our scenarios (2008 financial crisis), the level 7 portfolio could fall about 31%.",
    ...overrides,
  };
}

describe("the stress check on a risk result", () => {
  it("puts the worst fall beside the stated tolerance and, when over it, says calmly an advisor will review", async () => {
    const { calls } = mockFetch(() => json(check({})));
    render(<StressCheckNote level={7} />);
    const note = await screen.findByTestId("stress-check");
    // 0.312 → 31%; 0.2 → 20%.
    expect(note.textContent).toContain("In the worst of these scenarios (2008 financial crisis) it fell about 31%.");
    expect(note.textContent).toContain("You told us you could bear a fall of about 20%.");
    expect(screen.getByTestId("stress-check-review").textContent).toContain("An advisor will review it");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(calls[0]?.url).toBe("/api/v1/risk/stress-check/?level=7");
  });

  it("has no review note when the fall is within the tolerance", async () => {
    mockFetch(() => json(check({ exceeds: false, advisor_flag: null, tolerance: { loss: 0.4, basis: [] } })));
    render(<StressCheckNote />);
    expect((await screen.findByTestId("stress-check")).textContent).toContain("about 40%");
    expect(screen.queryByTestId("stress-check-review")).toBeNull();
  });

  it("says when the check lowered the level, and that nothing needs doing", async () => {
    mockFetch(() =>
      json(check({ level: 4, capped_from: 6, exceeds: false, advisor_flag: null, worst: { ...worst, loss: 0.18 } })),
    );
    render(<StressCheckNote />);
    const note = await screen.findByTestId("stress-check");
    expect(note.textContent).toMatch(/^How far it could fallYour level was lowered from 6 to 4 because of this check\./);
    expect(note.textContent).toContain("on the portfolio for level 4");
    expect(screen.queryByTestId("stress-check-review")).toBeNull();
  });

  it("explains the floor when even the most cautious level is over the tolerance", async () => {
    mockFetch(() =>
      json(check({ level: 1, capped_from: 5, advisor_flag: { code: "stress_floor", message: "…" }, tolerance: { loss: 0, basis: [] } })),
    );
    render(<StressCheckNote />);
    const review = await screen.findByTestId("stress-check-review");
    expect(review.textContent).toContain("Even our most cautious portfolio could fall more than you said you could bear");
  });

  it("stays out of the way when there is no level to check (409)", async () => {
    const { calls } = mockFetch(() => json({ message: "Answer the risk questionnaire first.", code: "conflict", extra: {} }, 409));
    render(<StressCheckNote />);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 20)); // the answer is read and rendered
    expect(calls[0]?.url).toBe("/api/v1/risk/stress-check/");
    expect(screen.queryByTestId("stress-check")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
