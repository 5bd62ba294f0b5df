"""Train the news linker: which asset classes a headline concerns (multi-label, possibly none).

Character 2–5-gram TF-IDF (within words) and one class-balanced logistic regression per asset
class, on nlp/training/data/news_linking (written for Meridian; see its README). Reported on the
held-out split against the keyword tagger it replaces (nlp.news.asset_classes_guess). Trains in
seconds, so --quick trains the same model."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from nlp.inference.impact import ASSET_NAMES
from nlp.inference.linking import (
    PREPROCESS_VERSION,
    LinkingPredictor,
    linking_text,
    vectorizer_make,
)

from .finetune import TrainResult

logger = logging.getLogger(__name__)

DATA_CSV = Path(__file__).resolve().parent / "data" / "news_linking" / "news_linking.csv"
CLASSES: list[str] = list(ASSET_NAMES)
THRESHOLD = 0.5
C = 10.0


def split_load(split: str) -> tuple[list[str], list[list[str]]]:
    """Headlines and their asset classes of the "train" or "test" split."""
    frame = pd.read_csv(DATA_CSV, dtype=str, keep_default_na=False)
    frame = frame[frame["split"] == split]
    labels = [value.split() for value in frame["asset_classes"]]
    unknown = sorted({c for row in labels for c in row} - set(CLASSES))
    if unknown:
        raise ValueError(f"{DATA_CSV}: unknown asset classes {unknown}")
    return list(frame["headline"]), labels


def indicator(labels: list[list[str]] | list[tuple[str, ...]]) -> np.ndarray:
    return np.asarray([[int(c in row) for c in CLASSES] for row in labels], dtype=np.int64)


def f1_scores(true: list[list[str]], pred: list[Any]) -> dict[str, float]:
    """Micro and macro F1 over the asset classes, and the share of headlines exactly right."""
    y_true, y_pred = indicator(true), indicator(pred)
    return {
        "micro_f1": round(float(f1_score(y_true, y_pred, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "exact_match": round(float((y_true == y_pred).all(axis=1).mean()), 4),
    }


def data_hash_compute() -> str:
    digest = hashlib.sha256(DATA_CSV.read_bytes())
    digest.update(PREPROCESS_VERSION.encode())
    return digest.hexdigest()


def fit(texts: list[str], labels: list[list[str]], *, seed: int = 13) -> LinkingPredictor:
    vectorizer = vectorizer_make()
    features = vectorizer.fit_transform([linking_text(t) for t in texts])
    y = indicator(labels)
    coef = np.zeros((len(CLASSES), features.shape[1]))
    intercept = np.zeros(len(CLASSES))
    for i in range(len(CLASSES)):
        if y[:, i].min() == y[:, i].max():  # never (or always) linked in training
            intercept[i] = 20.0 if y[0, i] else -20.0
            continue
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit(features, y[:, i])
        coef[i] = model.coef_[0]
        intercept[i] = model.intercept_[0]
    return LinkingPredictor(
        vectorizer=vectorizer, classes=CLASSES, coef=coef, intercept=intercept, threshold=THRESHOLD
    )


def evaluate(predictor: LinkingPredictor) -> dict[str, float]:
    """The linker and the keyword tagger on the held-out split."""
    from nlp.news import asset_classes_guess

    texts, labels = split_load("test")
    model = f1_scores(labels, [p.asset_classes for p in predictor.predict(texts)])
    keywords = f1_scores(labels, [asset_classes_guess(t) for t in texts])
    return {
        **{f"test_{k}": v for k, v in model.items()},
        **{f"keywords_test_{k}": v for k, v in keywords.items()},
        "test_examples": float(len(texts)),
    }


def train(
    *,
    out_dir: Path,
    quick: bool = False,
    seed: int = 13,
    progress: bool = True,
    threads: int | None = None,
) -> TrainResult:
    """Fit on the train split, report on the held-out split, save linker.json and metrics.json."""
    started = time.perf_counter()
    texts, labels = split_load("train")
    predictor = fit(texts, labels, seed=seed)
    metrics = evaluate(predictor)
    metrics["train_examples"] = float(len(texts))
    seconds = time.perf_counter() - started
    metrics["train_seconds"] = round(seconds, 1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    predictor.save(out_dir)
    report = {"metrics": metrics, "config": {"C": C, "threshold": THRESHOLD, "seed": seed}}
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    logger.info("news_linking trained in %.1fs micro_f1=%.4f", seconds, metrics["test_micro_f1"])
    return TrainResult(
        metrics=metrics,
        data_hash=data_hash_compute(),
        files=["linker.json", "metrics.json"],
        seconds=seconds,
    )
