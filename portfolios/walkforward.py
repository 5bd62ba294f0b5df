"""Walk-forward backtests of the model-portfolio method: the evidence a governance report shows.

Pure computation on numpy/pandas (and `allocation`, the production estimator and optimiser): no
Django, no database, no file I/O.

**The walk-forward.** On each rebuild date the market assumptions are re-estimated from the
prices known at that close with production's own `assumptions_estimate` (the same lookback,
15 years, risk-free rate and prior blend) and the ten portfolios rebuilt with production's
`model_portfolios_build`; each level is then held, out of sample, until the next rebuild. The
first rebuild is on the first trading day `min_history_years` (5) after the first price; later
ones every year on the first trading day on or after that anniversary (2013-01-02, 2014-01-02,
…, 2023-01-03 on the shipped history). Why this window: production estimates from the last 15
years, and the history starts in 2008, so a 15-year window that has not filled yet is exactly
what production would have used at each date (an anchored, expanding window); a 3- or 5-year
rolling window would backtest another estimator than the one the committee approves. Five years
is the least history that holds a full cycle (the 2008 crash and its recovery), and annual
rebuilds are about how often a committee approves a new set; `lookback_years` and
`min_history_years` are parameters for sensitivity runs.

**Holding with Meridian's drift band.** Every trading day the weights drift with the funds'
total returns; at the close, when the class drift (`targets.drift`, ½·Σ|actual − target| over
asset classes, rounded to 4 places as the live check) exceeds the threshold (3%,
REBALANCE_DRIFT_THRESHOLD), the portfolio trades back to its target. On a rebuild date the new
target takes effect at that close, and trades happen only when the drift against it passes the
threshold, as for a live account (so a new set that only swaps funds within a class trades
nothing). No costs or fees are charged.

**Figures** (Bacon, *Practical Portfolio Performance Measurement and Attribution*, 2nd ed., 2008:
ch. 2 returns, ch. 4 risk and risk-adjusted measures):
- annual return: (V_T / V_0)^(1/y) − 1, y = calendar days / 365.25 (geometric, annualised);
- volatility: the standard deviation (ddof 1) of daily returns × √252;
- maximum drawdown: the largest fall from a running peak of daily values, a positive fraction
  (as in `portfolios.risk`);
- worst 12 months: the lowest return over twelve consecutive month ends (the start value, then
  each month's last close), a return (negative is a loss); None under 12 months;
- Sharpe ratio: (annual return − risk-free annual return) / volatility, the risk-free return
  being BIL's total return (1–3 month T-bills) over the same days;
- turnover: one-way, annual: Σ over trades of ½·Σ|w_after − w_before| (the fraction of value
  sold, which equals the fraction bought), divided by y; the first purchase is not counted;
- tracking error: the standard deviation (ddof 1) of daily (portfolio − benchmark) returns × √252;
  return difference: annual return − the benchmark's annual return.

**Benchmark**: a static mix of VTI (stocks) and AGG (bonds) at the level's average share of
growth assets (equities, REITs and gold, as allocation's reference portfolio splits them from
bonds and cash), the average over the days each target was in force, traded back to that mix at
each month's last close.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import targets
from .allocation import (
    MarketAssumptions,
    ModelPortfolio,
    assumptions_estimate,
    model_portfolios_build,
)

WALK_FORWARD_VERSION = "walk-forward/1"
TRADING_DAYS = 252
DAYS_PER_YEAR = 365.25
DEFAULT_LOOKBACK_YEARS = 15  # production's assumptions_estimate default
DEFAULT_MIN_HISTORY_YEARS = 5
DEFAULT_THRESHOLD = 0.03  # settings.REBALANCE_DRIFT_THRESHOLD; the service passes the live one
DRIFT_DECIMALS = 4  # the live check compares drift rounded to 4 places (valuation.class_drift)
GROWTH_CLASSES = frozenset(
    {"us_equity", "intl_developed_equity", "emerging_equity", "real_estate", "gold"}
)
BENCHMARK_STOCK, BENCHMARK_BOND = "VTI", "AGG"
RISK_FREE = "BIL"

Targets = Mapping[str, float]
Estimator = Callable[[pd.DataFrame], MarketAssumptions]
Builder = Callable[[MarketAssumptions], list[ModelPortfolio]]


# --- Holding a portfolio ------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """A simulated holding: its daily values (1.0 at the first close) and its trades."""

    values: pd.Series
    rebalances: tuple[pd.Timestamp, ...]
    turnover: float  # one-way, summed over every trade (not annualised)
    growth_share: float  # time-weighted target share of growth assets


def drift_band_hold(
    prices: pd.DataFrame,
    targets_from: Mapping[pd.Timestamp, Targets],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    universe: Mapping[str, str] = targets.UNIVERSE,
) -> Holding:
    """Buy the first target at the first close of `prices` and hold it with the drift band.

    `targets_from`: date → target weights taking effect at that date's close (the first date of
    `prices` must be one). Every later close: weights move with each fund's return, then a new
    target (if any) takes effect, then the portfolio trades back to its target when
    round(drift, 4) > threshold (`targets.drift` by asset class)."""
    dates = prices.index
    if len(dates) < 2:
        raise ValueError("holding needs at least two closes")
    changes = {pd.Timestamp(d): t for d, t in targets_from.items()}
    if dates[0] not in changes:
        raise ValueError("the first close must have a target")
    unknown = [d for d in changes if d not in dates]
    if unknown:
        raise ValueError(f"targets take effect on days without prices: {unknown[0].date()}")
    tickers = list(prices.columns)
    vectors = {d: _target_vector(t, tickers) for d, t in changes.items()}
    growth = np.array([universe.get(t) in GROWTH_CLASSES for t in tickers], dtype=float)
    gross = prices.to_numpy(dtype=float)
    gross = gross[1:] / gross[:-1]  # 1 + each day's return

    target = vectors[dates[0]]
    weights = target.copy()
    value = 1.0
    values = [value]
    turnover = 0.0
    rebalances: list[pd.Timestamp] = []
    growth_days = float(target @ growth)
    for i, day in enumerate(dates[1:]):
        grown = weights * gross[i]
        total = float(grown.sum())
        value *= total
        weights = grown / total
        if day in vectors:
            target = vectors[day]
        growth_days += float(target @ growth)
        gap = round(
            targets.drift(_as_map(weights, tickers), _as_map(target, tickers), universe),
            DRIFT_DECIMALS,
        )
        if gap > threshold:
            turnover += 0.5 * float(np.abs(weights - target).sum())
            weights = target.copy()
            rebalances.append(day)
        values.append(value)
    return Holding(
        values=pd.Series(values, index=dates, name="value"),
        rebalances=tuple(rebalances),
        turnover=turnover,
        growth_share=growth_days / len(dates),
    )


def fixed_mix_hold(prices: pd.DataFrame, weights: Targets) -> pd.Series:
    """Daily values (1.0 at the first close) of a fixed mix traded back to `weights` at each
    month's last close: the static benchmark."""
    tickers = list(prices.columns)
    target = _target_vector(weights, tickers)
    gross = prices.to_numpy(dtype=float)
    gross = gross[1:] / gross[:-1]
    months = prices.index.to_period("M")
    month_end = np.append(months[1:] != months[:-1], True)  # the last close of each month
    held = target.copy()
    value = 1.0
    values = [value]
    for i in range(len(gross)):
        grown = held * gross[i]
        total = float(grown.sum())
        value *= total
        held = target.copy() if month_end[i + 1] else grown / total
        values.append(value)
    return pd.Series(values, index=prices.index, name="benchmark")


