import { describe, expect, it } from "vitest";

import { IdempotencyKeeper, newIdempotencyKey } from "./idempotency";

function counter() {
  let n = 0;
  return () => `key-${++n}`;
}

describe("IdempotencyKeeper", () => {
  it("reuses the key when the same payment is retried", () => {
    const keeper = new IdempotencyKeeper(counter());
    const first = keeper.keyFor({ account: 1, amount: "100.00" });
    expect(keeper.keyFor({ account: 1, amount: "100.00" })).toBe(first);
  });

  it("makes a new key when the payment changes", () => {
    const keeper = new IdempotencyKeeper(counter());
    const first = keeper.keyFor({ account: 1, amount: "100.00" });
    expect(keeper.keyFor({ account: 1, amount: "200.00" })).not.toBe(first);
    expect(keeper.keyFor({ account: 2, amount: "200.00" })).not.toBe(first);
  });

  it("makes a new key for the next payment once one succeeded", () => {
    const keeper = new IdempotencyKeeper(counter());
    const first = keeper.keyFor({ amount: "100.00" });
    keeper.succeeded();
    expect(keeper.keyFor({ amount: "100.00" })).not.toBe(first);
  });

  it("makes UUIDs", () => {
    expect(newIdempotencyKey()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
