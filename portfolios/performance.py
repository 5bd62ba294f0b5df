"""Account performance maths: time-weighted and money-weighted returns, period windows, benchmarks.

Pure functions on plain dates and Decimals (no Django, no numpy at import), so selectors and tasks
can feed them a valuation history and store or render what they return.

Conventions:
- A `DailyPoint` holds the close value *after* that day's external flow (deposit +, withdrawal -).
  Advisory fees are not external flows: they are costs, so returns are net of fees.
- TWR treats a flow as arriving at the close of its day, after that day's market move — Meridian
  fills deposits and withdrawals at the close: r_t = (value_t - flow_t) / value_{t-1} - 1,
  chained over the window.
- MWR is XIRR on an Actual/365 day count (as spreadsheet XIRR), from the investor's side.
- Returns follow GIPS presentation: TWR is always cumulative over its period; a period shorter
  than a year is never annualised, so its MWR is the XIRR rate de-annualised to the period,
  (1 + r) ** (days / 365) - 1, and `mwr_annualised` is False; from 365 days on the MWR is the
  annual XIRR rate and `mwr_annualised` is True. Returns are Decimals rounded half-up to 6 dp.
- Each period also carries its net flows (deposits - withdrawals within the period: after the
  base's close, or from inception including the first deposit) and market gain = end value -
  start value - net flows. The advisory fee is not a flow (GIPS: net-of-fee returns take the
  fee as a drag), so it lowers market gain.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

RETURN_PLACES = Decimal("0.000001")
# Linking hundreds of daily factors loses nothing that survives the 6 dp rounding at 28 digits.
DECIMAL_PRECISION = 28
DAYS_PER_YEAR = 365
# -99.99% to +10,000% a year: wide enough for any real account, and (1 + r) stays positive.
XIRR_BRACKET = (-0.9999, 100.0)
INDEX_BASE = Decimal(100)

PERIODS = ("1M", "3M", "YTD", "1Y", "ITD")
# GIPS: "returns for periods of less than one year must not be annualized".
ANNUALISE_FROM_DAYS = 365
_PERIOD_MONTHS = {"1M": 1, "3M": 3, "1Y": 12}


@dataclass(frozen=True)
class DailyPoint:
    day: date
    value: Decimal  # close value, after this day's external flow
    flow: Decimal  # external flow this day: deposit +, withdrawal -, 0 if none


@dataclass(frozen=True)
class PeriodReturn:
    period: str
    start: date  # the nominal period start; the TWR base is the last point on or before it
    end: date
    twr: Decimal | None  # cumulative over the period, never annualised
    mwr: Decimal | None  # cumulative under a year, annualised from a year on (mwr_annualised)
    benchmark: Decimal | None  # the 60/40 reference, cumulative
    mwr_annualised: bool = False
    # The base point's value; from inception, its value before its own (first) flow.
    start_value: Decimal = Decimal("0.00")
    end_value: Decimal = Decimal("0.00")
    net_flows: Decimal = Decimal("0.00")  # deposits - withdrawals in the period; fees excluded
    market_gain: Decimal = Decimal("0.00")  # end_value - start_value - net_flows
    policy_benchmark: Decimal | None = None  # the account's own policy, cumulative


@dataclass(frozen=True)
class ValuePoint:
    """A day of the history as the chart draws it: value and cumulative net deposits."""

    day: date
    value: Decimal
    flow: Decimal
    net_deposits: Decimal  # deposits - withdrawals from the first point through this day


def _rounded(value: Decimal) -> Decimal:
    """Round a return to the reporting precision (6 dp, half-up)."""
    return value.quantize(RETURN_PLACES, rounding=ROUND_HALF_UP)


def _ordered(points: Sequence[DailyPoint]) -> list[DailyPoint]:
    """Return the points by day; two points on one day would make the history ambiguous."""
    ordered = sorted(points, key=lambda point: point.day)
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous.day == current.day:
            raise ValueError(f"Two valuation points on {current.day.isoformat()}.")
    return ordered


def _window(points: Sequence[DailyPoint], start: date | None, end: date | None) -> list[DailyPoint]:
    """Points from the base (last point on or before `start`, else the first) through `end`."""
    ordered = _ordered(points)
    if end is not None:
        ordered = [point for point in ordered if point.day <= end]
    if start is None:
        return ordered
    base = 0
    for index, point in enumerate(ordered):
        if point.day > start:
            break
        base = index
    return ordered[base:]


def _day_growth(previous: DailyPoint, current: DailyPoint) -> Decimal:
    """One day's growth factor 1 + r_t; the day's flow arrives at the close, after the move."""
    if previous.value > 0:
        return (current.value - current.flow) / previous.value
    # An empty account earns nothing, whatever lands in it that day.
    return Decimal(1)


def time_weighted_return(
    points: Sequence[DailyPoint], *, start: date | None = None, end: date | None = None
) -> Decimal | None:
    """Cumulative daily chain-linked TWR over the window, with external flows taken out.

    The base is the last point on or before `start` (its value, its own flow excluded), or the
    first point if the account opened later; None when the window has fewer than 2 points.
    """
    window = _window(points, start, end)
    if len(window) < 2:
        return None
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        growth = Decimal(1)
        for previous, current in zip(window, window[1:], strict=False):
            growth *= _day_growth(previous, current)
        return _rounded(growth - 1)


def xirr(
    flows: Sequence[tuple[date, Decimal]], *, final_value: Decimal, final_day: date
) -> Decimal | None:
    """Annualised money-weighted return of account flows (deposit +) ending at `final_value`.

    None with fewer than 2 non-zero cash flows, a zero-day span, or no root in the bracket.
    """
    # The investor pays deposits in and gets withdrawals and the final value out.
    cash_flows = [(day, -float(amount)) for day, amount in flows if day <= final_day and amount]
    if final_value:
        cash_flows.append((final_day, float(final_value)))
    if len(cash_flows) < 2:
        return None
    first_day = min(day for day, _ in cash_flows)
    span_days = (max(day for day, _ in cash_flows) - first_day).days
    if span_days == 0:
        return None
    if not (any(amount > 0 for _, amount in cash_flows) and any(a < 0 for _, a in cash_flows)):
        return None
    horizon = span_days / DAYS_PER_YEAR
    timed = [((day - first_day).days / DAYS_PER_YEAR, amount) for day, amount in cash_flows]

    def future_value(rate: float) -> float:
        # Compounded to the last flow rather than discounted to the first: same roots, and no
        # overflow near r = -1 where discounting divides by (1 + r) ** t.
        return math.fsum(amount * (1.0 + rate) ** (horizon - years) for years, amount in timed)

    low, high = XIRR_BRACKET
    if future_value(low) * future_value(high) > 0:
        return None
    from scipy.optimize import brentq  # lazy: keeps scipy off the import path of web processes

    rate = float(brentq(future_value, low, high, xtol=1e-12, maxiter=200))
    return _rounded(Decimal(repr(rate)))


def modified_dietz(window: Sequence[DailyPoint]) -> Decimal | None:
    """Modified Dietz return of a window from its base point: (EMV - BMV - CF) / (BMV + sum of
    w_i * CF_i), with w_i = (CD - D_i) / CD, the share of the window's CD calendar days a flow
    made at the close of day D_i was invested (a flow on the last day weighs 0). A cross-check
    on the daily TWR, which it approximates when flows are small; None without a positive
    denominator or a span."""
    if len(window) < 2:
        return None
    base, rest = window[0], window[1:]
    span = (rest[-1].day - base.day).days
    if span <= 0:
        return None
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        net = sum((point.flow for point in rest), Decimal(0))
        weighted = sum(
            (point.flow * (span - (point.day - base.day).days) / span for point in rest),
            Decimal(0),
        )
        denominator = base.value + weighted
        if denominator <= 0:
            return None
        return _rounded((rest[-1].value - base.value - net) / denominator)


def _months_before(day: date, months: int) -> date:
    """The same day-of-month `months` earlier, clamped to the end of a shorter month."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_start(period: str, end: date, inception: date) -> date:
    """The base date of a reporting period ending on `end`, never before `inception`."""
    if period in _PERIOD_MONTHS:
        start = _months_before(end, _PERIOD_MONTHS[period])
    elif period == "YTD":
        start = date(end.year - 1, 12, 31)
    elif period == "ITD":
        start = inception
    else:
        raise ValueError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}.")
    return max(start, inception)