def _target_vector(weights: Targets, tickers: Sequence[str]) -> np.ndarray:
    """Weights aligned to `tickers`; refuses a fund without prices or a mix not summing to 1."""
    missing = sorted(t for t, w in weights.items() if float(w) != 0.0 and t not in tickers)
    if missing:
        raise ValueError(f"no prices for target funds: {', '.join(missing)}")
    vector = np.array([float(weights.get(t, 0.0)) for t in tickers])
    if (vector < 0).any() or abs(vector.sum() - 1.0) > 1e-6:
        raise ValueError("target weights must be non-negative and sum to 1")
    return vector / vector.sum()


def _as_map(vector: np.ndarray, tickers: Sequence[str]) -> dict[str, float]:
    return {t: float(w) for t, w in zip(tickers, vector, strict=True)}


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One holding's figures over its period (fractions; see the module docstring)."""

    start: str
    end: str
    annual_return: float
    volatility: float
    max_drawdown: float
    worst_12_months: float | None
    sharpe: float | None
    turnover: float
    rebalances: int
    growth_share: float
    benchmark_return: float | None = None
    return_difference: float | None = None
    tracking_error: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def annual_return(values: pd.Series) -> float:
    """Geometric annualised return over calendar time (y = days / 365.25)."""
    years = _years(values)
    return float((values.iloc[-1] / values.iloc[0]) ** (1.0 / years) - 1.0)


