import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { portfolio } from "../api/endpoints";
import { accountTypeShort } from "../api/tax";
import type {
  AccountSummary,
  PeriodReturn,
  Performance,
  PolicyComposition,
  PortfolioSummary,
} from "../api/types";
import AllocationDonut from "../components/charts/AllocationDonut";
import { assetClassColor } from "../components/charts/colors";
import PerformanceChart from "../components/charts/PerformanceChart";
import type { ValuePoint } from "../components/charts/PerformanceChart";
import FeesCard from "../components/FeesCard";
import NewsCard from "../components/NewsCard";
import RebalanceCard from "../components/RebalanceCard";
import { Card, EmptyState, ErrorAlert, Loading, PageHeader, StatusMessage } from "../components/ui";
import { assetClassLabel, riskLevelName } from "../lib/choices";
import { chartNumber, formatDate, formatMoney, formatPercent } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

const PERIODS = [
  { key: "1M", label: "1M", name: "the last month" },
  { key: "3M", label: "3M", name: "the last three months" },
  { key: "YTD", label: "YTD", name: "this year" },
  { key: "1Y", label: "1Y", name: "the last year" },
  { key: "ITD", label: "All", name: "since you started" },
] as const;

type PeriodKey = (typeof PERIODS)[number]["key"];

// --- Performance ---------------------------------------------------------------------------

function mergeHistories(performances: Performance[]): ValuePoint[] {
  // Chart only: summing daily values across accounts in floating point is fine for a line.
  const byDay = new Map<string, { value: number; deposits: number }>();
  for (const perf of performances) {
    for (const point of perf.history) {
      const sum = byDay.get(point.day) ?? { value: 0, deposits: 0 };
      sum.value += chartNumber(point.value);
      sum.deposits += chartNumber(point.net_deposits);
      byDay.set(point.day, sum);
    }
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, { value, deposits }]) => ({
      day,
      value,
      label: formatMoney(value.toFixed(2)),
      netDeposits: deposits,
      depositsLabel: formatMoney(deposits.toFixed(2)),
    }));
}

function singleHistory(perf: Performance): ValuePoint[] {
  return perf.history.map((p) => ({
    day: p.day,
    value: chartNumber(p.value),
    label: formatMoney(p.value),
    netDeposits: chartNumber(p.net_deposits),
    depositsLabel: formatMoney(p.net_deposits),
  }));
}

/** "VTI 42% · AGG 30% · …": what the policy benchmark holds. */
function policyText(policy: PolicyComposition | null | undefined): string {
  if (!policy) return "Your targets: not set yet";
  const funds = Object.entries(policy.weights)
    .map(([ticker, weight]) => `${ticker} ${formatPercent(weight, { digits: 0 })}`)
    .join(" · ");
  const level = policy.level === null ? "your accounts' targets, by value" : `level ${policy.level} targets`;
  return `${level}, rebalanced monthly: ${funds}`;
}

function MoneyFigure({ label, value, hint }: { label: string; value: string | null; hint?: string }) {
  return (
    <div className="figure">
      <p className="figure-label">{label}</p>
      <p className="figure-value">{formatMoney(value, "USD", { signed: true })}</p>
      {hint ? <p className="figure-hint">{hint}</p> : null}
    </div>
  );
}

function ReturnFigure({
  label,
  value,
  hint,
  title,
  suffix,
}: {
  label: string;
  value: string | null;
  hint?: string;
  title?: string;
  suffix?: string;
}) {
  const tone = value === null ? "" : value.startsWith("-") ? "neg" : "pos";
  return (
    <div className="figure" title={title}>
      <p className="figure-label">{label}</p>
      <p className={`figure-value ${tone}`}>
        {formatPercent(value, { signed: true })}
        {suffix && value !== null ? <span className="figure-hint"> {suffix}</span> : null}
      </p>
      {hint ? <p className="figure-hint">{hint}</p> : null}
    </div>
  );
}

