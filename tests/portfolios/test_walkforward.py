"""The walk-forward backtest (portfolios.walkforward): drift-band holding, the figures and the
benchmark on hand-made paths worked by hand, and the walk-forward on the shipped history."""

from pathlib import Path

import pandas as pd
import pytest

from portfolios import walkforward
from portfolios.allocation import assumptions_estimate

DATA = Path(__file__).resolve().parents[2] / "portfolios" / "data" / "total_returns.csv"
TWO_FUNDS = {"A": "us_equity", "B": "us_aggregate_bonds"}


def frame(columns: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.DatetimeIndex(dates))


def test_the_drift_band_trades_back_to_target_only_past_three_percent():
    # given a 50/50 stock/bond pair; the stock moves +20%, -25%, +8%, +10%, bonds stay flat
    prices = frame(
        {"A": [100, 120, 90, 97.2, 106.92], "B": [100, 100, 100, 100, 100]},
        ["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09", "2020-01-10"],
    )
    start = prices.index[0]

    # when
    held = walkforward.drift_band_hold(prices, {start: {"A": 0.5, "B": 0.5}}, universe=TWO_FUNDS)

    # then, by hand:
    # day 1: 0.5*1.2 + 0.5 = 1.1; A is 0.6/1.1 = 54.55%: drift 4.55% > 3%, back to 50/50
    # day 2: 1.1 * (0.5*0.75 + 0.5) = 0.9625; A 0.375/0.875 = 42.86%: drift 7.14%, back
    # day 3: 0.9625 * 1.04 = 1.001; A 0.54/1.04 = 51.92%: drift 1.92%, held as it is
    # day 4: A 0.519231*1.1 = 0.571154, total 1.051923: 1.001 * 1.051923 = 1.052975;
    #        A 0.571154/1.051923 = 54.30%: drift 4.30%, back to 50/50
    assert list(held.values.round(6)) == [1.0, 1.1, 0.9625, 1.001, 1.052975]
    assert [d.day for d in held.rebalances] == [7, 8, 10]
    # one-way turnover: the drift traded each time, 0.0454545 + 0.0714286 + 0.0429616
    assert held.turnover == pytest.approx(0.1598447, abs=1e-6)
    assert held.growth_share == pytest.approx(0.5)


def test_a_new_target_trades_only_when_its_class_drift_passes_the_threshold():
    # given flat prices and a stock fund A, two Treasury funds B and C
    universe = {"A": "us_equity", "B": "treasuries", "C": "treasuries"}
    dates = ["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09", "2020-01-10"]
    prices = frame({"A": [100.0] * 5, "B": [50.0] * 5, "C": [80.0] * 5}, dates)
    days = prices.index

    # when day 2 swaps B for C (same class) and day 3 moves to 80/20
    held = walkforward.drift_band_hold(
        prices,
        {
            days[0]: {"A": 0.5, "B": 0.5},
            days[2]: {"A": 0.5, "C": 0.5},
            days[3]: {"A": 0.8, "C": 0.2},
        },
        universe=universe,
    )

    # then the swap is no class drift (as for a live account): only day 3 trades,
    # 1/2 * (|0.5-0.8| + |0.5-0| + |0-0.2|) = 0.5 of the value
    assert held.rebalances == (days[3],)
    assert held.turnover == pytest.approx(0.5)
    # the target's stock share, day-weighted: (0.5*3 + 0.8*2) / 5
    assert held.growth_share == pytest.approx(0.62)


def test_the_benchmark_is_traded_back_to_its_mix_at_each_month_end():
    prices = frame(
        {"VTI": [100, 110, 121, 133.1], "AGG": [100, 100, 100, 100]},
        ["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04"],
    )

    values = walkforward.fixed_mix_hold(prices, {"VTI": 0.5, "AGG": 0.5})

    # 31 Jan: 0.5*1.1 + 0.5 = 1.05, then back to 50/50 (the month's last close);
    # 3 and 4 Feb: no trade, 1.05 * (0.5*1.21 + 0.5) = 1.16025
    assert list(values.round(6)) == [1.0, 1.05, 1.1025, 1.16025]


