import { useEffect, useId, useMemo, useState } from "react";
import { Link, useParams } from "react-router";

import { ApiError } from "../api/client";
import { goals } from "../api/endpoints";
import { accountTypeLabel } from "../api/tax";
import type { Goal, Projection } from "../api/types";
import FanChart from "../components/charts/FanChart";
import type { FanPoint } from "../components/charts/FanChart";
import { GoalForm } from "../components/GoalForm";
import { ScheduledVsPlan } from "../components/GoalFunding";
import { GoalRisk } from "../components/GoalRisk";
import { TaxLots } from "../components/TaxLots";
import { Card, ErrorAlert, Loading, PageHeader, StatusMessage } from "../components/ui";
import { GOAL_PRIORITIES, GOAL_TYPES, label } from "../lib/choices";
import { chartNumber, formatDate, formatMoney, formatMonth, formatPercent, normaliseAmount, todayIso } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

// 202 "pending" means the ml worker is still simulating: ask again, a little later each time.
const POLL_DELAYS_MS = [1000, 1500, 2000, 3000, 5000, 5000, 8000, 8000, 10000, 10000];

interface WhatIf {
  monthly_contribution?: string;
  target_date?: string;
}

type ProjectionState =
  | { kind: "loading" }
  | { kind: "pending"; attempt: number }
  | { kind: "ready"; projection: Projection }
  | { kind: "failed"; message: string }
  | { kind: "error"; error: ApiError };

function useProjection(goalId: number, whatIf: WhatIf, revision: number): ProjectionState {
  const [state, setState] = useState<ProjectionState>({ kind: "loading" });
  const key = JSON.stringify(whatIf);

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    let attempt = 0;
    setState((s) => (s.kind === "ready" ? s : { kind: "loading" }));

    const run = async () => {
      try {
        const projection = await goals.projection(goalId, whatIf, controller.signal);
        if (controller.signal.aborted) return;
        if (projection.status === "ready") setState({ kind: "ready", projection });
        else if (projection.status === "failed") {
          setState({ kind: "failed", message: projection.message ?? "The projection could not be computed." });
        } else if (attempt < POLL_DELAYS_MS.length) {
          setState({ kind: "pending", attempt });
          timer = window.setTimeout(run, POLL_DELAYS_MS[attempt]);
          attempt += 1;
        } else {
          setState({ kind: "failed", message: "The projection is taking longer than usual. Please check back in a few minutes." });
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        setState({ kind: "error", error: asApiError(err) });
      }
    };
    void run();
    return () => {
      controller.abort();
      if (timer) window.clearTimeout(timer);
    };
    // `whatIf` is compared by value (`key`), not by identity.
  }, [goalId, key, revision]);

  return state;
}

function addMonths(start: Date, months: number): Date {
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, 1));
}

function fanPoints(projection: Projection): FanPoint[] {
  // A map of bands in the schema; a ready projection has p10, p50 and p90, as decimal strings.
  // Numbers only for drawing: the figures shown in text come from the strings themselves.
  const { p10 = [], p50 = [], p90 = [] } = projection.percentiles ?? {};
  // Month 0 is the market date the projection starts from (the last close), not the wall clock.
  const start = projection.market_date ? new Date(`${projection.market_date}T00:00:00Z`) : new Date();
  return p50.map((value, month) => {
    const median = chartNumber(value);
    const low = chartNumber(p10[month] ?? value);
    const high = chartNumber(p90[month] ?? value);
    return { month, label: formatMonth(addMonths(start, month)), p10: low, p50: median, p90: high, band: [low, high] };
  });
}

