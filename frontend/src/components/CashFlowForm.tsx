import { useRef, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { portfolio } from "../api/endpoints";
import { IdempotencyKeeper } from "../api/idempotency";
import type { AccountSummary, CashFlowResult } from "../api/types";
import { compareDecimal, formatMoney, normaliseAmount } from "../lib/format";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, MoneyField, StatusMessage, SubmitButton } from "./ui";

export type CashFlowKind = "deposit" | "withdrawal";

/** Deposit or withdraw. One Idempotency-Key per intended payment, so it is never made twice. */
export function CashFlowForm({
  account,
  kind,
  onDone,
}: {
  account: AccountSummary;
  kind: CashFlowKind;
  onDone?: (result: CashFlowResult) => void;
}) {
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [keeper] = useState(() => new IdempotencyKeeper());
  // State updates land after the event: this ref stops a second click in the same tick.
  const inFlight = useRef(false);

  const normalised = normaliseAmount(amount);
  const verb = kind === "deposit" ? "Deposit" : "Withdraw";

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    setDone(null);
    if (!normalised) {
      setError(
        new ApiError(400, "Please check the amount.", "invalid", {
          fields: { amount: ["Enter an amount in dollars, e.g. 1000 or 250.50."] },
        }),
      );
      return;
    }
    if (kind === "withdrawal" && compareDecimal(normalised, account.value) > 0) {
      setError(
        new ApiError(400, "Please check the amount.", "invalid", {
          fields: { amount: [`You can withdraw up to ${formatMoney(account.value, account.currency)}.`] },
        }),
      );
      return;
    }
    inFlight.current = true;
    setBusy(true);
    setError(null);
    const key = keeper.keyFor({ account: account.id, kind, amount: normalised });
    try {
      const result =
        kind === "deposit"
          ? await portfolio.deposit(account.id, normalised, key)
          : await portfolio.withdraw(account.id, normalised, key);
      keeper.succeeded();
      setAmount("");
      setDone(result.message || `${verb} of ${formatMoney(normalised, account.currency)} received.`);
      onDone?.(result);
    } catch (err) {
      // The key is kept: resubmitting the same amount is the same payment.
      setError(asApiError(err));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="form">
      <ErrorAlert error={error} />
      <MoneyField
        label={kind === "deposit" ? "Amount to deposit" : "Amount to withdraw"}
        name="amount"
        placeholder="0.00"
        value={amount}
        onChange={(e) => {
          setAmount(e.target.value);
          setDone(null);
        }}
        hint={
          kind === "deposit"
            ? "Invested at the next market close, most underweight funds first."
            : `Available: ${formatMoney(account.value, account.currency)}. Overweight funds are sold first.`
        }
        errors={error?.fields.amount}
      />
      {done ? <StatusMessage>{done}</StatusMessage> : null}
      <SubmitButton busy={busy} busyLabel={kind === "deposit" ? "Depositing…" : "Withdrawing…"}>
        {normalised ? `${verb} ${formatMoney(normalised, account.currency)}` : verb}
      </SubmitButton>
    </form>
  );
}