def _level_on_or_before(levels: Mapping[date, Decimal], day: date) -> Decimal | None:
    """The last level dated on or before `day`, carrying it over non-trading days."""
    eligible = [level_day for level_day in levels if level_day <= day]
    return levels[max(eligible)] if eligible else None


def _benchmark_return(
    levels: Mapping[date, Decimal] | None, start: date, end: date
) -> Decimal | None:
    """level_end / level_start - 1, or None without a positive starting level."""
    if not levels:
        return None
    first = _level_on_or_before(levels, start)
    last = _level_on_or_before(levels, end)
    if first is None or last is None or first <= 0:
        return None
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        return _rounded(last / first - 1)


def _window_mwr(window: Sequence[DailyPoint]) -> tuple[Decimal | None, bool]:
    """The window's money-weighted return and whether it is annualised.

    XIRR with the starting value as the opening deposit; under ANNUALISE_FROM_DAYS the annual
    rate r becomes the period's own (1 + r) ** (days / 365) - 1, which is the rate that makes
    the flows' future value zero over the window (the same root, stated per period).
    """
    if len(window) < 2:
        return None, False
    base, rest = window[0], window[1:]
    flows = [(base.day, base.value)] + [(point.day, point.flow) for point in rest]
    rate = xirr(flows, final_value=rest[-1].value, final_day=rest[-1].day)
    days = (rest[-1].day - base.day).days
    if days >= ANNUALISE_FROM_DAYS:
        return rate, True
    if rate is None:
        return None, False
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        unrounded = Decimal(repr((1.0 + float(rate)) ** (days / DAYS_PER_YEAR) - 1.0))
    return _rounded(unrounded), False


