import { Link } from "react-router";

import { goals, portfolio } from "../api/endpoints";
import { accountTypeShort } from "../api/tax";
import type { PortfolioSummary } from "../api/types";
import { Card, EmptyState, ErrorAlert, Loading, PageHeader } from "../components/ui";
import { GOAL_PRIORITIES, GOAL_STATUSES, GOAL_TYPES, label } from "../lib/choices";
import { chartNumber, formatDate, formatMoney, formatPercent } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

/** The goal's current plan's chance, as the dashboard and the goal page show it. */
function chanceOfSuccess(info: PortfolioSummary["goals"][number] | undefined): string {
  if (!info) return "—";
  if (info.projection_status === "ready" && info.probability !== null) {
    return formatPercent(info.probability, { digits: 0 });
  }
  // Not projected since the plan, the balance or the market last changed: the goal page does it.
  return info.projection_status === "pending" ? "Not projected yet" : "—";
}

export default function GoalsPage() {
  useTitle("Goals");
  const state = useAsync(
    async (signal) => {
      const [list, summary] = await Promise.all([goals.list(signal), portfolio.summary(signal)]);
      return { list: list.results, summary };
    },
    [],
  );

  return (
    <>
      <PageHeader
        title="Goals"
        subtitle="Each goal has its own account, invested for its own time horizon."
        action={
          <Link to="/goals/new" className="btn btn-primary">
            New goal
          </Link>
        }
      />
      {state.loading ? <Loading label="Loading your goals…" /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {state.data && state.data.list.length === 0 ? (
        <Card>
          <EmptyState title="You have no goals yet">
            <p>Retirement, a home, an emergency fund: start with what matters most.</p>
            <Link to="/goals/new" className="btn btn-primary">
              Create your first goal
            </Link>
          </EmptyState>
        </Card>
      ) : null}
      {state.data && state.data.list.length > 0 ? (
        <ul className="cards-grid">
          {state.data.list.map((goal) => {
            const info = state.data?.summary.goals.find((g) => g.id === goal.id);
            const progress = info
              ? Math.min(1, chartNumber(info.value) / Math.max(1, chartNumber(goal.target_amount)))
              : 0;
            return (
              <li key={goal.id} className="card goal-card">
                <div className="goal-card-head">
                  <h2 className="card-title">
                    <Link to={`/goals/${goal.id}`}>{goal.name}</Link>
                  </h2>
                  <span className={`badge badge-status-${goal.status}`}>{label(GOAL_STATUSES, goal.status)}</span>
                </div>
                <p className="muted small">
                  {label(GOAL_TYPES, goal.goal_type)} · {label(GOAL_PRIORITIES, goal.priority)} ·{" "}
                  <span data-testid="goal-account-type">{accountTypeShort(goal.account_type ?? "taxable")}</span>
                </p>
                <p className="goal-card-value">
                  {formatMoney(info?.value ?? "0.00")}
                  <span className="muted"> of {formatMoney(goal.target_amount, goal.currency, { whole: true })}</span>
                </p>
                <span className="meter" aria-hidden="true">
                  <span className="meter-fill" style={{ width: `${progress * 100}%` }} />
                </span>
                <dl className="facts">
                  <div>
                    <dt>Target date</dt>
                    <dd>{formatDate(goal.target_date)}</dd>
                  </div>
                  <div>
                    <dt>Monthly</dt>
                    <dd>{formatMoney(goal.monthly_contribution, goal.currency)}</dd>
                  </div>
                  <div>
                    <dt>Chance of success</dt>
                    <dd>{chanceOfSuccess(info)}</dd>
                  </div>
                </dl>
                <Link to={`/goals/${goal.id}`} className="btn btn-secondary btn-small">
                  Projection and what-ifs<span className="visually-hidden"> for {goal.name}</span>
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
    </>
  );
}