/** What the 80% figure says: the contribution, or — when no contribution would do — what would. */
function EightyPercentFigure({ projection, goal }: { projection: Projection; goal: Goal }) {
  if (projection.required_contribution_capped) {
    return (
      <div className="figure">
        <p className="figure-label">For an 80% chance</p>
        <p className="figure-value">Out of reach by saving alone</p>
        <p className="figure-hint" data-testid="capped-hint">
          Saving more each month can't reach an 80% chance by {formatDate(projection.target_date)}. What would work
          instead: a later target date (try one under What if…) or a smaller target —{" "}
          {projection.reachable_target !== null
            ? `about ${formatMoney(projection.reachable_target, goal.currency, { whole: true })} is within reach at ${formatMoney(projection.monthly_contribution, goal.currency, { whole: true })}/mo.`
            : "lower it and look again."}
        </p>
      </div>
    );
  }
  return (
    <div className="figure">
      <p className="figure-label">For an 80% chance</p>
      <p className="figure-value">
        {projection.required_monthly_contribution !== null
          ? `${formatMoney(projection.required_monthly_contribution, goal.currency, { whole: true })}/mo`
          : "—"}
      </p>
      <p className="figure-hint">Monthly contribution</p>
    </div>
  );
}

/** The assumptions in one sentence: the start, the glide path, the costs. */
function projectionBasis(projection: Projection, goal: Goal): string {
  const levels = projection.glide.map((step) => step.level);
  const first = levels[0];
  const last = levels[levels.length - 1];
  const glide =
    first !== undefined && last !== undefined && last < first
      ? ` The portfolio steps down from risk level ${first} to ${last} as the date nears.`
      : "";
  return (
    `Starts from the ${formatMoney(projection.initial_value, goal.currency)} in the account at the ` +
    `${formatDate(projection.market_date)} close, with ${formatMoney(projection.monthly_contribution, goal.currency)} a month.` +
    `${glide} After the advisory fee and the funds' expense ratios; in today's dollars.`
  );
}

