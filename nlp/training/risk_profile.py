"""Train the risk-profile MLP on the SCF extract, with a RandomForest baseline on the same folds.

Data: nlp/training/data/scf_risk_tolerance/ (see its README). The target TrueRiskTol spans
0.45..98.6 (median 4, mean 10.8, right-skewed); nothing lies outside 0..100, so it is only clipped
to 0..100 as a guard. The high values are real all-risky portfolios, so they are not winsorised:
the MLP's Huber loss (delta 10 pp) keeps them from dominating training instead.

Inputs: only what Meridian's clients answer (age, education, marriage, kids, life cycle, work
status, income, stated willingness, net worth). The extract's WSAVED07 (did spending exceed income
last year) and SPENDMOR07 (would spend more if assets rose) have no Meridian question, so they are
not inputs (issue 11, finding 7: they were a proxy and a constant). Dollars: INCOME07 and
NETWORTH07 are at 2009 prices, not 2007 ones: every INCOME07 is a whole nominal amount (a multiple
of $10 of 2006 income) times 1.064976, the CPI rise from 2006 to 2009, and net worth carries
1.035598, the rise from 2007 to 2009 (nlp/data/cpi/README.md). Clients' dollars are converted to
2009 prices before prediction (nlp.services.scf_dollars).

Leakage: the SCF stores 5 imputations per household, so the household is the index column // 5
and every split (outer CV folds, inner early-stopping split) keeps a household on one side.

Model: RiskMLP (nlp/inference/risk_profile.py: standardised numerics + one-hot codes, 64/32
SiLU, dropout 0.1, 100 * sigmoid output), AdamW, Huber loss, early stopping on the validation MSE
of 25% of the training households (a 15% split stopped too noisily: CV R^2 about 0.01 lower).
Baseline: a RandomForestRegressor on the raw features, same folds. Both were tuned lightly on
the same grouped CV, so neither has an edge from it.

Levels: 9 cut points at the deciles of the household-level target (a household's mean over its
implicates) make levels 1..10 hold ~10% of households each; they are stored in config.json.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from tqdm import tqdm

from nlp.inference.risk_profile import (
    CATEGORICAL,
    CONFIG_FILE,
    FEATURES,
    NUMERIC,
    WEIGHTS_FILE,
    FeatureEncoding,
    RiskMLP,
    level_from_cut_points,
)

logger = logging.getLogger(__name__)

__all__ = ["FEATURES", "TrainResult", "household_folds", "tolerance_to_level", "train"]

DATA_PATH = Path(__file__).parent / "data" / "scf_risk_tolerance" / "InputData.csv"
COLUMNS = {  # Meridian's name -> SCF 2007 column
    "age": "AGE07",
    "education": "EDCL07",
    "married": "MARRIED07",
    "kids": "KIDS07",
    "life_cycle": "LIFECL07",
    "occupation": "OCCAT107",
    "income": "INCOME07",
    "willingness": "RISK07",
    "net_worth": "NETWORTH07",
}
TARGET = "TrueRiskTol"
IMPLICATES = 5  # SCF imputations per household
LEVELS = 10
# Deciles of the household-level target of the bundled extract (level_cut_points on it); the
# saved model stores the cut points of whatever data it was fitted on.
LEVEL_CUT_POINTS = (0.5531, 0.8866, 1.4077, 2.3935, 4.2233, 6.6453, 10.3188, 17.0539, 31.4221)

HIDDEN = (64, 32)
DROPOUT = 0.1
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-3
BATCH_SIZE = 256
HUBER_DELTA = 0.1  # on the 0..1 scale, i.e. 10 percentage points
INNER_VALIDATION = 0.25  # share of a training fold's households held out for early stopping
# Beat sklearn's defaults on the grouped CV (R^2 0.68 against 0.63), so the baseline is fair.
RF_PARAMS = {"min_samples_leaf": 5, "max_features": 0.5}


@dataclass(frozen=True)
class Settings:
    folds: int
    households: int | None  # None: all of them
    max_epochs: int
    patience: int
    rf_trees: int


FULL = Settings(folds=5, households=None, max_epochs=300, patience=40, rf_trees=300)
QUICK = Settings(folds=2, households=300, max_epochs=200, patience=20, rf_trees=50)


@dataclass(frozen=True)
class TrainResult:
    # Grouped-CV means ("mlp_r2", "rf_r2", ..._r2_std, ..._level_exact, ..._level_within_1),
    # plus train_seconds (final fit), households, rows, folds, final_epochs.
    metrics: dict[str, float]
    data_hash: str  # sha256 of InputData.csv
    files: list[str]  # names written into out_dir
    seconds: float  # the whole run: CV and final fit


@dataclass(frozen=True)
class Dataset:
    raw: np.ndarray  # (rows, len(FEATURES)) float64 in FEATURES order
    target: np.ndarray  # tolerance, 0..100
    households: np.ndarray  # household id per row


def load_dataset(path: Path = DATA_PATH) -> Dataset:
    """Read the SCF extract into FEATURES-ordered arrays with a household id per row."""
    frame = pd.read_csv(path, index_col=0)
    return Dataset(
        raw=frame[[COLUMNS[name] for name in FEATURES]].to_numpy(dtype=np.float64),
        target=frame[TARGET].clip(0.0, 100.0).to_numpy(dtype=np.float64),
        # The file was filtered, so row position says nothing about the household; the original
        # row number (the index) does.
        households=frame.index.to_numpy() // IMPLICATES,
    )


def household_folds(households: np.ndarray, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) per fold; no household is on both sides of any fold."""
    splitter = GroupKFold(n_splits=n_splits)
    return list(splitter.split(np.zeros(len(households)), groups=households))


