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
    blended_index,
    modified_dietz,
    period_returns,
    period_start,
    policy_index,
    time_weighted_return,
    value_history,
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

    annual = xirr(
        [(date(2024, 2, 15), D("133.1")), (date(2024, 3, 1), D("100"))],
        final_value=D("256.41"),
        final_day=date(2024, 3, 15),
    )
    # Under a year the MWR is the same root stated for the period's 29 days, not annualised.
    assert annual is not None
    assert one_month.period == "1M"
    assert not one_month.mwr_annualised
    assert one_month.mwr is not None
    assert abs(float(one_month.mwr) - ((1 + float(annual)) ** (29 / 365) - 1)) <= 1e-6
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


# --- GIPS presentation: what issue 12 saw ---
# References: GIPS 2020 Standards for Firms (returns for periods under one year must not be
# annualised; net-of-fee returns have the advisory fee deducted, i.e. the fee is a drag, not an
# external flow); CFA Institute, "GIPS Guidance Statement on Calculation Methodology" and
# C. Bacon, "Practical Portfolio Performance Measurement and Attribution" (2nd ed., 2008), ch. 2,
# for the true (daily chain-linked) time-weighted return and the Modified Dietz formula.


def test_two_percent_in_a_month_is_two_percent_not_twenty_six() -> None:
    # given 100 at the close of Jan 31 and 102 a month later, no flows (issue 12: 1M read +26%)
    points = _points((date(2024, 1, 31), "100", "100"), (date(2024, 2, 29), "102", "0"))

    one_month = {r.period: r for r in period_returns(points)}["1M"]

    assert one_month.twr == D("0.02")
    assert one_month.mwr == D("0.02")  # the period's own rate, cumulative
    assert one_month.mwr_annualised is False


def test_the_mwr_is_annualised_and_labelled_so_from_a_year_on() -> None:
    # given 1000 growing to 1210 over two 365-day years, no flows
    points = _points(
        (date(2021, 1, 1), "1000", "1000"),
        (date(2022, 12, 30), "1200", "0"),
        (date(2023, 1, 1), "1210", "0"),
    )

    results = {r.period: r for r in period_returns(points)}

    assert results["ITD"].twr == D("0.21")  # cumulative, as always
    assert results["ITD"].mwr_annualised is True
    assert abs(results["ITD"].mwr - D("0.1")) <= D("1e-6")  # 10% a year
    assert results["1Y"].mwr_annualised is True
    assert results["YTD"].mwr_annualised is False


def test_period_net_flows_and_market_gain_explain_the_change_in_value() -> None:
    # given 99,000 deposited, then 45,000 more, ending at 138,000 (issue 12: "All" read -4.3%
    # in red over a chart climbing from 99K to 138K): since inception the start value is 0,
    # net deposits are 144,000 and the market took 6,000 away
    points = _points(
        (date(2023, 1, 3), "99000", "99000"),
        (date(2023, 6, 1), "120000", "30000"),
        (date(2023, 12, 1), "138000", "15000"),
    )

    itd = {r.period: r for r in period_returns(points)}["ITD"]

    assert (itd.start_value, itd.end_value) == (D("0"), D("138000"))
    assert itd.net_flows == D("144000")
    assert itd.market_gain == D("-6000")
    assert itd.market_gain == itd.end_value - itd.start_value - itd.net_flows


def test_the_history_carries_cumulative_net_deposits() -> None:
    points = _daily(["100", "160", "150", "90"], flows=["100", "50", "0", "-60"])

    history = value_history(points)

    assert [h.net_deposits for h in history] == [D("100"), D("150"), D("150"), D("90")]
    assert [h.value for h in history] == [p.value for p in points]


# Hand-worked TWR cases; flows arrive at the close, after the day's move, so
# r_t = (V_t - F_t) / V_{t-1} - 1, chained (Bacon 2008, eq. 2.26, true time-weighted return).


def test_golden_twr_with_flows_on_the_first_and_last_day() -> None:
    # day 0: 1,000 deposited (the base; its own flow is not in the window)
    # day 1: 1,500 deposited at the close after a 10% day: (1,600 - 500) / 1,000 = 1.10
    # day 2: 500 deposited at the close of the last day after a 5% day:
    #        (2,180 - 500) / 1,600 = 1.05
    # TWR = 1.10 x 1.05 - 1 = 0.155
    # since inception the first deposit is a flow too: net flows = 1,000 + 500 + 500 = 2,000
    # from a start value of 0; market gain = 2,180 - 0 - 2,000 = 180
    points = _daily(["1000", "1600", "2180"], flows=["1000", "500", "500"])

    itd = period_returns(points)[-1]

    assert time_weighted_return(points) == D("0.155")
    assert itd.twr == D("0.155")
    assert (itd.start_value, itd.net_flows, itd.market_gain) == (D("0"), D("2000"), D("180"))


