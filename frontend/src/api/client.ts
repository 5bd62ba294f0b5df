// The one way the app talks to the server: /api/v1/ with the session cookie and Django's CSRF
// token, errors parsed into ApiError ({"message", "code", "extra": {"fields"}}).

export const API_ROOT = "/api/v1/";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldErrors;
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    message: string,
    code: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.extra = extra;
    this.fields = flattenFieldErrors(extra.fields);
  }

  /** True when nothing reached the server (offline, DNS, connection reset). */
  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

/** Nested DRF errors ({"answers": {"q1": ["…"]}}) become {"answers.q1": ["…"]}. */
export function flattenFieldErrors(value: unknown, prefix = ""): FieldErrors {
  const out: FieldErrors = {};
  if (value === null || typeof value !== "object") return out;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(item) && item.every((m) => typeof m === "string")) {
      out[name] = item as string[];
    } else if (typeof item === "string") {
      out[name] = [item];
    } else if (Array.isArray(item)) {
      item.forEach((sub, i) => Object.assign(out, flattenFieldErrors(sub, `${name}.${i}`)));
    } else {
      Object.assign(out, flattenFieldErrors(item, name));
    }
  }
  return out;
}

const STATUS_MESSAGES: Record<number, string> = {
  400: "Please check the highlighted fields.",
  401: "Please log in to continue.",
  403: "You don't have access to that.",
  404: "We couldn't find that.",
  409: "That can't be done right now.",
  413: "That request is too large.",
  429: "Too many attempts. Please wait a moment and try again.",
  500: "Something went wrong on our side; nothing was changed.",
  502: "Meridian is briefly unavailable. Please try again.",
  503: "Meridian is briefly unavailable. Please try again.",
};

/** Turn any error response into an ApiError; bodies that are not our JSON shape still work. */
export async function parseError(response: Response): Promise<ApiError> {
  const fallback = STATUS_MESSAGES[response.status] ?? `Request failed (${response.status}).`;
  let body: unknown = null;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null; // an HTML error page from a proxy or DEBUG: keep the fallback message
  }
  if (body && typeof body === "object") {
    const b = body as { message?: unknown; code?: unknown; extra?: unknown; detail?: unknown };
    const message =
      typeof b.message === "string" ? b.message : typeof b.detail === "string" ? b.detail : fallback;
    const code = typeof b.code === "string" ? b.code : `http_${response.status}`;
    const extra = b.extra && typeof b.extra === "object" ? (b.extra as Record<string, unknown>) : {};
    return new ApiError(response.status, message, code, extra);
  }
  return new ApiError(response.status, fallback, `http_${response.status}`);
}

// --- CSRF ---------------------------------------------------------------------------------

let csrfFromBody: string | null = null;
let csrfRequest: Promise<string> | null = null;

export function readCookie(name: string): string | null {
  const prefix = `${name}=`;
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return null;
}

/** The CSRF token: the cookie when readable (Django rotates it at login), else ask for one. */
export async function csrfToken(): Promise<string> {
  const cookie = readCookie("csrftoken");
  if (cookie) return cookie;
  if (csrfFromBody) return csrfFromBody;
  csrfRequest ??= fetch(`${API_ROOT}auth/csrf/`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then(async (response) => {
      if (!response.ok) throw await parseError(response);
      const body = (await response.json()) as { csrf_token: string };
      csrfFromBody = body.csrf_token;
      return readCookie("csrftoken") ?? body.csrf_token;
    })
    .finally(() => {
      csrfRequest = null;
    });
  return csrfRequest;
}

function forgetCsrf(): void {
  csrfFromBody = null;
}

// --- Session loss -------------------------------------------------------------------------

type Listener = (error: ApiError) => void;
let unauthorizedListener: Listener | null = null;

/** The auth layer registers here: a 401/403 on an authenticated call sends the user to login. */
export function onUnauthorized(listener: Listener | null): void {
  unauthorizedListener = listener;
}

// --- Requests -----------------------------------------------------------------------------

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Sent as Idempotency-Key: the server runs the operation once per key. */
  idempotencyKey?: string;
  /** Login and sign-up: a 401 there is a wrong password, not a lost session. */
  anonymous?: boolean;
}

export interface ApiResult<T> {
  status: number;
  data: T;
  headers: Headers;
}

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const url = path.startsWith("/") ? path : `${API_ROOT}${path}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${url}${url.includes("?") ? "&" : "?"}${qs}` : url;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) headers["X-CSRFToken"] = await csrfToken();
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(
      0,
      "We couldn't reach Meridian. Check your connection and try again.",
      "network_error",
    );
  }
}

