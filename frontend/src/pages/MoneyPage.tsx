import { useEffect, useId, useState } from "react";
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { ApiError } from "../api/client";
import { IdempotencyKeeper } from "../api/idempotency";
import { portfolio } from "../api/endpoints";
import { accountNameWithType, accountTypeShort } from "../api/tax";
import type { AccountSummary, RecurringDeposit, Transaction, WithdrawalHold } from "../api/types";
import { CashFlowForm } from "../components/CashFlowForm";
import { AccountFeesCard } from "../components/FeesCard";
import { Card, EmptyState, ErrorAlert, Loading, MoneyField, PageHeader, StatusMessage, SubmitButton } from "../components/ui";
import { label, TRANSACTION_KINDS } from "../lib/choices";
import { checkAmount, formatDate, formatMoney, ordinal, RECURRING_LIMITS } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

const DAYS = Array.from({ length: 28 }, (_, i) => i + 1);


// --- Recurring deposits ----------------------------------------------------------------------

function RecurringForm({ account, onCreated }: { account: AccountSummary; onCreated: (r: RecurringDeposit) => void }) {
  const [amount, setAmount] = useState("");
  const [day, setDay] = useState("1");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  // One key per intended schedule: a double click or a retry after an error makes it once.
  const [keeper] = useState(() => new IdempotencyKeeper());
  const dayId = useId();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    // The server's limits for a schedule (RecurringDepositInputSerializer): $1 to $1,000,000.
    const { amount: normalised, problem } = checkAmount(amount, RECURRING_LIMITS);
    if (!normalised) {
      setError(new ApiError(400, "Please check the amount.", "invalid", { fields: { amount: [problem ?? "Enter an amount."] } }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = { amount: normalised, day_of_month: Number(day) };
      const key = keeper.keyFor({ account: account.id, ...body });
      onCreated(await portfolio.recurringCreate(account.id, body, key));
      keeper.succeeded();
      setAmount("");
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="form narrow">
      <h3>Schedule a monthly deposit</h3>
      <ErrorAlert error={error} />
      <div className="grid-2">
        <MoneyField label="Monthly amount" name="recurring-amount" value={amount} onChange={(e) => setAmount(e.target.value)} errors={error?.fields.amount} />
        <div className="field">
          <label htmlFor={dayId}>Day of the month</label>
          <select id={dayId} value={day} onChange={(e) => setDay(e.target.value)} aria-describedby={error?.fields.day_of_month ? `${dayId}-error` : undefined}>
            {DAYS.map((d) => (
              <option key={d} value={d}>
                {ordinal(d)}
              </option>
            ))}
          </select>
          {error?.fields.day_of_month ? (
            <p id={`${dayId}-error`} className="field-error">
              {error.fields.day_of_month.join(" ")}
            </p>
          ) : null}
        </div>
      </div>
      <SubmitButton busy={busy} busyLabel="Scheduling…" className="btn btn-secondary">
        Schedule monthly deposit
      </SubmitButton>
    </form>
  );
}

function RecurringRow({
  account,
  item,
  onChanged,
  onRemoved,
}: {
  account: AccountSummary;
  item: RecurringDeposit;
  onChanged: (r: RecurringDeposit) => void;
  onRemoved: (id: number) => void;
}) {
  const [busy, setBusy] = useState<"pause" | "cancel" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function toggle() {
    setBusy("pause");
    setError(null);
    try {
      onChanged(await portfolio.recurringSetActive(account.id, item.id, !item.active));
    } catch (err) {
      const e = asApiError(err);
      setError(e.status === 405 ? "Pausing isn't available yet; you can cancel this deposit instead." : e.message);
    } finally {
      setBusy(null);
    }
  }

  async function cancel() {
    setBusy("cancel");
    setError(null);
    try {
      await portfolio.recurringCancel(account.id, item.id);
      onRemoved(item.id);
    } catch (err) {
      setError(asApiError(err).message);
      setBusy(null);
    }
  }

  const text = `${formatMoney(item.amount, account.currency)} on the ${ordinal(item.day_of_month)} of each month`;
  return (
    <li className="recurring-row">
      <div>
        <p>
          <strong>{text}</strong> {item.active ? null : <span className="badge">Paused</span>}
        </p>
        <p className="small muted">{item.active ? `Next: ${formatDate(item.next_run)}` : "No deposits while paused."}</p>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
      <div className="actions">
        <button type="button" className="btn btn-ghost btn-small" onClick={toggle} disabled={busy !== null}>
          {busy === "pause" ? "Saving…" : item.active ? "Pause" : "Resume"}
          <span className="visually-hidden"> {text}</span>
        </button>
        {confirming ? (
          <>
            <button type="button" className="btn btn-danger btn-small" onClick={cancel} disabled={busy !== null}>
              {busy === "cancel" ? "Cancelling…" : "Yes, cancel it"}
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirming(false)} disabled={busy !== null}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirming(true)}>
            Cancel<span className="visually-hidden"> {text}</span>
          </button>
        )}
      </div>
    </li>
  );
}