function WhatIfPanel({
  goal,
  value,
  onChange,
  onReset,
  onSaved,
}: {
  goal: Goal;
  value: { monthly: string; date: string };
  onChange: (v: { monthly: string; date: string }) => void;
  onReset: () => void;
  onSaved: (goal: Goal) => void;
}) {
  const sliderId = useId();
  const monthlyId = useId();
  const dateId = useId();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const monthlyValid = normaliseAmount(value.monthly) !== null || /^0*(\.0*)?$/.test(value.monthly.trim());
  const dateValid = value.date > todayIso();
  const changed =
    (normaliseAmount(value.monthly) ?? "0.00") !== goal.monthly_contribution || value.date !== goal.target_date;
  const sliderMax = Math.max(1000, Math.ceil((Number(goal.monthly_contribution) * 3) / 100) * 100);

  async function save() {
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      const updated = await goals.update(goal.id, {
        monthly_contribution: normaliseAmount(value.monthly) ?? "0.00",
        target_date: value.date,
      });
      setSaved(true);
      onSaved(updated);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="whatif">
      <h3>What if…</h3>
      <div className="field">
        <label htmlFor={monthlyId}>Monthly contribution</label>
        <div className="input-affix">
          <span aria-hidden="true">$</span>
          <input
            id={monthlyId}
            inputMode="decimal"
            value={value.monthly}
            aria-invalid={!monthlyValid || undefined}
            aria-describedby={!monthlyValid ? `${monthlyId}-error` : undefined}
            onChange={(e) => onChange({ ...value, monthly: e.target.value })}
          />
        </div>
        <input
          id={sliderId}
          type="range"
          min={0}
          max={sliderMax}
          step={25}
          aria-label="Monthly contribution"
          aria-valuetext={formatMoney(normaliseAmount(value.monthly) ?? "0", "USD", { whole: true })}
          value={Number(normaliseAmount(value.monthly) ?? 0)}
          onChange={(e) => onChange({ ...value, monthly: e.target.value })}
        />
        <p className="field-hint slider-scale" aria-hidden="true">
          <span>$0</span>
          <span>{formatMoney(String(sliderMax), "USD", { whole: true })}</span>
        </p>
        {!monthlyValid ? (
          <p id={`${monthlyId}-error`} className="field-error">
            Enter an amount in dollars, e.g. 750.
          </p>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={dateId}>Target date</label>
        <input
          id={dateId}
          type="date"
          min={todayIso()}
          value={value.date}
          aria-invalid={!dateValid || undefined}
          aria-describedby={!dateValid ? `${dateId}-error` : undefined}
          onChange={(e) => onChange({ ...value, date: e.target.value })}
        />
        {!dateValid ? (
          <p id={`${dateId}-error`} className="field-error">
            Choose a date in the future.
          </p>
        ) : null}
      </div>
      <ErrorAlert error={error} />
      {saved && !changed ? <StatusMessage>Saved to your goal.</StatusMessage> : null}
      <div className="form-actions">
        <button type="button" className="btn btn-secondary" onClick={onReset} disabled={!changed || saving}>
          Reset
        </button>
        <button
          type="button"
          className="btn btn-primary"
          onClick={save}
          disabled={!changed || saving || !monthlyValid || !dateValid}
        >
          {saving ? "Saving…" : "Save to goal"}
        </button>
      </div>
    </div>
  );
}

function ProjectionCard({ goal, onGoalSaved }: { goal: Goal; onGoalSaved: (goal: Goal) => void }) {
  const [inputs, setInputs] = useState({ monthly: goal.monthly_contribution, date: goal.target_date });
  const [debounced, setDebounced] = useState(inputs);
  const [revision, setRevision] = useState(0);

  useEffect(() => {
    setInputs({ monthly: goal.monthly_contribution, date: goal.target_date });
  }, [goal.monthly_contribution, goal.target_date]);

  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(inputs), 500);
    return () => window.clearTimeout(timer);
  }, [inputs]);

  const whatIf = useMemo<WhatIf>(() => {
    const params: WhatIf = {};
    const monthly = normaliseAmount(debounced.monthly) ?? (/^0*(\.0*)?$/.test(debounced.monthly.trim()) ? "0.00" : null);
    if (monthly !== null && monthly !== goal.monthly_contribution) params.monthly_contribution = monthly;
    if (debounced.date && debounced.date !== goal.target_date && debounced.date > todayIso()) {
      params.target_date = debounced.date;
    }
    return params;
  }, [debounced, goal.monthly_contribution, goal.target_date]);

  const state = useProjection(goal.id, whatIf, revision);
  const projection = state.kind === "ready" ? state.projection : null;
  const points = useMemo(() => (projection ? fanPoints(projection) : []), [projection]);
  const last = points[points.length - 1];
  const probability = projection?.probability ?? null;
  const tone = probability === null ? "" : probability >= 0.8 ? "pos" : probability >= 0.5 ? "mid" : "neg";
  // The goal's own chance (the dashboard's) unless the answer is for other inputs.
  const isWhatIf = projection ? !projection.is_plan : Object.keys(whatIf).length > 0;
  const finals = projection?.percentiles;
  const summary = last
    ? `Projected value in today's dollars by ${last.label}: typical outcome ${formatMoney(projection?.median_final_value, goal.currency, { whole: true })}, ` +
      `poor markets ${formatMoney(finals?.p10?.at(-1), goal.currency, { whole: true })}, good markets ${formatMoney(finals?.p90?.at(-1), goal.currency, { whole: true })}. ` +
      `Target ${formatMoney(goal.target_amount, goal.currency, { whole: true })}.`
    : "";

  return (
    <Card title="Projection" className="span-full">
      <div className="projection">
        <div className="projection-main" aria-busy={state.kind === "loading" || state.kind === "pending"}>
          {state.kind === "error" ? (
            <ErrorAlert error={state.error} onRetry={() => setRevision((r) => r + 1)} />
          ) : null}
          {state.kind === "failed" ? (
            <ErrorAlert error={state.message} onRetry={() => setRevision((r) => r + 1)} />
          ) : null}
          {state.kind === "loading" && !projection ? <Loading label="Loading projection…" /> : null}
          {state.kind === "pending" ? <Loading label="Running 10,000 market scenarios…" /> : null}
          {projection ? (
            <>
              <div className="figures" aria-live="polite">
                <div className="figure">
                  <p className="figure-label">Chance of reaching your goal{isWhatIf ? " (what-if)" : ""}</p>
                  <p className={`figure-value big ${tone}`} data-testid="probability">
                    {formatPercent(probability, { digits: 0 })}
                  </p>
                </div>
                <div className="figure">
                  <p className="figure-label">Typical outcome</p>
                  <p className="figure-value">{formatMoney(projection.median_final_value, goal.currency, { whole: true })}</p>
                  <p className="figure-hint">In today's dollars, by {last?.label}</p>
                </div>
                <EightyPercentFigure projection={projection} goal={goal} />
              </div>
              <p className="figure-hint">{projectionBasis(projection, goal)}</p>
              <FanChart points={points} target={projection.target_amount ?? goal.target_amount} summary={summary} />
              <ul className="legend small">
                <li>
                  <span className="legend-line" aria-hidden="true" /> Typical outcome (median)
                </li>
                <li>
                  <span className="legend-band" aria-hidden="true" /> 8 in 10 outcomes fall in the shaded band
                </li>
                <li>
                  <span className="legend-target" aria-hidden="true" /> Target
                </li>
              </ul>
            </>
          ) : null}
        </div>
        <WhatIfPanel
          goal={goal}
          value={inputs}
          onChange={setInputs}
          onReset={() => setInputs({ monthly: goal.monthly_contribution, date: goal.target_date })}
          onSaved={onGoalSaved}
        />
      </div>
    </Card>
  );
}

