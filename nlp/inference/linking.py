"""News linking: which asset classes of Meridian's universe a headline concerns (multi-label,
possibly none). Character 2–5-gram TF-IDF features and one logistic regression per asset class,
saved as JSON and rebuilt here, so loading runs no pickle and needs no torch (web processes link
on import)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

MODEL_FILE = "linker.json"
PREPROCESS_VERSION = "news-linking-v1"


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def linking_text(text: str) -> str:
    """Lower case, URLs dropped, spaces collapsed (no torch import: web processes link)."""
    return _SPACE.sub(" ", _URL.sub(" ", text[:2000])).strip().lower()


def vectorizer_make(**overrides: Any) -> TfidfVectorizer:
    """The feature extractor, the same at training and at load time."""
    options: dict[str, Any] = {
        "analyzer": "char_wb",
        "ngram_range": (2, 5),
        "sublinear_tf": True,
        "min_df": 1,
    }
    options.update(overrides)
    return TfidfVectorizer(**options)


@dataclass(frozen=True)
class LinkPrediction:
    asset_classes: tuple[str, ...]
    scores: dict[str, float]


class LinkingPredictor:
    name = "news_linking"

    def __init__(
        self,
        *,
        vectorizer: TfidfVectorizer,
        classes: list[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        threshold: float,
    ) -> None:
        self.vectorizer = vectorizer
        self.classes = list(classes)
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "preprocess_version": PREPROCESS_VERSION,
            "vocabulary": {k: int(v) for k, v in self.vectorizer.vocabulary_.items()},
            "idf": [float(x) for x in self.vectorizer.idf_],
            "classes": self.classes,
            "coef": self.coef.round(6).tolist(),
            "intercept": self.intercept.round(6).tolist(),
            "threshold": self.threshold,
        }

    def save(self, folder: Path) -> None:
        (folder / MODEL_FILE).write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, device: Any = None) -> Self:
        meta = json.loads((Path(folder) / MODEL_FILE).read_text(encoding="utf-8"))
        if meta["preprocess_version"] != PREPROCESS_VERSION:
            raise ValueError(f"{folder} was saved by another linker version; retrain it.")
        vectorizer = vectorizer_make(vocabulary=meta["vocabulary"])
        vectorizer.idf_ = np.asarray(meta["idf"], dtype=np.float64)
        return cls(
            vectorizer=vectorizer,
            classes=meta["classes"],
            coef=np.asarray(meta["coef"], dtype=np.float64),
            intercept=np.asarray(meta["intercept"], dtype=np.float64),
            threshold=float(meta["threshold"]),
        )

    def probabilities(self, texts: list[str]) -> np.ndarray:
        features = self.vectorizer.transform([linking_text(t) for t in texts])
        logits = features @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(logits)))

    def predict(self, texts: list[str]) -> list[LinkPrediction]:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not a single string.")
        out = []
        for row in self.probabilities(list(texts)):
            scores = {c: round(float(p), 4) for c, p in zip(self.classes, row, strict=True)}
            linked = tuple(c for c in self.classes if scores[c] >= self.threshold)
            out.append(LinkPrediction(asset_classes=linked, scores=scores))
        return out
