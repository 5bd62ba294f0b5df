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
- Returns are Decimals rounded half-up to 6 dp; TWR is cumulative, MWR annualised.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
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
    twr: Decimal | None
    mwr: Decimal | None
    benchmark: Decimal | None


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


def _window_mwr(window: Sequence[DailyPoint]) -> Decimal | None:
    """XIRR of a window, treating its starting value as the opening deposit."""
    if len(window) < 2:
        return None
    base, rest = window[0], window[1:]
    flows = [(base.day, base.value)] + [(point.day, point.flow) for point in rest]
    return xirr(flows, final_value=rest[-1].value, final_day=rest[-1].day)


def period_returns(
    points: Sequence[DailyPoint], *, benchmark_levels: Mapping[date, Decimal] | None = None
) -> list[PeriodReturn]:
    """TWR, MWR and benchmark return for each of PERIODS up to the last point; [] if no points."""
    ordered = _ordered(points)
    if not ordered:
        return []
    inception, end = ordered[0].day, ordered[-1].day
    results = []
    for period in PERIODS:
        start = period_start(period, end, inception)
        window = _window(ordered, start, end)
        results.append(
            PeriodReturn(
                period=period,
                start=start,
                end=end,
                twr=time_weighted_return(window),
                mwr=_window_mwr(window),
                benchmark=_benchmark_return(benchmark_levels, start, end),
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
