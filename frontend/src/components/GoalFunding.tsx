// Funding a goal: the starting deposit and the monthly recurring deposit its plan assumes.
// Nothing here moves money until the client has seen, in one summary, exactly what will move
// and pressed the confirm button; each payment carries its own Idempotency-Key.
import { useEffect, useState } from "react";

import { ApiError } from "../api/client";
import { goals, portfolio } from "../api/endpoints";
import { IdempotencyKeeper } from "../api/idempotency";
import type { Goal, GoalFunding } from "../api/types";
import { compareDecimal, formatMoney, ordinal } from "../lib/format";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, StatusMessage } from "./ui";

export const DAYS_OF_MONTH = Array.from({ length: 28 }, (_, i) => i + 1);

/** A positive decimal string ("0.00" and "0" are not). */
export function isPositive(amount: string | null | undefined): amount is string {
  return Boolean(amount) && compareDecimal(amount as string, "0") > 0;
}

/** "Scheduled $300.00/mo vs plan $500.00/mo", or null when they agree. */
export function scheduledVsPlan(funding: Pick<GoalFunding, "scheduled_monthly" | "monthly_contribution" | "currency">): string | null {
  if (compareDecimal(funding.scheduled_monthly, funding.monthly_contribution) === 0) return null;
  return (
    `Scheduled ${formatMoney(funding.scheduled_monthly, funding.currency)}/mo ` +
    `vs plan ${formatMoney(funding.monthly_contribution, funding.currency)}/mo`
  );
}

/**
 * The goal page's funding line: what the account has scheduled each month against the plan,
 * and — when they differ — an offer to make the schedule match, confirmed before anything moves.
 */
export function ScheduledVsPlan({
  goal,
  offer = false,
}: {
  goal: Goal;
  /** Open the offer straight away (a what-if was just saved to the plan). */
  offer?: boolean;
}) {
  const [funding, setFunding] = useState<GoalFunding | null>(null);
  const [revision, setRevision] = useState(0);
  const [open, setOpen] = useState(offer);
  const [day, setDay] = useState("1");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [keeper] = useState(() => new IdempotencyKeeper());

  useEffect(() => {
    const controller = new AbortController();
    goals
      .funding(goal.id, controller.signal)
      .then((f) => setFunding(f))
      .catch(() => {
        if (!controller.signal.aborted) setFunding(null); // the line is a hint: no error here
      });
    return () => controller.abort();
    // The plan's figure is the goal's: refetch when it changes.
  }, [goal.id, goal.monthly_contribution, revision]);

  useEffect(() => {
    if (offer) setOpen(true);
  }, [offer, goal.monthly_contribution]);

  if (!funding) return done ? <StatusMessage>{done}</StatusMessage> : null;
  const line = scheduledVsPlan(funding);
  if (!line) {
    // The schedule matches the plan: say what is scheduled (nothing to offer).
    return (
      <>
        {isPositive(funding.scheduled_monthly) ? (
          <p className="scheduled-monthly" data-testid="scheduled-monthly">
            Monthly deposit: scheduled {formatMoney(funding.scheduled_monthly, funding.currency)}/mo, as your plan
            assumes.
          </p>
        ) : null}
        {done ? <StatusMessage>{done}</StatusMessage> : null}
      </>
    );
  }

  const plan = funding.monthly_contribution;
  const currency = funding.currency;

  async function confirm() {
    if (!funding) return;
    setBusy(true);
    setError(null);
    try {
      // The new schedule first (a retry reuses its key), then stop the old ones.
      const current = (await portfolio.recurring(funding.account_id)).filter((r) => r.active);
      if (isPositive(plan)) {
        const body = { amount: plan, day_of_month: Number(day) };
        await portfolio.recurringCreate(funding.account_id, body, keeper.keyFor({ account: funding.account_id, ...body }));
        keeper.succeeded();
      }
      for (const r of current) await portfolio.recurringCancel(funding.account_id, r.id);
      setDone(
        isPositive(plan)
          ? `Your monthly deposit is now ${formatMoney(plan, currency)} on the ${ordinal(Number(day))}.`
          : "Your monthly deposits are stopped, as your plan now has none.",
      );
      setOpen(false);
      setRevision((r) => r + 1);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="scheduled-vs-plan" data-testid="scheduled-vs-plan">
      <p>
        <strong>{line}</strong>{" "}
        {!open ? (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setOpen(true)}>
            Update my monthly deposit…
          </button>
        ) : null}
      </p>
      {open ? (
        <div className="confirm-box" role="group" aria-label="Update your monthly deposit">
          <p>
            {isPositive(plan) ? (
              <>
                {isPositive(funding.scheduled_monthly)
                  ? `Replace your current monthly deposits (${formatMoney(funding.scheduled_monthly, currency)} a month) with `
                  : "Start a monthly deposit of "}
                <strong>{formatMoney(plan, currency)} a month</strong> on the{" "}
                <label>
                  <span className="visually-hidden">Day of the month</span>
                  <select value={day} onChange={(e) => setDay(e.target.value)}>
                    {DAYS_OF_MONTH.map((d) => (
                      <option key={d} value={d}>
                        {ordinal(d)}
                      </option>
                    ))}
                  </select>
                </label>
                , starting next month. Nothing changes until you confirm.
              </>
            ) : (
              <>Stop your monthly deposits ({formatMoney(funding.scheduled_monthly, currency)} a month): your plan now has none.</>
            )}
          </p>
          <ErrorAlert error={error} />
          <div className="form-actions">
            <button type="button" className="btn btn-secondary" onClick={() => setOpen(false)} disabled={busy}>
              Not now
            </button>
            <button type="button" className="btn btn-primary" onClick={confirm} disabled={busy}>
              {busy
                ? "Updating…"
                : isPositive(plan)
                  ? `Confirm ${formatMoney(plan, currency)}/mo`
                  : "Confirm: stop monthly deposits"}
            </button>
          </div>
        </div>
      ) : null}
      {done ? <StatusMessage>{done}</StatusMessage> : null}
    </div>
  );
}
