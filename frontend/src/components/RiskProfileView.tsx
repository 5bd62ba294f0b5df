import { useEffect, useRef } from "react";

import { ApiError, get } from "../api/client";
import { goals, risk } from "../api/endpoints";
import type { components } from "../api/schema";
import type { GoalAllocation, RiskAssessment, RiskProfile } from "../api/types";
import { riskLevelName } from "../lib/choices";
import { formatDate, formatDateTime, formatPercent, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { assetClassColor } from "./charts/colors";
import { StressCheckNote } from "./StressCheckNote";
import { EmptyState, ErrorAlert, Loading, TableScroll } from "./ui";

const POLL_MS = 3000;
const MAX_POLLS = 20;

function modelOpinion(profile: RiskProfile): RiskAssessment | undefined {
  return profile.second_opinions.find((a) => a.method.startsWith("risk_profile"));
}

/** `details` is free-form JSON in the schema; a model's attributions are {feature: weight}. */
function attributionsOf(details: RiskAssessment["details"]): Record<string, number> {
  const value = details.attributions;
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "number"));
}

function ScoreBar({ label, score, level }: { label: string; score: number; level: number | null }) {
  return (
    <div className="scorebar">
      <div className="scorebar-label">
        <span>{label}</span>
        <span>
          {score}/100{level !== null ? ` · level ${level}` : ""}
        </span>
      </div>
      <div className="meter" aria-hidden="true">
        <div className="meter-fill" style={{ width: `${Math.max(0, Math.min(100, score))}%` }} />
      </div>
    </div>
  );
}

function LevelScale({ level }: { level: number }) {
  return (
    <div className="level-scale" aria-hidden="true">
      {Array.from({ length: 10 }, (_, i) => (
        <span key={i} className={i < level ? "on" : ""} />
      ))}
    </div>
  );
}