def test_the_figures_match_bacons_definitions_worked_by_hand():
    # given values 1, 1.1, 0.99, 1.089 over 366 calendar days (returns +10%, -10%, +10%),
    # a benchmark 1, 1.05, 1.05, 1.1025 and a risk-free 1, 1, 1, 1.01
    dates = ["2020-01-01", "2020-05-01", "2020-09-01", "2021-01-01"]
    values = pd.Series([1.0, 1.1, 0.99, 1.089], index=pd.DatetimeIndex(dates))
    holding = walkforward.Holding(values=values, rebalances=(), turnover=0.2, growth_share=0.6)
    benchmark = pd.Series([1.0, 1.05, 1.05, 1.1025], index=values.index)
    risk_free = pd.Series([1.0, 1.0, 1.0, 1.01], index=values.index)

    figures = walkforward.figures_compute(holding, risk_free=risk_free, benchmark=benchmark)

    # annual return 1.089^(365.25/366) - 1 = 8.8810%; volatility: std(0.1, -0.1, 0.1) =
    # 0.115470 (ddof 1) * sqrt(252) = 1.833030; drawdown 1 - 0.99/1.1 = 10%
    assert figures.annual_return == pytest.approx(0.0888098, abs=1e-6)
    assert figures.volatility == pytest.approx(1.833030, abs=1e-6)
    assert figures.max_drawdown == pytest.approx(0.10)
    # Sharpe (Bacon 4.1): (8.8810% - (1.01^(365.25/366) - 1 = 0.99794%)) / 1.833030
    assert figures.sharpe == pytest.approx(0.0430055, abs=1e-6)
    # tracking error: std(0.05, -0.1, 0.05) = 0.0866025 * sqrt(252) = 1.374773
    assert figures.tracking_error == pytest.approx(1.374773, abs=1e-6)
    # benchmark 1.1025^(365.25/366) - 1 = 10.2280%: difference -1.3470% a year
    assert figures.return_difference == pytest.approx(-0.0134698, abs=1e-6)
    assert figures.turnover == pytest.approx(0.2 * 365.25 / 366)
    assert figures.worst_12_months is None  # under twelve months


def test_the_worst_twelve_months_reads_month_ends():
    # 13 month ends, Jan 2020 to Jan 2021: one 12-month window, 100 -> 94.5
    dates = pd.bdate_range("2020-01-01", "2021-01-31", freq="BME")
    values = pd.Series([100, 110, 99, *([105] * 9), 94.5], index=dates, dtype=float)

    assert walkforward.worst_12_months(values) == pytest.approx(-0.055)
    assert walkforward.max_drawdown(values) == pytest.approx(1 - 94.5 / 110)
    # 364 days: 0.945^(365.25/364) - 1
    assert walkforward.annual_return(values) == pytest.approx(-0.0551836, abs=1e-6)


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return pd.read_csv(DATA, index_col="date", parse_dates=["date"])


@pytest.fixture(scope="module")
def walk(shipped) -> tuple[walkforward.WalkForward, list[pd.Timestamp]]:
    seen: list[pd.Timestamp] = []

    def estimate(window: pd.DataFrame):  # production's estimator; records what it was shown
        seen.append(window.index[-1])
        return assumptions_estimate(window, lookback_years=15)

    return walkforward.walk_forward_run(shipped, estimate=estimate), seen


def test_on_the_shipped_history_volatility_rises_with_every_level_out_of_sample(walk):
    result, _ = walk
    vols = [result.levels[level].volatility for level in range(1, 11)]

    assert vols == sorted(vols)
    assert vols[0] < 0.03 < 0.12 < vols[-1]
    assert result.start == "2013-01-02"
    assert result.end == "2023-06-09"


