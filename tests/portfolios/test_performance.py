"""Performance maths: pure functions, so these run without Django (`-p no:django`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolios.performance import (
    PERIODS,
    DailyPoint,
    benchmark_index,
    period_returns,
    period_start,
    time_weighted_return,
    xirr,
)

D = Decimal


def _points(*rows: tuple[date, str, str]) -> list[DailyPoint]:
    return [DailyPoint(day=day, value=D(value), flow=D(flow)) for day, value, flow in rows]


def _daily(values: list[str], flows: list[str] | None = None) -> list[DailyPoint]:
    first = date(2024, 1, 1)
    flows = flows or ["0"] * len(values)
    return [
        DailyPoint(day=first + timedelta(days=i), value=D(v), flow=D(f))
        for i, (v, f) in enumerate(zip(values, flows, strict=True))
    ]


def _npv(flows: list[tuple[date, float]], rate: float) -> float:
    first = min(day for day, _ in flows)
    return sum(amount / (1 + rate) ** ((day - first).days / 365) for day, amount in flows)


# --- time-weighted return ---


def test_twr_without_flows_is_the_value_change() -> None:
    assert time_weighted_return(_daily(["100", "110", "99"])) == D("-0.010000")


def test_a_deposit_mid_way_is_not_counted_as_return() -> None:
    points = _daily(["100", "200", "220"], flows=["100", "100", "0"])

    assert time_weighted_return(points) == D("0.1")


def test_twr_and_mwr_diverge_when_money_arrives_before_a_loss() -> None:
    # given 100 that gains 50%, then a 1000 deposit just before a 20% fall
    points = _points(
        (date(2023, 1, 1), "100", "100"),
        (date(2023, 7, 1), "150", "0"),
        (date(2023, 7, 2), "1150", "1000"),
        (date(2023, 12, 31), "920", "0"),
    )
    flows = [(p.day, p.flow) for p in points]

    # when
    twr = time_weighted_return(points)
    mwr = xirr(flows, final_value=D("920"), final_day=date(2023, 12, 31))

    # then the manager's return is 1.5 * 0.8 - 1 but the investor lost money
    assert twr == D("0.2")
    assert mwr is not None
    assert mwr < 0


def test_twr_window_starts_at_the_last_point_on_or_before_start() -> None:
    points = _points(
        (date(2024, 1, 1), "100", "100"),
        (date(2024, 1, 5), "120", "0"),
        (date(2024, 1, 10), "132", "0"),
        (date(2024, 1, 15), "66", "0"),
    )

    # Jan 7 has no point, so Jan 5's 120 is the base; Jan 15 is past the end.
    assert time_weighted_return(points, start=date(2024, 1, 7), end=date(2024, 1, 12)) == D("0.1")
    assert time_weighted_return(points, start=date(2023, 6, 1)) == D("-0.34")


def test_the_base_points_own_flow_is_excluded_from_the_window() -> None:
    points = _daily(["100", "300", "330"], flows=["100", "200", "0"])

    assert time_weighted_return(points, start=date(2024, 1, 2)) == D("0.1")


def test_twr_is_none_with_fewer_than_two_points() -> None:
    assert time_weighted_return([]) is None
    assert time_weighted_return(_daily(["100"])) is None
    assert time_weighted_return(_daily(["100", "110"]), start=date(2024, 1, 2)) is None


def test_an_emptied_then_refunded_account_earns_nothing_while_empty() -> None:
    # given +10%, a full withdrawal, a day at 0, a new deposit, then +10%
    points = _daily(
        ["100", "110", "0", "0", "50", "55"],
        flows=["100", "0", "-110", "0", "50", "0"],
    )

    assert time_weighted_return(points) == D("0.21")


def test_closing_the_account_after_an_up_day_keeps_that_days_gain() -> None:
    # Withdrawing 110 from a 100 close is only possible at the close, after a 10% rise.
    points = _daily(["100", "0"], flows=["100", "-110"])

    assert time_weighted_return(points) == D("0.1")


def test_unordered_points_are_sorted_and_duplicate_days_rejected() -> None:
    points = _daily(["100", "110", "121"])

    assert time_weighted_return(list(reversed(points))) == D("0.21")
    with pytest.raises(ValueError, match="Two valuation points"):
        time_weighted_return([points[0], points[0]])


@given(
    st.lists(
        st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
        min_size=2,
        max_size=40,
    )
)
def test_without_flows_twr_equals_last_over_first_minus_one(values: list[Decimal]) -> None:
    points = _daily([str(v) for v in values])

    twr = time_weighted_return(points)

    # TWR is reported at 6 dp, so allow half a unit of rounding on top of 1e-9 of linking error.
    assert twr is not None
    assert abs(twr - (values[-1] / values[0] - 1)) <= D("0.0000005") + D("1e-9")


# --- XIRR ---


def test_xirr_of_one_year_at_ten_percent() -> None:
    rate = xirr([(date(2023, 1, 1), D("1000"))], final_value=D("1100"), final_day=date(2024, 1, 1))

    assert rate is not None
    assert abs(rate - D("0.1")) <= D("1e-6")


def test_xirr_matches_the_root_of_the_npv_polynomial() -> None:
    # given flows a whole number of 365-day years apart, NPV is a polynomial in x = 1 / (1 + r)
    flows = [(date(2021, 1, 1), D("1000")), (date(2022, 1, 1), D("500"))]
    final = D("1800")

    # when
    rate = xirr(flows, final_value=final, final_day=date(2023, 1, 1))

    # then -1000 - 500 x + 1800 x^2 = 0 (coefficients highest power first)
    roots = np.roots([1800.0, -500.0, -1000.0])
    x = max(root.real for root in roots if abs(root.imag) < 1e-12 and root.real > 0)
    assert rate is not None
    assert abs(float(rate) - (1 / x - 1)) <= 1e-6


def test_xirr_zeroes_the_npv_of_irregular_flows() -> None:
    flows = [
        (date(2022, 3, 3), D("5000")),
        (date(2022, 8, 17), D("1200")),
        (date(2023, 1, 9), D("-800")),
        (date(2023, 6, 30), D("2500")),
    ]
    final_value, final_day = D("8700"), date(2024, 2, 29)

    rate = xirr(flows, final_value=final_value, final_day=final_day)

    investor = [(day, -float(amount)) for day, amount in flows]
    investor.append((final_day, float(final_value)))
    assert rate is not None
    assert abs(_npv(investor, float(rate))) < 0.05  # a 1e-6 rate step moves this NPV by ~0.01


def test_xirr_is_none_without_a_sign_change_or_a_span() -> None:
    day = date(2023, 1, 1)

    assert xirr([(day, D("100"))], final_value=D("0"), final_day=date(2024, 1, 1)) is None
    assert xirr([(day, D("-100"))], final_value=D("50"), final_day=date(2024, 1, 1)) is None
    assert xirr([(day, D("100"))], final_value=D("110"), final_day=day) is None
    assert xirr([], final_value=D("110"), final_day=day) is None


def test_xirr_is_none_when_the_rate_lies_outside_the_bracket() -> None:
    # Doubling in a day annualises to about 2^365, far above +10,000%.
    rate = xirr([(date(2023, 1, 1), D("100"))], final_value=D("200"), final_day=date(2023, 1, 2))

    assert rate is None


# --- periods ---


@pytest.mark.parametrize(
    ("period", "end", "expected"),
    [
        ("1M", date(2023, 3, 31), date(2023, 2, 28)),
        ("1M", date(2024, 3, 31), date(2024, 2, 29)),
        ("1M", date(2024, 1, 15), date(2023, 12, 15)),
        ("3M", date(2024, 5, 31), date(2024, 2, 29)),
        ("1Y", date(2024, 2, 29), date(2023, 2, 28)),
        ("YTD", date(2024, 5, 10), date(2023, 12, 31)),
        ("ITD", date(2024, 5, 10), date(2020, 1, 1)),
    ],
)
def test_period_start_goes_back_by_calendar_months(period: str, end: date, expected: date) -> None:
    assert period_start(period, end, date(2020, 1, 1)) == expected


def test_period_start_is_never_before_inception() -> None:
    inception = date(2024, 3, 20)

    assert period_start("1Y", date(2024, 4, 10), inception) == inception
    assert period_start("YTD", date(2024, 4, 10), inception) == inception


def test_period_start_rejects_an_unknown_period() -> None:
    with pytest.raises(ValueError, match="Unknown period"):
        period_start("5Y", date(2024, 4, 10), date(2020, 1, 1))


def test_period_returns_pick_each_window_and_its_benchmark_return() -> None:
    # given +10% between consecutive points except a flat day with a 100 deposit
    points = _points(
        (date(2023, 3, 15), "100", "100"),
        (date(2023, 12, 15), "110", "0"),
        (date(2023, 12, 31), "121", "0"),
        (date(2024, 2, 15), "133.1", "0"),
        (date(2024, 3, 1), "233.1", "100"),
        (date(2024, 3, 15), "256.41", "0"),
    )
    levels = {
        date(2023, 3, 15): D("100"),
        date(2023, 12, 29): D("105"),
        date(2024, 2, 14): D("110"),
        date(2024, 3, 14): D("121"),
    }

    # when
    results = {r.period: r for r in period_returns(points, benchmark_levels=levels)}

    # then
    assert list(results) == list(PERIODS)
    assert {r.end for r in results.values()} == {date(2024, 3, 15)}
    assert results["1M"].start == date(2024, 2, 15)
    assert results["1M"].twr == D("0.1")
    assert results["3M"].twr == D("0.331")
    assert results["YTD"].start == date(2023, 12, 31)
    assert results["YTD"].twr == D("0.21")
    assert results["1Y"].start == results["ITD"].start == date(2023, 3, 15)
    assert results["1Y"].twr == results["ITD"].twr == D("0.4641")
    assert results["1M"].benchmark == D("0.1")
    assert results["YTD"].benchmark == D("0.152381")  # 121 / 105 - 1, levels carried forward
    assert results["ITD"].benchmark == D("0.21")


def test_period_mwr_treats_the_starting_value_as_a_deposit() -> None:
    points = _points(
        (date(2023, 3, 15), "100", "100"),
        (date(2024, 2, 15), "133.1", "0"),
        (date(2024, 3, 1), "233.1", "100"),
        (date(2024, 3, 15), "256.41", "0"),
    )

    one_month = period_returns(points)[0]

    expected = xirr(
        [(date(2024, 2, 15), D("133.1")), (date(2024, 3, 1), D("100"))],
        final_value=D("256.41"),
        final_day=date(2024, 3, 15),
    )
    assert one_month.period == "1M"
    assert one_month.mwr == expected
    assert one_month.benchmark is None


def test_period_returns_of_a_short_history() -> None:
    assert period_returns([]) == []

    (single,) = {(r.twr, r.mwr) for r in period_returns(_daily(["100"], flows=["100"]))}
    assert single == (None, None)


# --- benchmark index ---


def test_benchmark_index_rebalances_daily_and_carries_missing_prices() -> None:
    # given B has no price on day 2, so it is carried from day 1 (0% that day)
    d1, d2, d3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
    prices = {
        "A": {d1: D("100"), d2: D("110"), d3: D("99")},
        "B": {d1: D("50"), d3: D("55")},
    }

    # when
    index = benchmark_index(prices, {"A": D("0.6"), "B": D("0.4")}, start=d1, end=d3)

    # then day 2: 0.6 * 10% = +6%; day 3: 0.6 * -10% + 0.4 * +10% = -2%
    assert index == {d1: D("100"), d2: D("106"), d3: D("103.88")}


def test_benchmark_index_waits_for_every_weighted_ticker() -> None:
    d0, d1, d2, d3 = (date(2024, 1, day) for day in (1, 2, 3, 4))
    prices = {
        "A": {d0: D("90"), d1: D("100"), d2: D("110"), d3: D("121")},
        "B": {d2: D("50"), d3: D("50")},
        "UNUSED": {d3: D("1")},
    }

    index = benchmark_index(
        prices, {"A": D("0.5"), "B": D("0.5"), "UNUSED": D(0)}, start=d1, end=d3
    )

    assert index == {d2: D("100"), d3: D("105")}


def test_benchmark_index_carries_a_price_from_before_start() -> None:
    friday, monday, tuesday = date(2024, 1, 5), date(2024, 1, 8), date(2024, 1, 9)
    prices = {"A": {friday: D("100"), tuesday: D("102")}, "B": {monday: D("10"), tuesday: D("10")}}

    index = benchmark_index(prices, {"A": D("0.5"), "B": D("0.5")}, start=monday, end=tuesday)

    assert index == {monday: D("100"), tuesday: D("101")}
