// One Idempotency-Key per intended payment: a double click, a retry after a timeout or a
// resubmission after an error all reuse it, so the server moves money once. A new key is made
// only when the payment changes (another amount or account) or after it succeeded.

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  // Old browsers and plain-HTTP origins (randomUUID needs a secure context).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class IdempotencyKeeper {
  private key: string | null = null;
  private fingerprint: string | null = null;

  constructor(private readonly makeKey: () => string = newIdempotencyKey) {}

  /** The key for this payload: the same one until it succeeds or the payload changes. */
  keyFor(payload: unknown): string {
    const fingerprint = JSON.stringify(payload);
    if (this.key === null || fingerprint !== this.fingerprint) {
      this.key = this.makeKey();
      this.fingerprint = fingerprint;
    }
    return this.key;
  }

  /** The payment went through: the next one is a new payment. */
  succeeded(): void {
    this.key = null;
    this.fingerprint = null;
  }
}