def test_each_rebuild_sees_only_the_prices_known_at_its_close(walk):
    result, seen = walk

    assert [d.date().isoformat() for d in seen] == list(result.rebuilds)
    assert result.rebuilds[0] == "2013-01-02"
    assert result.rebuilds[-1] == "2023-01-03"
    assert len(result.rebuilds) == 11  # yearly


def test_in_sample_figures_hold_the_given_weights_from_the_first_close(shipped):
    weights = {1: {"AGG": 0.99, "BIL": 0.01}, 2: {"VTI": 0.6, "AGG": 0.39, "BIL": 0.01}}

    figures = walkforward.in_sample_run(shipped, weights)

    assert figures[1].start == "2008-01-02"
    assert figures[1].volatility < figures[2].volatility
    assert figures[2].growth_share == pytest.approx(0.6)


# --- The extended run: the older history (portfolios/data/early) joined before the shipped one


EARLY = DATA.parent / "early" / "total_returns.csv"


def test_an_older_history_joins_only_where_it_meets_the_shipped_one_to_a_cent():
    dates = ["2020-01-06", "2020-01-07", "2020-01-08"]
    early = frame({"A": [90.0, 100.0], "B": [50.0, 51.0]}, dates[:2])
    later = frame({"A": [100.0, 101.0], "B": [51.0, 52.0], "C": [1.0, 2.0]}, dates[1:])

    joined = walkforward.history_extend(early, later)
    off_by_two_cents = walkforward.history_extend(
        frame({"A": [90.0, 100.02], "B": [50.0, 51.0]}, dates[:2]), later
    )
    not_meeting = walkforward.history_extend(early.iloc[:1], later)
    a_fund_missing_later = walkforward.history_extend(early, later[["A", "C"]])

    assert joined is not None
    assert list(joined["A"]) == [90.0, 100.0, 101.0]  # the overlap row once, the later's
    assert joined["C"].isna().tolist() == [True, False, False]
    assert off_by_two_cents is None
    assert not_meeting is None
    assert a_fund_missing_later is None


def test_the_shipped_older_history_joins_and_its_bil_proxy_accrues_the_t_bill_rate(shipped):
    early = pd.read_csv(EARLY, index_col="date", parse_dates=["date"])

    joined = walkforward.history_extend(early, shipped)

    assert joined is not None
    assert joined.index[0] == pd.Timestamp("2004-11-18")  # GLD's first close
    assert joined.index.is_unique
    assert joined.index.is_monotonic_increasing
    # BIL's proxy on 2007-05-30 (its launch), by hand: FRED DGS3MO that day was 4.85%, so
    # rf_daily = 4.85 / 100 / 252 = 0.000192460; BIL's first level 100 / (1 + rf) = 99.9808
    assert early.loc["2007-05-29", "BIL"] == pytest.approx(100 / (1 + 4.85 / 100 / 252), abs=1e-4)
    assert early.loc["2007-05-30", "BIL"] == 100.0
    # and the copied funds are the shipped file's bases: the overlap row is the same
    assert (early.loc["2008-01-02"] == shipped.loc["2008-01-02", early.columns]).all()


def test_the_extended_walk_forward_holds_2008_out_of_sample(shipped, walk):
    early = pd.read_csv(EARLY, index_col="date", parse_dates=["date"])
    joined = walkforward.history_extend(early, shipped)
    assert joined is not None

    extended = walkforward.walk_forward_run(joined, min_history_years=3)

    base, _ = walk
    assert extended.start == "2007-11-19"  # three years after 2004-11-18, before the crash
    assert extended.rebuilds[:2] == ("2007-11-19", "2008-11-18")
    vols = [extended.levels[level].volatility for level in range(1, 11)]
    assert vols == sorted(vols)
    # the crash is in it: level 10 falls further than in the run from 2013 (34%)
    assert extended.levels[10].max_drawdown > base.levels[10].max_drawdown + 0.05
    assert extended.levels[10].worst_12_months < -0.3
