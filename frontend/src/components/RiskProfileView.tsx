import { useEffect, useRef } from "react";

import { ApiError } from "../api/client";
import { goals, risk } from "../api/endpoints";
import type { GoalAllocation, RiskAssessment, RiskProfile } from "../api/types";
import { riskLevelName } from "../lib/choices";
import { formatDate, formatDateTime, formatPercent, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { assetClassColor } from "./charts/colors";
import { EmptyState, ErrorAlert, Loading } from "./ui";

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
  if (state.error) {
    if (state.error instanceof ApiError && state.error.status === 404) {
      return (
        <EmptyState title="No risk profile yet">
          <p>Answer the risk questionnaire to get one.</p>
          {onMissing ? (
            <button type="button" className="btn btn-primary" onClick={onMissing}>
              Take the questionnaire
            </button>
          ) : null}
        </EmptyState>
      );
    }
    return <ErrorAlert error={state.error} onRetry={state.reload} />;
  }
  return state.data ? (
    <RiskProfileView profile={state.data} allocations={allocations.data ?? []} />
  ) : null;
}
