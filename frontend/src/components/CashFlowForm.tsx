import { useRef, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { portfolio } from "../api/endpoints";
import { IdempotencyKeeper } from "../api/idempotency";
import type { AccountSummary, CashFlowResult } from "../api/types";
import { checkAmount, compareDecimal, formatMoney, formatUnits } from "../lib/format";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, MoneyField, StatusMessage, SubmitButton } from "./ui";

export type CashFlowKind = "deposit" | "withdrawal";

/**
 * The server's message about the payment. A withdrawal from an IRA says how it is taxed
 * (`transaction.tax_note`); the server's message ends with it, and it is added here if not. A
 * withdrawal held for review (202, `hold`) has no transaction yet: its message says so.
 */
export function resultMessage(result: CashFlowResult, fallback: string): string {
  const message = result.message || fallback;
  const note = result.transaction?.tax_note?.trim();
  return note && !message.includes(note) ? `${message} ${note}` : message;
}

/** A withdrawal the risk rules held for an advisor (answered 202): no transaction yet. */
export function isHeld(result: CashFlowResult): boolean {
  return result.hold !== undefined && result.hold !== null && !result.transaction;
}

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
  const [done, setDone] = useState<CashFlowResult | null>(null);
  const [keeper] = useState(() => new IdempotencyKeeper());
  // State updates land after the event: this ref stops a second click in the same tick.
  const inFlight = useRef(false);

  const checked = checkAmount(amount);
  const normalised = checked.amount;
  const verb = kind === "deposit" ? "Deposit" : "Withdraw";

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    setDone(null);
    if (!normalised) {
      // The server's limits, checked here: an amount it would refuse is never sent.
      setError(
        new ApiError(400, "Please check the amount.", "invalid", {
          fields: { amount: [checked.problem ?? "Enter an amount."] },
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
      const fallback = isHeld(result)
        ? `Your withdrawal of ${formatMoney(normalised, account.currency)} is held for review by an advisor. No money has moved yet.`
        : `${verb} of ${formatMoney(normalised, account.currency)} received.`;
      setDone({ ...result, message: resultMessage(result, fallback) });
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
      {done && isHeld(done) ? (
        // Neither an error nor done: the risk rules passed it to an advisor (a 202).
        <div className="alert alert-info held-notice" role="status" data-testid="withdrawal-held">
          <p>
            <strong>Held for review.</strong> {done.message}
          </p>
        </div>
      ) : done ? (
        <>
          <StatusMessage>{done.message}</StatusMessage>
          <CashFlowDetails result={done} currency={account.currency} />
        </>
      ) : null}
      <SubmitButton busy={busy} busyLabel={kind === "deposit" ? "Depositing…" : "Withdrawing…"}>
        {normalised ? `${verb} ${formatMoney(normalised, account.currency)}` : verb}
      </SubmitButton>
    </form>
  );
}

/** The trades behind a deposit or withdrawal, to the full 8 decimals: one click away. */
function CashFlowDetails({ result, currency }: { result: CashFlowResult; currency: string }) {
  const trades = (result.transaction?.entries ?? []).filter((e) => e.ticker && e.price);
  if (!trades.length) return null;
  return (
    <details className="cash-flow-details">
      <summary>Trade details</summary>
      <table className="table small">
        <caption className="visually-hidden">Units traded at the close</caption>
        <thead>
          <tr>
            <th scope="col">Fund</th>
            <th scope="col" className="num">
              Units
            </th>
            <th scope="col" className="num">
              Exact units
            </th>
            <th scope="col" className="num">
              Price
            </th>
          </tr>
        </thead>
        <tbody>
          {trades.map((e, i) => (
            <tr key={`${e.ticker}-${i}`}>
              <td>{e.ticker}</td>
              <td className="num">{formatUnits(e.quantity)}</td>
              <td className="num">{e.quantity}</td>
              <td className="num">
                {e.price} {currency}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