def volatility(values: pd.Series) -> float:
    """Standard deviation (ddof 1) of daily returns × √252."""
    daily = values.pct_change().iloc[1:]
    return float(daily.std(ddof=1) * math.sqrt(TRADING_DAYS))


def max_drawdown(values: pd.Series) -> float:
    """Largest fall from a running peak, as a positive fraction."""
    path = values.to_numpy(dtype=float)
    return float(1.0 - (path / np.maximum.accumulate(path)).min())


def worst_12_months(values: pd.Series) -> float | None:
    """Lowest return over 12 consecutive month ends (the start value, then each month's last
    close; the last close counts as a month end). None with fewer than 12 months."""
    months = values.index.to_period("M")
    last = np.append(months[1:] != months[:-1], True)
    points = values.to_numpy(dtype=float)[last]
    if not last[0]:  # the start is not itself its month's last close: it opens the first month
        points = np.concatenate([[values.iloc[0]], points])
    if len(points) < 13:
        return None
    return float((points[12:] / points[:-12]).min() - 1.0)


def figures_compute(
    holding: Holding,
    *,
    risk_free: pd.Series,
    benchmark: pd.Series | None = None,
) -> Figures:
    """Every figure of one holding; `risk_free` and `benchmark` are value series on its days."""
    values = holding.values
    years = _years(values)
    ret, vol = annual_return(values), volatility(values)
    rf = annual_return(risk_free.loc[values.index])
    bench_return = difference = tracking = None
    if benchmark is not None:
        bench = benchmark.loc[values.index]
        bench_return = annual_return(bench)
        difference = ret - bench_return
        active = values.pct_change().iloc[1:] - bench.pct_change().iloc[1:]
        tracking = float(active.std(ddof=1) * math.sqrt(TRADING_DAYS))
    return Figures(
        start=values.index[0].date().isoformat(),
        end=values.index[-1].date().isoformat(),
        annual_return=ret,
        volatility=vol,
        max_drawdown=max_drawdown(values),
        worst_12_months=worst_12_months(values),
        sharpe=(ret - rf) / vol if vol > 0 else None,
        turnover=holding.turnover / years,
        rebalances=len(holding.rebalances),
        growth_share=holding.growth_share,
        benchmark_return=bench_return,
        return_difference=difference,
        tracking_error=tracking,
    )


def _years(values: pd.Series) -> float:
    days = (values.index[-1] - values.index[0]).days
    if days <= 0:
        raise ValueError("a period needs two different dates")
    return days / DAYS_PER_YEAR


