import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { AssetSentiment, HoldingsNews } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import NewsCard, { HoldingsNewsList, impactPhrase } from "./NewsCard";

const headline = {
  headline: "Treasury yields slip as traders price a June Fed pause",
  source: "Meridian wire",
  url: "",
  published_at: "2023-06-08T14:00:00Z",
  label: "negative",
  impact: "positive" as const,
  asset_class: "treasuries",
  asset_class_name: "US Treasuries",
};

const ief: AssetSentiment = {
  ticker: "IEF",
  asset_class: "treasuries",
  score: -0.8,
  count: 1,
  negative: 1,
  positive: 0,
  impact_score: 0.7,
  impact_count: 1,
  impact_negative: 0,
  impact_positive: 1,
  headlines: [headline],
};

const holdings: HoldingsNews = {
  status: "ready",
  market_date: "2023-06-09",
  model: "sentiment@1",
  impact_model: "asset_impact@1",
  policy: "News sentiment explains moves and informs advisors; it never trades.",
  assets: [ief],
};

describe("NewsCard", () => {
  it("says how a headline bears on the fund, not its tone", () => {
    render(<HoldingsNewsList data={holdings} />);

    const item = screen.getByText("IEF").closest("li") as HTMLElement;
    expect(within(item).getByText("For your US Treasuries: positive").className).toContain("badge-pos");
    // The fund's figure is the impact (+0.70), not the headline's negative tone (−0.80).
    expect(within(item).getByText("Positive (+0.70)")).toBeTruthy();
    expect(within(item).getByText(/1 positive, 0 negative for this fund/)).toBeTruthy();
  });

  it("falls back to the tone while no impact model is served", () => {
    const toneOnly: HoldingsNews = {
      ...holdings,
      impact_model: null,
      assets: [{ ...ief, impact_score: null, impact_count: 0, impact_positive: 0, headlines: [{ ...headline, impact: null }] }],
    };
    render(<HoldingsNewsList data={toneOnly} />);

    expect(screen.getByText("Negative (-0.80)")).toBeTruthy();
    expect(screen.queryByText(/For your/)).toBeNull();
  });

  it("names the asset class when the API sends no display name", () => {
    expect(impactPhrase({ ...headline, impact: "negative", asset_class: "gold", asset_class_name: "" })).toBe(
      "For your Gold: negative",
    );
    expect(impactPhrase({ ...headline, impact: null })).toBeNull();
  });

  it("loads the client's news on holdings from the API", async () => {
    const { calls } = mockFetch(() => json(holdings));

    render(<NewsCard />);

    expect(await screen.findByText("For your US Treasuries: positive")).toBeTruthy();
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/news/holdings/"]);
  });
});
