"""Risk figures of a portfolio: volatility, VaR and expected shortfall, maximum drawdown, beta.

Pure computation on numpy (no Django, no pandas): plain dates, tickers and arrays in, frozen
dataclasses out, for every subject of a market date in one pass (a matrix of weights times a
matrix of returns), so services can hand it all accounts at once and store what it returns.

Method (historical simulation of today's holdings, Jorion, *Value at Risk*, 3rd ed., 2007,
ch. 10 and 12; the ES estimator as in McNeil, Frey & Embrechts, *Quantitative Risk Management*,
2nd ed., 2015, §2.3 and §9.2, and Acerbi & Tasche, "On the coherence of expected shortfall",
2002):

- **Returns.** Each fund's daily total return r_i,t = TR_i,t / TR_i,t−1 − 1 from its total-return
  index (distributions reinvested), over the longest span on which every fund held by any of the
  subjects has a level (the shipped history: 2008-01-02 to the market date). A day a fund lacks
  inside that span carries its last level (a return of 0).
- **Today's weights over the whole history.** A subject is its weights today (each fund's value
  / total value; cash earns 0). Its daily return is r_p,t = Σ_i w_i r_i,t: today's weights held
  constant, i.e. rebalanced back to them every day, over the whole history. Every figure below
  comes from this one series.
- **Horizons.** One month is 21 trading days, one year 252. The h-day returns are *overlapping*
  rolling windows of the series compounded: R_t = Π_{s=t−h+1..t} (1 + r_p,s) − 1, one per day
  from the h-th on (T − h + 1 of them). Overlapping windows use all the data, but neighbours
  share h − 1 days, so the 252-day tail rests on about T / 252 independent years (15 from
  2008 on): read the one-year figures as indications, not precise quantiles.
- **Historical VaR and ES at 95%.** With n windows and k = ⌈0.05 n⌉, VaR is minus the k-th
  smallest R (the empirical 5% quantile as an order statistic) and ES minus the mean of the k
  smallest (the average loss in the worst 5%). Positive numbers are losses; a negative VaR says
  that even the worst 5% of windows gained.
- **Parametric (normal) VaR and ES at 95%.** From the mean μ and standard deviation σ (ddof 1)
  of the daily series, scaled as i.i.d.: μ_h = h μ, σ_h = √h σ. VaR = z σ_h − μ_h and
  ES = σ_h φ(z) / 0.05 − μ_h with z = Φ⁻¹(0.95) ≈ 1.645 (Jorion ch. 5; McNeil et al. ex. 2.14).
- **Volatility** σ √252, annualised from daily returns. **Maximum drawdown**: the largest fall
  from a running peak of the constant-weight value path Π (1 + r_p,s). **Equity beta** against
  VTI: β_p = cov(r_p, r_VTI) / var(r_VTI) = Σ_i w_i β_i, linear in the weights, so the fund
  betas are computed once.

A horizon needs MIN_WINDOWS windows and the daily figures MIN_OBSERVATIONS returns; below that a
figure is None rather than a number read from almost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np

TRADING_DAYS = 252
HORIZONS: dict[str, int] = {"1m": 21, "1y": 252}
CONFIDENCE = 0.95
MIN_OBSERVATIONS = 60
MIN_WINDOWS = 20
BETA_TICKER = "VTI"
# Subjects per matrix product: 3,900 days × 1,000 subjects × 8 bytes is ~31 MB per array.
CHUNK = 1000
FIGURE_DECIMALS = 6


@dataclass(frozen=True)
class MarketHistory:
    """Total-return index levels: one row per market date, one column per fund, NaN where a fund
    has no level that day (before it existed, or a missing day)."""

    dates: tuple[date, ...]
    tickers: tuple[str, ...]
    levels: np.ndarray  # len(dates) × len(tickers), float

    def __post_init__(self) -> None:
        if self.levels.shape != (len(self.dates), len(self.tickers)):
            raise ValueError("levels must be dates × tickers")
        if list(self.dates) != sorted(set(self.dates)):
            raise ValueError("dates must be strictly increasing")


@dataclass(frozen=True)
class DailyReturns:
    """Simple daily returns of every fund over one span: `dates[t]` is the day of row t."""

    dates: tuple[date, ...]
    tickers: tuple[str, ...]
    returns: np.ndarray  # len(dates) × len(tickers)


def weights_matrix(subjects: Sequence[Mapping[str, float]], tickers: Sequence[str]) -> np.ndarray:
    """Subjects × funds; what a row leaves below 1 is cash (return 0). A ticker outside
    `tickers` raises rather than drops money silently."""
    column = {ticker: index for index, ticker in enumerate(tickers)}
    matrix = np.zeros((len(subjects), len(tickers)))
    for row, weights in enumerate(subjects):
        for ticker, weight in weights.items():
            if ticker not in column:
                raise ValueError(f"no prices for {ticker}")
            matrix[row, column[ticker]] = float(weight)
    if (matrix < -1e-12).any() or (matrix.sum(axis=1) > 1 + 1e-9).any():
        raise ValueError("weights must be non-negative and sum to at most 1")
    return matrix


def levels_filled(levels: np.ndarray) -> np.ndarray:
    """Carry each column's last level forward over NaNs (leading NaNs stay)."""
    valid = ~np.isnan(levels)
    index = np.where(valid, np.arange(levels.shape[0])[:, None], 0)
    np.maximum.accumulate(index, axis=0, out=index)
    filled = levels[index, np.arange(levels.shape[1])]
    filled[~np.maximum.accumulate(valid, axis=0)] = np.nan
    return filled


