// The stress check on a risk result (onboarding and a retaken questionnaire): the worst
// scenario of the portfolio for the level beside the loss the client said they could bear, and,
// when it is larger, a calm word that an advisor will go through it.
import { ApiError } from "../api/client";
import { risk } from "../api/endpoints";
import type { StressCheck } from "../api/types";
import { formatPercent } from "../lib/format";
import { useAsync } from "../lib/useAsync";

/** The check in one or two plain sentences, from its figures (the server's text when it has none). */
export function stressSentence(check: StressCheck): string {
  const worst = check.worst;
  if (!worst) return check.client_text;
  const loss = formatPercent(worst.loss, { digits: 0 });
  const verb = worst.kind === "historical" ? "fell" : "would fall";
  const said = check.tolerance
    ? ` You told us you could bear a fall of about ${formatPercent(check.tolerance.loss, { digits: 0 })}.`
    : "";
  const capped = check.capped_from
    ? `Your level was lowered from ${check.capped_from} to ${check.level} because of this check. `
    : "";
  return (
    capped +
    `We replayed past market falls and sudden shocks on the portfolio for level ${check.level}. ` +
    `In the worst of these scenarios (${worst.name}) it ${verb} about ${loss}.${said}`
  );
}

/** The lowest level is still over what the client can bear: the stress cap's floor. */
function floored(check: StressCheck): boolean {
  return check.advisor_flag?.code === "stress_floor";
}

export function StressCheckView({ check }: { check: StressCheck }) {
  return (
    <div className="stress-check" data-testid="stress-check">
      <h3>How far it could fall</h3>
      <p>{stressSentence(check)}</p>
      {floored(check) ? (
        <div className="alert alert-info" data-testid="stress-check-review">
          <p>
            Even our most cautious portfolio could fall more than you said you could bear, so your level is the lowest;
            an advisor will go through it with you. You don't need to do anything now.
          </p>
        </div>
      ) : check.exceeds ? (
        <div className="alert alert-info" data-testid="stress-check-review">
          <p>
            That is more than you said you could bear, which is worth a conversation rather than a worry. An advisor will
            review it and go through it with you; you don't need to do anything now.
          </p>
        </div>
      ) : null}
    </div>
  );
}

/** Loads the check for `level` (default: the client's current level). Quiet when it can't be had:
 * the risk result stands without it. */
export function StressCheckNote({ level }: { level?: number }) {
  const state = useAsync(
    async (signal) => {
      try {
        return await risk.stressCheck(level, signal);
      } catch (err) {
        // 404/409: no level or no model portfolio yet; nothing to compare.
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403) {
          return null;
        }
        throw err;
      }
    },
    [level],
  );
  if (!state.data) return null;
  return <StressCheckView check={state.data} />;
}