# --- The walk-forward ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkForward:
    """Per-level out-of-sample figures of a walk-forward, and what it was run with."""

    start: str
    end: str
    rebuilds: tuple[str, ...]
    levels: dict[int, Figures]
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "rebuilds": list(self.rebuilds),
            "settings": self.settings,
            "levels": [{"level": lv, **f.as_dict()} for lv, f in sorted(self.levels.items())],
        }


def rebuild_dates(index: pd.DatetimeIndex, *, min_history_years: int) -> list[pd.Timestamp]:
    """The first trading day `min_history_years` after the first price, then yearly on the first
    trading day on or after each anniversary of it."""
    if min_history_years < 1:
        raise ValueError("min_history_years must be at least 1")
    first = index[0] + pd.DateOffset(years=min_history_years)
    dates: list[pd.Timestamp] = []
    year = 0
    while True:
        anniversary = first + pd.DateOffset(years=year)
        position = index.searchsorted(anniversary)
        if position >= len(index) - 1:  # need at least one day held after it
            break
        dates.append(index[position])
        year += 1
    if not dates:
        raise ValueError(
            f"need more than {min_history_years} years of prices for one out-of-sample day"
        )
    return dates


def walk_forward_run(
    prices: pd.DataFrame,
    *,
    lookback_years: int = DEFAULT_LOOKBACK_YEARS,
    min_history_years: int = DEFAULT_MIN_HISTORY_YEARS,
    threshold: float = DEFAULT_THRESHOLD,
    universe: Mapping[str, str] = targets.UNIVERSE,
    estimate: Estimator | None = None,
    build: Builder = model_portfolios_build,
) -> WalkForward:
    """Re-estimate and rebuild on each rebuild date, hold each level out of sample to the next
    with the drift band, and compute its figures against its static VTI/AGG benchmark.

    `prices`: total-return levels of the universe (and BIL for the risk-free), ascending dates.
    The optimiser runs once per rebuild date (all levels together): ~11 builds for 2008–2023."""
    prices = levels_clean(prices, tickers=list(universe))
    if estimate is None:

        def estimate(window: pd.DataFrame) -> MarketAssumptions:
            return assumptions_estimate(window, lookback_years=lookback_years)

    rebuilds = rebuild_dates(prices.index, min_history_years=min_history_years)
    schedule: dict[int, dict[pd.Timestamp, Targets]] = {}
    for day in rebuilds:
        for portfolio in build(estimate(prices.loc[:day])):
            schedule.setdefault(portfolio.level, {})[day] = portfolio.weights
    held = prices.loc[rebuilds[0] :]
    figures = {
        level: _level_figures(held, plan, threshold=threshold, universe=universe)
        for level, plan in sorted(schedule.items())
    }
    return WalkForward(
        start=held.index[0].date().isoformat(),
        end=held.index[-1].date().isoformat(),
        rebuilds=tuple(d.date().isoformat() for d in rebuilds),
        levels=figures,
        settings={
            "lookback_years": lookback_years,
            "min_history_years": min_history_years,
            "rebuild": "yearly, first trading day on or after each anniversary",
            "drift_threshold": threshold,
        },
    )