function PerformanceCard({ summary }: { summary: PortfolioSummary }) {
  const [accountId, setAccountId] = useState<"all" | number>("all");
  const [period, setPeriod] = useState<PeriodKey>("1Y");
  const accounts = summary.accounts;

  const perf = useAsync(
    async (signal) => {
      const ids = accountId === "all" ? accounts.map((a) => a.id) : [accountId];
      return Promise.all(ids.map((id) => portfolio.performance(id, signal)));
    },
    [accountId, accounts.map((a) => a.id).join(",")],
  );

  const periods: PeriodReturn[] =
    accountId === "all" ? summary.performance : (perf.data?.[0]?.periods ?? []);
  const policy = accountId === "all" ? summary.performance_policy : perf.data?.[0]?.policy;
  const current = periods.find((p) => p.period === period);
  const periodName = PERIODS.find((p) => p.key === period)?.name ?? "";

  const points = useMemo(() => {
    if (!perf.data) return [];
    const all = accountId === "all" ? mergeHistories(perf.data) : perf.data[0] ? singleHistory(perf.data[0]) : [];
    if (!current) return all;
    return all.filter((p) => p.day >= current.start && p.day <= current.end);
  }, [perf.data, accountId, current]);

  const first = points[0];
  const last = points[points.length - 1];
  const chartSummary =
    first && last
      ? `Portfolio value over ${periodName}: from ${first.label} on ${formatDate(first.day)} to ${last.label} on ${formatDate(last.day)}; net deposits to date ${last.depositsLabel}.`
      : "No value history for this period.";

  return (
    <Card
      title="Performance"
      className="span-full"
      action={
        accounts.length > 1 ? (
          <label className="inline-select">
            <span className="visually-hidden">Account</span>
            <select
              value={String(accountId)}
              onChange={(e) => setAccountId(e.target.value === "all" ? "all" : Number(e.target.value))}
            >
              <option value="all">All accounts</option>
              {accounts.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.goal_name}
                </option>
              ))}
            </select>
          </label>
        ) : null
      }
    >
      <div className="segmented" role="group" aria-label="Period">
        {PERIODS.map((p) => (
          <button
            key={p.key}
            type="button"
            aria-pressed={period === p.key}
            onClick={() => setPeriod(p.key)}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div className="figures">
        <ReturnFigure label="Your return" value={current?.twr ?? null} hint="Time-weighted, over the period" />
        <ReturnFigure
          label="Your personal return"
          value={current?.mwr ?? null}
          suffix={current?.mwr_annualised ? "a year" : undefined}
          hint={
            current?.mwr_annualised
              ? "Money-weighted, a year on average: counts your timing"
              : "Money-weighted, over the period: counts your timing"
          }
        />
        <MoneyFigure label="Market gain" value={current?.market_gain ?? null} hint="Change in value less net deposits, after fees" />
        <MoneyFigure label="Net deposits" value={current?.net_flows ?? null} hint="Deposits less withdrawals in the period" />
        <ReturnFigure
          label="Your policy benchmark"
          value={current?.policy_benchmark ?? null}
          hint="Your targets in index funds"
          title={policyText(policy)}
        />
        <ReturnFigure label="Reference" value={current?.benchmark ?? null} hint="60% stocks / 40% bonds" />
      </div>
      <p className="small muted">Policy benchmark: {policyText(policy)}.</p>
      {perf.error ? <ErrorAlert error={perf.error} onRetry={perf.reload} /> : null}
      {perf.loading ? <Loading label="Loading performance…" /> : null}
      {!perf.loading && !perf.error ? (
        points.length > 1 ? (
          <PerformanceChart points={points} summary={chartSummary} />
        ) : (
          <EmptyState title="Not enough history yet">
            <p>Your chart appears after your first days invested.</p>
          </EmptyState>
        )
      ) : null}
      {current ? (
        <p className="small muted">
          {formatDate(current.start)} – {formatDate(current.end)}. Past performance does not
          guarantee future results.
        </p>
      ) : null}
    </Card>
  );
}

// --- Allocation ------------------------------------------------------------------------------

interface ClassRow {
  assetClass: string;
  actual: number;
  target: number;
}

function allocationRows(accounts: AccountSummary[]): ClassRow[] {
  // Display only: weights across accounts are value-weighted in floating point.
  const total = accounts.reduce((sum, a) => sum + chartNumber(a.value), 0);
  const rows = new Map<string, ClassRow>();
  for (const account of accounts) {
    const accountValue = chartNumber(account.value);
    for (const h of account.holdings) {
      const row = rows.get(h.asset_class) ?? { assetClass: h.asset_class, actual: 0, target: 0 };
      row.actual += chartNumber(h.value);
      row.target += chartNumber(h.target_weight) * accountValue;
      rows.set(h.asset_class, row);
    }
  }
  return [...rows.values()]
    .map((r) => ({ ...r, actual: total ? r.actual / total : 0, target: total ? r.target / total : 0 }))
    .filter((r) => r.actual > 0.0005 || r.target > 0.0005)
    .sort((a, b) => b.target - a.target || b.actual - a.actual);
}

function AllocationCard({ accounts }: { accounts: AccountSummary[] }) {
  const [accountId, setAccountId] = useState<"all" | number>(accounts[0] && accounts.length === 1 ? accounts[0].id : "all");
  const selected = accountId === "all" ? accounts : accounts.filter((a) => a.id === accountId);
  const rows = allocationRows(selected);
  const summary = `Current allocation: ${rows
    .filter((r) => r.actual > 0.005)
    .map((r) => `${assetClassLabel(r.assetClass)} ${formatPercent(r.actual)}`)
    .join(", ")}.`;

  return (
    <Card
      title="Allocation"
      action={
        accounts.length > 1 ? (
          <label className="inline-select">
            <span className="visually-hidden">Account</span>
            <select
              value={String(accountId)}
              onChange={(e) => setAccountId(e.target.value === "all" ? "all" : Number(e.target.value))}
            >
              <option value="all">All accounts</option>
              {accounts.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.goal_name}
                </option>
              ))}
            </select>
          </label>
        ) : null
      }
    >
      {rows.length === 0 ? (
        <EmptyState title="Nothing invested yet">
          <p>Your allocation appears after your first deposit.</p>
        </EmptyState>
      ) : (
        <div className="allocation">
          <AllocationDonut slices={rows.map((r) => ({ assetClass: r.assetClass, weight: r.actual }))} summary={summary} />
          <table className="table compact">
            <caption className="visually-hidden">Actual and target weight by asset class</caption>
            <thead>
              <tr>
                <th scope="col">Asset class</th>
                <th scope="col" className="num">Actual</th>
                <th scope="col" className="num">Target</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const gap = r.actual - r.target;
                return (
                  <tr key={r.assetClass}>
                    <th scope="row">
                      <span className="swatch" style={{ background: assetClassColor(r.assetClass) }} aria-hidden="true" />
                      {assetClassLabel(r.assetClass)}
                    </th>
                    <td className="num">{formatPercent(r.actual)}</td>
                    <td className="num">
                      {formatPercent(r.target)}
                      {Math.abs(gap) >= 0.01 ? (
                        <span className={`gap ${gap > 0 ? "over" : "under"}`}>
                          {gap > 0 ? " ▲" : " ▼"}
                          <span className="visually-hidden">{gap > 0 ? " over target" : " under target"}</span>
                        </span>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ul className="drift-list">
        {selected.map((a) => (
          <li key={a.id}>
            <span>{accounts.length > 1 ? a.goal_name : "Drift from target"}</span>
            <span className={a.drift !== null && a.drift > 0.05 ? "warn" : ""}>
              {a.drift === null ? "—" : `${formatPercent(a.drift)} drift`}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

// --- Page ------------------------------------------------------------------------------------

function GoalsCard({ summary }: { summary: PortfolioSummary }) {
  return (
    <Card title="Goals" action={<Link to="/goals/new" className="btn btn-ghost btn-small">New goal</Link>}>
      {summary.goals.length === 0 ? (
        <EmptyState title="No goals yet">
          <p>
            <Link to="/goals/new">Create your first goal</Link> to open an account.
          </p>
        </EmptyState>
      ) : (
        <ul className="goal-list">
          {summary.goals.map((g) => {
            const progress = Math.min(1, chartNumber(g.value) / Math.max(1, chartNumber(g.target_amount)));
            // The goal's account carries its tax treatment.
            const accountType = summary.accounts.find((a) => a.id === g.account_id)?.account_type;
            return (
              <li key={g.id}>
                <Link to={`/goals/${g.id}`} className="goal-row">
                  <span className="goal-row-name">
                    {g.name}
                    {accountType ? (
                      <>
                        {" "}
                        <span className="badge badge-account" data-testid="goal-account-type">
                          {accountTypeShort(accountType)}
                        </span>
                      </>
                    ) : null}
                  </span>
                  <span className="goal-row-value">
                    {formatMoney(g.value)} <span className="muted">of {formatMoney(g.target_amount, "USD", { whole: true })}</span>
                  </span>
                  <span className="meter" aria-hidden="true">
                    <span className="meter-fill" style={{ width: `${progress * 100}%` }} />
                  </span>
                  <span className="small muted">
                    By {formatDate(g.target_date)}
                    {g.projection_status === "ready" && g.probability !== null
                      ? ` · ${formatPercent(g.probability, { digits: 0 })} chance of success`
                      : g.projection_status === "pending"
                        ? " · chance of success: open the goal to project it"
                        : ""}
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  useTitle("Dashboard");
  const [params] = useSearchParams();
  const welcomeGoal = params.get("welcome");
  const state = useAsync((signal) => portfolio.summary(signal), []);
  const summary = state.data;

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={summary ? `Valued at the market close of ${formatDate(summary.market_date)}.` : undefined}
      />
      {welcomeGoal ? (
        <StatusMessage>
          Your goal is set up with its own account.{" "}
          <Link to={`/money?goal=${encodeURIComponent(welcomeGoal)}`}>Make your first deposit</Link> to start investing.
        </StatusMessage>
      ) : null}
      {state.loading && !summary ? <Loading label="Loading your portfolio…" /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {summary ? (
        <div className="dash-grid">
          <section className="card hero" aria-labelledby="total-heading">
            <h2 id="total-heading" className="hero-label">
              Total value
            </h2>
            <p className="hero-value" data-testid="total-value">
              {formatMoney(summary.total_value)}
            </p>
            <p className="muted small">As of {formatDate(summary.market_date)} market close</p>
            <dl className="hero-facts">
              <div>
                <dt>Cash</dt>
                <dd>{formatMoney(summary.cash)}</dd>
              </div>
              <div>
                <dt>Risk level</dt>
                <dd>
                  {summary.risk_level !== null ? (
                    <Link to="/settings#risk">
                      {summary.risk_level} of 10 · {riskLevelName(summary.risk_level)}
                    </Link>
                  ) : (
                    "—"
                  )}
                </dd>
              </div>
              <div>
                <dt>Pending rebalances</dt>
                <dd>{summary.pending_rebalances}</dd>
              </div>
              {(["1Y", "ITD"] as const).map((key) => {
                const p = summary.performance.find((x) => x.period === key);
                return p ? (
                  <div key={key}>
                    <dt>{key === "ITD" ? "Return since you started" : "Return, last 12 months"}</dt>
                    <dd>{formatPercent(p.twr, { signed: true })}</dd>
                  </div>
                ) : null;
              })}
            </dl>
            <div className="hero-actions">
              <Link to="/money" className="btn btn-primary">
                Deposit
              </Link>
              <Link to="/money?tab=withdraw" className="btn btn-secondary">
                Withdraw
              </Link>
            </div>
          </section>
          <GoalsCard summary={summary} />
          {summary.accounts.length ? (
            <>
              <PerformanceCard summary={summary} />
              <AllocationCard accounts={summary.accounts} />
              <RebalanceCard accounts={summary.accounts} />
              <FeesCard />
              <NewsCard />
            </>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
