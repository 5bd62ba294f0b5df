"""Benchmarks an account is compared with: its own policy, and the 60/40 reference.

The policy benchmark is what the account was told to hold: the approved model portfolio at the
goal's level, month by month along the glide path (`targets.glide_level` at each month's first
day), with the model portfolio's own funds as the index proxies of their asset classes (the
shipped funds are broad index ETFs, so no separate proxy table is needed), rebalanced monthly.
It uses the client's current risk level and today's approved model-portfolio set: neither has a
dated history to replay. The 60/40 VTI/AGG stays as a market reference for every account.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from advisor.models import Goal
from advisor.selectors import risk_profile_get

from . import targets
from .models import Account, ModelPortfolio, ModelPortfolioSet, Price
from .performance import benchmark_index, policy_index

# The reference every account is also shown against: a 60/40 of US stocks and US bonds.
BENCHMARK_WEIGHTS = {"VTI": Decimal("0.60"), "AGG": Decimal("0.40")}
WEIGHT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PolicyBenchmark:
    """The policy's composition on its last day, and its daily levels."""

    level: int | None  # the goal's level on the last day (None for a blend of accounts)
    weights: dict[str, Decimal]  # ticker → weight on the last day, 4 dp
    levels: dict[date, Decimal] = field(default_factory=dict, repr=False)


def _prices(tickers: Iterable[str], *, start: date, end: date) -> dict[str, dict[date, Decimal]]:
    """Total-return levels, not closes: an index's return includes its funds' distributions
    (the account's does too, paid to it as cash), so a close-based benchmark would lag."""
    rows = Price.objects.filter(
        asset__ticker__in=set(tickers), date__gte=start, date__lte=end
    ).values_list("asset__ticker", "date", "total_return")
    series: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for ticker, day, level in rows:
        series[ticker][day] = level
    return series


def reference_levels(*, start: date, end: date) -> dict[date, Decimal]:
    """The 60/40 reference, rebalanced daily, worth 100 on its first day."""
    series = _prices(BENCHMARK_WEIGHTS, start=start, end=end)
    return benchmark_index(series, BENCHMARK_WEIGHTS, start=start, end=end)


def _portfolio_weights() -> dict[int, dict[str, Decimal]]:
    portfolios = ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    )
    return {
        p.level: {t: Decimal(str(w)) for t, w in p.weights.items() if Decimal(str(w))}
        for p in portfolios
    }


def _level_on(goal: Goal, risk_level: int, day: date) -> int:
    years = max((goal.target_date - day).days / 365.25, 0.0)  # as valuation.goal_level
    return targets.glide_level(risk_level=risk_level, goal_type=goal.goal_type, years_to_goal=years)


def policy_benchmark(*, account: Account, start: date, end: date) -> PolicyBenchmark | None:
    """The account's policy benchmark over [start, end]; None without a risk level or an
    approved model portfolio at the levels its glide path passes through."""
    goal = account.goal
    profile = risk_profile_get(client=goal.client)
    if profile is None:
        return None
    risk_level = profile.assessment.risk_level
    by_level = _portfolio_weights()
    months = {day.replace(day=1) for day in (start, end)}
    cursor = start.replace(day=1)
    while cursor <= end:
        months.add(cursor)
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    levels_used = {_level_on(goal, risk_level, month) for month in months}
    levels_used.add(_level_on(goal, risk_level, end))
    if not levels_used <= set(by_level):
        return None

    def weights_on(day: date) -> Mapping[str, Decimal]:
        return by_level[_level_on(goal, risk_level, day)]

    tickers = {t for level in levels_used for t in by_level[level]}
    index = policy_index(_prices(tickers, start=start, end=end), weights_on, start=start, end=end)
    last_level = _level_on(goal, risk_level, end)
    return PolicyBenchmark(
        level=last_level, weights=_rounded_weights(by_level[last_level]), levels=index
    )


def _rounded_weights(weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {
        t: w.quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
        for t, w in sorted(weights.items(), key=lambda item: -item[1])
        if w
    }


def blended_weights(parts: Iterable[tuple[Decimal, Mapping[str, Decimal]]]) -> dict[str, Decimal]:
    """Ticker weights of several policies, weighted by their accounts' values."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    whole = Decimal(0)
    for value, weights in parts:
        if value <= 0:
            continue
        whole += value
        for ticker, weight in weights.items():
            totals[ticker] += value * weight
    if whole <= 0:
        return {}
    return _rounded_weights({t: w / whole for t, w in totals.items()})
