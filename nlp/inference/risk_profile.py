"""Risk-profile predictor: a client's KYC answers (SCF coding) -> share of risky assets, an 80%
interval around it, the level 1..10 with the levels the interval spans, and its confidence.

Trained by `nlp.training.risk_profile` on the Survey of Consumer Finances extract. Every input is
something the client told Meridian: the SCF's saving and spending-attitude questions, which
Meridian does not ask, are not inputs (issue 11). Income and net worth are in the extract's
dollars (2009 prices; nlp.services.scf_dollars converts a client's).

The model is three gradient-boosted tree ensembles on the raw features (`RiskModel`): the
conditional median (the point, and the level), and the 10% and 90% quantiles, widened or
narrowed by a split-conformal offset measured on held-out households (conformalised quantile
regression, Romano et al. 2019), so 80% of new households' tolerances fall inside on average.
All three are monotonic in stated willingness (`RiskModel`): a client who says they are more
willing (a lower SCF code) never gets a lower tolerance, interval end or level, all else equal.

Confidence: the interval's levels; spanning more than CONFIDENT_LEVEL_SPAN levels above the
lowest (5 or more levels in all) is "low". What low confidence leads to is the advisor's policy
(advisor.services.questionnaire.risk_model_opinion_record: a review, never a higher level).

Attributions are exact Shapley values of the point prediction against a baseline client (the
training rows' per-feature medians): each of the 2^9 mixes of the client's and the baseline's
answers is predicted, so they add up to tolerance - baseline_tolerance exactly (float rounding).

The ensembles are saved with joblib (a pickle): load only files the registry has checked against
their sha256 (nlp.inference.registry does), and only with the scikit-learn version that wrote them.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
import sklearn

from nlp.exceptions import ModelUnavailable

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
# Willingness is coded 1 substantial .. 4 none: tolerance must not rise with the code.
MONOTONIC = tuple(-1 if name == "willingness" else 0 for name in FEATURES)
INTERVAL = 0.8  # the intervals' target coverage
QUANTILES = (0.1, 0.5, 0.9)  # low end, point, high end before the conformal offset
# An 80% interval spanning more than this many levels above its lowest (5 levels or more of 10)
# is low confidence: 18% of households on the grouped CV (gbm_low_confidence_share; a span of
# more than 2 would flag 50%, more than 4 only 5%). A review load an advisor team can carry,
# and those are the clients the model cannot place within about two levels either way.
CONFIDENT_LEVEL_SPAN = 3
SHAPLEY_CHUNK = 64  # clients per prediction call: 64 * 512 mixes * 4 willingness codes
CONFIG_FILE = "config.json"
MODEL_FILE = "model.joblib"

Confidence = Literal["high", "low"]


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
    tolerance: float  # predicted share of risky assets (the conditional median), 0..100
    level: int  # 1..10 via the model's stored cut points
    # The 80% interval of the tolerance (it always holds `tolerance`) and the levels it spans.
    tolerance_low: float
    tolerance_high: float
    level_low: int
    level_high: int
    confidence: Confidence  # "low" when level_high - level_low > CONFIDENT_LEVEL_SPAN
    # Per feature (FEATURES), exact Shapley contribution in percentage points; the values sum
    # to tolerance - baseline_tolerance.
    attributions: dict[str, float]
    baseline_tolerance: float  # prediction at the baseline client (training medians)
    interval: float = INTERVAL


def confidence_of(level_low: int, level_high: int) -> Confidence:
    return "low" if level_high - level_low > CONFIDENT_LEVEL_SPAN else "high"


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
class RiskModel:
    """The fitted ensembles (scikit-learn HistGradientBoostingRegressor, quantile loss) and the
    conformal offset, in percentage points, added to the high end and taken from the low end.

    Monotonic in willingness by construction: scikit-learn's monotonic constraint holds for the
    trees' splits, but the quantile loss re-fits each leaf's value after the tree is grown, which
    can break it (measured: a 90% end 0.3 pp lower for a more willing answer). So each estimate
    is the lowest the ensemble gives for this answer or any more willing one, all else equal
    (the cautious side, as the model may only lower a level); where the trees are monotonic
    already this is their own prediction."""

    low: Any
    median: Any
    high: Any
    offset: float = 0.0

    def _monotone(self, estimator: Any, raw: np.ndarray) -> np.ndarray:
        column = FEATURES.index("willingness")
        low_code, high_code = INT_RANGES["willingness"]
        codes = range(low_code, high_code + 1)  # 1 substantial .. 4 none
        by_code = []
        for code in codes:
            varied = raw.copy()
            varied[:, column] = code
            by_code.append(estimator.predict(varied))
        # Column j: the lowest over codes 1..j+1, i.e. this answer and every more willing one.
        lowest = np.minimum.accumulate(np.column_stack(by_code), axis=1)
        return lowest[np.arange(len(raw)), raw[:, column].astype(int) - low_code]

    def point(self, raw: np.ndarray) -> np.ndarray:
        return np.clip(self._monotone(self.median, raw), 0.0, 100.0)

    def quantile_bounds(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 10% and 90% estimates before the conformal offset (what calibration scores)."""
        return self._monotone(self.low, raw), self._monotone(self.high, raw)

    def interval(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, point, high), each 0..100, low <= point <= high. Each is monotonic in
        willingness: so are the estimates, and adding a constant, min, max and clip keep it."""
        point = self.point(raw)
        low, high = self.quantile_bounds(raw)
        low = np.clip(np.minimum(low - self.offset, point), 0.0, 100.0)
        high = np.clip(np.maximum(high + self.offset, point), 0.0, 100.0)
        return low, point, high


def _shapley_matrix(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Coalitions (2^n, n) of "take the client's answer" and the (n, 2^n) matrix that turns
    the coalitions' predictions into exact Shapley values."""
    masks = np.array(list(itertools.product((False, True), repeat=n)), dtype=bool)
    sizes = masks.sum(axis=1)
    index = {tuple(m): i for i, m in enumerate(masks)}
    weights = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    )
    combine = np.zeros((n, len(masks)))
    for m, mask in enumerate(masks):
        for i in np.flatnonzero(~mask):
            with_i = mask.copy()
            with_i[i] = True
            combine[i, index[tuple(with_i)]] += weights[sizes[m]]
            combine[i, m] -= weights[sizes[m]]
    return masks, combine


