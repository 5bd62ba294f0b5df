"""Stress tests (portfolios.stress): historical replays and hypothetical shocks on today's weights,
the client's stated tolerance, and the sentence the client reads. Pure: no database."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from portfolios import risk, stress

TOTAL_RETURNS = Path(__file__).resolve().parents[2] / "portfolios" / "data" / "total_returns.csv"


def _history(rows: dict[date, dict[str, float]], tickers: tuple[str, ...]) -> risk.MarketHistory:
    dates = tuple(sorted(rows))
    levels = np.array([[rows[d].get(t, np.nan) for t in tickers] for d in dates], dtype=float)
    return risk.MarketHistory(dates=dates, tickers=tickers, levels=levels)


@pytest.fixture(scope="module")
def shipped() -> risk.MarketHistory:
    with TOTAL_RETURNS.open() as handle:
        rows = list(csv.reader(handle))
    tickers = tuple(rows[0][1:])
    levels = np.array([[float(c) if c else np.nan for c in r[1:]] for r in rows[1:]])
    dates = tuple(date.fromisoformat(r[0]) for r in rows[1:])
    return risk.MarketHistory(dates=dates, tickers=tickers, levels=levels)


# A 2020 crash window by hand: A falls 30%, B rises then eases, 20% stays in cash.
CRASH = {
    date(2020, 2, 18): {"A": 101.0, "B": 50.0},
    date(2020, 2, 19): {"A": 100.0, "B": 50.0},
    date(2020, 3, 9): {"A": 80.0, "B": 52.0},
    date(2020, 3, 23): {"A": 70.0, "B": 51.0},
    date(2020, 3, 24): {"A": 75.0, "B": 51.0},
}


def _only(results: list[stress.ScenarioResult], key: str) -> stress.ScenarioResult:
    [found] = [r for r in results if r.key == key]
    return found


def test_a_historical_scenario_replays_todays_weights_held_through_the_window():
    history = _history(CRASH, ("A", "B"))
    weights = risk.weights_matrix([{"A": 0.5, "B": 0.3}], history.tickers)

    [results] = stress.stress_tests(history, weights, [1.0, 0.0])

    covid = _only(results, "covid_2020")
    # By hand: 0.5 × A/100 + 0.3 × B/50 + 0.2 cash on each day from 02-19 to 03-23:
    # 1.0; 0.5·0.8 + 0.3·1.04 + 0.2 = 0.912; 0.5·0.7 + 0.3·1.02 + 0.2 = 0.856.
    assert covid.dates == (date(2020, 2, 19), date(2020, 3, 9), date(2020, 3, 23))
    assert covid.path == (1.0, 0.912, 0.856)
    assert covid.change == pytest.approx(-0.144)
    assert covid.loss == pytest.approx(0.144)
    assert covid.end_change == pytest.approx(-0.144)
    assert covid.worst_day == date(2020, 3, 23)
    # The other windows are outside this history: left out, not made up.
    assert {r.key for r in results if r.kind == "historical"} == {"covid_2020"}


def test_a_window_opening_on_a_holiday_starts_from_the_close_before():
    rows = {d: v for d, v in CRASH.items() if d != date(2020, 2, 19)}  # no close on the 19th
    history = _history(rows, ("A", "B"))
    weights = risk.weights_matrix([{"A": 1.0}], history.tickers)

    [results] = stress.stress_tests(history, weights, [1.0, 0.0])

    covid = _only(results, "covid_2020")
    assert covid.dates[0] == date(2020, 2, 18)
    assert covid.change == pytest.approx(70.0 / 101.0 - 1)  # from the 18th's 101


def test_a_fund_without_a_level_at_the_start_leaves_the_scenario_out_for_its_holders_only():
    rows = {d: dict(v) for d, v in CRASH.items()}
    for day in (date(2020, 2, 18), date(2020, 2, 19)):
        del rows[day]["B"]  # B starts trading in March
    history = _history(rows, ("A", "B"))
    weights = risk.weights_matrix([{"A": 1.0}, {"A": 0.5, "B": 0.5}], history.tickers)

    alone, with_b = stress.stress_tests(history, weights, [1.0, 0.0])

    assert "covid_2020" in {r.key for r in alone}
    assert "covid_2020" not in {r.key for r in with_b}


def test_hypothetical_shocks_follow_the_documented_mapping():
    tickers = ("VTI", "EFA", "IEF", "GLD", "BIL", "VNQ")
    history = _history({date(2023, 6, 9): dict.fromkeys(tickers, 100.0)}, tickers)
    weights = risk.weights_matrix(
        [{"VTI": 0.4, "EFA": 0.2, "IEF": 0.2, "GLD": 0.1, "BIL": 0.05, "VNQ": 0.05}], tickers
    )
    betas = np.array([1.0, 0.9, -0.1, 0.05, 0.0, 1.2])

    [results] = stress.stress_tests(history, weights, betas)

    # By hand. Equities −30%: VTI 0.4·−0.30, EFA 0.2·−0.30·0.9, VNQ 0.05·−0.30·1.2; bonds and
    # gold not moved = −0.12 − 0.054 − 0.018 = −0.192.
    assert _only(results, "equities_down_30").change == pytest.approx(-0.192)
    # Rates +200 bp: IEF 0.2·−7.5·0.02, BIL 0.05·−0.1·0.02, VNQ 0.05·−3·0.02 = −0.0331.
    assert _only(results, "rates_up_200bp").change == pytest.approx(-0.0331)
    # Gold −20%: 0.1 · −0.20.
    assert _only(results, "gold_down_20").change == pytest.approx(-0.02)
    assert all(r.path == () for r in results)


def test_the_shipped_history_replays_2008_and_2020_for_vti_as_read_from_the_file(shipped):
    weights = risk.weights_matrix([{"VTI": 1.0}], shipped.tickers)
    betas = risk.fund_betas(risk.daily_returns(shipped))

    [results] = stress.stress_tests(shipped, weights, betas)

    # total_returns.csv, VTI: 126.63 on 2008-09-01 (the close of 08-29 carried over the holiday),
    # 66.88 on 2009-03-09, its lowest in the window; 424.47 on 2020-02-19, 275.91 on 2020-03-23.
    crisis = _only(results, "crisis_2008")
    assert crisis.change == pytest.approx(66.88 / 126.63 - 1, abs=1e-6)
    assert crisis.worst_day == date(2009, 3, 9)
    covid = _only(results, "covid_2020")
    assert covid.change == pytest.approx(275.91 / 424.47 - 1, abs=1e-6)
    assert {r.key for r in results} == {
        *(s.key for s in stress.HISTORICAL),
        *(s.key for s in stress.HYPOTHETICAL),
    }
    assert _only(results, "equities_down_30").change == pytest.approx(-0.30)


@pytest.mark.parametrize(
    ("answers", "tolerance"),
    [
        # the most cautious answers: worst year 0%, would sell everything, severe impact
        (
            {
                "portfolio_choice": "capital_stable",
                "loss_reaction": "sell_all",
                "loss_impact": "severe",
            },
            0.0,
        ),
        # the boldest: worst year −28% accepted, would buy more, a third lost would not matter
        (
            {"portfolio_choice": "high_growth", "loss_reaction": "buy_more", "loss_impact": "none"},
            0.33,
        ),
        # −28% accepted, but would sell everything at −20%: the refusal caps it at 19%
        (
            {"portfolio_choice": "high_growth", "loss_reaction": "sell_all", "loss_impact": "none"},
            0.19,
        ),
        (
            {"portfolio_choice": "growth", "loss_reaction": "sell_some", "loss_impact": "severe"},
            0.18,
        ),
        (
            {"portfolio_choice": "moderate", "loss_reaction": "hold", "loss_impact": "significant"},
            0.20,
        ),
    ],
)
def test_the_tolerance_is_read_from_the_answers_with_figures(answers, tolerance):
    found = stress.loss_tolerance(answers)

    assert found is not None
    assert found.loss == pytest.approx(tolerance)
    assert len(found.basis) == 3


def test_without_answers_with_figures_there_is_no_tolerance():
    assert stress.loss_tolerance({"time_horizon": "over_20"}) is None


def test_a_loss_exceeds_the_tolerance_only_when_larger_as_shown():
    tolerance = stress.Tolerance(loss=0.18, basis=())

    assert not stress.exceeds(0.184, tolerance)  # shown as 18%: not more than 18%
    assert stress.exceeds(0.186, tolerance)  # shown as 19%


def test_the_client_reads_the_worst_historical_scenario_and_the_one_year_var():
    figures = risk.RiskMeasures(
        start=date(2008, 1, 3),
        end=date(2023, 6, 9),
        observations=3917,
        volatility=0.12,
        max_drawdown=0.33,
        beta=0.6,
        horizons={
            "1y": risk.HorizonFigures(
                days=252,
                windows=3666,
                var_historical=0.139,
                es_historical=0.19,
                var_parametric=0.13,
                es_parametric=0.18,
            )
        },
    )
    results = [
        stress.ScenarioResult(
            "covid_2020", "2020 COVID crash", "historical", None, None, -0.215, -0.2, None
        ),
        stress.ScenarioResult(
            "crisis_2008", "2008 financial crisis", "historical", None, None, -0.3152, -0.3, None
        ),
        stress.ScenarioResult(
            "equities_down_30", "Equities −30%", "hypothetical", None, None, -0.4, None, None
        ),
    ]

    text = stress.risk_text(figures, results, value=Decimal("10000.00"))

    # 31.52% of $10,000 is $3,152; the one-year historical VaR 13.9% shows as 14%.
    assert text == (
        "In a year like 2008 this goal's portfolio could have fallen about 32%, about $3,152 of "
        "today's $10,000. Judged by 2008–2023, in about one year out of twenty it could lose "
        "14% or more."
    )


def test_a_portfolio_that_never_fell_is_said_to_have_held_its_value():
    results = [
        stress.ScenarioResult(
            "crisis_2008", "2008 financial crisis", "historical", None, None, -0.001, 0.01, None
        )
    ]

    text = stress.risk_text(None, results)

    assert text == "In a year like 2008 this goal's portfolio would have held its value."
