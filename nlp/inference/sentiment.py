"""Financial-news sentiment predictor (negative / neutral / positive) on a fine-tuned MiniLM."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

from nlp.inference.device import cpu_threads_configure, device_resolve  # noqa: E402

logger = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
# Bump when text_normalise changes: it is part of the training data hash and of labels.json, so a
# model is never served with a normalisation it was not trained with.
PREPROCESS_VERSION = "news-norm-v1"
MAX_LENGTH = 64
MAX_CHARS = 2000
LABELS_FILE = "labels.json"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
# Letters only after "$", so money such as "$5 billion" keeps its currency sign.
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z.]{0,9})\b")
_HASHTAG = re.compile(r"#(\w+)")
_ELLIPSIS = re.compile(r"(?:…|\.\.\.)\s*$")
_SPACE = re.compile(r"\s+")


def text_normalise(text: str) -> str:
    """Make a tweet read like a headline: drop URLs, @mentions, cashtag "$", "#" and extra space.

    Training and inference both call this, so news text and tweets meet the model in one form.
    """
    text = text[:MAX_CHARS]
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _CASHTAG.sub(r"\1", text)
    text = _HASHTAG.sub(r"\1", text)
    text = _SPACE.sub(" ", text).strip()
    # Truncated tweets end in "…" once the URL is gone; headlines never do.
    return _ELLIPSIS.sub("", text).strip()


@dataclass(frozen=True)
class SentimentPrediction:
    label: str
    scores: dict[str, float]


class SentimentPredictor:
    """Preprocess → forward under inference_mode → postprocess into SentimentPrediction."""

    name = "sentiment"

    def __init__(
        self,
        *,
        model: Any,
        tokenizer: Any,
        device: torch.device,
        labels: Sequence[str] = LABELS,
        max_length: int = MAX_LENGTH,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.labels = tuple(labels)
        self.max_length = max_length

    @classmethod
    def load(cls, model_dir: Path, device: torch.device | None = None) -> SentimentPredictor:
        """Load weights, tokenizer and label order saved by nlp.training.sentiment.train."""
        if device is None:
            device = device_resolve()
        if device.type == "cpu":
            cpu_threads_configure()
        model_dir = Path(model_dir)
        meta = json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8"))
        if meta.get("preprocess_version", PREPROCESS_VERSION) != PREPROCESS_VERSION:
            raise ValueError(
                f"{model_dir} was trained with preprocessing {meta['preprocess_version']!r}; "
                f"this code applies {PREPROCESS_VERSION!r}. Retrain the model."
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
        )

    def preprocess(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Normalise and tokenise one batch, padded to its longest text."""
        batch = self.tokenizer(
            [text_normalise(text) for text in texts],
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Class probabilities (float32, on CPU) for one batch."""
        with torch.inference_mode():
            if self.device.type == "cuda":
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                    logits = self.model(**inputs).logits
            else:
                logits = self.model(**inputs).logits
            return torch.softmax(logits.float(), dim=-1).cpu()

    def postprocess(self, probs: torch.Tensor) -> list[SentimentPrediction]:
        """Rows of probabilities → predictions whose rounded scores still sum to 1."""
        out: list[SentimentPrediction] = []
        for row in probs.tolist():
            rounded = [round(p, 6) for p in row]
            best = max(range(len(rounded)), key=rounded.__getitem__)
            # Give the rounding remainder to the top class so the scores sum to 1 exactly.
            rounded[best] = round(1.0 - sum(p for i, p in enumerate(rounded) if i != best), 6)
            scores = dict(zip(self.labels, rounded, strict=True))
            out.append(SentimentPrediction(label=self.labels[best], scores=scores))
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[SentimentPrediction]:
        """Classify texts; empty strings are allowed, texts over 2,000 chars are truncated."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not a single string.")
        started = time.perf_counter()
        predictions: list[SentimentPrediction] = []
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