_MASKS, _SHAPLEY = _shapley_matrix(len(FEATURES))


def shapley_values(model: RiskModel, raw: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(clients, features) exact Shapley values of `model.point` from `baseline` to each row."""
    out = np.empty_like(raw, dtype=np.float64)
    coalitions = len(_MASKS)
    for start in range(0, len(raw), SHAPLEY_CHUNK):
        rows = raw[start : start + SHAPLEY_CHUNK]
        # (clients * 2^n, n): every client's mixes, predicted in one call per chunk
        mixed = np.where(_MASKS[None], rows[:, None, :], baseline[None, None, :])
        values = model.point(mixed.reshape(-1, raw.shape[1])).reshape(len(rows), coalitions)
        out[start : start + len(rows)] = values @ _SHAPLEY.T
    return out


class RiskProfilePredictor:
    name = "risk_profile"

    def __init__(
        self, *, model: RiskModel, baseline: np.ndarray, cut_points: Sequence[float]
    ) -> None:
        self.model = model
        self.cut_points = tuple(cut_points)
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.baseline_tolerance = float(model.point(self.baseline[None])[0])

    @classmethod
    def load(cls, model_dir: Path, device: Any = None) -> RiskProfilePredictor:
        """Load a model saved by `nlp.training.risk_profile.train`. `device` is accepted for the
        registry's sake and ignored: trees run on the CPU."""
        folder = Path(model_dir)
        config = json.loads((folder / CONFIG_FILE).read_text())
        # A model of another feature set, kind or library waits for a retrained one, like a
        # missing model, rather than failing every response it is asked about.
        retrain = "retrain it with `manage.py train_models risk_profile`."
        if tuple(config["features"]) != FEATURES:
            raise ModelUnavailable(
                f"{model_dir} was trained on features {config['features']}, not "
                f"{list(FEATURES)}: {retrain}"
            )
        if config.get("kind") != "quantile_gbm" or not (folder / MODEL_FILE).is_file():
            raise ModelUnavailable(f"{model_dir} is not an interval model: {retrain}")
        if config.get("sklearn") != sklearn.__version__:
            raise ModelUnavailable(
                f"{model_dir} was saved by scikit-learn {config.get('sklearn')}, this is "
                f"{sklearn.__version__}: {retrain}"
            )
        parts = joblib.load(folder / MODEL_FILE)  # a pickle: the registry checked its sha256
        model = RiskModel(
            low=parts["low"], median=parts["median"], high=parts["high"], offset=config["offset"]
        )
        return cls(
            model=model,
            baseline=np.asarray(config["baseline"], dtype=np.float64),
            cut_points=config["level_cut_points"],
        )

    def predict(self, features: Sequence[RiskFeatures]) -> list[RiskPrediction]:
        """Tolerance with its 80% interval, levels, confidence and per-feature attributions for
        each client, in input order."""
        started = time.perf_counter()
        raw = features_matrix(features)
        if not len(raw):
            return []
        low, point, high = self.model.interval(raw)
        contributions = shapley_values(self.model, raw, self.baseline)
        predictions = []
        for i in range(len(raw)):
            level_low = level_from_cut_points(float(low[i]), self.cut_points)
            level_high = level_from_cut_points(float(high[i]), self.cut_points)
            predictions.append(
                RiskPrediction(
                    tolerance=float(point[i]),
                    level=level_from_cut_points(float(point[i]), self.cut_points),
                    tolerance_low=float(low[i]),
                    tolerance_high=float(high[i]),
                    level_low=level_low,
                    level_high=level_high,
                    confidence=confidence_of(level_low, level_high),
                    attributions={
                        name: float(contributions[i, j]) for j, name in enumerate(FEATURES)
                    },
                    baseline_tolerance=self.baseline_tolerance,
                )
            )
        logger.info(
            "risk_profile predicted %d clients in %.1f ms",
            len(predictions),
            (time.perf_counter() - started) * 1000,
            extra={"predictor": self.name, "batch_size": len(predictions)},
        )
        return predictions
