import { describe, expect, it, vi } from "vitest";

import { json, mockFetch } from "../test/fetchMock";
import { ApiError, flattenFieldErrors, get, onUnauthorized, parseError, patch, post } from "./client";

describe("the API client", () => {
  it("sends the CSRF cookie as X-CSRFToken on unsafe methods, with the session cookie", async () => {
    document.cookie = "csrftoken=cookie-token; path=/";
    const { calls } = mockFetch(() => json({ ok: true }));

    await post("goals/", { name: "House" });
    await patch("clients/me/", { city: "Oslo" });

    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ["POST", "/api/v1/goals/"],
      ["PATCH", "/api/v1/clients/me/"],
    ]);
    for (const call of calls) {
      expect(call.headers["x-csrftoken"]).toBe("cookie-token");
      expect(call.headers["content-type"]).toBe("application/json");
      expect(call.credentials).toBe("same-origin");
    }
    expect(calls[0]?.body).toEqual({ name: "House" });
  });

  it("does not send a CSRF token on GET", async () => {
    document.cookie = "csrftoken=cookie-token; path=/";
    const { calls } = mockFetch(() => json([]));

    await get("goals/", { query: { page: 2, status: undefined } });

    expect(calls[0]?.url).toBe("/api/v1/goals/?page=2");
    expect(calls[0]?.headers["x-csrftoken"]).toBeUndefined();
    expect(calls[0]?.credentials).toBe("same-origin");
  });

  it("asks the server for a CSRF token when there is no cookie yet", async () => {
    const { calls } = mockFetch((call) =>
      call.url.endsWith("auth/csrf/") ? json({ csrf_token: "from-body" }) : json({ id: 1 }, 201),
    );

    await post("auth/login/", { email: "a@b.c", password: "x" });

    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/csrf/", "/api/v1/auth/login/"]);
    expect(calls[1]?.headers["x-csrftoken"]).toBe("from-body");
  });

  it("retries once with a fresh token when the server reports a CSRF failure", async () => {
    let posts = 0;
    const { calls } = mockFetch((call) => {
      if (call.url.endsWith("auth/csrf/")) return json({ csrf_token: "fresh" });
      posts += 1;
      return posts === 1
        ? json({ message: "CSRF Failed: CSRF token missing.", code: "permission_denied", extra: {} }, 403)
        : json({ id: 7 }, 201);
    });

    await expect(post("goals/", { name: "x" })).resolves.toEqual({ id: 7 });
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(2);
    expect(calls.at(-1)?.headers["x-csrftoken"]).toBe("fresh");
  });

  it("turns the error shape into an ApiError with the message and field errors", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json(
        {
          message: "Invalid input.",
          code: "invalid",
          extra: { fields: { target_amount: ["Ensure this value is greater than or equal to 1.00."] } },
        },
        400,
      ),
    );

    const error = await post("goals/", {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toBe("Invalid input.");
    expect((error as ApiError).code).toBe("invalid");
    expect((error as ApiError).fields).toEqual({
      target_amount: ["Ensure this value is greater than or equal to 1.00."],
    });
  });

  it("flattens nested field errors, as the questionnaire sends them", () => {
    expect(
      flattenFieldErrors({ answers: { loss_reaction: ["Choose one of the listed answers."] }, version: "Unknown." }),
    ).toEqual({ "answers.loss_reaction": ["Choose one of the listed answers."], version: ["Unknown."] });
  });

  it("shows the lockout message of a 429", async () => {
    mockFetch(() =>
      json(
        {
          message: "Too many failed login attempts: this account is locked for 15 minutes.",
          code: "locked_out",
          extra: { cooloff_minutes: 15 },
        },
        429,
      ),
    );
    document.cookie = "csrftoken=t; path=/";

    const error = (await post("auth/login/", {}, { anonymous: true }).catch((e: unknown) => e)) as ApiError;

    expect(error.status).toBe(429);
    expect(error.message).toMatch(/locked for 15 minutes/);
    expect(error.extra.cooloff_minutes).toBe(15);
  });

  it("copes with error pages that are not JSON", async () => {
    const error = await parseError(new Response("<!doctype html><h1>Bad gateway</h1>", { status: 502 }));
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/briefly unavailable/);
    expect(error.fields).toEqual({});
  });

  it("reports a network failure as status 0", async () => {
    vi.useFakeTimers();
    const fetchFn = vi.fn().mockRejectedValue(new TypeError("Failed to fetch"));
    vi.stubGlobal("fetch", fetchFn);
    const pending = get("goals/").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000); // the retries' backoff, then the error
    const error = (await pending) as ApiError;
    vi.useRealTimers();
    expect(fetchFn).toHaveBeenCalledTimes(4);
    expect(error.isNetworkError).toBe(true);
    expect(error.message).toMatch(/couldn't reach/);
  });

  it("tells the auth layer about a lost session, except on login itself", async () => {
    const listener = vi.fn();
    onUnauthorized(listener);
    mockFetch(() => json({ message: "Authentication credentials were not provided.", code: "not_authenticated", extra: {} }, 401));

    await expect(get("portfolio/summary/")).rejects.toBeInstanceOf(ApiError);
    await expect(get("auth/me/", { anonymous: true })).rejects.toBeInstanceOf(ApiError);

    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("sends the Idempotency-Key header it is given", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() => json({}, 201));
    await post("accounts/1/deposits/", { amount: "10.00" }, { idempotencyKey: "key-1" });
    expect(calls[0]?.headers["idempotency-key"]).toBe("key-1");
  });
});
