"""Fine-tune MiniLM into the chat assistant's 15-intent classifier.

Data: nlp/training/data/chat_intents/{train,test}.csv (written for Meridian; see its README).
A stratified 15% of train is held out to pick the epoch; test.csv is only reported. Each
training question also appears once more with typing noise (a dropped, doubled or swapped
letter, no punctuation, lower case), because clients type in a hurry.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from nlp.chat.intents import INTENTS
from nlp.inference.chat_intent import IntentPredictor
from nlp.inference.sentiment import PREPROCESS_VERSION, text_normalise

from .finetune import (
    FinetuneConfig,
    TrainResult,
    finetune_text_classifier,
    finetuned_save,
    stratified_take,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data" / "chat_intents"
TRAIN_CSV = DATA_DIR / "train.csv"
TEST_CSV = DATA_DIR / "test.csv"
MAX_LENGTH = 64
_INDEX = {intent: i for i, intent in enumerate(INTENTS)}


@dataclass(frozen=True)
class TrainConfig(FinetuneConfig):
    epochs: int = 6
    learning_rate: float = 1e-4
    holdout: float = 0.15
    noisy_copies: int = 1
    train_limit: int | None = None


QUICK = TrainConfig(epochs=2, train_limit=300, noisy_copies=0)


def split_load(path: Path) -> tuple[list[str], list[int]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    unknown = sorted(set(frame["intent"]) - set(INTENTS))
    if unknown:
        raise ValueError(f"{path.name}: unknown intents {unknown}")
    return [text_normalise(t) for t in frame["text"]], [_INDEX[i] for i in frame["intent"]]


def data_hash_compute() -> str:
    digest = hashlib.sha256(TRAIN_CSV.read_bytes())
    digest.update(PREPROCESS_VERSION.encode())
    return digest.hexdigest()


_PUNCT = re.compile(r"[^\w\s$%]")


def noisy(text: str, rng: random.Random) -> str:
    """The question as typed in a hurry: lower case, no punctuation, one slip of a finger."""
    text = _PUNCT.sub("", text.lower()).strip() or text
    words = text.split()
    candidates = [i for i, w in enumerate(words) if len(w) > 3]
    if candidates:
        i = rng.choice(candidates)
        word, at = words[i], rng.randrange(1, len(words[i]) - 1)
        slip = rng.choice(("drop", "double", "swap"))
        if slip == "drop":
            word = word[:at] + word[at + 1 :]
        elif slip == "double":
            word = word[:at] + word[at] + word[at:]
        else:
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        words[i] = word
    return " ".join(words)


def report_compute(true: list[int], pred: list[int]) -> dict[str, Any]:
    labels = list(range(len(INTENTS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(true, pred)),
        "macro_f1": float(f1_score(true, pred, labels=labels, average="macro", zero_division=0)),
        "per_intent": {
            INTENTS[i]: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i in labels
        },
    }


def train(
    *,
    out_dir: Path,
    quick: bool = False,
    seed: int = 13,
    progress: bool = True,
    config: TrainConfig | None = None,
) -> TrainResult:
    """Fine-tune, keep the epoch with the best held-out accuracy, save weights and a report."""
    started = time.perf_counter()
    config = config or (QUICK if quick else TrainConfig())
    texts, labels = split_load(TRAIN_CSV)
    test_texts, test_labels = split_load(TEST_CSV)
    keep = stratified_take(labels, config.train_limit, seed)
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    # Hold out a stratified share of train to choose the epoch; test.csv stays unseen.
    held = set(stratified_take(labels, round(len(labels) * config.holdout), seed + 1))
    valid_texts = [t for i, t in enumerate(texts) if i in held]
    valid_labels = [y for i, y in enumerate(labels) if i in held]
    train_texts = [t for i, t in enumerate(texts) if i not in held]
    train_labels = [y for i, y in enumerate(labels) if i not in held]
    rng = random.Random(seed)  # noqa: S311 - typing noise, not secrets
    originals = list(zip(train_texts, train_labels, strict=True))
    for _ in range(config.noisy_copies):
        train_texts += [noisy(t, rng) for t, _ in originals]
        train_labels += [y for _, y in originals]

    tuned = finetune_text_classifier(
        train_texts,
        train_labels,
        valid=(valid_texts, valid_labels),
        predictor_class=IntentPredictor,
        label_names=INTENTS,
        config=config,
        max_length=MAX_LENGTH,
        select_on="valid_accuracy",
        seed=seed,
        progress=progress,
    )
    test = report_compute(test_labels, tuned.predict_indices(test_texts))
    data_hash = data_hash_compute()
    metrics: dict[str, float] = {
        "valid_accuracy": round(tuned.best["valid_accuracy"], 4),
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "train_seconds": round(tuned.train_seconds, 1),
        "train_examples": float(len(train_texts)),
        "test_examples": float(len(test_texts)),
        "best_epoch": float(tuned.best["epoch"]),
    }
    report = {"metrics": metrics, "test": test, "history": tuned.history, "config": config.__dict__}
    files = finetuned_save(
        tuned, Path(out_dir), data_hash=data_hash, seed=seed, quick=quick, report=report
    )
    seconds = time.perf_counter() - started
    logger.info(
        "chat_intent trained in %.1fs test_accuracy=%.4f", seconds, metrics["test_accuracy"]
    )
    return TrainResult(metrics=metrics, data_hash=data_hash, files=files, seconds=seconds)


def evaluate(*, model_dir: Path) -> dict[str, Any]:
    """The served model on test.csv with per-intent precision/recall, beside a TF-IDF +
    logistic-regression baseline and the majority class, in the same run."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels = split_load(TRAIN_CSV)
    test_texts, test_labels = split_load(TEST_CSV)
    predictor = IntentPredictor.load(model_dir, torch.device("cpu"))
    predictions = predictor.predict(test_texts, batch_size=128)
    model = report_compute(test_labels, [_INDEX[p.label] for p in predictions])
    threshold_share = sum(p.scores[p.label] >= 0.5 for p in predictions) / len(predictions)
    baseline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0),
    ).fit(train_texts, train_labels)
    tfidf = report_compute(test_labels, [int(y) for y in baseline.predict(test_texts)])
    majority = max(set(train_labels), key=train_labels.count)
    return {
        "test_examples": len(test_texts),
        "model": model,
        "confident_share": round(threshold_share, 4),
        "baselines": {
            "tfidf_logreg": {k: tfidf[k] for k in ("accuracy", "macro_f1")},
            "majority": report_compute(test_labels, [majority] * len(test_labels))["accuracy"],
        },
    }
