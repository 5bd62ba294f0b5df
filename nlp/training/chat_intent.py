"""Fine-tune MiniLM into the chat assistant's 15-intent classifier.

Data: nlp/training/data/chat_intents/{train,test}.csv (written for Meridian; see its README).
A stratified 15% of train is held out to pick the epoch; test.csv is only reported. Each
training question also appears once more with typing noise (a dropped, doubled or swapped
letter, no punctuation, lower case), because clients type in a hurry.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.optimization import get_linear_schedule_with_warmup

from nlp.chat.intents import INTENTS
from nlp.inference.chat_intent import IntentPredictor
from nlp.inference.sentiment import LABELS_FILE, PREPROCESS_VERSION, text_normalise

from .sentiment import BASE_MODEL, _batches, base_model_path, seed_everything, stratified_take

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data" / "chat_intents"
TRAIN_CSV = DATA_DIR / "train.csv"
TEST_CSV = DATA_DIR / "test.csv"
MAX_LENGTH = 64
_INDEX = {intent: i for i, intent in enumerate(INTENTS)}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.1
    holdout: float = 0.15
    noisy_copies: int = 1
    # Frozen word embeddings (as for sentiment): half the parameters, so each step costs about
    # half on the CPU, and words the training questions never use keep their pretrained sense.
    freeze_embeddings: bool = True
    train_limit: int | None = None


QUICK = TrainConfig(epochs=2, train_limit=300, noisy_copies=0)


@dataclass(frozen=True)
class TrainResult:
    metrics: dict[str, float]
    data_hash: str
    files: list[str]
    seconds: float


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
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    saved_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        return _train(
            out_dir=Path(out_dir),
            quick=quick,
            seed=seed,
            progress=progress,
            config=config or (QUICK if quick else TrainConfig()),
        )
    finally:
        torch.set_num_threads(saved_threads)
        torch.use_deterministic_algorithms(saved_deterministic, warn_only=saved_warn_only)


def _train(
    *, out_dir: Path, quick: bool, seed: int, progress: bool, config: TrainConfig
) -> TrainResult:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
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

    base = base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model: Any = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(INTENTS), id2label=dict(enumerate(INTENTS)), label2id=_INDEX
    )
    if config.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    device = torch.device("cpu")
    predictor = IntentPredictor(
        model=model, tokenizer=tokenizer, device=device, labels=INTENTS, max_length=MAX_LENGTH
    )
    encoded = tokenizer(train_texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    lengths = [len(ids) for ids in encoded]
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
    )
    total_steps = -(-len(train_texts) // config.batch_size) * config.epochs
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(total_steps * config.warmup_ratio), total_steps
    )
    batch_rng = np.random.default_rng(seed)
    labels_tensor = torch.tensor(train_labels)
    best_accuracy, best_epoch, best_state = -1.0, 0, None
    history: list[dict[str, float]] = []
    bar = tqdm(total=total_steps, disable=not progress, desc="chat_intent", unit="step")
    train_started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        for batch in _batches(lengths, config.batch_size, batch_rng):
            inputs = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            loss = loss_fn(model(**inputs).logits, labels_tensor[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
        model.eval()
        accuracy = _accuracy(predictor, valid_texts, valid_labels)
        history.append({"epoch": epoch, "valid_accuracy": accuracy})
        if accuracy > best_accuracy:
            best_accuracy, best_epoch = accuracy, epoch
            best_state = copy.deepcopy(model.state_dict()) if epoch < config.epochs else None
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    train_seconds = time.perf_counter() - train_started

    test_pred = [_INDEX[p.label] for p in predictor.predict(test_texts, batch_size=128)]
    test = report_compute(test_labels, test_pred)
    data_hash = data_hash_compute()
    metrics: dict[str, float] = {
        "valid_accuracy": round(best_accuracy, 4),
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "train_seconds": round(train_seconds, 1),
        "train_examples": float(len(train_texts)),
        "test_examples": float(len(test_texts)),
        "best_epoch": float(best_epoch),
    }
    written_after = time.time()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    meta = {
        "labels": list(INTENTS),
        "max_length": MAX_LENGTH,
        "preprocess_version": PREPROCESS_VERSION,
        "base_model": BASE_MODEL,
        "data_hash": data_hash,
        "seed": seed,
        "quick": quick,
    }
    (out_dir / LABELS_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    report = {
        "metrics": metrics,
        "test": test,
        "history": history,
        "config": config.__dict__,
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    files = sorted(
        path.relative_to(out_dir).as_posix()
        for path in out_dir.rglob("*")
        if path.is_file() and path.stat().st_mtime >= written_after - 1
    )
    seconds = time.perf_counter() - started
    logger.info(
        "chat_intent trained in %.1fs test_accuracy=%.4f", seconds, metrics["test_accuracy"]
    )
    return TrainResult(metrics=metrics, data_hash=data_hash, files=files, seconds=seconds)


def _accuracy(predictor: IntentPredictor, texts: list[str], labels: list[int]) -> float:
    predicted = [_INDEX[p.label] for p in predictor.predict(texts, batch_size=128)]
    return float(accuracy_score(labels, predicted))


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