def history_extend(early: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame | None:
    """`prices` with an older history of the same funds put before it, for the extended run;
    None unless they join: `early` ends on `prices`' first date with the same levels there
    (to a cent) for every fund it holds, so both are the same indices on the same bases."""
    if early.empty or prices.empty or early.index[-1] != prices.index[0]:
        return None
    shared = [t for t in early.columns if t in prices.columns]
    if not shared or len(shared) < len(early.columns):
        return None
    overlap = (early.iloc[-1][shared] - prices.iloc[0][shared]).abs()
    if overlap.isna().any() or (overlap > 0.005).any():
        return None
    return pd.concat([early.iloc[:-1], prices]).sort_index()


def in_sample_run(
    prices: pd.DataFrame,
    weights_by_level: Mapping[int, Targets],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    universe: Mapping[str, str] = targets.UNIVERSE,
) -> dict[int, Figures]:
    """A set's own weights held with the drift band over the whole history: IN SAMPLE, since
    they were optimised on (most of) this very history; it flatters them."""
    prices = levels_clean(prices, tickers=list(universe))
    start = prices.index[0]
    return {
        level: _level_figures(prices, {start: w}, threshold=threshold, universe=universe)
        for level, w in sorted(weights_by_level.items())
    }


def _level_figures(
    prices: pd.DataFrame,
    plan: Mapping[pd.Timestamp, Targets],
    *,
    threshold: float,
    universe: Mapping[str, str],
) -> Figures:
    holding = drift_band_hold(prices, plan, threshold=threshold, universe=universe)
    share = holding.growth_share
    benchmark = fixed_mix_hold(
        prices[[BENCHMARK_STOCK, BENCHMARK_BOND]],
        {BENCHMARK_STOCK: share, BENCHMARK_BOND: 1.0 - share},
    )
    return figures_compute(holding, risk_free=prices[RISK_FREE], benchmark=benchmark)


def levels_clean(prices: pd.DataFrame, *, tickers: Sequence[str]) -> pd.DataFrame:
    """The universe's columns on days every fund has a level; market-closure repeats (every
    fund unchanged) dropped, as `allocation.returns_from_prices` drops them."""
    needed = list(dict.fromkeys([*tickers, BENCHMARK_STOCK, BENCHMARK_BOND, RISK_FREE]))
    missing = [t for t in needed if t not in prices.columns]
    if missing:
        raise ValueError(f"prices lack: {', '.join(missing)}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must have a DatetimeIndex")
    frame = prices[needed].astype(float).sort_index().dropna(how="any")
    if (frame <= 0).any().any():
        raise ValueError("prices must be positive index levels")
    repeat = (frame.diff() == 0).all(axis=1)
    repeat.iloc[0] = False
    return frame.loc[~repeat]


# --- Verdict ------------------------------------------------------------------------------------


def verdict_lines(levels: Mapping[int, Mapping[str, Any]], *, period: str) -> list[str]:
    """A short plain-language reading of per-level figures for whoever approves."""
    if not levels:
        return ["No levels to judge."]
    order = sorted(levels)
    vols = [levels[lv]["volatility"] for lv in order]
    falls = [levels[lv]["max_drawdown"] for lv in order]
    lines = []
    breaks = [f"{order[i]}→{order[i + 1]}" for i in range(len(order) - 1) if vols[i + 1] < vols[i]]
    first, last = order[0], order[-1]
    if breaks:
        lines.append(
            f"Warning: {period}, volatility does not rise with the level at "
            f"{', '.join(breaks)} (level {first} {vols[0]:.1%} … level {last} {vols[-1]:.1%})."
        )
    else:
        lines.append(
            f"{period.capitalize()}, volatility rises with every level: from {vols[0]:.1%} "
            f"(level {first}) to {vols[-1]:.1%} (level {last})."
        )
    lines.append(
        "Largest fall from a peak: "
        + ", ".join(f"level {lv} {f:.0%}" for lv, f in zip(order, falls, strict=True))
        + "."
    )
    worst = [levels[lv].get("worst_12_months") for lv in order]
    if all(w is not None for w in worst):
        lines.append(
            f"Worst 12 months: {worst[0]:+.1%} at level {first}, {worst[-1]:+.1%} at level {last}."
        )
    diffs = [d for lv in order if (d := levels[lv].get("return_difference")) is not None]
    if len(diffs) == len(order):
        lines.append(
            f"Against a static VTI/AGG mix of the same stock share, the return difference ranges "
            f"from {min(diffs):+.1%} to {max(diffs):+.1%} a year."
        )
    return lines


def is_monotone(values: Sequence[float]) -> bool:
    """Each value at least the previous one."""
    return all(b >= a for a, b in zip(values, values[1:], strict=False))
