"""Quality of the full sentiment training out of domain (slow: `make test-full`).

The default configuration is trained as `make seed` trains it and scored on the news test part,
which chose nothing (the dev part chose the decision rule). The bars sit a few points under what
the run measured when the configuration was chosen (test part: accuracy 0.903, macro-F1 0.896;
TF-IDF on the same texts 0.815 / 0.803), so a regression fails while seed noise does not. The
quick model's check against the same baselines runs in every `make test`
(tests/nlp/test_sentiment.py).
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nlp.inference.sentiment import LABELS, SentimentPredictor  # noqa: E402
from nlp.training.evaluate_sentiment import tfidf_fit  # noqa: E402
from nlp.training.finetune import scores_compute  # noqa: E402
from nlp.training.sentiment import (  # noqa: E402
    TrainConfig,
    news_load,
    reports_load,
    split_load,
    train,
)

pytestmark = pytest.mark.slow

TEST_ACCURACY_FLOOR = 0.87
TEST_MACRO_F1_FLOOR = 0.86
TFIDF_MARGIN = 0.03


@pytest.fixture(scope="module")
def full_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("sentiment_full")
    train(out_dir=out_dir, progress=False, config=TrainConfig())
    return out_dir


def test_full_model_clears_its_floor_on_the_news_test_part(full_model: Path) -> None:
    texts, labels = news_load("test")

    predicted = [LABELS.index(p.label) for p in SentimentPredictor.load(full_model).predict(texts)]

    accuracy, macro_f1 = scores_compute(labels, predicted, len(LABELS))
    assert accuracy >= TEST_ACCURACY_FLOOR
    assert macro_f1 >= TEST_MACRO_F1_FLOOR


def test_full_model_beats_tfidf_trained_on_the_same_texts(full_model: Path) -> None:
    # given: TF-IDF + logistic regression on all the tweets and report sentences
    tweet_texts, tweet_labels = split_load("train")
    report_texts, report_labels = reports_load()
    tfidf = tfidf_fit(tweet_texts + report_texts, tweet_labels + report_labels)
    texts, labels = news_load("test")

    # when
    predicted = [LABELS.index(p.label) for p in SentimentPredictor.load(full_model).predict(texts)]

    # then
    model_accuracy, model_f1 = scores_compute(labels, predicted, len(LABELS))
    tfidf_accuracy, tfidf_f1 = scores_compute(labels, tfidf.predict(texts).tolist(), len(LABELS))
    assert model_accuracy >= tfidf_accuracy + TFIDF_MARGIN
    assert model_f1 >= tfidf_f1 + TFIDF_MARGIN