def daily_returns(history: MarketHistory, *, needed: Sequence[str] | None = None) -> DailyReturns:
    """Daily returns of every fund from the first day on which each fund in `needed` (default:
    all) has a level; other funds' returns are 0 before their own first level."""
    needed = list(history.tickers if needed is None else needed)
    columns = [history.tickers.index(t) for t in needed]
    levels = levels_filled(history.levels)
    have = ~np.isnan(levels[:, columns]).any(axis=1) if columns else np.ones(len(history.dates))
    if not have.any():
        return DailyReturns(
            dates=(), tickers=history.tickers, returns=np.zeros((0, levels.shape[1]))
        )
    first = int(np.argmax(have))
    span = levels[first:]
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = span[1:] / span[:-1] - 1.0
    returns = np.nan_to_num(returns, nan=0.0, posinf=0.0, neginf=0.0)
    return DailyReturns(
        dates=tuple(history.dates[first + 1 :]), tickers=history.tickers, returns=returns
    )


def fund_betas(returns: DailyReturns, *, against: str = BETA_TICKER) -> np.ndarray:
    """Each fund's beta to `against` over the span: cov(r_i, r_m) / var(r_m)."""
    if against not in returns.tickers or len(returns.dates) < MIN_OBSERVATIONS:
        return np.full(len(returns.tickers), np.nan)
    market = returns.returns[:, returns.tickers.index(against)]
    centred = returns.returns - returns.returns.mean(axis=0)
    m = market - market.mean()
    variance = float(m @ m)
    if variance <= 0:
        return np.full(len(returns.tickers), np.nan)
    return (centred.T @ m) / variance


# --- The estimators, on rows of a matrix (one row per subject) ---------------------------------


def value_paths(daily: np.ndarray) -> np.ndarray:
    """Each row's value path Π (1 + r), starting at 1: subjects × (T + 1)."""
    path = np.empty((daily.shape[0], daily.shape[1] + 1))
    path[:, 0] = 1.0
    np.cumprod(1.0 + daily, axis=1, out=path[:, 1:])
    return path


def horizon_returns(
    daily: np.ndarray, horizon: int, *, path: np.ndarray | None = None
) -> np.ndarray:
    """Overlapping h-day compounded returns of each row: subjects × (T − h + 1)."""
    if daily.shape[1] < horizon:
        return np.zeros((daily.shape[0], 0))
    path = value_paths(daily) if path is None else path
    return path[:, horizon:] / path[:, :-horizon] - 1.0


def tail_count(n: int, confidence: float = CONFIDENCE) -> int:
    """k = ⌈(1 − confidence) n⌉ (at least 1): the observations in the tail."""
    return max(1, math.ceil(round(n * (1.0 - confidence), 9)))


