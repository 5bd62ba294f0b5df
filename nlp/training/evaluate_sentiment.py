"""Score a trained sentiment model against three baselines, on the tweets' valid split and news set.

Baselines: majority class, TF-IDF + logistic regression fitted on the train split, and a finance
lexicon with simple negation. They show whether fine-tuning earns its cost out of domain.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline

from nlp.inference.sentiment import SentimentPredictor
from nlp.training.finetune import scores_compute, stratified_take
from nlp.training.sentiment import DATA_DIR, LABELS, news_load, split_load

logger = logging.getLogger(__name__)

LEXICON_CSV = DATA_DIR / "finance_lexicon.csv"
QUICK_ROWS = 200
# How many tokens back a negator still flips a word: "did not miss expectations".
NEGATION_WINDOW = 3
_NEGATORS = frozenset({"not", "no", "never", "without", "neither", "nor", "cannot"})
_TOKEN = re.compile(r"[a-z]+(?:[-'’][a-z]+)*")


def lexicon_load(path: Path = LEXICON_CSV) -> dict[str, int]:
    """word → +1/-1 from the lexicon CSV, skipping its "#" header comments."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["word"].strip().lower(): int(row["polarity"]) for row in rows}


def lexicon_score(text: str, lexicon: dict[str, int]) -> int:
    """Sum of word polarities, each flipped when a negator sits within NEGATION_WINDOW before it."""
    tokens = _TOKEN.findall(text.lower())
    score = 0
    for i, token in enumerate(tokens):
        polarity = lexicon.get(token, 0)
        if not polarity:
            continue
        window = tokens[max(0, i - NEGATION_WINDOW) : i]
        if any(word in _NEGATORS or word.endswith(("n't", "n’t")) for word in window):
            polarity = -polarity
        score += polarity
    return score


def lexicon_predict(texts: Sequence[str], lexicon: dict[str, int]) -> list[int]:
    """LABELS indices by the sign of the lexicon score (0 → neutral)."""
    scores = np.sign([lexicon_score(text, lexicon) for text in texts]).astype(int)
    # sign -1/0/+1 maps straight onto negative/neutral/positive.
    return [LABELS.index(("negative", "neutral", "positive")[s + 1]) for s in scores]


def tfidf_fit(texts: Sequence[str], labels: Sequence[int]) -> Any:
    """Word 1–2-gram TF-IDF + balanced logistic regression: the classic cheap text baseline."""
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )
    pipeline.fit(list(texts), list(labels))
    return pipeline


def _scores(true: Sequence[int], pred: Sequence[int]) -> dict[str, float]:
    accuracy, macro_f1 = scores_compute(true, pred, len(LABELS))
    return {"accuracy": round(accuracy, 4), "macro_f1": round(macro_f1, 4)}


def evaluate(*, model_dir: Path, quick: bool = False) -> dict[str, Any]:
    """JSON-ready report: accuracy and macro-F1 of the model and each baseline on valid and news.

    `quick` scores at most 200 rows per split; the baselines still fit on the whole train split.
    """
    model_dir = Path(model_dir)
    train_texts, train_labels = split_load("train")
    splits = {"valid": split_load("valid"), "news": news_load()}
    if quick:
        for name, (texts, labels) in splits.items():
            keep = stratified_take(labels, QUICK_ROWS, seed=0)
            splits[name] = ([texts[i] for i in keep], [labels[i] for i in keep])

    predictor = SentimentPredictor.load(model_dir)
    tfidf = tfidf_fit(train_texts, train_labels)
    lexicon = lexicon_load()
    majority = int(np.bincount(train_labels, minlength=len(LABELS)).argmax())

    report: dict[str, Any] = {
        "model_dir": str(model_dir),
        "quick": quick,
        "labels": list(LABELS),
        "majority_label": LABELS[majority],
        "splits": {},
    }
    for name, (texts, labels) in splits.items():
        model_pred = [LABELS.index(p.label) for p in predictor.predict(texts)]
        report["splits"][name] = {
            "rows": len(texts),
            "label_counts": {
                label: int(count)
                for label, count in zip(
                    LABELS, np.bincount(labels, minlength=len(LABELS)), strict=True
                )
            },
            "model": _scores(labels, model_pred),
            "majority": _scores(labels, [majority] * len(labels)),
            "tfidf_logreg": _scores(labels, tfidf.predict(list(texts)).tolist()),
            "lexicon": _scores(labels, lexicon_predict(texts, lexicon)),
        }
        if name == "news":
            matrix = confusion_matrix(labels, model_pred, labels=list(range(len(LABELS))))
            report["news_confusion_matrix"] = {
                "rows": "true label",
                "columns": "predicted label",
                "labels": list(LABELS),
                "matrix": matrix.tolist(),
            }
    metrics_path = model_dir / "metrics.json"
    if metrics_path.exists():
        report["training"] = json.loads(metrics_path.read_text(encoding="utf-8")).get("metrics", {})
    logger.info(
        "sentiment evaluated: valid_macro_f1=%.4f news_macro_f1=%.4f",
        report["splits"]["valid"]["model"]["macro_f1"],
        report["splits"]["news"]["model"]["macro_f1"],
    )
    return report
