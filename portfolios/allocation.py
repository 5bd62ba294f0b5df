"""Allocation engine maths: market assumptions, model portfolios, drift and goal glide paths.

Pure computation on numpy/pandas/scikit-learn/skfolio: no Django, no database, no file I/O, so
services and tasks can call it with plain data and store what it returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from skfolio.optimization import MeanRisk, ObjectiveFunction
from skfolio.prior import BasePrior, ReturnDistribution
from sklearn.covariance import LedoitWolf

from .targets import (  # noqa: F401 - re-exported: the allocation API in one place
    CLASS_BOUNDS,
    UNIVERSE,
    class_weights,
    drift,
    glide_level,
)

TRADING_DAYS = 252
MONTHS = 12

MAX_FUND_WEIGHT = 0.45
CASH_FLOOR = 0.01
CASH_TICKER = "BIL"

# A 60/40-ish reference market portfolio for the equilibrium prior (equities/REITs/gold 60%,
# bonds and cash 40%); it only anchors the prior, it is not offered to clients.
REFERENCE_WEIGHTS: dict[str, float] = {
    "VTI": 0.33,
    "EFA": 0.15,
    "EEM": 0.05,
    "VNQ": 0.04,
    "GLD": 0.03,
    "AGG": 0.15,
    "SHY": 0.04,
    "IEF": 0.08,
    "TIP": 0.05,
    "LQD": 0.06,
    "BIL": 0.02,
}
REFERENCE_EXCESS_RETURN = 0.04

MIN_OBSERVATIONS = 60
MIN_REPORTED_WEIGHT = 0.005
WEIGHT_DECIMALS = 6
# The top level maximises mu'w - k * w'Cov w with this k: far too small to give up measurable
# return (< 1e-7/yr), but it makes the optimum unique when funds tie on return.
TIE_BREAK_RISK_AVERSION = 1e-6
BOUND_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class MarketAssumptions:
    """Annualised expected returns and covariance for a set of tickers, with their provenance.

    Arrays are copied read-only; equality is by identity (arrays have no plain `==`).
    """

    tickers: tuple[str, ...]
    expected_returns: np.ndarray
    covariance: np.ndarray
    start: date
    end: date
    observations: int
    method: str

    def __post_init__(self) -> None:
        """Validate shapes and freeze the arrays so a stored assumption set cannot drift."""
        tickers = tuple(self.tickers)
        if len(set(tickers)) != len(tickers):
            raise ValueError("tickers must be unique")
        mu = np.array(self.expected_returns, dtype=float)
        cov = np.array(self.covariance, dtype=float)
        n = len(tickers)
        if mu.shape != (n,) or cov.shape != (n, n):
            raise ValueError(f"expected shapes ({n},) and ({n}, {n}), got {mu.shape}, {cov.shape}")
        if not (np.isfinite(mu).all() and np.isfinite(cov).all()):
            raise ValueError("expected_returns and covariance must be finite")
        if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-12):
            raise ValueError("covariance must be symmetric")
        mu.setflags(write=False)
        cov.setflags(write=False)
        object.__setattr__(self, "tickers", tickers)
        object.__setattr__(self, "expected_returns", mu)
        object.__setattr__(self, "covariance", cov)

    def monthly(self) -> tuple[np.ndarray, np.ndarray]:
        """Monthly (mu, covariance), for Monte Carlo projections that step month by month."""
        return self.expected_returns / MONTHS, self.covariance / MONTHS

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists of floats, ISO dates) for a JSONField."""
        return {
            "tickers": list(self.tickers),
            "expected_returns": [float(x) for x in self.expected_returns],
            "covariance": [[float(x) for x in row] for row in self.covariance],
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "observations": int(self.observations),
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MarketAssumptions:
        """Rebuild from `as_dict()` output."""
        return cls(
            tickers=tuple(data["tickers"]),
            expected_returns=np.asarray(data["expected_returns"], dtype=float),
            covariance=np.asarray(data["covariance"], dtype=float),
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            observations=int(data["observations"]),
            method=str(data["method"]),
        )


@dataclass(frozen=True)
class ModelPortfolio:
    """One risk level's target weights (every universe ticker, zeros included) and its risk."""

    level: int
    weights: dict[str, float]
    expected_return: float
    volatility: float


# --- Market assumptions -----------------------------------------------------------------------


def returns_from_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns of total-return index levels, without market-closure rows.

    Rows where every ticker is unchanged are holiday repeats, not real zero-return days.
    Raises ValueError naming the tickers that have any missing price in `prices`.
    """
    _prices_check(prices)
    returns = prices.astype(float).pct_change().iloc[1:]
    traded = (returns != 0.0).any(axis=1)
    return returns.loc[traded]


def _prices_check(prices: pd.DataFrame) -> None:
    """Reject frames the return maths would silently get wrong."""
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must have a DatetimeIndex")
    if not (prices.index.is_monotonic_increasing and prices.index.is_unique):
        raise ValueError("prices index must be ascending and unique")
    if len(prices) < 2 or prices.shape[1] == 0:
        raise ValueError("prices need at least two rows and one ticker")
    gaps = [str(t) for t in prices.columns[prices.isna().any()]]
    if gaps:
        raise ValueError(f"prices have gaps in the window for: {', '.join(gaps)}")
    if (prices <= 0).any().any():
        raise ValueError("prices must be positive index levels")


def expected_returns_blend(
    sample_mean: np.ndarray,
    covariance: np.ndarray,
    reference_weights: np.ndarray,
    *,
    risk_free: float,
    shrink_to_prior: float,
    reference_excess_return: float = REFERENCE_EXCESS_RETURN,
) -> np.ndarray:
    """Blend annualised sample means with the equilibrium prior implied by a reference portfolio.

    pi = delta * Cov @ w_ref with delta = reference_excess_return / (w_ref' Cov w_ref), so the
    reference portfolio earns exactly that excess return (reverse optimisation). Then
    mu = risk_free + s * pi + (1 - s) * (sample_mean - risk_free), with s = shrink_to_prior.
    """
    if not 0.0 <= shrink_to_prior <= 1.0:
        raise ValueError("shrink_to_prior must be within [0, 1]")
    weights = np.asarray(reference_weights, dtype=float)
    implied = covariance @ weights
    reference_variance = float(weights @ implied)
    if reference_variance <= 0.0:
        raise ValueError("the reference portfolio has no variance; cannot imply returns")
    prior = reference_excess_return / reference_variance * implied
    sample_excess = np.asarray(sample_mean, dtype=float) - risk_free
    return risk_free + shrink_to_prior * prior + (1.0 - shrink_to_prior) * sample_excess


def assumptions_estimate(
    prices: pd.DataFrame,
    *,
    lookback_years: int = 15,
    risk_free: float = 0.02,
    shrink_to_prior: float = 0.5,
    reference_weights: Mapping[str, float] = REFERENCE_WEIGHTS,
) -> MarketAssumptions:
    """Estimate annualised assumptions from the last `lookback_years` of daily price levels.

    Covariance: Ledoit-Wolf shrinkage of daily returns x 252 (stable with 11 correlated funds).
    Expected returns: `expected_returns_blend` of the annualised arithmetic sample mean with the
    equilibrium prior of `reference_weights` (restricted to the priced tickers, renormalised),
    because 15 years of means alone are too noisy to steer an optimiser.
    """
    if lookback_years < 1:
        raise ValueError("lookback_years must be at least 1")
    window = _lookback_window(prices, lookback_years)
    returns = returns_from_prices(window)
    if len(returns) < MIN_OBSERVATIONS:
        raise ValueError(f"need at least {MIN_OBSERVATIONS} daily returns, got {len(returns)}")
    values = returns.to_numpy(dtype=float)
    covariance = LedoitWolf().fit(values).covariance_ * TRADING_DAYS
    # Symmetrise so float noise cannot fail the symmetry check downstream.
    covariance = (covariance + covariance.T) / 2.0
    tickers = tuple(str(t) for t in returns.columns)
    mu = expected_returns_blend(
        values.mean(axis=0) * TRADING_DAYS,
        covariance,
        _reference_vector(tickers, reference_weights),
        risk_free=risk_free,
        shrink_to_prior=shrink_to_prior,
    )
    return MarketAssumptions(
        tickers=tickers,
        expected_returns=mu,
        covariance=covariance,
        start=returns.index[0].date(),
        end=returns.index[-1].date(),
        observations=len(returns),
        method="ledoit-wolf+equilibrium-blend",
    )


def _lookback_window(prices: pd.DataFrame, lookback_years: int) -> pd.DataFrame:
    """Prices from `lookback_years` before the last date onwards."""
    if len(prices) == 0 or not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be a non-empty frame with a DatetimeIndex")
    first = prices.index[-1] - pd.DateOffset(years=lookback_years)
    return prices.loc[prices.index >= first]


def _reference_vector(tickers: Sequence[str], reference_weights: Mapping[str, float]) -> np.ndarray:
    """Reference weights aligned to `tickers`, renormalised over the tickers present."""
    weights = np.array([float(reference_weights.get(t, 0.0)) for t in tickers])
    if (weights < 0).any() or weights.sum() <= 0.0:
        raise ValueError("reference weights must be non-negative and cover a priced ticker")
    return weights / weights.sum()


# --- Model portfolios -------------------------------------------------------------------------


class _FixedPrior(BasePrior):
    """skfolio prior that hands the optimiser our own (mu, covariance) unchanged."""

    def __init__(self, mu: np.ndarray | None = None, covariance: np.ndarray | None = None) -> None:
        self.mu = mu
        self.covariance = covariance

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> _FixedPrior:
        """Publish the fixed moments; X only supplies scenarios skfolio keeps for reporting."""
        self.return_distribution_ = ReturnDistribution(
            mu=np.asarray(self.mu, dtype=float),
            covariance=np.asarray(self.covariance, dtype=float),
            returns=np.asarray(X, dtype=float),
        )
        return self


@dataclass(frozen=True)
class _Problem:
    """Everything MeanRisk needs for one universe: moments, scenarios and constraints."""

    tickers: tuple[str, ...]
    mu: np.ndarray
    covariance: np.ndarray
    scenarios: pd.DataFrame
    constraints: dict[str, Any]
    min_weights: np.ndarray
    max_weights: np.ndarray
    classes: tuple[str, ...]
    class_bounds: dict[str, tuple[float, float]]


def model_portfolios_build(
    assumptions: MarketAssumptions,
    *,
    levels: int = 10,
    class_bounds: Mapping[str, tuple[float, float]] = CLASS_BOUNDS,
    max_fund_weight: float = MAX_FUND_WEIGHT,
    cash_floor: float = CASH_FLOOR,
    universe: Mapping[str, str] = UNIVERSE,
) -> list[ModelPortfolio]:
    """Long-only efficient-frontier portfolios, level 1 = minimum variance, top = maximum return.

    Optimiser: skfolio `MeanRisk` (CLARABEL) fed our (mu, cov) through a fixed prior. Levels in
    between sit at equally spaced target volatilities (max return s.t. vol <= target), since vol
    steps read better to clients. The top level maximises return with a negligible variance
    penalty, so ties resolve to the least risky mix. Constraints: funds <= max_fund_weight,
    BIL >= cash_floor, class sums within class_bounds, weights sum to 1.
    """
    if levels < 2:
        raise ValueError("levels must be at least 2")
    problem = _problem_prepare(assumptions, class_bounds, max_fund_weight, cash_floor, universe)
    bottom = _mean_risk(problem)[0]
    top = _mean_risk(problem, risk_aversion=TIE_BREAK_RISK_AVERSION)[0]
    low_vol, high_vol = _volatility(bottom, problem), _volatility(top, problem)
    raws = [bottom]
    if levels > 2:
        targets = np.linspace(low_vol, high_vol, levels)[1:-1]
        # Never ask for less than the minimum variance: float noise would make it infeasible.
        targets = np.maximum(targets, low_vol + BOUND_TOLERANCE)
        raws.extend(_mean_risk(problem, max_volatility=list(targets)))
    raws.append(top)
    return [_portfolio_make(level, raw, problem) for level, raw in enumerate(raws, start=1)]


def _problem_prepare(
    assumptions: MarketAssumptions,
    class_bounds: Mapping[str, tuple[float, float]],
    max_fund_weight: float,
    cash_floor: float,
    universe: Mapping[str, str],
) -> _Problem:
    """Align assumptions to the universe and translate the bounds into skfolio's terms."""
    tickers = tuple(universe)
    missing = [t for t in tickers if t not in assumptions.tickers]
    if missing:
        raise ValueError(f"assumptions lack universe tickers: {', '.join(missing)}")
    index = [assumptions.tickers.index(t) for t in tickers]
    mu = assumptions.expected_returns[index]
    covariance = assumptions.covariance[np.ix_(index, index)]
    classes = tuple(universe[t] for t in tickers)
    unbounded = sorted(set(classes) - set(class_bounds))
    if unbounded:
        raise ValueError(f"class_bounds lack classes: {', '.join(unbounded)}")
    bounds = {
        c: (float(class_bounds[c][0]), float(class_bounds[c][1])) for c in dict.fromkeys(classes)
    }
    min_weights = np.zeros(len(tickers))
    if cash_floor > 0.0:
        if CASH_TICKER not in tickers:
            raise ValueError(f"a cash floor needs {CASH_TICKER} in the universe")
        min_weights[tickers.index(CASH_TICKER)] = cash_floor
    max_weights = np.full(len(tickers), float(max_fund_weight))
    _feasibility_check(classes, bounds, min_weights, max_weights)
    return _Problem(
        tickers=tickers,
        mu=mu,
        covariance=covariance,
        scenarios=_scenarios(tickers, mu, covariance),
        constraints={
            "min_weights": min_weights,
            "max_weights": max_weights,
            "groups": [list(classes)],
            "linear_constraints": _class_constraints(bounds),
        },
        min_weights=min_weights,
        max_weights=max_weights,
        classes=classes,
        class_bounds=bounds,
    )


def _feasibility_check(
    classes: Sequence[str],
    bounds: Mapping[str, tuple[float, float]],
    min_weights: np.ndarray,
    max_weights: np.ndarray,
) -> None:
    """Fail with a readable message instead of a solver error when no portfolio can exist."""
    floor = ceiling = 0.0
    for name, (lo, hi) in bounds.items():
        members = [i for i, c in enumerate(classes) if c == name]
        floor += max(lo, float(min_weights[members].sum()))
        ceiling += min(hi, float(max_weights[members].sum()))
    if floor > 1.0 + BOUND_TOLERANCE or ceiling < 1.0 - BOUND_TOLERANCE:
        raise ValueError(f"bounds admit no fully invested portfolio (floor {floor}, cap {ceiling})")


def _class_constraints(bounds: Mapping[str, tuple[float, float]]) -> list[str]:
    """skfolio linear-constraint strings for the non-trivial class bounds."""
    lines = []
    for name, (lo, hi) in bounds.items():
        if lo > 0.0:
            lines.append(f"{name} >= {lo!r}")
        if hi < 1.0:
            lines.append(f"{name} <= {hi!r}")
    return lines


def _scenarios(tickers: Sequence[str], mu: np.ndarray, covariance: np.ndarray) -> pd.DataFrame:
    """2n return scenarios whose mean and (population) covariance equal mu and covariance.

    skfolio wants a returns matrix to fit on; with a fixed prior it only labels assets and
    reports realised stats, so a tiny exact one (mu +/- sqrt(n) * factor columns) is enough.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    spread = math.sqrt(len(tickers)) * factor.T
    return pd.DataFrame(np.vstack([mu + spread, mu - spread]), columns=list(tickers))


def _mean_risk(
    problem: _Problem,
    *,
    max_volatility: list[float] | None = None,
    risk_aversion: float | None = None,
) -> list[np.ndarray]:
    """Min variance; max return under vol caps; or max utility. One weight row per target."""
    objective = ObjectiveFunction.MINIMIZE_RISK
    if max_volatility is not None:
        objective = ObjectiveFunction.MAXIMIZE_RETURN
    elif risk_aversion is not None:
        objective = ObjectiveFunction.MAXIMIZE_UTILITY
    model = MeanRisk(
        objective_function=objective,
        risk_aversion=1.0 if risk_aversion is None else risk_aversion,
        prior_estimator=_FixedPrior(mu=problem.mu, covariance=problem.covariance),
        max_standard_deviation=max_volatility,
        solver="CLARABEL",
        **problem.constraints,
    )
    model.fit(problem.scenarios)
    return list(np.atleast_2d(model.weights_))


def _volatility(weights: np.ndarray, problem: _Problem) -> float:
    """Annualised volatility of `weights` under the problem's covariance."""
    return math.sqrt(max(float(weights @ problem.covariance @ weights), 0.0))


def _portfolio_make(level: int, raw: np.ndarray, problem: _Problem) -> ModelPortfolio:
    """Tidy solver weights for display and storage, then report their own return and risk."""
    weights = _weights_tidy(raw, problem)
    return ModelPortfolio(
        level=level,
        weights={t: float(w) for t, w in zip(problem.tickers, weights, strict=True)},
        expected_return=float(weights @ problem.mu),
        volatility=_volatility(weights, problem),
    )


def _weights_tidy(raw: np.ndarray, problem: _Problem) -> np.ndarray:
    """Zero dust (< 0.5%), round to 6 dp, and put the residual where the bounds allow it.

    The residual goes to the largest holding with room under its fund and class caps, so the
    tidied weights still satisfy every constraint the optimiser honoured.
    """
    weights = np.clip(np.asarray(raw, dtype=float), 0.0, None)
    # Dust is pointless to trade; floored funds (BIL) keep theirs whatever its size.
    dust = (weights < MIN_REPORTED_WEIGHT) & (problem.min_weights <= 0.0)
    weights[dust] = 0.0
    weights = np.round(weights, WEIGHT_DECIMALS)
    residual = round(1.0 - float(weights.sum()), WEIGHT_DECIMALS)
    if residual != 0.0:
        target = _residual_target(weights, residual, problem)
        weights[target] = round(weights[target] + residual, WEIGHT_DECIMALS)
    return weights


def _residual_target(weights: np.ndarray, residual: float, problem: _Problem) -> int:
    """Index of the largest holding that can absorb `residual` within its bounds."""
    totals = class_weights(dict(zip(problem.tickers, weights, strict=True)), _universe_of(problem))
    for i in np.argsort(-weights, kind="stable"):
        lo, hi = problem.class_bounds[problem.classes[i]]
        new_weight = weights[i] + residual
        new_class = totals[problem.classes[i]] + residual
        fund_ok = problem.min_weights[i] - BOUND_TOLERANCE <= new_weight
        fund_ok = fund_ok and new_weight <= problem.max_weights[i] + BOUND_TOLERANCE
        class_ok = lo - BOUND_TOLERANCE <= new_class <= hi + BOUND_TOLERANCE
        if weights[i] > 0.0 and fund_ok and class_ok:
            return int(i)
    raise ValueError("no holding can absorb the rounding residual within the bounds")


def _universe_of(problem: _Problem) -> dict[str, str]:
    """Ticker to class mapping of a prepared problem."""
    return dict(zip(problem.tickers, problem.classes, strict=True))
