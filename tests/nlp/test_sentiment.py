"""The sentiment model: training on tiny data, prediction, scoring news idempotently."""

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nlp.inference.sentiment import LABELS, SentimentPredictor, text_normalise  # noqa: E402
from nlp.training.evaluate_sentiment import (  # noqa: E402
    evaluate,
    lexicon_load,
    lexicon_predict,
)
from nlp.training.sentiment import (  # noqa: E402
    NEWS_CSV,
    TrainResult,
    split_load,
    train,
)

SENTENCES = [
    "Net sales increased 12% to EUR 1.2 billion.",
    "The company expects operating profit to decline sharply next year.",
    "The annual general meeting will be held on 12 April.",
    "$ACME shares plunge after the profit warning https://t.co/abc123",
    "",
]


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    out_dir = tmp_path_factory.mktemp("sentiment_quick")
    # One thread: CI runners share cores, and a contended OpenMP pool is far slower than one.
    return out_dir, train(out_dir=out_dir, quick=True, progress=False, threads=1)


def test_normalise_strips_urls_mentions_hashtags_and_cashtag_dollars() -> None:
    text = "$AAPL $BRK.B up 3% after @Reuters report #earnings https://t.co/xYz1 www.ex.com/a …"

    assert text_normalise(text) == "AAPL BRK.B up 3% after report earnings"


def test_normalise_keeps_money_and_emails_and_is_idempotent() -> None:
    text = "  Revenue of $5 billion,   ask ir@example.com\n"

    once = text_normalise(text)

    assert once == "Revenue of $5 billion, ask ir@example.com"
    assert text_normalise(once) == once


def test_normalise_truncates_very_long_texts() -> None:
    assert len(text_normalise("a" * 5000)) == 2000


def test_quick_training_writes_the_model_files_and_metrics(
    quick_model: tuple[Path, TrainResult],
) -> None:
    out_dir, result = quick_model

    for name in ("config.json", "model.safetensors", "tokenizer.json", "labels.json"):
        assert name in result.files
        assert (out_dir / name).is_file()
    assert "metrics.json" in result.files
    for key in (
        "valid_accuracy",
        "valid_macro_f1",
        "news_accuracy",
        "news_macro_f1",
        "train_seconds",
        "train_examples",
    ):
        assert key in result.metrics
    assert 300 <= result.metrics["train_examples"] <= 500
    assert json.loads((out_dir / "labels.json").read_text())["labels"] == list(LABELS)
    assert json.loads((out_dir / "metrics.json").read_text())["metrics"] == result.metrics
    assert len(result.data_hash) == 64


def test_training_twice_with_the_same_seed_gives_identical_predictions(
    quick_model: tuple[Path, TrainResult], tmp_path: Path
) -> None:
    first_dir, first = quick_model

    second = train(out_dir=tmp_path, quick=True, progress=False, threads=1)

    first_predictions = SentimentPredictor.load(first_dir).predict(SENTENCES)
    second_predictions = SentimentPredictor.load(tmp_path).predict(SENTENCES)
    assert first_predictions == second_predictions
    assert first.data_hash == second.data_hash


def test_predictor_returns_one_prediction_per_text_with_probabilities_summing_to_one(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = SentimentPredictor.load(quick_model[0])
    texts = [*SENTENCES, "Profit rose. " * 400]

    predictions = predictor.predict(texts, batch_size=4)

    assert len(predictions) == len(texts)
    for prediction in predictions:
        assert prediction.label in LABELS
        assert set(prediction.scores) == set(LABELS)
        assert math.isclose(sum(prediction.scores.values()), 1.0, abs_tol=1e-6)
        assert prediction.label == max(prediction.scores, key=prediction.scores.__getitem__)
    assert predictor.predict([]) == []


def test_news_set_has_at_least_300_unique_rows_with_valid_labels() -> None:
    frame = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)

    assert list(frame.columns) == ["text", "label"]
    assert len(frame) >= 300
    assert set(frame["label"]) == set(LABELS)
    assert frame["label"].value_counts().idxmax() == "neutral"
    assert not frame["text"].str.strip().eq("").any()
    assert not frame["text"].str.lower().duplicated().any()


def test_news_set_shares_no_text_with_the_training_data() -> None:
    frame = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)
    tweets = {text.lower() for split in ("train", "valid") for text in split_load(split)[0]}

    news = {text_normalise(text).lower() for text in frame["text"]}

    assert news.isdisjoint(tweets)


def test_lexicon_baseline_flips_negated_words() -> None:
    lexicon = lexicon_load()

    labels = lexicon_predict(
        [
            "Quarterly results did not miss expectations",
            "Shares fell sharply",
            "The meeting is on Monday",
        ],
        lexicon,
    )

    assert [LABELS[i] for i in labels] == ["positive", "negative", "neutral"]


def test_evaluation_report_has_the_model_and_all_baselines_for_both_splits(
    quick_model: tuple[Path, TrainResult],
) -> None:
    report = evaluate(model_dir=quick_model[0], quick=True)

    assert json.loads(json.dumps(report)) == report
    for split in ("valid", "news"):
        assert 0 < report["splits"][split]["rows"] <= 200
        for system in ("model", "majority", "tfidf_logreg", "lexicon"):
            scores = report["splits"][split][system]
            assert 0.0 <= scores["accuracy"] <= 1.0
            assert 0.0 <= scores["macro_f1"] <= 1.0
    matrix = report["news_confusion_matrix"]["matrix"]
    assert len(matrix) == len(LABELS)
    assert sum(map(sum, matrix)) == report["splits"]["news"]["rows"]
