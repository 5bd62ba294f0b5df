import { news } from "../api/endpoints";
import type { AssetSentiment, Headline, HoldingsNews } from "../api/types";
import { assetClassLabel } from "../lib/choices";
import { formatDate } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { Card, EmptyState, ErrorAlert, Loading, StatusMessage } from "./ui";

/** A 7-day mean (−1 … +1) in words. */
export function scoreLabel(score: number | null): { text: string; tone: string } {
  if (score === null) return { text: "No recent news", tone: "neutral" };
  if (score <= -0.2) return { text: "Negative", tone: "neg" };
  if (score >= 0.2) return { text: "Positive", tone: "pos" };
  return { text: "Mixed", tone: "neutral" };
}

const IMPACT_TONE: Record<string, string> = { negative: "neg", neutral: "neutral", positive: "pos" };

/** "For your US Treasuries: positive": a headline's impact on the fund's asset class. */
export function impactPhrase(headline: Headline): string | null {
  if (!headline.impact) return null;
  const name = headline.asset_class_name || assetClassLabel(headline.asset_class);
  return `For your ${name}: ${headline.impact}`;
}

/** The fund's figure: its news impact once an impact model is served, the tone before. */
function fundScore(asset: AssetSentiment, impactServed: boolean) {
  if (impactServed) {
    return {
      score: asset.impact_score,
      count: asset.impact_count,
      positive: asset.impact_positive,
      negative: asset.impact_negative,
      kind: "impact on this fund",
    };
  }
  return { score: asset.score, count: asset.count, positive: asset.positive, negative: asset.negative, kind: "tone" };
}

export function HoldingsNewsList({ data }: { data: HoldingsNews }) {
  const impactServed = data.impact_model !== null;
  const withNews = data.assets.filter((a) => a.count > 0 || a.impact_count > 0 || a.headlines.length > 0);
  return (
    <>
      {data.status === "pending" ? (
        <StatusMessage tone="info">News is being scored; check back shortly.</StatusMessage>
      ) : null}
      {withNews.length === 0 ? (
        <EmptyState title="No recent news">
          <p>Nothing in the last 7 days about the funds you hold.</p>
        </EmptyState>
      ) : (
        <ul className="news-list">
          {withNews.map((asset) => {
            const f = fundScore(asset, impactServed);
            const s = scoreLabel(f.score);
            return (
              <li key={asset.ticker}>
                <div className="news-asset">
                  <strong>{asset.ticker}</strong>
                  <span className="muted small">{assetClassLabel(asset.asset_class)}</span>
                  <span className={`badge badge-${s.tone}`} title={f.kind}>
                    {s.text}
                    {f.score !== null ? ` (${f.score > 0 ? "+" : ""}${f.score.toFixed(2)})` : ""}
                  </span>
                  <span className="muted small">
                    {f.count} article{f.count === 1 ? "" : "s"}: {f.positive} positive, {f.negative} negative
                    {impactServed ? " for this fund" : ""}
                  </span>
                </div>
                {asset.headlines.length ? (
                  <ul className="headlines">
                    {asset.headlines.slice(0, 3).map((h) => {
                      const phrase = impactPhrase(h);
                      return (
                        <li key={h.url || h.headline}>
                          {/^https?:\/\//.test(h.url) ? (
                            <a href={h.url} target="_blank" rel="noopener noreferrer">
                              {h.headline}
                            </a>
                          ) : (
                            h.headline
                          )}{" "}
                          {phrase ? (
                            <span className={`badge badge-${IMPACT_TONE[h.impact ?? "neutral"] ?? "neutral"}`}>{phrase}</span>
                          ) : null}{" "}
                          <span className="muted small">
                            {h.source} · {formatDate(h.published_at)}
                          </span>
                        </li>
                      );
                    })}
                  </ul>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      <p className="small muted">{data.policy}</p>
    </>
  );
}

export default function NewsCard() {
  const state = useAsync((signal) => news.holdings(signal), []);
  return (
    <Card title="News on your holdings" className="span-full">
      {state.loading ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {state.data ? <HoldingsNewsList data={state.data} /> : null}
    </Card>
  );
}