// --- Retry with backoff ---------------------------------------------------------------------

/** Statuses that mean "briefly unavailable": the database or an upstream blinked (the server
 * answers 503 with Retry-After), nothing was done, and the same request may succeed shortly. */
const TRANSIENT = new Set([502, 503, 504]);
/** Retries after the first try; waits 0.5 s, 1 s, 2 s (± 25% jitter) unless Retry-After says. */
export const RETRY_ATTEMPTS = 3;
const RETRY_BASE_MS = 500;
/** A Retry-After longer than this is not waited for: the user sees the error and may retry. */
const RETRY_AFTER_CAP_MS = 8000;

/** Safe to send again: a read, or a write the server applies once per Idempotency-Key. */
function idempotent(options: RequestOptions): boolean {
  const method = options.method ?? "GET";
  return method === "GET" || Boolean(options.idempotencyKey);
}

/** Milliseconds before retry `attempt` (1-based): the server's Retry-After (seconds) when it
 * gives one, else exponential backoff with jitter; null when the server asks for too long. */
export function retryDelay(attempt: number, retryAfter: string | null, random = Math.random): number | null {
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) {
    const ms = Number(retryAfter.trim()) * 1000;
    return ms > RETRY_AFTER_CAP_MS ? null : ms;
  }
  const base = RETRY_BASE_MS * 2 ** (attempt - 1);
  return Math.round(base * (0.75 + 0.5 * random()));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException("Aborted", "AbortError"));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(new DOMException("Aborted", "AbortError"));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `send`, retried with backoff while the server is briefly unavailable or unreachable, for
 * idempotent requests only (a plain POST is never sent twice: the user decides). */
async function sendWithRetry(path: string, options: RequestOptions): Promise<Response> {
  const retry = idempotent(options);
  for (let attempt = 1; ; attempt += 1) {
    let response: Response;
    try {
      response = await send(path, options);
    } catch (error) {
      const network = error instanceof ApiError && error.isNetworkError;
      if (!retry || !network || attempt > RETRY_ATTEMPTS) throw error;
      await sleep(retryDelay(attempt, null) ?? 0, options.signal);
      continue;
    }
    if (!retry || !TRANSIENT.has(response.status) || attempt > RETRY_ATTEMPTS) return response;
    const delay = retryDelay(attempt, response.headers.get("Retry-After"));
    if (delay === null) return response;
    await sleep(delay, options.signal);
  }
}

function isCsrfFailure(error: ApiError): boolean {
  return error.status === 403 && /csrf/i.test(error.message);
}

/** Call the API; resolves with status and parsed body, rejects with ApiError. Reads and keyed
 * writes are retried with backoff while the server answers 502/503/504 or cannot be reached. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
  let response = await sendWithRetry(path, options);
  if (!response.ok) {
    let error = await parseError(response);
    if (isCsrfFailure(error)) {
      // A stale token (another tab logged in or out): fetch a fresh one and try once more.
      forgetCsrf();
      response = await sendWithRetry(path, options);
      error = response.ok ? error : await parseError(response);
    }
    if (!response.ok) {
      if ((error.status === 401 || error.status === 403) && !options.anonymous) {
        unauthorizedListener?.(error);
      }
      throw error;
    }
  }
  const text = response.status === 204 ? "" : await response.text();
  const data = (text ? JSON.parse(text) : null) as T;
  return { status: response.status, data, headers: response.headers };
}

export async function get<T>(path: string, options: Omit<RequestOptions, "method"> = {}): Promise<T> {
  return (await request<T>(path, { ...options, method: "GET" })).data;
}

export async function post<T>(
  path: string,
  body?: unknown,
  options: Omit<RequestOptions, "method" | "body"> = {},
): Promise<T> {
  return (await request<T>(path, { ...options, method: "POST", body })).data;
}

export async function patch<T>(
  path: string,
  body: unknown,
  options: Omit<RequestOptions, "method" | "body"> = {},
): Promise<T> {
  return (await request<T>(path, { ...options, method: "PATCH", body })).data;
}

export async function del(path: string, options: Omit<RequestOptions, "method"> = {}): Promise<void> {
  await request<null>(path, { ...options, method: "DELETE" });
}

/** For tests: forget cached tokens and listeners. */
export function resetClientState(): void {
  csrfFromBody = null;
  csrfRequest = null;
  unauthorizedListener = null;
}
