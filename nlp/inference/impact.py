"""Asset-aware news impact: how a headline bears on one asset class ("for your US Treasuries:
positive"), not the headline's tone.

The headline is embedded once by the frozen MiniLM sentence encoder (mean pooling, unit length,
the knowledge index's Embedder); a multinomial logistic regression reads that embedding *per
asset class* (features: one-hot(asset class) ⊗ embedding, the embedding, the one-hot), so each
asset class has its own weights over the same headline. Chosen over a fine-tuned cross-encoder on
"asset: <name> | <headline>" by held-out macro-F1 and training time (nlp/training/impact.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from nlp.inference.sentiment import text_normalise

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
PREPROCESS_VERSION = "asset-impact-v2"
MODEL_FILE = "impact.json"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# The asset classes the model knows, one per portfolios Asset.AssetClass value (a test checks),
# with the name the client reads: "For your US Treasuries: positive".
ASSET_NAMES: dict[str, str] = {
    "us_equity": "US stocks",
    "intl_developed_equity": "developed markets stocks",
    "emerging_equity": "emerging markets stocks",
    "us_aggregate_bonds": "US aggregate bonds",
    "treasuries": "US Treasuries",
    "tips": "inflation-protected Treasuries (TIPS)",
    "corporate_bonds": "investment-grade corporate bonds",
    "real_estate": "real estate (REITs)",
    "gold": "gold",
    "cash": "cash (T-bills)",
}
ASSET_CLASSES: tuple[str, ...] = tuple(ASSET_NAMES)


@dataclass(frozen=True)
class ImpactPrediction:
    label: str
    scores: dict[str, float]


def features(asset_classes: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
    """Rows of [one-hot ⊗ embedding, embedding, one-hot] for (asset class, headline) pairs."""
    onehot = np.zeros((len(asset_classes), len(ASSET_CLASSES)))
    onehot[np.arange(len(asset_classes)), [ASSET_CLASSES.index(c) for c in asset_classes]] = 1.0
    crossed = (onehot[:, :, None] * embeddings[:, None, :]).reshape(len(asset_classes), -1)
    return np.hstack([crossed, embeddings, onehot])


class ImpactPredictor:
    name = "asset_impact"

    def __init__(
        self, *, embedder: Any, coef: np.ndarray, intercept: np.ndarray, labels: Sequence[str]
    ) -> None:
        self.embedder = embedder
        self.coef = coef
        self.intercept = intercept
        self.labels = tuple(labels)

    def embed(self, headlines: Sequence[str]) -> np.ndarray:
        texts = [text_normalise(h) for h in headlines]
        return self.embedder.encode(texts).numpy().astype(np.float64)

    def save(self, folder: Path) -> None:
        meta = {
            "preprocess_version": PREPROCESS_VERSION,
            "base_model": BASE_MODEL,
            "asset_classes": list(ASSET_CLASSES),
            "labels": list(self.labels),
            "coef": np.round(self.coef, 7).tolist(),
            "intercept": np.round(self.intercept, 7).tolist(),
        }
        (Path(folder) / MODEL_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, device: Any = None, *, embedder: Any = None) -> Self:
        meta = json.loads((Path(folder) / MODEL_FILE).read_text(encoding="utf-8"))
        if meta["preprocess_version"] != PREPROCESS_VERSION:
            raise ValueError(
                f"{folder} was trained with {meta['preprocess_version']!r}; this code applies "
                f"{PREPROCESS_VERSION!r}. Retrain the model."
            )
        if tuple(meta["asset_classes"]) != ASSET_CLASSES:
            raise ValueError(f"{folder} was trained on other asset classes; retrain it.")
        if embedder is None:
            from nlp.inference.retrieval import Embedder

            embedder = Embedder(device)
        return cls(
            embedder=embedder,
            coef=np.asarray(meta["coef"], dtype=np.float64),
            intercept=np.asarray(meta["intercept"], dtype=np.float64),
            labels=meta["labels"],
        )

    def probabilities(self, asset_classes: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        logits = features(asset_classes, embeddings) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[ImpactPrediction]:
        """One prediction per (asset_class, headline); each distinct headline is embedded once."""
        if not pairs:
            return []
        unknown = sorted({c for c, _ in pairs} - set(ASSET_CLASSES))
        if unknown:
            raise KeyError(f"unknown asset classes {unknown}")
        headlines = sorted({h for _, h in pairs})
        vectors = dict(zip(headlines, self.embed(headlines), strict=True))
        probs = self.probabilities([c for c, _ in pairs], np.stack([vectors[h] for _, h in pairs]))
        out = []
        for row in probs:
            rounded = [round(float(p), 6) for p in row]
            best = int(np.argmax(rounded))
            rounded[best] = round(1.0 - sum(p for i, p in enumerate(rounded) if i != best), 6)
            out.append(
                ImpactPrediction(
                    label=self.labels[best], scores=dict(zip(self.labels, rounded, strict=True))
                )
            )
        return out
