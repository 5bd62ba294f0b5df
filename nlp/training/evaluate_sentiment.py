"""Score a trained sentiment model against three baselines, on the tweets' valid split and news set.

Baselines: majority class, TF-IDF + logistic regression fitted on the model's training texts
(tweets and report sentences), and a finance lexicon with simple negation. They show whether
fine-tuning earns its cost out of domain. The news set is scored whole and in its two parts:
`news_dev` chose the model's decision rule, `news_test` chose nothing.

Run: .venv/bin/python -m nlp.training.evaluate_sentiment MODEL_DIR [--quick] [--json]
"""

from __future__ import annotations

import argparse
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
from nlp.training.sentiment import DATA_DIR, LABELS, news_load, reports_load, split_load

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
    positive = LABELS.index("positive")
    hits = [p == positive for p, t in zip(pred, true, strict=True) if t == positive]
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(macro_f1, 4),
        # Recall of the positive class: the hidden set's commonest error is positive → neutral.
        "positive_accuracy": round(float(np.mean(hits)) if hits else 0.0, 4),
    }


SYSTEMS = ("model", "majority", "tfidf_logreg", "lexicon")
SPLITS = ("valid", "news", "news_dev", "news_test")


def splits_load(*, quick: bool = False) -> dict[str, tuple[list[str], list[int]]]:
    """The evaluation splits; `quick` keeps a fixed stratified slice of at most 200 rows each."""
    splits = {
        "valid": split_load("valid"),
        "news": news_load(),
        "news_dev": news_load("dev"),
        "news_test": news_load("test"),
    }
    if quick:
        for name, (texts, labels) in splits.items():
            keep = stratified_take(labels, QUICK_ROWS, seed=0)
            splits[name] = ([texts[i] for i in keep], [labels[i] for i in keep])
    return splits


def evaluate(*, model_dir: Path, quick: bool = False) -> dict[str, Any]:
    """JSON-ready report: accuracy, macro-F1 and positive-class accuracy of the model and each
    baseline on valid, news and the news dev and test parts.

    `quick` scores at most 200 rows per split; the baselines still fit on all training texts.
    """
    model_dir = Path(model_dir)
    tweet_texts, tweet_labels = split_load("train")
    report_texts, report_labels = reports_load()
    train_texts, train_labels = tweet_texts + report_texts, tweet_labels + report_labels
    splits = splits_load(quick=quick)

    predictor = SentimentPredictor.load(model_dir)
    tfidf = tfidf_fit(train_texts, train_labels)
    lexicon = lexicon_load()
    majority = int(np.bincount(train_labels, minlength=len(LABELS)).argmax())

    report: dict[str, Any] = {
        "model_dir": str(model_dir),
        "quick": quick,
        "labels": list(LABELS),
        "majority_label": LABELS[majority],
        "decision_rule": {
            "temperature": predictor.temperature,
            "logit_bias": list(predictor.logit_bias),
        },
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
        "sentiment evaluated: valid_macro_f1=%.4f news_dev_accuracy=%.4f news_test_accuracy=%.4f",
        report["splits"]["valid"]["model"]["macro_f1"],
        report["splits"]["news_dev"]["model"]["accuracy"],
        report["splits"]["news_test"]["model"]["accuracy"],
    )
    return report


def table_format(report: dict[str, Any]) -> str:
    """The report as a Markdown table: one row per system and split."""
    lines = [
        "| split | rows | system | accuracy | macro-F1 | positive acc. |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for split in SPLITS:
        part = report["splits"].get(split)
        if part is None:
            continue
        for system in SYSTEMS:
            scores = part[system]
            lines.append(
                f"| {split} | {part['rows']} | {system} | {scores['accuracy']:.3f} | "
                f"{scores['macro_f1']:.3f} | {scores['positive_accuracy']:.3f} |"
            )
    rule = report["decision_rule"]
    bias = ", ".join(
        f"{label} {value:+.2f}" for label, value in zip(LABELS, rule["logit_bias"], strict=True)
    )
    lines.append("")
    lines.append(f"Decision rule: temperature {rule['temperature']:.2f}; logit offsets {bias}.")
    matrix = report.get("news_confusion_matrix")
    if matrix:
        lines.append(
            "News confusion matrix (rows true, columns predicted, order "
            + "/".join(LABELS)
            + "): "
            + str(matrix["matrix"])
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate a trained sentiment model.")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--quick", action="store_true", help="at most 200 rows per split")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead")
    args = parser.parse_args(argv)
    report = evaluate(model_dir=args.model_dir, quick=args.quick)
    print(json.dumps(report, indent=2) if args.json else table_format(report))  # noqa: T201


if __name__ == "__main__":
    main()