def test_golden_twr_of_a_withdrawal_to_zero() -> None:
    # day 0: 1,000 deposited; day 1: 1,050 (+5%)
    # day 2: +4.7619% to 1,100, all of it withdrawn at the close: (0 - -1,100) / 1,050
    # day 3: empty, earns nothing. TWR = 1.05 x (1,100 / 1,050) - 1 = 0.10
    # net flows = 1,000 - 1,100 = -100; market gain = 0 - 0 - (-100) = 100
    points = _daily(["1000", "1050", "0", "0"], flows=["1000", "0", "-1100", "0"])

    itd = period_returns(points)[-1]

    assert itd.twr == D("0.1")
    assert (itd.net_flows, itd.market_gain) == (D("-100"), D("100"))
    # Modified Dietz weighs the withdrawal by the 1 of 3 days it was still "out":
    # 100 / (1,000 - 1,100 x 1/3) = 0.157895 - an empty account's days distort it; the daily
    # chain does not, which is why Meridian reports the chained TWR.
    assert modified_dietz(points) == D("0.157895")


def test_a_period_after_inception_starts_from_the_previous_close() -> None:
    # 1M of a longer history: the base is Feb 14's close (its own 100 deposit is before the
    # period); a 50 deposit in the period; market gain = 180 - 110 - 50 = 20
    points = _points(
        (date(2024, 1, 2), "100", "100"),
        (date(2024, 2, 14), "110", "0"),
        (date(2024, 3, 1), "170", "50"),
        (date(2024, 3, 14), "180", "0"),
    )

    one_month = period_returns(points)[0]

    assert (one_month.start_value, one_month.net_flows) == (D("110"), D("50"))
    assert one_month.market_gain == D("20")


def test_golden_a_fee_is_a_drag_on_the_return_not_a_flow() -> None:
    # 12,000 in cash (earning 0); a 2.50 advisory fee is taken on day 1 (0.25% a year / 12 on
    # 12,000). GIPS net-of-fee: the fee lowers the return and market gain; it is no withdrawal.
    # TWR = 11,997.50 / 12,000 - 1 = -0.000208 (6 dp); net flows 12,000 (the deposit, no
    # fee); market gain = 11,997.50 - 0 - 12,000 = -2.50
    points = _daily(["12000", "11997.50"], flows=["12000", "0"])

    itd = period_returns(points)[-1]

    assert itd.twr == D("-0.000208")
    assert (itd.net_flows, itd.market_gain) == (D("12000"), D("-2.50"))


def test_golden_modified_dietz_against_the_daily_twr() -> None:
    # BMV 1,000 on day 0; on day 10 the value is 1,050 before a 500 deposit at the close (so
    # 1,550 after); EMV 1,600 on day 30. CD = 30; the deposit is invested 20 of 30 days.
    # Modified Dietz = (1,600 - 1,000 - 500) / (1,000 + 500 x 20/30) = 100 / 1,333.33 = 0.075
    # true TWR = (1,050 / 1,000) x (1,600 / 1,550) - 1 = 0.083871
    # They differ because the deposit came after a gain: MD weights by time, TWR by value.
    points = _points(
        (date(2024, 1, 1), "1000", "1000"),
        (date(2024, 1, 11), "1550", "500"),
        (date(2024, 1, 31), "1600", "0"),
    )

    assert modified_dietz(points) == D("0.075")
    assert time_weighted_return(points) == D("0.083871")


def test_golden_modified_dietz_with_flows_on_the_first_and_last_day() -> None:
    # BMV 1,000; 300 in at the close of day 1 (weight 29/30), 200 out at the close of day 30
    # (weight 0); EMV 1,150. MD = (1,150 - 1,000 - 100) / (1,000 + 300 x 29/30) = 50 / 1,290
    points = _points(
        (date(2024, 1, 1), "1000", "1000"),
        (date(2024, 1, 2), "1300", "300"),
        (date(2024, 1, 31), "1150", "-200"),
    )

    assert modified_dietz(points) == (D(50) / D(1290)).quantize(D("0.000001"))


