"""The base of the fine-tuned MiniLM text classifiers (sentiment, chat intent).

A subclass names itself and its text normalisation; this class loads the folder that
nlp.training.finetune saved and runs preprocess → forward under inference_mode → postprocess.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

from nlp.inference.device import cpu_threads_configure, device_resolve  # noqa: E402

logger = logging.getLogger(__name__)

LABELS_FILE = "labels.json"
MAX_LENGTH = 64


@dataclass(frozen=True)
class Prediction:
    label: str
    scores: dict[str, float]


class SequenceClassifierPredictor:
    """Preprocess → forward under inference_mode → postprocess into Prediction."""

    name: ClassVar[str]
    # Saved in labels.json at training time: a model is never served with a normalisation it was
    # not trained with.
    preprocess_version: ClassVar[str]

    def __init__(
        self,
        *,
        model: Any,
        tokenizer: Any,
        device: torch.device,
        labels: Sequence[str],
        max_length: int = MAX_LENGTH,
        temperature: float = 1.0,
        logit_bias: Sequence[float] | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.labels = tuple(labels)
        self.max_length = max_length
        self.decision_rule_set(temperature=temperature, logit_bias=logit_bias)

    def decision_rule_set(
        self, *, temperature: float = 1.0, logit_bias: Sequence[float] | None = None
    ) -> None:
        """Score with softmax(logits / temperature + logit_bias); the default is plain softmax.

        Chosen after training on held-out data and saved in labels.json: the temperature makes
        the scores honest, the per-class offsets move the decision boundary.
        """
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        bias = [0.0] * len(self.labels) if logit_bias is None else [float(b) for b in logit_bias]
        if len(bias) != len(self.labels):
            raise ValueError(f"logit_bias needs {len(self.labels)} values, got {len(bias)}")
        self.temperature = float(temperature)
        self.logit_bias = tuple(bias)
        self._bias = torch.tensor(bias, dtype=torch.float32)

    def normalise(self, text: str) -> str:
        """The text as the model was trained to read it."""
        raise NotImplementedError

    @classmethod
    def load(cls, model_dir: Path, device: torch.device | None = None) -> Self:
        """Load weights, tokenizer and label order saved by nlp.training.finetune."""
        if device is None:
            device = device_resolve()
        if device.type == "cpu":
            cpu_threads_configure()
        model_dir = Path(model_dir)
        meta = json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8"))
        if meta.get("preprocess_version", cls.preprocess_version) != cls.preprocess_version:
            raise ValueError(
                f"{model_dir} was trained with preprocessing {meta['preprocess_version']!r}; "
                f"this code applies {cls.preprocess_version!r}. Retrain the model."
            )
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir)
        model.to(device)
        model.eval()
        return cls(
            model=model,
            tokenizer=tokenizer,
            device=device,
            labels=meta["labels"],
            max_length=int(meta.get("max_length", MAX_LENGTH)),
            temperature=float(meta.get("temperature") or 1.0),
            logit_bias=meta.get("logit_bias"),
        )

    def preprocess(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Normalise and tokenise one batch, padded to its longest text."""
        batch = self.tokenizer(
            [self.normalise(text) for text in texts],
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model's raw logits (float32, on CPU) for one batch, before the decision rule."""
        with torch.inference_mode():
            if self.device.type == "cuda":
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                    logits = self.model(**inputs).logits
            else:
                logits = self.model(**inputs).logits
            return logits.float().cpu()

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Class probabilities (float32, on CPU) for one batch, under the decision rule."""
        logits = self.logits(inputs) / self.temperature + self._bias
        return torch.softmax(logits, dim=-1)

    def postprocess(self, probs: torch.Tensor) -> list[Prediction]:
        """Rows of probabilities → predictions whose rounded scores still sum to 1."""
        out: list[Prediction] = []
        for row in probs.tolist():
            rounded = [round(p, 6) for p in row]
            best = max(range(len(rounded)), key=rounded.__getitem__)
            # Give the rounding remainder to the top class so the scores sum to 1 exactly.
            rounded[best] = round(1.0 - sum(p for i, p in enumerate(rounded) if i != best), 6)
            scores = dict(zip(self.labels, rounded, strict=True))
            out.append(Prediction(label=self.labels[best], scores=scores))
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        """Classify texts; empty strings are allowed, long texts are truncated."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not a single string.")
        started = time.perf_counter()
        predictions: list[Prediction] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            predictions.extend(self.postprocess(self.forward(self.preprocess(chunk))))
        logger.info(
            "predictor=%s texts=%d batch_size=%d device=%s ms=%.1f",
            self.name,
            len(texts),
            batch_size,
            self.device,
            (time.perf_counter() - started) * 1000,
        )
        return predictions
