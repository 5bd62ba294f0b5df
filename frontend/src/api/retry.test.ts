import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { json, mockFetch } from "../test/fetchMock";
import { ApiError, get, post, RETRY_ATTEMPTS, retryDelay } from "./client";

const unavailable = (retryAfter?: string) =>
  json(
    { message: "Meridian is briefly unavailable.", code: "service_unavailable", extra: {} },
    503,
    retryAfter === undefined ? {} : { "Retry-After": retryAfter },
  );

describe("retry with backoff on a brief outage", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    document.cookie = "csrftoken=cookie-token; path=/";
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries a GET after the server's Retry-After and returns the answer", async () => {
    let n = 0;
    const { calls } = mockFetch(() => (++n < 3 ? unavailable("2") : json({ total: "10.00" })));

    const result = get<{ total: string }>("portfolio/summary/");
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(1); // waits the 2 seconds the server asked for
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(result).resolves.toEqual({ total: "10.00" });
    expect(calls).toHaveLength(3);
  });

  it("gives up after its retries with the server's error", async () => {
    const { calls } = mockFetch(() => unavailable("1"));

    const result = get("portfolio/summary/").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    const error = (await result) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(503);
    expect(calls).toHaveLength(1 + RETRY_ATTEMPTS);
  });

  it("retries a keyed write (the server applies it once per key) with the same key", async () => {
    let n = 0;
    const { calls } = mockFetch(() => (++n === 1 ? unavailable("1") : json({ id: 3 }, 201)));

    const result = post("accounts/1/deposits/", { amount: "100.00" }, { idempotencyKey: "k-1" });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(result).resolves.toEqual({ id: 3 });
    expect(calls.map((c) => c.headers["idempotency-key"])).toEqual(["k-1", "k-1"]);
  });

  it("never sends a plain POST twice", async () => {
    const { calls } = mockFetch(() => unavailable("1"));

    const result = post("goals/", { name: "House" }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(((await result) as ApiError).status).toBe(503);
    expect(calls).toHaveLength(1);
  });

  it("does not retry other errors", async () => {
    const { calls } = mockFetch(() => json({ message: "Not found.", code: "not_found", extra: {} }, 404));

    await expect(get("goals/99/")).rejects.toMatchObject({ status: 404 });
    expect(calls).toHaveLength(1);
  });

  it("retries a GET that could not reach the server, with growing waits", async () => {
    let n = 0;
    const fn = vi.fn(async () => {
      n += 1;
      if (n < 3) throw new TypeError("Failed to fetch");
      return json([]);
    });
    vi.stubGlobal("fetch", fn);

    const result = get("goals/");
    await vi.advanceTimersByTimeAsync(5000);
    await expect(result).resolves.toEqual([]);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("stops waiting when the request is aborted", async () => {
    mockFetch(() => unavailable("5"));
    const controller = new AbortController();

    const result = get("goals/", { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    const error = (await result) as DOMException;
    expect(error.name).toBe("AbortError");
  });
});

describe("retryDelay", () => {
  it("follows Retry-After in seconds, refuses waits over the cap", () => {
    expect(retryDelay(1, "2")).toBe(2000);
    expect(retryDelay(1, "60")).toBeNull();
  });

  it("backs off exponentially with ±25% jitter otherwise", () => {
    expect(retryDelay(1, null, () => 0.5)).toBe(500);
    expect(retryDelay(2, null, () => 0.5)).toBe(1000);
    expect(retryDelay(3, null, () => 0)).toBe(1500);
    expect(retryDelay(3, null, () => 1)).toBe(2500);
    expect(retryDelay(1, "Wed, 21 Oct 2026 07:28:00 GMT", () => 0.5)).toBe(500);
  });
});
