"""Risk-profile predictor: a client's KYC answers (SCF coding) -> share of risky assets and level.

The network is a small MLP trained by `nlp.training.risk_profile` on the Survey of Consumer
Finances extract. Encoding (shared with training, so both sides agree by construction):
- numeric, standardised with the training data's mean/std: age, kids, income and net worth as a
  signed log1p (net worth can be negative), married as 1/0;
- one-hot over the fixed SCF code lists: education, life_cycle, occupation, willingness.
Every input is something the client told Meridian: the SCF's saving and spending-attitude questions,
which Meridian does not ask, are not inputs (issue 11). Income and net worth are in the extract's
dollars (2009 prices; nlp.services.scf_dollars converts a client's).
The output is 100 * sigmoid(logit), so a tolerance always lies in 0..100.

Attributions are integrated gradients in the encoded space, from a baseline of the training
means (numeric features at their means, each categorical at its training frequencies) to the
client, summed over each feature's encoded columns. By completeness they add up to
tolerance - baseline_tolerance, up to the midpoint-rule error of `IG_STEPS` steps (~1e-3 pp).
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nlp.exceptions import ModelUnavailable
from nlp.inference.device import device_resolve

logger = logging.getLogger(__name__)

FEATURES = (
    "age",
    "education",
    "married",
    "kids",
    "life_cycle",
    "occupation",
    "income",
    "willingness",
    "net_worth",
)
NUMERIC = ("age", "kids", "income", "net_worth", "married")
SIGNED_LOG = frozenset({"income", "net_worth"})
# Fixed SCF code lists rather than codes seen in training, so a fold missing a rare code (e.g.
# occupation 4, 1% of rows) still encodes it, and the encoded width never depends on the data.
CATEGORICAL: dict[str, tuple[int, ...]] = {
    "education": (1, 2, 3, 4),
    "life_cycle": (1, 2, 3, 4, 5, 6),
    "occupation": (1, 2, 3, 4),
    "willingness": (1, 2, 3, 4),
}
# Inclusive ranges of the integer fields; the SCF extract spans age 22..95 and kids 0..7.
INT_RANGES: dict[str, tuple[int, int]] = {
    "age": (18, 120),
    "education": (1, 4),
    "married": (1, 2),
    "kids": (0, 20),
    "life_cycle": (1, 6),
    "occupation": (1, 4),
    "willingness": (1, 4),
}
LIFE_CYCLE_AGE = 55  # SCF: life-cycle groups 1-4 are heads under 55, groups 5-6 are 55 or older
# SCF OCCAT1 4 ("other groups not working") holds heads under 65 only: from 65 the same heads are
# coded 3 (retired/disabled + students, homemakers, misc. not working aged 65 or older).
NOT_WORKING_UNDER_65 = 4
OCCUPATION_AGE = 65
IG_STEPS = 64
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"


@dataclass(frozen=True)
class RiskFeatures:
    """One client's answers, in SCF coding (see nlp/training/data/scf_risk_tolerance/README.md)."""

    age: int
    education: int  # 1 no high school, 2 high school, 3 some college, 4 college degree
    married: int  # 1 married or living with a partner, 2 not
    kids: int
    life_cycle: int  # 1..6, see life_cycle_code()
    # SCF OCCAT1: 1 works for someone else, 2 self-employed/partnership, 3 retired or disabled,
    # or not working and 65 or older, 4 other groups not working (under 65)
    occupation: int
    income: float  # household income, dollars a year at 2009 prices (the extract's dollars)
    willingness: int  # stated financial risk: 1 substantial ... 4 none
    net_worth: float  # dollars at 2009 prices, may be negative


@dataclass(frozen=True)
class RiskPrediction:
    tolerance: float  # predicted share of risky assets, 0..100
    level: int  # 1..10 via the model's stored cut points
    # Per feature (FEATURES), integrated-gradients contribution in percentage points; the values
    # sum to tolerance - baseline_tolerance up to ~1e-3.
    attributions: dict[str, float]
    baseline_tolerance: float  # prediction at the training means


def life_cycle_code(age: int, married: bool, kids: int, working: bool | None = None) -> int:
    """SCF life-cycle group (LIFECL) of a household head; `working` only matters from age 55.

    1: under 55, not married, no kids; 2: under 55, married, no kids; 3: under 55, married, kids;
    4: under 55, not married, kids; 5: 55 or older, working; 6: 55 or older, not working.
    """
    if age < 0 or kids < 0:
        raise ValueError(f"age and kids must be >= 0, got age={age}, kids={kids}.")
    if age < LIFE_CYCLE_AGE:
        if kids == 0:
            return 2 if married else 1
        return 3 if married else 4
    if working is None:
        # Guessing would silently put retirees among workers; the caller knows which it is.
        raise ValueError(f"working is needed to place a head aged {LIFE_CYCLE_AGE} or older.")
    return 5 if working else 6


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """sign(x) * log1p(|x|): a log scale that keeps negative net worth negative."""
    return np.sign(values) * np.log1p(np.abs(values))