function Attributions({ attributions }: { attributions: Record<string, number> }) {
  const items = Object.entries(attributions)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 6);
  if (!items.length) return null;
  const max = Math.max(...items.map(([, v]) => Math.abs(v))) || 1;
  return (
    <div className="attributions">
      <p className="small muted">What moved the model's estimate most:</p>
      <ul>
        {items.map(([feature, value]) => (
          <li key={feature}>
            <span className="attr-name">{humanize(feature)}</span>
            <span className="attr-bar" aria-hidden="true">
              <span
                className={value >= 0 ? "attr-pos" : "attr-neg"}
                style={{ width: `${(Math.abs(value) / max) * 100}%` }}
              />
            </span>
            <span className="attr-dir">{value >= 0 ? "more risk" : "less risk"}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ModelOpinionSection({ profile }: { profile: RiskProfile }) {
  const opinion = modelOpinion(profile);
  const state = profile.model_opinion;
  if (state === "pending") {
    return (
      <div className="model-opinion" role="status">
        <span className="spinner spinner-inline" aria-hidden="true" />
        Model opinion pending: our risk model is reviewing your answers. This usually takes a few
        seconds; your level above already stands.
      </div>
    );
  }
  if (state === "done" && opinion) {
    return (
      <div className="model-opinion">
        <p>
          <strong>Second opinion:</strong> our risk model, trained on household survey data, puts
          you at level {opinion.risk_level}.
          {profile.decision.decided_by === "model"
            ? " That is below the level your answers give, so your level sits halfway between the two, rounded down."
            : " It can only ever lower your level, never raise it."}
        </p>
        <Attributions attributions={attributionsOf(opinion.details)} />
      </div>
    );
  }
  if (state !== "done") {
    // model_opinion_detail is written for advisors and operators; clients get plain words.
    const why: Record<string, string> = {
      incomplete_profile: "it needs your complete profile (income, net worth, education, family) to weigh in.",
      unavailable: "it isn't available yet.",
      failed: "it couldn't review your answers this time.",
    };
    return (
      <p className="model-opinion muted small">
        No second opinion from our risk model: {why[state] ?? "it hasn't reviewed your answers."} Your
        level comes from your answers alone.
      </p>
    );
  }
  return null;
}

/** Who set the level and when, from the policy's decision record. */
function SetBy({ profile }: { profile: RiskProfile }) {
  const { decision } = profile;
  const override = decision.override;
  return (
    <p className="small" data-testid="risk-set-by">
      <strong>Set by {decision.set_by}</strong>
      {decision.decided_on ? ` on ${formatDate(decision.decided_on)}` : ""}
      {override?.approved_above_capacity ? " · approved by a second person in compliance" : ""}
    </p>
  );
}

const SPLIT_PARTS = [
  { key: "equity", label: "Stocks", color: assetClassColor("us_equity") },
  { key: "fixed_income", label: "Bonds", color: assetClassColor("us_aggregate_bonds") },
  { key: "other", label: "Other", color: assetClassColor("real_estate") },
] as const;

function SplitBar({ row }: { row: GoalAllocation }) {
  const label = SPLIT_PARTS.map((part) => `${formatPercent(row[part.key], { digits: 0 })} ${part.label.toLowerCase()}`).join(", ");
  return (
    <div className="meter" role="img" aria-label={label} style={{ display: "flex" }}>
      {SPLIT_PARTS.map((part) => (
        <span
          key={part.key}
          style={{
            width: `${Math.max(0, Math.min(100, Number(row[part.key] ?? 0) * 100))}%`,
            background: part.color,
          }}
        />
      ))}
    </div>
  );
}

/** Per goal: the level it is invested at, why, and the stock/bond split it holds. */
export function GoalAllocations({ rows }: { rows: GoalAllocation[] }) {
  if (!rows.length) return null;
  return (
    <div className="goal-allocations">
      <h3>What your goals hold</h3>
      <p className="small muted">
        Each goal is invested at your level, or lower when the goal is near or must stay safe.
      </p>
      {/* Scrolls sideways on a phone rather than widening the page (long goal names and reasons). */}
      <TableScroll label="What your goals hold">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Goal</th>
              <th scope="col">Level</th>
              <th scope="col">Stocks</th>
              <th scope="col">Bonds</th>
              <th scope="col">Other</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.goal_id}>
                <td>
                  {row.goal_name}
                  <div className="small muted">{row.level_reason}</div>
                  {row.equity !== null ? <SplitBar row={row} /> : null}
                </td>
                <td>{row.level ?? "—"}</td>
                <td>{formatPercent(row.equity, { digits: 0 })}</td>
                <td>{formatPercent(row.fixed_income, { digits: 0 })}</td>
                <td>{formatPercent(row.other, { digits: 0 })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <p className="small muted">Other: real estate, gold and cash.</p>
    </div>
  );
}

export function RiskProfileView({
  profile,
  allocations = [],
}: {
  profile: RiskProfile;
  allocations?: GoalAllocation[];
}) {
  return (
    <div className="risk-profile">
      <div className="risk-headline">
        <div className="risk-level" aria-label={`Risk level ${profile.risk_level} of 10`}>
          <span className="risk-level-number">{profile.risk_level}</span>
          <span className="risk-level-of">/ 10</span>
        </div>
        <div>
          <p className="risk-level-name">{riskLevelName(profile.risk_level)}</p>
          <LevelScale level={profile.risk_level} />
        </div>
      </div>
      <SetBy profile={profile} />
      <p>{profile.explanation}</p>
      <div className="grid-2">
        <ScoreBar label="Willingness to take risk" score={profile.willingness_score} level={profile.willingness_level} />
        <ScoreBar label="Capacity to bear losses" score={profile.capacity_score} level={profile.capacity_level} />
      </div>
      {profile.flags.length ? (
        <div className="alert alert-warning">
          <p>
            <strong>Your advisor will take a look</strong>: some answers point in different directions.
          </p>
          <ul>
            {profile.flags.map((flag) => (
              <li key={flag.code}>{flag.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <ModelOpinionSection profile={profile} />
      <GoalAllocations rows={allocations} />
      <p className="small muted">
        Questionnaire {profile.questionnaire_version}, assessed {formatDateTime(profile.assessed_at)}.
      </p>
    </div>
  );
}

/** Loads the risk profile and, while the model's opinion is pending, checks back politely. */
export function RiskProfilePanel({ onMissing }: { onMissing?: () => void }) {
  const polls = useRef(0);
  const state = useAsync((signal) => risk.profile(signal), []);
  // The goals' split is a second read (portfolios); the profile shows without it if it fails.
  const level = state.data?.risk_level;
  const allocations = useAsync(
    (signal) => (level === undefined ? Promise.resolve([]) : goals.allocations(signal)),
    [level],
  );
  const pending = state.data?.model_opinion === "pending";
  const { setData, data } = state;

  useEffect(() => {
    if (!pending || polls.current >= MAX_POLLS) return;
    const timer = window.setTimeout(async () => {
      polls.current += 1;
      try {
        setData(await risk.profile());
      } catch {
        // Keep what we have; the next visit will show the opinion.
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [pending, setData, data]);

  if (state.loading && !state.data) return <Loading label="Loading your risk profile…" />;
  if (state.error) return <ProfileError error={state.error} onRetry={state.reload} onMissing={onMissing} title="No risk profile yet" />;
  return state.data ? (
    <RiskProfileView profile={state.data} allocations={allocations.data ?? []} />
  ) : null;
}

// --- The client's result page (onboarding) ---------------------------------------------------
// Only what the client needs, in the client's words: no model attributions, scores out of 100,
// questionnaire versions or who-decided records (those are for advisors, on the full view).

type ModelPortfolio = components["schemas"]["ModelPortfolioOutput"];
type Asset = components["schemas"]["AssetOutput"];

/** What a level means for the client's money, in plain words. */
export function riskLevelMeaning(level: number): string {
  if (level <= 2) {
    return "Keeping your money steady matters most to you. We invest mostly in bonds and cash, so its value should move little from month to month, and it is likely to grow slowly.";
  }
  if (level <= 4) {
    return "You want steadiness with some growth. We hold more bonds than stocks: your balance can dip in a bad year, but usually not by much.";
  }
  if (level <= 6) {
    return "You accept ups and downs for better growth over time. We hold a balance of stocks and bonds: in a bad year your balance could fall noticeably before it recovers.";
  }
  if (level <= 8) {
    return "You are investing for growth over many years. We hold mostly stocks: your balance can fall a lot in a bad year, and you plan to wait for it to recover.";
  }
  return "You are after the most growth and can wait out big falls. We hold almost all stocks: your balance can drop sharply for a while, in exchange for more growth over the long run.";
}

interface Mix {
  key: string;
  name: string;
  stocks: number;
  bonds: number;
  cash: number;
  other: number;
  level: number | null;
  note?: string;
}

const CASH_CLASSES = new Set(["cash"]);

function mixOfGoal(row: GoalAllocation): Mix | null {
  if (row.equity === null || row.fixed_income === null) return null;
  const cash = Object.entries(row.classes)
    .filter(([c]) => CASH_CLASSES.has(c))
    .reduce((sum, [, w]) => sum + Number(w), 0);
  return {
    key: `goal-${row.goal_id}`,
    name: row.goal_name,
    stocks: Number(row.equity),
    bonds: Number(row.fixed_income),
    cash,
    other: Math.max(0, Number(row.other ?? 0) - cash),
    level: row.level,
    note: row.level_reason,
  };
}

export function mixOfPortfolio(portfolio: ModelPortfolio, assets: Asset[]): Mix {
  const classOf = Object.fromEntries(assets.map((a) => [a.ticker, a.asset_class]));
  const mix = { stocks: 0, bonds: 0, cash: 0, other: 0 };
  for (const [ticker, weight] of Object.entries(portfolio.weights)) {
    const assetClass = classOf[ticker] ?? "other";
    const w = Number(weight);
    if (assetClass.endsWith("equity")) mix.stocks += w;
    else if (["us_aggregate_bonds", "treasuries", "tips", "corporate_bonds"].includes(assetClass) || assetClass.endsWith("bonds")) mix.bonds += w;
    else if (CASH_CLASSES.has(assetClass)) mix.cash += w;
    else mix.other += w;
  }
  return { key: `level-${portfolio.level}`, name: "Any goal at your level", level: portfolio.level, ...mix };
}

function MixTable({ rows }: { rows: Mix[] }) {
  const pct = (n: number) => formatPercent(n, { digits: 0 });
  return (
    <table className="table" data-testid="recommended-mix">
      <thead>
        <tr>
          <th scope="col">Goal</th>
          <th scope="col">Stocks</th>
          <th scope="col">Bonds</th>
          <th scope="col">Cash</th>
          <th scope="col">Other</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <td>
              {row.name}
              {row.note ? <div className="small muted">{row.note}</div> : null}
            </td>
            <td>{pct(row.stocks)}</td>
            <td>{pct(row.bonds)}</td>
            <td>{pct(row.cash)}</td>
            <td>{pct(row.other)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RiskResultView({ profile, mixes }: { profile: RiskProfile; mixes: Mix[] }) {
  return (
    <div className="risk-profile">
      <div className="risk-headline">
        <div className="risk-level" aria-label={`Risk level ${profile.risk_level} of 10`}>
          <span className="risk-level-number">{profile.risk_level}</span>
          <span className="risk-level-of">/ 10</span>
        </div>
        <div>
          <p className="risk-level-name">{riskLevelName(profile.risk_level)}</p>
          <LevelScale level={profile.risk_level} />
        </div>
      </div>
      <h3>What this means for you</h3>
      <p data-testid="risk-meaning">{riskLevelMeaning(profile.risk_level)}</p>
      <p>{profile.explanation}</p>
      {profile.flags.length ? (
        <div className="alert alert-warning">
          <p>
            <strong>Your advisor will take a look</strong>: some answers point in different directions.
          </p>
          <ul>
            {profile.flags.map((flag) => (
              <li key={flag.code}>{flag.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <StressCheckNote level={profile.risk_level} />
      <h3>Your recommended mix</h3>
      {mixes.length ? (
        <>
          <MixTable rows={mixes} />
          <p className="small muted">Other: real estate and gold. A goal that is near, or must stay safe, is invested more cautiously.</p>
        </>
      ) : (
        <p className="muted">Your mix will show here once your portfolios are ready.</p>
      )}
      <p className="small muted">
        Nothing has been invested yet: no money moves until you add money to a goal. Projections
        are hypothetical, not guarantees.
      </p>
    </div>
  );
}

/** The client's result page: the level, what it means, and the mix per goal (or, before any
 * goal, the mix at their level). */
export function RiskResultPanel({ onMissing }: { onMissing?: () => void }) {
  const state = useAsync((signal) => risk.profile(signal), []);
  const level = state.data?.risk_level;
  const mixes = useAsync<Mix[]>(
    async (signal) => {
      if (level === undefined) return [];
      const rows = (await goals.allocations(signal)).map(mixOfGoal).filter((m): m is Mix => m !== null);
      if (rows.length) return rows;
      const [portfolios, assets] = await Promise.all([
        get<ModelPortfolio[]>("model-portfolios/", { signal }),
        get<Asset[]>("assets/", { signal }),
      ]);
      const atLevel = portfolios.find((p) => p.level === level);
      return atLevel ? [mixOfPortfolio(atLevel, assets)] : [];
    },
    [level],
  );

  if (state.loading && !state.data) return <Loading label="Loading your result…" />;
  if (state.error) return <ProfileError error={state.error} onRetry={state.reload} onMissing={onMissing} title="No risk level yet" />;
  return state.data ? <RiskResultView profile={state.data} mixes={mixes.data ?? []} /> : null;
}

/** The profile could not be read: none yet (a 404: answer the questionnaire), or an error. */
function ProfileError({
  error,
  onRetry,
  onMissing,
  title,
}: {
  error: ApiError | string;
  onRetry: () => void;
  onMissing?: () => void;
  title: string;
}) {
  if (error instanceof ApiError && error.status === 404) {
    return (
      <EmptyState title={title}>
        <p>Answer the risk questionnaire to get one.</p>
        {onMissing ? (
          <button type="button" className="btn btn-primary" onClick={onMissing}>
            Take the questionnaire
          </button>
        ) : null}
      </EmptyState>
    );
  }
  return <ErrorAlert error={error} onRetry={onRetry} />;
}
