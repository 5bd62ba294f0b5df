"""Allocation maths: pure functions, so these run without Django (`-p no:django`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolios.allocation import (
    CASH_FLOOR,
    CLASS_BOUNDS,
    MAX_FUND_WEIGHT,
    UNIVERSE,
    MarketAssumptions,
    ModelPortfolio,
    assumptions_estimate,
    class_weights,
    drift,
    expected_returns_blend,
    glide_level,
    model_portfolios_build,
    returns_from_prices,
)

REAL_PRICES = Path("/work/shared/data/etf_daily_assetallocation/ETFs_TotalReturnIndices.csv")
TICKERS = list(UNIVERSE)
TOL = 1e-6

# Plausible annual (mean, vol) per fund and loadings on (equity, rates, gold) factors.
SYNTHETIC_FUNDS = {
    "VTI": (0.09, 0.18, (1.0, 0.0, 0.0)),
    "EFA": (0.07, 0.20, (0.9, 0.0, 0.0)),
    "EEM": (0.08, 0.25, (0.85, 0.0, 0.0)),
    "AGG": (0.03, 0.05, (0.0, 0.9, 0.0)),
    "SHY": (0.02, 0.015, (0.0, 0.7, 0.0)),
    "IEF": (0.03, 0.07, (-0.1, 1.0, 0.0)),
    "TIP": (0.03, 0.06, (0.0, 0.8, 0.2)),
    "LQD": (0.04, 0.08, (0.3, 0.8, 0.0)),
    "VNQ": (0.08, 0.25, (0.8, 0.2, 0.0)),
    "GLD": (0.05, 0.16, (0.0, 0.2, 1.0)),
    "BIL": (0.015, 0.005, (0.0, 0.1, 0.0)),
}


def synthetic_prices(days: int = 1000, seed: int = 7) -> pd.DataFrame:
    """Seeded total-return levels for the universe, with three all-flat holiday rows."""
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((days, 3))
    columns = {}
    for ticker, (mean, vol, loadings) in SYNTHETIC_FUNDS.items():
        beta = np.array(loadings)
        idio = math.sqrt(max(1.0 - float(beta @ beta), 0.05))
        shocks = factors @ beta + idio * rng.standard_normal(days)
        shocks /= math.sqrt(float(beta @ beta) + idio**2)
        columns[ticker] = mean / 252 + vol / math.sqrt(252) * shocks
    returns = pd.DataFrame(columns, index=pd.bdate_range("2015-01-02", periods=days))
    returns.iloc[[days // 10, days // 2, 9 * days // 10]] = 0.0
    return 100.0 * (1.0 + returns).cumprod()


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return synthetic_prices()


@pytest.fixture(scope="module")
def assumptions(prices: pd.DataFrame) -> MarketAssumptions:
    return assumptions_estimate(prices)


@pytest.fixture(scope="module")
def portfolios(assumptions: MarketAssumptions) -> list[ModelPortfolio]:
    return model_portfolios_build(assumptions)


def constraint_violations(portfolio: ModelPortfolio) -> list[str]:
    """Every broken constraint of one model portfolio, as readable strings."""
    weights = portfolio.weights
    problems = [f"{t}={w}" for t, w in weights.items() if w < 0 or w > MAX_FUND_WEIGHT + TOL]
    if weights["BIL"] < CASH_FLOOR - TOL:
        problems.append(f"BIL={weights['BIL']} below the cash floor")
    for name, total in class_weights(weights).items():
        low, high = CLASS_BOUNDS[name]
        if not low - TOL <= total <= high + TOL:
            problems.append(f"{name}={total} outside {low}..{high}")
    if abs(sum(weights.values()) - 1.0) > 1e-9:
        problems.append(f"sum={sum(weights.values())}")
    return problems


def test_returns_from_prices_drops_the_first_row_and_holiday_repeats() -> None:
    index = pd.bdate_range("2024-01-01", periods=4)
    prices = pd.DataFrame({"VTI": [100, 101, 101, 102.01], "AGG": [50, 50.5, 50.5, 50.0]}, index)

    returns = returns_from_prices(prices)

    assert list(returns.index) == [index[1], index[3]]
    assert returns.loc[index[1], "VTI"] == pytest.approx(0.01)
    assert returns.loc[index[3], "AGG"] == pytest.approx(-0.00990099)
    assert not returns.isna().any().any()


def test_returns_from_prices_keeps_days_when_only_some_tickers_are_flat() -> None:
    index = pd.bdate_range("2024-01-01", periods=3)
    prices = pd.DataFrame({"VTI": [100.0, 101.0, 102.0], "BIL": [10.0, 10.0, 10.0]}, index)

    returns = returns_from_prices(prices)

    assert len(returns) == 2
    assert (returns["BIL"] == 0.0).all()


def test_returns_from_prices_names_the_tickers_with_gaps() -> None:
    index = pd.bdate_range("2024-01-01", periods=3)
    prices = pd.DataFrame(
        {"VTI": [100.0, 101.0, 102.0], "EEM": [np.nan, 40.0, 41.0], "GLD": [1.0, np.nan, 1.1]},
        index,
    )

    with pytest.raises(ValueError, match="EEM, GLD"):
        returns_from_prices(prices)


def test_assumptions_have_consistent_shapes_and_a_symmetric_psd_covariance(
    assumptions: MarketAssumptions, prices: pd.DataFrame
) -> None:
    n = len(TICKERS)

    assert assumptions.tickers == tuple(TICKERS)
    assert assumptions.expected_returns.shape == (n,)
    assert assumptions.covariance.shape == (n, n)
    assert np.array_equal(assumptions.covariance, assumptions.covariance.T)
    assert np.linalg.eigvalsh(assumptions.covariance).min() >= -1e-10
    assert assumptions.observations == len(prices) - 1 - 3
    assert assumptions.start == prices.index[1].date()
    assert assumptions.end == prices.index[-1].date()
    assert assumptions.method == "ledoit-wolf+equilibrium-blend"


def test_assumptions_round_trip_through_a_json_ready_dict(assumptions: MarketAssumptions) -> None:
    stored = json.loads(json.dumps(assumptions.as_dict()))

    restored = MarketAssumptions.from_dict(stored)

    assert restored.tickers == assumptions.tickers
    assert np.array_equal(restored.expected_returns, assumptions.expected_returns)
    assert np.array_equal(restored.covariance, assumptions.covariance)
    assert (restored.start, restored.end) == (assumptions.start, assumptions.end)
    assert restored.observations == assumptions.observations
    assert restored.method == assumptions.method


def test_monthly_assumptions_are_the_annual_ones_divided_by_twelve(
    assumptions: MarketAssumptions,
) -> None:
    mu, cov = assumptions.monthly()

    assert np.allclose(mu * 12, assumptions.expected_returns)
    assert np.allclose(cov * 12, assumptions.covariance)


def test_blend_matches_a_two_asset_hand_calculation() -> None:
    cov = np.array([[0.04, 0.006], [0.006, 0.0025]])
    weights = np.array([0.6, 0.4])
    # Cov @ w = [0.0264, 0.0046]; w' Cov w = 0.01768; delta = 0.04 / 0.01768.
    prior = 0.04 / 0.01768 * np.array([0.0264, 0.0046])
    expected = 0.02 + 0.5 * prior + 0.5 * (np.array([0.10, 0.03]) - 0.02)

    mu = expected_returns_blend(
        np.array([0.10, 0.03]), cov, weights, risk_free=0.02, shrink_to_prior=0.5
    )

    assert mu == pytest.approx(expected, abs=1e-12)
    assert mu == pytest.approx([0.0898643, 0.0302036], abs=1e-7)


def test_estimate_uses_the_sample_mean_alone_when_shrinkage_is_zero(prices: pd.DataFrame) -> None:
    pair = prices[["VTI", "AGG"]]
    sample_mean = returns_from_prices(pair).mean().to_numpy() * 252

    estimate = assumptions_estimate(pair, shrink_to_prior=0.0)

    assert estimate.expected_returns == pytest.approx(sample_mean, abs=1e-12)


def test_estimate_prices_the_reference_portfolio_at_four_percent_over_cash_with_full_shrinkage(
    prices: pd.DataFrame,
) -> None:
    pair = prices[["VTI", "AGG"]]
    reference = {"VTI": 0.6, "AGG": 0.4}

    estimate = assumptions_estimate(
        pair, risk_free=0.03, shrink_to_prior=1.0, reference_weights=reference
    )

    assert float(estimate.expected_returns @ np.array([0.6, 0.4])) == pytest.approx(0.07)


def test_estimate_ignores_gaps_older_than_the_lookback(prices: pd.DataFrame) -> None:
    older = prices.copy()
    older.iloc[:300, older.columns.get_loc("EEM")] = np.nan

    estimate = assumptions_estimate(older, lookback_years=2)

    assert estimate.start > older.index[300].date()
    assert np.isfinite(estimate.expected_returns).all()


def test_model_portfolios_respect_every_constraint(portfolios: list[ModelPortfolio]) -> None:
    assert [p.level for p in portfolios] == list(range(1, 11))
    for portfolio in portfolios:
        assert set(portfolio.weights) == set(TICKERS)
        assert constraint_violations(portfolio) == [], f"level {portfolio.level}"


def test_model_portfolios_rise_in_risk_and_return_with_level(
    portfolios: list[ModelPortfolio],
) -> None:
    vols = [p.volatility for p in portfolios]
    returns = [p.expected_return for p in portfolios]

    assert vols == sorted(vols), vols
    assert returns == sorted(returns), returns
    assert vols[-1] > vols[0]


def test_model_portfolio_weights_have_six_decimals_and_no_dust(
    portfolios: list[ModelPortfolio],
) -> None:
    for portfolio in portfolios:
        for weight in portfolio.weights.values():
            assert weight == 0.0 or weight >= 0.005
            assert weight == round(weight, 6)


def test_model_portfolios_report_the_risk_of_their_own_weights(
    portfolios: list[ModelPortfolio], assumptions: MarketAssumptions
) -> None:
    for portfolio in portfolios:
        w = np.array([portfolio.weights[t] for t in assumptions.tickers])
        assert portfolio.expected_return == pytest.approx(w @ assumptions.expected_returns)
        assert portfolio.volatility == pytest.approx(math.sqrt(w @ assumptions.covariance @ w))


def test_model_portfolios_are_deterministic(assumptions: MarketAssumptions) -> None:
    assert model_portfolios_build(assumptions) == model_portfolios_build(assumptions)


def test_model_portfolios_need_every_universe_ticker(prices: pd.DataFrame) -> None:
    partial = assumptions_estimate(prices.drop(columns=["GLD"]))

    with pytest.raises(ValueError, match="GLD"):
        model_portfolios_build(partial)


@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [
        ({"VTI": 0.6, "AGG": 0.4}, {"VTI": 0.5, "AGG": 0.5}, 0.10),
        ({"SHY": 0.3, "VTI": 0.7}, {"IEF": 0.3, "VTI": 0.7}, 0.0),
        ({"VTI": 1.0}, {"AGG": 1.0}, 1.0),
        ({"VTI": 0.5, "BIL": 0.5}, {"VTI": 0.5, "SHY": 0.25, "IEF": 0.25}, 0.5),
        ({}, {"GLD": 0.2}, 0.1),
    ],
)
def test_drift_is_half_the_class_level_distance(
    actual: dict[str, float], target: dict[str, float], expected: float
) -> None:
    assert drift(actual, target) == pytest.approx(expected)


def test_class_weights_sum_tickers_into_their_classes() -> None:
    totals = class_weights({"SHY": 0.2, "IEF": 0.3, "VTI": 0.5})

    assert totals["treasuries"] == pytest.approx(0.5)
    assert totals["us_equity"] == pytest.approx(0.5)
    assert totals["gold"] == 0.0
    assert set(totals) == set(CLASS_BOUNDS)


def test_class_weights_reject_tickers_outside_the_universe() -> None:
    with pytest.raises(ValueError, match="QQQ"):
        class_weights({"QQQ": 1.0})


def weight_dicts() -> st.SearchStrategy[dict[str, float]]:
    """Random long-only portfolios over the universe that sum to one."""
    raw = st.lists(st.floats(0.0, 1.0), min_size=len(TICKERS), max_size=len(TICKERS))
    return raw.filter(lambda xs: sum(xs) > 1e-6).map(
        lambda xs: {t: x / sum(xs) for t, x in zip(TICKERS, xs, strict=True)}
    )


@given(actual=weight_dicts(), target=weight_dicts())
def test_drift_lies_between_zero_and_one_and_is_zero_against_itself(
    actual: dict[str, float], target: dict[str, float]
) -> None:
    assert -1e-12 <= drift(actual, target) <= 1.0 + 1e-12
    assert drift(actual, actual) == 0.0


@pytest.mark.parametrize(
    ("risk_level", "goal_type", "years", "expected"),
    [
        (8, "emergency_fund", 20.0, 2),
        (1, "emergency_fund", 20.0, 1),
        (8, "retirement", 30.0, 8),
        (8, "retirement", 10.0, 8),
        (10, "retirement", 6.0, 6),
        (8, "education", 6.0, 5),
        (8, "general_wealth", 2.0, 3),
        (8, "general_wealth", 0.0, 3),
        (8, "general_wealth", -1.0, 3),
        (2, "retirement", 1.0, 2),
        (1, "education", 0.5, 1),
        (10, "retirement", 9.99, 9),
        (8, "home_purchase", 2.5, 2),
        (8, "major_purchase", 2.99, 2),
        (8, "home_purchase", 3.0, 3),
        (8, "home_purchase", 12.0, 8),
    ],
)
def test_glide_level_follows_the_documented_table(
    risk_level: int, goal_type: str, years: float, expected: int
) -> None:
    assert glide_level(risk_level=risk_level, goal_type=goal_type, years_to_goal=years) == expected


def test_glide_level_rejects_unknown_goals_and_levels() -> None:
    with pytest.raises(ValueError, match="goal_type"):
        glide_level(risk_level=5, goal_type="yacht", years_to_goal=5.0)
    with pytest.raises(ValueError, match="risk_level"):
        glide_level(risk_level=11, goal_type="retirement", years_to_goal=5.0)


def real_prices(path: Path) -> pd.DataFrame:
    """The AssetAllocation TR file (M/D/YYYY dates, "NA" strings) cut to the universe."""
    frame = pd.read_csv(path, na_values=["NA"])
    frame["Date"] = pd.to_datetime(frame["Date"], format="%m/%d/%Y")
    return frame.set_index("Date")[TICKERS]


@pytest.mark.skipif(not REAL_PRICES.exists(), reason="shared ETF total-return file not present")
def test_real_data_levels_span_cautious_to_growth() -> None:
    estimate = assumptions_estimate(real_prices(REAL_PRICES))

    levels = model_portfolios_build(estimate)

    vols = [round(p.volatility, 4) for p in levels]
    assert levels[0].volatility < 0.05, f"level 1 vol {vols[0]}; all {vols}"
    assert levels[-1].volatility > 0.12, f"level 10 vol {vols[-1]}; all {vols}"
    assert vols == sorted(vols), vols
    assert all(constraint_violations(p) == [] for p in levels)