def level_from_cut_points(tolerance: float, cut_points: Sequence[float]) -> int:
    """Level 1 + how many cut points lie at or below `tolerance` (1..len(cut_points) + 1)."""
    return 1 + bisect.bisect_right(list(cut_points), tolerance)


def features_matrix(features: Sequence[RiskFeatures]) -> np.ndarray:
    """Validated raw features, one row per client, columns in FEATURES order (float64)."""
    for index, item in enumerate(features):
        _validate(item, index)
    rows = [[float(getattr(item, name)) for name in FEATURES] for item in features]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def _validate(item: RiskFeatures, index: int) -> None:
    for name, (low, high) in INT_RANGES.items():
        value = getattr(item, name)
        is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not is_int or not low <= int(value) <= high:
            raise ValueError(
                f"{name} must be an integer in {low}..{high} (SCF coding), "
                f"got {value!r} for client {index}."
            )
    for name in ("income", "net_worth"):
        value = getattr(item, name)
        # Decimal too: money reaches services as Decimal (CONVENTIONS), the model needs a float.
        is_number = isinstance(value, Real | Decimal) and not isinstance(value, bool)
        if not is_number or not math.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r} for client {index}.")
    if item.income < 0:
        raise ValueError(f"income must be >= 0, got {item.income!r} for client {index}.")
    if item.occupation == NOT_WORKING_UNDER_65 and item.age >= OCCUPATION_AGE:
        raise ValueError(
            f"occupation {NOT_WORKING_UNDER_65} is for heads under {OCCUPATION_AGE} in the SCF "
            f"(3 from {OCCUPATION_AGE}), got age {item.age} for client {index}."
        )
    # The model never saw a life-cycle group that contradicts age, marriage and kids.
    if item.age < LIFE_CYCLE_AGE:
        expected = life_cycle_code(item.age, item.married == 1, item.kids)
        if item.life_cycle != expected:
            raise ValueError(
                f"life_cycle must be {expected} for this age, marriage and kids under the SCF "
                f"definition, got {item.life_cycle} for client {index}."
            )
    elif item.life_cycle not in (5, 6):
        raise ValueError(
            f"life_cycle must be 5 or 6 from age {LIFE_CYCLE_AGE}, "
            f"got {item.life_cycle} for client {index}."
        )


@dataclass(frozen=True)
class FeatureEncoding:
    """Raw features (FEATURES order) -> the network's input: standardised numerics, one-hots."""

    means: tuple[float, ...]  # per NUMERIC feature, after the signed log / married transform
    stds: tuple[float, ...]

    @classmethod
    def fit(cls, raw: np.ndarray) -> FeatureEncoding:
        """Learn the numeric means and stds from training rows only."""
        numeric = _numeric(raw)
        stds = numeric.std(axis=0)
        # A constant column (possible in a tiny quick-mode subset) must not divide by zero.
        stds = np.where(stds > 1e-12, stds, 1.0)
        return cls(
            means=tuple(float(v) for v in numeric.mean(axis=0)),
            stds=tuple(float(v) for v in stds),
        )

    @property
    def width(self) -> int:
        return len(NUMERIC) + sum(len(codes) for codes in CATEGORICAL.values())

    def encode(self, raw: np.ndarray) -> np.ndarray:
        """Encode an (n, len(FEATURES)) raw matrix into (n, width) float32."""
        numeric = (_numeric(raw) - np.asarray(self.means)) / np.asarray(self.stds)
        blocks = [numeric]
        for name, codes in CATEGORICAL.items():
            column = raw[:, FEATURES.index(name)]
            blocks.append(column[:, None] == np.asarray(codes, dtype=np.float64)[None, :])
        return np.hstack(blocks).astype(np.float32)

    def columns(self) -> dict[str, list[int]]:
        """Which encoded columns belong to each feature (to sum attributions per feature)."""
        spans = {name: [i] for i, name in enumerate(NUMERIC)}
        start = len(NUMERIC)
        for name, codes in CATEGORICAL.items():
            spans[name] = list(range(start, start + len(codes)))
            start += len(codes)
        return {name: spans[name] for name in FEATURES}