def historical_var_es(
    outcomes: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: VaR = −(k-th smallest outcome), ES = −mean of the k smallest."""
    k = tail_count(outcomes.shape[1], confidence)
    tail = np.partition(outcomes, k - 1, axis=1)[:, :k]
    return -tail.max(axis=1), -tail.mean(axis=1)


def parametric_var_es(
    mean: np.ndarray, std: np.ndarray, horizon: int, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Normal VaR and ES over `horizon` days from daily mean and standard deviation (i.i.d.)."""
    normal = NormalDist()
    z = normal.inv_cdf(confidence)
    mu, sigma = mean * horizon, std * math.sqrt(horizon)
    return z * sigma - mu, sigma * normal.pdf(z) / (1.0 - confidence) - mu


def max_drawdowns(daily: np.ndarray, *, path: np.ndarray | None = None) -> np.ndarray:
    """The largest fall from a running peak of each row's value path (starting at 1)."""
    path = value_paths(daily) if path is None else path
    peaks = np.maximum.accumulate(path, axis=1)
    return 1.0 - (path / peaks).min(axis=1)


# --- Figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HorizonFigures:
    """VaR and ES over one horizon at 95%, as positive fractions of value lost."""

    days: int
    windows: int
    var_historical: float | None
    es_historical: float | None
    var_parametric: float | None
    es_parametric: float | None


@dataclass(frozen=True)
class RiskMeasures:
    start: date | None  # the first daily return's day
    end: date | None
    observations: int  # daily returns
    volatility: float | None  # annualised
    max_drawdown: float | None
    beta: float | None  # to VTI
    horizons: dict[str, HorizonFigures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "observations": self.observations,
            "volatility": self.volatility,
            "max_drawdown": self.max_drawdown,
            "beta": self.beta,
            "confidence": CONFIDENCE,
            "horizons": {
                key: {
                    "days": h.days,
                    "windows": h.windows,
                    "var_historical": h.var_historical,
                    "es_historical": h.es_historical,
                    "var_parametric": h.var_parametric,
                    "es_parametric": h.es_parametric,
                }
                for key, h in self.horizons.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskMeasures:
        return cls(
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            observations=int(data["observations"]),
            volatility=data.get("volatility"),
            max_drawdown=data.get("max_drawdown"),
            beta=data.get("beta"),
            horizons={
                key: HorizonFigures(**{**h, "days": int(h["days"]), "windows": int(h["windows"])})
                for key, h in data.get("horizons", {}).items()
            },
        )


def _round(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), FIGURE_DECIMALS) + 0.0


def risk_measures(returns: DailyReturns, weights: np.ndarray) -> list[RiskMeasures]:
    """The figures of every subject (a row of `weights`, columns as `returns.tickers`)."""
    if weights.ndim != 2 or weights.shape[1] != len(returns.tickers):
        raise ValueError("weights must be subjects × the returns' tickers")
    betas = fund_betas(returns)
    results: list[RiskMeasures] = []
    for first in range(0, weights.shape[0], CHUNK):
        results.extend(_chunk(returns, weights[first : first + CHUNK], betas))
    return results


def _chunk(returns: DailyReturns, weights: np.ndarray, betas: np.ndarray) -> list[RiskMeasures]:
    observations = len(returns.dates)
    daily = weights @ returns.returns.T  # subjects × days
    path = value_paths(daily)
    count = weights.shape[0]
    nothing = np.full(count, np.nan)
    enough = observations >= MIN_OBSERVATIONS
    if enough:
        mean, std = daily.mean(axis=1), daily.std(axis=1, ddof=1)
        volatility = std * math.sqrt(TRADING_DAYS)
        drawdown = max_drawdowns(daily, path=path)
        beta = weights @ betas
    else:
        mean = std = volatility = drawdown = beta = nothing
    horizons: dict[str, tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for key, days in HORIZONS.items():
        outcomes = horizon_returns(daily, days, path=path)
        windows = outcomes.shape[1]
        if windows >= MIN_WINDOWS:
            var_h, es_h = historical_var_es(outcomes)
        else:
            var_h = es_h = nothing
        if enough:
            var_p, es_p = parametric_var_es(mean, std, days)
        else:
            var_p = es_p = nothing
        horizons[key] = (days, windows, var_h, es_h, var_p, es_p)
    start = returns.dates[0] if returns.dates else None
    end = returns.dates[-1] if returns.dates else None
    return [
        RiskMeasures(
            start=start,
            end=end,
            observations=observations,
            volatility=_round(volatility[i]),
            max_drawdown=_round(drawdown[i]),
            beta=_round(beta[i]),
            horizons={
                key: HorizonFigures(
                    days=days,
                    windows=windows,
                    var_historical=_round(var_h[i]),
                    es_historical=_round(es_h[i]),
                    var_parametric=_round(var_p[i]),
                    es_parametric=_round(es_p[i]),
                )
                for key, (days, windows, var_h, es_h, var_p, es_p) in horizons.items()
            },
        )
        for i in range(count)
    ]