# --- XIRR against pyxirr (an independent, maintained implementation, Actual/365 as ours) ---

_PYXIRR_CASES = [
    # one deposit, one year
    [(date(2023, 1, 1), "1000")],
    # irregular deposits and a withdrawal, ending on Feb 29
    [
        (date(2022, 3, 3), "5000"),
        (date(2022, 8, 17), "1200"),
        (date(2023, 1, 9), "-800"),
        (date(2023, 6, 30), "2500"),
    ],
    # monthly deposits of 500 for a year
    [(date(2023, month, 15), "500") for month in range(1, 13)],
    # a loss: money in before a fall
    [(date(2023, 1, 1), "100"), (date(2023, 7, 2), "1000")],
]
_PYXIRR_FINALS = [
    ("1100", date(2024, 1, 1)),
    ("8700", date(2024, 2, 29)),
    ("6400", date(2024, 1, 31)),
    ("920", date(2023, 12, 31)),
]


@pytest.mark.parametrize(("flows", "final"), list(zip(_PYXIRR_CASES, _PYXIRR_FINALS, strict=True)))
def test_golden_xirr_agrees_with_pyxirr(
    flows: list[tuple[date, str]], final: tuple[str, date]
) -> None:
    pyxirr = pytest.importorskip("pyxirr")
    final_value, final_day = D(final[0]), final[1]

    rate = xirr([(d, D(a)) for d, a in flows], final_value=final_value, final_day=final_day)

    # pyxirr takes the investor's side: money paid in is negative, money received positive.
    days = [d for d, _ in flows] + [final_day]
    amounts = [-float(a) for _, a in flows] + [float(final_value)]
    expected = pyxirr.xirr(days, amounts)
    assert rate is not None
    assert abs(float(rate) - expected) <= 1e-6


def test_a_short_periods_mwr_is_pyxirrs_rate_over_the_period() -> None:
    pyxirr = pytest.importorskip("pyxirr")
    points = _points(
        (date(2024, 2, 15), "10000", "10000"),
        (date(2024, 3, 1), "12100", "2000"),
        (date(2024, 3, 15), "12300", "0"),
    )

    one_month = period_returns(points)[0]

    annual = pyxirr.xirr(
        [date(2024, 2, 15), date(2024, 3, 1), date(2024, 3, 15)], [-10000.0, -2000.0, 12300.0]
    )
    assert one_month.mwr is not None
    assert one_month.mwr_annualised is False
    assert abs(float(one_month.mwr) - ((1 + annual) ** (29 / 365) - 1)) <= 1e-6


# --- policy benchmark ---


def test_policy_index_rebalances_at_month_ends_and_follows_the_glide_path() -> None:
    # given A and B; 50/50 in January, 20/80 from February (the glide path derisked)
    d1, d2, d3, d4 = date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 2)
    prices = {
        "A": {d1: D("10"), d2: D("20"), d3: D("20"), d4: D("40")},
        "B": {d1: D("10"), d2: D("10"), d3: D("11"), d4: D("11")},
    }

    def weights_on(day: date) -> dict[str, Decimal]:
        return {"A": D("0.5"), "B": D("0.5")} if day.month == 1 else {"A": D("0.2"), "B": D("0.8")}

    index = policy_index(prices, weights_on, start=d1, end=d4)

    # Jan 31: units 5 A + 5 B (no daily rebalance) -> 5 x 20 + 5 x 10 = 150
    # Feb 1: reset at the Jan 31 close to 20/80 of 150: 1.5 A, 12 B -> 30 + 132 = 162
    # Feb 2: 1.5 x 40 + 12 x 11 = 192
    assert index == {d1: D("100"), d2: D("150"), d3: D("162"), d4: D("192")}


def test_blended_index_weights_each_policy_by_its_accounts_value() -> None:
    d1, d2, d3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
    growth = {d1: D("100"), d2: D("110"), d3: D("121")}  # +10% a day
    flat = {d1: D("100"), d2: D("100"), d3: D("100")}
    values = [{d1: D("300"), d2: D("330")}, {d1: D("100"), d2: D("300")}]

    blend = blended_index([growth, flat], values)

    # day 2: (300 x 10% + 100 x 0%) / 400 = 7.5%; day 3: (330 x 10%) / 630 = 5.238095%
    assert blend[d2] == D("107.5")
    assert abs(blend[d3] - D("107.5") * (1 + D(33) / D(630))) < D("1e-20")