def _numeric(raw: np.ndarray) -> np.ndarray:
    out = np.empty((raw.shape[0], len(NUMERIC)), dtype=np.float64)
    for j, name in enumerate(NUMERIC):
        column = raw[:, FEATURES.index(name)]
        if name in SIGNED_LOG:
            column = signed_log1p(column)
        elif name == "married":
            column = (column == 1).astype(np.float64)
        out[:, j] = column
    return out


class RiskMLP(nn.Module):
    """Encoded features -> tolerance in percent: Linear/SiLU/Dropout blocks, 100 * sigmoid head."""

    def __init__(self, input_dim: int, hidden: Sequence[int] = (64, 32), dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.SiLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)
        # What config.json stores so `from_architecture` rebuilds this net before loading weights.
        self.architecture: dict[str, Any] = {
            "input_dim": input_dim,
            "hidden": list(hidden),
            "dropout": dropout,
            "activation": "silu",
            "output": "100 * sigmoid",
        }

    @classmethod
    def from_architecture(cls, architecture: dict[str, Any]) -> RiskMLP:
        return cls(architecture["input_dim"], architecture["hidden"], architecture["dropout"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Sigmoid keeps predictions inside 0..100 and SiLU keeps the net smooth, which makes
        # integrated gradients converge in few steps.
        return 100.0 * torch.sigmoid(self.layers(x).squeeze(-1))


def integrated_gradients(
    model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, steps: int = IG_STEPS
) -> torch.Tensor:
    """Per encoded column, (x - baseline) * mean gradient along the straight path (midpoints)."""
    alphas = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps
    delta = x - baseline
    path = (baseline + alphas[:, None, None] * delta[None]).detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(model(path.reshape(-1, x.shape[-1])).sum(), path)
    return delta * grads.mean(dim=0)


class RiskProfilePredictor:
    name = "risk_profile"

    def __init__(
        self,
        *,
        model: RiskMLP,
        encoding: FeatureEncoding,
        baseline: np.ndarray,
        cut_points: Sequence[float],
        device: torch.device,
    ) -> None:
        self.model = model.to(device).eval().requires_grad_(False)
        self.encoding = encoding
        self.cut_points = tuple(cut_points)
        self.device = device
        self.baseline = torch.as_tensor(baseline, dtype=torch.float32, device=device)
        self._columns = encoding.columns()
        with torch.inference_mode():
            self.baseline_tolerance = float(self.model(self.baseline[None])[0])

    @classmethod
    def load(cls, model_dir: Path, device: torch.device | None = None) -> RiskProfilePredictor:
        """Load a model saved by `nlp.training.risk_profile.train`."""
        device = device if device is not None else device_resolve()
        config = json.loads((Path(model_dir) / CONFIG_FILE).read_text())
        if tuple(config["features"]) != FEATURES:
            # A model of another feature set waits for a retrained one, like a missing model,
            # rather than failing every response it is asked about.
            raise ModelUnavailable(
                f"{model_dir} was trained on features {config['features']}, not {list(FEATURES)}: "
                "retrain it with `manage.py train_models risk_profile`."
            )
        model = RiskMLP.from_architecture(config["architecture"])
        state = torch.load(Path(model_dir) / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        encoding = FeatureEncoding(
            means=tuple(config["numeric_means"]), stds=tuple(config["numeric_stds"])
        )
        return cls(
            model=model,
            encoding=encoding,
            baseline=np.asarray(config["baseline"], dtype=np.float32),
            cut_points=config["level_cut_points"],
            device=device,
        )

    def predict(self, features: Sequence[RiskFeatures]) -> list[RiskPrediction]:
        """Tolerance, level and per-feature attributions for each client, in input order."""
        started = time.perf_counter()
        raw = features_matrix(features)
        if not len(raw):
            return []
        x = torch.from_numpy(self.encoding.encode(raw)).to(self.device)
        with torch.inference_mode():
            tolerances = self.model(x).cpu().tolist()
        # Gradients are needed here, so leave inference mode even if a caller entered it.
        with torch.inference_mode(False), torch.enable_grad():
            encoded = integrated_gradients(self.model, x.clone(), self.baseline.clone())
        per_column = encoded.detach().cpu().numpy().astype(np.float64)
        predictions = [
            RiskPrediction(
                tolerance=float(tolerance),
                level=level_from_cut_points(tolerance, self.cut_points),
                attributions={
                    name: float(per_column[i, cols].sum()) for name, cols in self._columns.items()
                },
                baseline_tolerance=self.baseline_tolerance,
            )
            for i, tolerance in enumerate(tolerances)
        ]
        logger.info(
            "risk_profile predicted %d clients in %.1f ms",
            len(predictions),
            (time.perf_counter() - started) * 1000,
            extra={"predictor": self.name, "batch_size": len(predictions)},
        )
        return predictions
