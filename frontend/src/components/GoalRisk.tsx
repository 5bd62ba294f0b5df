// The goal page's "Risk" section: the worst case in plain words first, then the historical
// scenarios replayed on today's holdings (a chart and a table), then the figures behind them
// with a line each on what they mean. Collapsed until asked for, like "Tax lots".
import { useId, useState } from "react";

import { ApiError } from "../api/client";
import { goals, portfolio } from "../api/endpoints";
import type { AccountRisk, Goal, RiskMeasures, RiskScenario } from "../api/types";
import { chartNumber, formatDate, formatMoney, formatMonth, formatPercent } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import ScenarioChart from "./charts/ScenarioChart";
import type { ScenarioLine } from "./charts/ScenarioChart";
import { Card, EmptyState, ErrorAlert, Loading, TableScroll } from "./ui";

/** Each historical path as % of its first day (chart-only numbers). */
export function scenarioLines(stress: RiskScenario[]): ScenarioLine[] {
  return stress
    .filter((s) => s.kind === "historical" && s.path.length > 1)
    .map((s) => {
      const start = chartNumber(s.path[0]!.value);
      return {
        key: s.key,
        name: s.name,
        percents: s.path.map((p) => (start > 0 ? (chartNumber(p.value) / start) * 100 : 100)),
      };
    });
}

function scenarioWhen(s: RiskScenario): string {
  if (s.kind === "hypothetical") return "A sudden shock";
  if (!s.start || !s.end) return "";
  const from = formatMonth(s.start);
  const to = formatMonth(s.end);
  return from === to ? from : `${from} – ${to}`;
}

/** "Worst loss": the fall at the scenario's worst point; none when it held its value. */
function lossText(s: RiskScenario): string {
  return s.loss > 0 ? `\u2212${formatPercent(s.loss)}` : "No loss";
}

function chartSummary(lines: ScenarioLine[], stress: RiskScenario[]): string {
  const parts = lines.map((line) => {
    const s = stress.find((x) => x.key === line.key);
    const low = Math.min(...line.percents);
    return `${line.name}: lowest point ${low.toFixed(1)}% of the start${s?.worst_day ? ` on ${formatDate(s.worst_day)}` : ""}`;
  });
  return `Today's holdings replayed through past market falls, as a percentage of the value at each start. ${parts.join("; ")}.`;
}

export function ScenarioTable({ stress, currency, caption }: { stress: RiskScenario[]; currency: string; caption: string }) {
  const rows = [...stress].sort((a, b) => b.loss - a.loss);
  return (
    <TableScroll label={caption}>
      <table className="table compact" data-testid="risk-scenarios">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Scenario</th>
            <th scope="col">When</th>
            <th scope="col" className="num">
              Worst loss
            </th>
            <th scope="col" className="num">
              In dollars
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.key}>
              <th scope="row">{s.name}</th>
              <td>{scenarioWhen(s)}</td>
              <td className={`num ${s.loss > 0 ? "neg" : ""}`}>{lossText(s)}</td>
              <td className={`num ${s.loss > 0 ? "neg" : ""}`}>
                {s.loss > 0 ? `\u2212${formatMoney(s.loss_amount, currency)}` : formatMoney("0", currency)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

/** The figures behind the sentence, each with one line on what it means. */
function RiskFigures({ figures }: { figures: RiskMeasures }) {
  const year = figures.one_year;
  const varYear = year.var_historical ?? year.var_parametric;
  const esYear = year.es_historical ?? year.es_parametric;
  const span =
    figures.start && figures.end ? `${formatDate(figures.start)} to ${formatDate(figures.end)}` : "the history available";
  const rows: [string, string, string][] = [
    ["Volatility (a year)", formatPercent(figures.volatility), "How much the value typically swings in a year, up or down."],
    [
      "1-year value at risk (95%)",
      varYear === null ? "—" : formatPercent(varYear),
      "In about one year out of twenty, the loss could be at least this much.",
    ],
    [
      "1-year expected shortfall (95%)",
      esYear === null ? "—" : formatPercent(esYear),
      "The average loss in those worst one-in-twenty years.",
    ],
    [
      "Largest fall from a peak",
      formatPercent(figures.max_drawdown),
      "The deepest drop today's mix would have had, from a high to the low after it.",
    ],
    [
      "Beta to US stocks",
      figures.beta === null ? "—" : figures.beta.toFixed(2),
      "1.00 moves with the US stock market; 0.50 moves about half as much.",
    ],
  ];
  return (
    <details className="risk-details">
      <summary>Details: the figures behind this</summary>
      <dl className="risk-figures" data-testid="risk-figures">
        {rows.map(([term, value, hint]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>
              <strong>{value}</strong> <span className="small muted">{hint}</span>
            </dd>
          </div>
        ))}
      </dl>
      <p className="small muted">
        Today's holdings replayed over {span} ({figures.observations.toLocaleString("en-US")} trading days). Past markets are
        a guide, not a promise.
      </p>
    </details>
  );
}

export function RiskView({ data, currency, goalName }: { data: AccountRisk; currency: string; goalName: string }) {
  const lines = scenarioLines(data.stress);
  return (
    <div className="goal-risk">
      <p data-testid="risk-summary">{data.summary_text}</p>
      {lines.length ? (
        <>
          <h3>Past market falls, replayed on today's holdings</h3>
          <ScenarioChart lines={lines} summary={chartSummary(lines, data.stress)} />
        </>
      ) : null}
      {data.stress.length ? (
        <ScenarioTable stress={data.stress} currency={currency} caption={`Stress scenarios for ${goalName}`} />
      ) : null}
      <RiskFigures figures={data.figures} />
      <p className="small muted">
        As of the {formatDate(data.market_date)} close, on {formatMoney(data.value, currency)}.
      </p>
    </div>
  );
}

function RiskBody({ goal }: { goal: Goal }) {
  const state = useAsync(
    async (signal) => {
      const { account_id: accountId } = await goals.funding(goal.id, signal);
      try {
        return await portfolio.risk(accountId, signal);
      } catch (err) {
        // 409: the account holds nothing yet; said plainly below.
        if (err instanceof ApiError && err.status === 409) return null;
        throw err;
      }
    },
    [goal.id],
  );
  if (state.loading && state.data === undefined) return <Loading label="Loading risk figures…" />;
  if (state.error) return <ErrorAlert error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return null;
  if (state.data === null) {
    return (
      <EmptyState title="Nothing invested yet">
        <p>Once money in this goal is invested, you'll see how its holdings would have fared in past market falls.</p>
      </EmptyState>
    );
  }
  return <RiskView data={state.data} currency={goal.currency ?? "USD"} goalName={goal.name} />;
}

/** The goal page's "Risk" section. */
export function GoalRisk({ goal }: { goal: Goal }) {
  const [open, setOpen] = useState(false);
  const bodyId = useId();
  return (
    <Card
      title="Risk"
      className="goal-risk-card"
      action={
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "Hide risk" : "Show risk"}
        </button>
      }
    >
      <div id={bodyId} hidden={!open}>
        {open ? <RiskBody goal={goal} /> : null}
      </div>
      {!open ? (
        <p className="small muted">How much this goal's portfolio could fall in a bad market, and what it did in past ones.</p>
      ) : null}
    </Card>
  );
}