export default function GoalDetailPage() {
  const { goalId } = useParams();
  const id = Number(goalId);
  const state = useAsync((signal) => goals.get(id, signal), [id]);
  const [editing, setEditing] = useState(false);
  // A what-if saved to the plan: offer (not make) the matching change to the monthly deposit.
  const [offerSchedule, setOfferSchedule] = useState(false);
  useTitle(state.data?.name ?? "Goal");

  if (!Number.isInteger(id)) return <ErrorAlert error="That goal doesn't exist." />;
  if (state.loading && !state.data) return <Loading label="Loading goal…" />;
  if (state.error) {
    return (
      <>
        <PageHeader title="Goal" />
        <ErrorAlert error={state.error} onRetry={state.reload} />
        <p>
          <Link to="/goals">Back to your goals</Link>
        </p>
      </>
    );
  }
  const goal = state.data;
  if (!goal) return null;
  // The model's default until the goal says otherwise.
  const accountType = goal.account_type ?? "taxable";

  return (
    <>
      <p className="breadcrumb">
        <Link to="/goals">Goals</Link> <span aria-hidden="true">/</span> {goal.name}
      </p>
      <PageHeader
        title={goal.name}
        subtitle={
          <>
            {`${label(GOAL_TYPES, goal.goal_type)} · ${label(GOAL_PRIORITIES, goal.priority)} · ${formatMoney(goal.target_amount, goal.currency, { whole: true })} by ${formatDate(goal.target_date)}`}
            <br />
            <span data-testid="account-type">Account: {accountTypeLabel(accountType)}</span>
          </>
        }
        action={
          <div className="actions">
            <Link to={`/money?goal=${goal.id}`} className="btn btn-secondary">
              Deposit
            </Link>
            <button type="button" className="btn btn-secondary" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
              {editing ? "Close editor" : "Edit goal"}
            </button>
          </div>
        }
      />
      <ScheduledVsPlan goal={goal} offer={offerSchedule} />
      {editing ? (
        <Card title="Edit goal">
          <GoalForm
            goal={goal}
            onSaved={(updated) => {
              state.setData(updated);
              setEditing(false);
            }}
            onCancel={() => setEditing(false)}
          />
        </Card>
      ) : null}
      <ProjectionCard
        goal={goal}
        onGoalSaved={(updated) => {
          if (updated.monthly_contribution !== goal.monthly_contribution) setOfferSchedule(true);
          state.setData(updated);
        }}
      />
      <GoalRisk goal={goal} />
      {accountType === "taxable" ? <TaxLots goal={goal} /> : null}
    </>
  );
}