def level_cut_points(target: np.ndarray, households: np.ndarray) -> tuple[float, ...]:
    """The LEVELS - 1 deciles of the household-level target (mean over implicates)."""
    per_household = pd.Series(target).groupby(households).mean().to_numpy()
    quantiles = np.quantile(per_household, np.arange(1, LEVELS) / LEVELS)
    return tuple(float(q) for q in quantiles)


def tolerance_to_level(tolerance: float, cut_points: Sequence[float] = LEVEL_CUT_POINTS) -> int:
    """Share of risky assets (0..100) -> level 1..10 using the deciles of the training target."""
    return level_from_cut_points(tolerance, cut_points)


def data_sha256(path: Path = DATA_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(
    *, out_dir: Path, quick: bool = False, seed: int = 13, progress: bool = True
) -> TrainResult:
    """Grouped CV of the MLP and a RandomForest, then fit the MLP on all data into out_dir."""
    started = time.perf_counter()
    settings = QUICK if quick else FULL
    data = load_dataset()
    if settings.households is not None:
        data = _household_subset(data, settings.households, seed)

    metrics: dict[str, list[float]] = {}
    folds = household_folds(data.households, settings.folds)
    for fold, (train_rows, test_rows) in enumerate(
        tqdm(folds, desc="risk_profile CV", disable=not progress)
    ):
        scores = _fold_scores(data, train_rows, test_rows, settings, seed + fold)
        for key, value in scores.items():
            metrics.setdefault(key, []).append(value)
        logger.info(
            "risk_profile fold %d: mlp r2 %.3f, rf r2 %.3f", fold, scores["mlp_r2"], scores["rf_r2"]
        )

    fit_started = time.perf_counter()
    all_rows = np.arange(len(data.target))
    with _one_torch_thread():
        model, encoding, epochs = _fit_mlp(data, all_rows, settings, seed)
    train_seconds = time.perf_counter() - fit_started

    summary = {key: float(np.mean(values)) for key, values in metrics.items()}
    summary |= {f"{name}_r2_std": float(np.std(metrics[f"{name}_r2"])) for name in ("mlp", "rf")}
    summary |= {
        "train_seconds": train_seconds,
        "households": float(len(np.unique(data.households))),
        "rows": float(len(data.target)),
        "folds": float(settings.folds),
        "final_epochs": float(epochs),
    }
    files = _save(out_dir, model, encoding, data, summary, quick=quick, seed=seed)
    return TrainResult(
        metrics=summary,
        data_hash=data_sha256(),
        files=files,
        seconds=time.perf_counter() - started,
    )


def _household_subset(data: Dataset, count: int, seed: int) -> Dataset:
    chosen = np.random.default_rng(seed).choice(np.unique(data.households), count, replace=False)
    keep = np.isin(data.households, chosen)
    return Dataset(raw=data.raw[keep], target=data.target[keep], households=data.households[keep])


def _fold_scores(
    data: Dataset, train_rows: np.ndarray, test_rows: np.ndarray, settings: Settings, seed: int
) -> dict[str, float]:
    # Cut points from the training fold only, so the test fold's levels leak nothing either.
    cuts = level_cut_points(data.target[train_rows], data.households[train_rows])
    truth = data.target[test_rows]
    with _one_torch_thread():
        model, encoding, _ = _fit_mlp(data, train_rows, settings, seed)
    forest = RandomForestRegressor(
        n_estimators=settings.rf_trees, random_state=seed, n_jobs=-1, **RF_PARAMS
    )
    # Trees ignore monotone transforms and order codes fine, so the forest gets the raw features.
    forest.fit(data.raw[train_rows], data.target[train_rows])
    # Threaded prediction sums the trees in whatever order threads finish: last-bit noise.
    forest.set_params(n_jobs=1)
    predicted = {
        "mlp": _predict(model, encoding, data.raw[test_rows]),
        "rf": forest.predict(data.raw[test_rows]),
    }
    true_levels = np.array([level_from_cut_points(t, cuts) for t in truth])
    scores: dict[str, float] = {}
    for name, values in predicted.items():
        levels = np.array([level_from_cut_points(v, cuts) for v in values])
        scores[f"{name}_r2"] = float(r2_score(truth, values))
        scores[f"{name}_level_exact"] = float(np.mean(levels == true_levels))
        scores[f"{name}_level_within_1"] = float(np.mean(np.abs(levels - true_levels) <= 1))
    return scores


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one thread: batches of 256 x 25 are too small to split, and on a busy machine
    the extra threads wait on each other (measured: ~1 ms a step on one thread, ~50 ms on two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _fit_mlp(
    data: Dataset, rows: np.ndarray, settings: Settings, seed: int
) -> tuple[RiskMLP, FeatureEncoding, int]:
    """Fit on `rows`, early-stopping on a grouped inner split; returns the best epoch's weights."""
    encoding = FeatureEncoding.fit(data.raw[rows])
    inner = GroupShuffleSplit(n_splits=1, test_size=INNER_VALIDATION, random_state=seed)
    fit_idx, val_idx = next(inner.split(rows, groups=data.households[rows]))
    x = torch.from_numpy(encoding.encode(data.raw))
    y = torch.from_numpy((data.target / 100.0).astype(np.float32))
    fit_rows, val_rows = torch.from_numpy(rows[fit_idx]), torch.from_numpy(rows[val_idx])

    torch.manual_seed(seed)  # weight init and dropout
    shuffle = torch.Generator().manual_seed(seed)
    model = RiskMLP(encoding.width, HIDDEN, DROPOUT)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    best_loss, best_state, best_epoch = float("inf"), copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, settings.max_epochs + 1):
        model.train()
        order = fit_rows[torch.randperm(len(fit_rows), generator=shuffle)]
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            loss = torch.nn.functional.huber_loss(
                model(x[batch]) / 100.0, y[batch], delta=HUBER_DELTA
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            # Stop on validation MSE, the quantity R^2 scores.
            val_loss = float(torch.mean((model(x[val_rows]) / 100.0 - y[val_rows]) ** 2))
        if val_loss < best_loss:
            best_loss, best_state, best_epoch = val_loss, copy.deepcopy(model.state_dict()), epoch
        elif epoch - best_epoch >= settings.patience:
            break
    model.load_state_dict(best_state)
    return model.eval(), encoding, best_epoch


def _predict(model: RiskMLP, encoding: FeatureEncoding, raw: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(encoding.encode(raw))).numpy().astype(np.float64)


def _save(
    out_dir: Path,
    model: RiskMLP,
    encoding: FeatureEncoding,
    data: Dataset,
    metrics: dict[str, float],
    *,
    quick: bool,
    seed: int,
) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out_dir / WEIGHTS_FILE)
    config = {
        "name": "risk_profile",
        "features": list(FEATURES),
        "numeric": list(NUMERIC),
        "numeric_transforms": {
            "income": "signed_log1p",
            "net_worth": "signed_log1p",
            "married": "1 if code == 1 else 0",
        },
        "numeric_means": list(encoding.means),
        "numeric_stds": list(encoding.stds),
        "categorical": {name: list(codes) for name, codes in CATEGORICAL.items()},
        # Integrated-gradients baseline: the mean encoded training row.
        "baseline": [float(v) for v in encoding.encode(data.raw).mean(axis=0)],
        "level_cut_points": list(level_cut_points(data.target, data.households)),
        "architecture": model.architecture,
        "target": "TrueRiskTol, share of risky assets in percent, clipped to 0..100",
        "training": {"seed": seed, "quick": quick, "data_sha256": data_sha256()},
    }
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return [WEIGHTS_FILE, CONFIG_FILE, "metrics.json"]