function RecurringCard({ account }: { account: AccountSummary }) {
  const state = useAsync((signal) => portfolio.recurring(account.id, signal), [account.id]);
  const [message, setMessage] = useState<string | null>(null);
  const list = state.data ?? [];
  return (
    <Card title="Recurring deposits" className="span-full">
      {state.loading ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {message ? <StatusMessage>{message}</StatusMessage> : null}
      {state.data ? (
        list.length === 0 ? (
          <EmptyState title="No recurring deposits">
            <p>Automatic monthly deposits are the easiest way to stay on track.</p>
          </EmptyState>
        ) : (
          <ul className="recurring-list">
            {list.map((item) => (
              <RecurringRow
                key={item.id}
                account={account}
                item={item}
                onChanged={(r) => {
                  state.setData((prev) => (prev ?? []).map((x) => (x.id === r.id ? r : x)));
                  setMessage(r.active ? "Recurring deposit resumed." : "Recurring deposit paused.");
                }}
                onRemoved={(id) => {
                  state.setData((prev) => (prev ?? []).filter((x) => x.id !== id));
                  setMessage("Recurring deposit cancelled.");
                }}
              />
            ))}
          </ul>
        )
      ) : null}
      <RecurringForm
        account={account}
        onCreated={(r) => {
          state.setData((prev) => [...(prev ?? []), r]);
          setMessage(`Scheduled: ${formatMoney(r.amount, account.currency)} on the ${ordinal(r.day_of_month)} of each month.`);
        }}
      />
    </Card>
  );
}

// --- Withdrawals held for review ----------------------------------------------------------------

/** The client's withdrawals waiting for an advisor (all accounts); nothing shows when there are none. */
function HeldWithdrawalsCard() {
  const state = useAsync(async (signal) => {
    try {
      return await portfolio.withdrawalHolds("pending", signal);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [] as WithdrawalHold[];
      throw err;
    }
  }, []);
  if (state.error) {
    return (
      <Card title="Held for review" className="span-full">
        <ErrorAlert error={state.error} onRetry={state.reload} />
      </Card>
    );
  }
  const holds = state.data ?? [];
  if (!holds.length) return null;
  return (
    <Card title="Held for review" className="span-full held-withdrawals">
      <p className="small muted">
        These withdrawals are waiting for an advisor to look at them. No money has moved yet; we'll let you know when each
        is decided.
      </p>
      <ul className="held-list" data-testid="held-withdrawals">
        {holds.map((hold) => (
          <li key={hold.id} className="held-row">
            <p>
              <strong>{formatMoney(hold.amount)}</strong> from {hold.goal_name}
            </p>
            <p className="small muted">
              Requested {formatDate(hold.created_at)}
              {hold.approvals_needed > 1 ? ` · ${hold.approvals_given} of ${hold.approvals_needed} approvals` : ""}
              {` · open until ${formatDate(hold.expires_at)}`}
            </p>
          </li>
        ))}
      </ul>
    </Card>
  );
}

// --- Transactions ----------------------------------------------------------------------------

/** Remounted (keyed) per account and after each payment, so it always starts at page 1. */
function TransactionsCard({ account }: { account: AccountSummary }) {
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState<Transaction[]>([]);
  const [hasMore, setHasMore] = useState(false);

  const state = useAsync(
    async (signal) => {
      const data = await portfolio.transactions(account.id, page, signal);
      setRows((prev) => (page === 1 ? data.results : [...prev, ...data.results]));
      setHasMore(Boolean(data.next));
      return data;
    },
    [account.id, page],
  );

  return (
    <Card title="Transaction history" className="span-full">
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {!state.loading && rows.length === 0 && !state.error ? (
        <EmptyState title="No transactions yet">
          <p>Your deposits, withdrawals and rebalances will show up here.</p>
        </EmptyState>
      ) : null}
      {rows.length ? (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Transactions for {account.goal_name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Type</th>
                <th scope="col" className="hide-narrow">
                  Description
                </th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => {
                // Cash out of the account is negative: withdrawals and advisory fees; dividends come in.
                const out = t.amount.startsWith("-");
                return (
                  <tr key={t.id}>
                    <td className="nowrap">{formatDate(t.market_date)}</td>
                    <td>
                      {label(TRANSACTION_KINDS, t.kind)}
                      {(t.kind === "fee" || t.kind === "dividend") && t.description ? (
                        // Narrow screens drop the Description column; a fee still names its month, a dividend its fund.
                        <span className="show-narrow small muted">{t.description}</span>
                      ) : null}
                      {t.tax_note ? <span className="show-narrow small muted">{t.tax_note}</span> : null}
                    </td>
                    <td className="hide-narrow">
                      {t.description}
                      {t.tax_note ? <span className="small muted tax-note">{t.tax_note}</span> : null}
                    </td>
                    <td className={`num ${out ? "neg" : ""}`}>
                      {out ? "−" : ""}
                      {formatMoney(t.amount.replace(/^-/, ""), account.currency)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {state.loading ? <Loading label="Loading transactions…" /> : null}
      {hasMore && !state.loading ? (
        <button type="button" className="btn btn-secondary" onClick={() => setPage((p) => p + 1)}>
          Show older transactions
        </button>
      ) : null}
    </Card>
  );
}

// --- Page ------------------------------------------------------------------------------------

export default function MoneyPage() {
  useTitle("Money");
  const [params, setParams] = useSearchParams();
  const state = useAsync((signal) => portfolio.accounts(signal), []);
  const [revision, setRevision] = useState(0);
  const accounts = state.data ?? [];

  const goalParam = params.get("goal");
  const accountParam = params.get("account");
  const selected =
    accounts.find((a) => String(a.id) === accountParam) ??
    accounts.find((a) => String(a.goal_id) === goalParam) ??
    accounts[0];

  useEffect(() => {
    if (params.get("tab") === "withdraw" && selected) {
      document.getElementById("withdraw")?.scrollIntoView({ block: "start" });
    }
  }, [params, selected]);

  function selectAccount(id: string) {
    const next = new URLSearchParams(params);
    next.set("account", id);
    next.delete("goal");
    setParams(next, { replace: true });
  }

  function refreshAccount(updated: AccountSummary) {
    state.setData((prev) => (prev ?? []).map((a) => (a.id === updated.id ? updated : a)));
    setRevision((r) => r + 1);
  }

  return (
    <>
      <PageHeader title="Money" subtitle="Move money in and out of your goals' accounts." />
      {state.loading && !state.data ? <Loading label="Loading your accounts…" /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {state.data && accounts.length === 0 ? (
        <Card>
          <EmptyState title="No accounts yet">
            <p>Every goal has its own account. Create a goal to start investing.</p>
            <Link to="/goals/new" className="btn btn-primary">
              Create a goal
            </Link>
          </EmptyState>
        </Card>
      ) : null}
      {selected ? (
        <>
          <div className="account-bar card">
            <label className="field inline">
              <span>Account</span>
              <select value={selected.id} onChange={(e) => selectAccount(e.target.value)}>
                {accounts.map((a) => (
                  <option key={a.id} value={a.id}>
                    {accountNameWithType(a.goal_name, a.account_type)}
                  </option>
                ))}
              </select>
            </label>
            <span className="badge badge-account" data-testid="account-type">
              {accountTypeShort(selected.account_type)}
            </span>
            <div className="account-value">
              <span className="muted small">Value</span>
              <strong data-testid="account-value">{formatMoney(selected.value, selected.currency)}</strong>
            </div>
            <div className="account-value">
              <span className="muted small">Cash</span>
              <strong>{formatMoney(selected.cash, selected.currency)}</strong>
            </div>
            <div className="account-value">
              <span className="muted small">As of</span>
              <strong>{formatDate(selected.market_date)}</strong>
            </div>
          </div>
          <div className="dash-grid">
            <Card title="Deposit">
              <CashFlowForm key={`d-${selected.id}`} account={selected} kind="deposit" onDone={(r) => refreshAccount(r.account)} />
            </Card>
            <section id="withdraw" className="card" aria-labelledby="withdraw-title">
              <div className="card-head">
                <h2 className="card-title" id="withdraw-title">
                  Withdraw
                </h2>
              </div>
              <CashFlowForm key={`w-${selected.id}`} account={selected} kind="withdrawal" onDone={(r) => refreshAccount(r.account)} />
            </section>
            <HeldWithdrawalsCard key={`h-${revision}`} />
            <RecurringCard key={`r-${selected.id}`} account={selected} />
            <AccountFeesCard />
            <TransactionsCard key={`t-${selected.id}-${revision}`} account={selected} />
          </div>
        </>
      ) : null}
    </>
  );
}