def period_flows(
    window: Sequence[DailyPoint], *, from_inception: bool = False
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(start value, end value, net flows, market gain) of a window from its base point.

    From inception the base day's own flow is the period's first deposit, so it counts as a
    flow and the start value is the value before it; otherwise the base is the previous close.
    """
    if not window:
        zero = Decimal("0.00")
        return zero, zero, zero, zero
    base, end_value = window[0], window[-1].value
    rest = window if from_inception else window[1:]
    start_value = base.value - base.flow if from_inception else base.value
    net_flows = sum((point.flow for point in rest), Decimal("0.00"))
    return start_value, end_value, net_flows, end_value - start_value - net_flows


def value_history(points: Sequence[DailyPoint]) -> list[ValuePoint]:
    """The points with the running sum of net deposits, for a chart of value and deposits."""
    running = Decimal("0.00")
    history = []
    for point in _ordered(points):
        running += point.flow
        history.append(ValuePoint(point.day, point.value, point.flow, running))
    return history


def period_returns(
    points: Sequence[DailyPoint],
    *,
    benchmark_levels: Mapping[date, Decimal] | None = None,
    policy_levels: Mapping[date, Decimal] | None = None,
) -> list[PeriodReturn]:
    """TWR, MWR, flows, market gain, the 60/40 and the policy benchmark for each of PERIODS up
    to the last point; [] if no points."""
    ordered = _ordered(points)
    if not ordered:
        return []
    inception, end = ordered[0].day, ordered[-1].day
    results = []
    for period in PERIODS:
        start = period_start(period, end, inception)
        window = _window(ordered, start, end)
        mwr, annualised = _window_mwr(window)
        start_value, end_value, net_flows, market_gain = period_flows(
            window, from_inception=start == inception
        )
        results.append(
            PeriodReturn(
                period=period,
                start=start,
                end=end,
                twr=time_weighted_return(window),
                mwr=mwr,
                benchmark=_benchmark_return(benchmark_levels, start, end),
                mwr_annualised=annualised,
                start_value=start_value,
                end_value=end_value,
                net_flows=net_flows,
                market_gain=market_gain,
                policy_benchmark=_benchmark_return(policy_levels, start, end),
            )
        )
    return results


def benchmark_index(
    prices: Mapping[str, Mapping[date, Decimal]],
    weights: Mapping[str, Decimal],
    *,
    start: date,
    end: date,
) -> dict[date, Decimal]:
    """A daily-rebalanced index worth 100 on its first date in [start, end].

    Dates are the union of the weighted tickers' price dates from the first on which every one
    has a price (earlier prices carry forward); weights not summing to 1 leave the rest at 0%.
    """
    weighted = {ticker: weight for ticker, weight in weights.items() if weight}
    series = {ticker: prices.get(ticker, {}) for ticker in weighted}
    days = sorted({day for history in series.values() for day in history if start <= day <= end})
    last_price: dict[str, Decimal] = {}
    for ticker, history in series.items():
        before = [day for day in history if day < start]
        if before:
            last_price[ticker] = history[max(before)]

    index: dict[date, Decimal] = {}
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        level = INDEX_BASE
        for day in days:
            previous = dict(last_price)
            last_price.update(
                {ticker: series[ticker][day] for ticker in weighted if day in series[ticker]}
            )
            if len(last_price) < len(weighted):
                continue  # some ticker has not started trading yet
            if any(last_price[ticker] <= 0 for ticker in weighted):
                raise ValueError(f"Non-positive benchmark price on {day.isoformat()}.")
            if index:
                level *= 1 + sum(
                    (weighted[t] * (last_price[t] / previous[t] - 1) for t in weighted),
                    Decimal(0),
                )
            index[day] = level
    return index


def policy_index(
    prices: Mapping[str, Mapping[date, Decimal]],
    weights_on: Callable[[date], Mapping[str, Decimal]],
    *,
    start: date,
    end: date,
) -> dict[date, Decimal]:
    """A monthly-rebalanced index worth 100 on its first date in [start, end].

    At the close of each month's last trading day (and on the first date) the index is reset
    to `weights_on(first day of the next month)` (or of the first date's month), so the weights
    can follow a glide path; within a month the units are held and drift with prices. A ticker
    without a price yet is left out and the rest renormalised; prices carry over missing days.
    """
    days = sorted({day for history in prices.values() for day in history if start <= day <= end})
    last_price: dict[str, Decimal] = {}
    for ticker, history in prices.items():
        before = [day for day in history if day < start]
        if before:
            last_price[ticker] = history[max(before)]
    index: dict[date, Decimal] = {}
    units: dict[str, Decimal] = {}
    month: tuple[int, int] | None = None
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        level = INDEX_BASE
        for day in days:
            if units and (day.year, day.month) != month:
                # Rebalance at the previous close, before today's move.
                units = _units(weights_on(day.replace(day=1)), last_price, level)
                month = (day.year, day.month)
            last_price.update(
                {ticker: history[day] for ticker, history in prices.items() if day in history}
            )
            if not units:
                units = _units(weights_on(day.replace(day=1)), last_price, level)
                month = (day.year, day.month)
                if units:
                    index[day] = level
                continue
            level = sum((quantity * last_price[t] for t, quantity in units.items()), Decimal(0))
            index[day] = level
    return index


def _units(
    weights: Mapping[str, Decimal], prices: Mapping[str, Decimal], level: Decimal
) -> dict[str, Decimal]:
    """Units of each priced, weighted ticker worth `level` in total at `weights`, renormalised
    over the tickers that have a price."""
    priced = {t: w for t, w in weights.items() if w and prices.get(t, Decimal(0)) > 0}
    total = sum(priced.values(), Decimal(0))
    if total <= 0:
        return {}
    return {t: level * w / total / prices[t] for t, w in priced.items()}


def blended_index(
    indices: Sequence[Mapping[date, Decimal]], values: Sequence[Mapping[date, Decimal]]
) -> dict[date, Decimal]:
    """A value-weighted blend of several indices, worth 100 on its first date.

    Each day's return is the indices' returns weighted by their accounts' values at the
    previous close (`values[i][day]`), so the blend is the policy of the book as it stood.
    """
    days = sorted({day for index in indices for day in index})
    blend: dict[date, Decimal] = {}
    with localcontext() as context:
        context.prec = DECIMAL_PRECISION
        level = INDEX_BASE
        previous: date | None = None
        for day in days:
            if previous is not None:
                weighted = Decimal(0)
                total = Decimal(0)
                for index, value in zip(indices, values, strict=True):
                    base = value.get(previous, Decimal(0))
                    if base > 0 and previous in index and day in index and index[previous] > 0:
                        weighted += base * (index[day] / index[previous] - 1)
                        total += base
                if total > 0:
                    level *= 1 + weighted / total
            blend[day] = level
            previous = day
    return blend
