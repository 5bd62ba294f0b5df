"""An account's daily value history, rebuilt from its ledger and prices, and its performance."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from .benchmarks import PolicyBenchmark, policy_benchmark, reference_levels
from .models import Account, Entry, Price, Transaction
from .money import money_value
from .performance import DailyPoint, PeriodReturn, period_returns


def account_history(*, account: Account, end: date | None = None) -> list[DailyPoint]:
    """Close-of-day value and external flow for every trading day since the first deposit."""
    entries = list(
        Entry.objects.filter(account=account)
        .select_related("transaction", "asset")
        .order_by("transaction__market_date", "id")
    )
    if not entries:
        return []
    start = entries[0].transaction.market_date
    asset_ids = {e.asset_id for e in entries if e.asset_id}
    prices: dict[date, dict[int, Decimal]] = defaultdict(dict)
    days = Price.objects.filter(date__gte=start)
    if end is not None:
        days = days.filter(date__lte=end)
    trading_days = sorted(set(days.values_list("date", flat=True)))
    for day, asset_id, close in days.filter(asset_id__in=asset_ids).values_list(
        "date", "asset_id", "close"
    ):
        prices[day][asset_id] = close
    flows: dict[date, Decimal] = defaultdict(Decimal)
    # Only the client's own money in and out is external; a trade moves nothing in or out, and
    # an advisory fee is a cost that lowers the return (returns are shown net of fees).
    external = (Transaction.Kind.DEPOSIT, Transaction.Kind.WITHDRAWAL)
    for txn in Transaction.objects.filter(account=account, kind__in=external):
        flows[txn.market_date] += txn.amount

    points: list[DailyPoint] = []
    cash = Decimal("0.00")
    units: defaultdict[int, Decimal] = defaultdict(Decimal)
    last_price: dict[int, Decimal] = {}
    index = 0
    for day in trading_days:
        while index < len(entries) and entries[index].transaction.market_date <= day:
            entry = entries[index]
            if entry.asset_id is None:
                cash += entry.quantity
            else:
                units[entry.asset_id] += entry.quantity
            index += 1
        last_price.update(prices.get(day, {}))
        value = money_value(
            cash + sum((q * last_price[a] for a, q in units.items() if q), Decimal(0))
        )
        points.append(DailyPoint(day=day, value=value, flow=flows.get(day, Decimal(0))))
    return points


def benchmark_levels(*, start: date, end: date) -> dict[date, Decimal]:
    """The 60/40 VTI/AGG reference (benchmarks.reference_levels)."""
    return reference_levels(start=start, end=end)


def account_performance(
    *, account: Account
) -> tuple[list[PeriodReturn], list[DailyPoint], PolicyBenchmark | None]:
    """TWR, money-weighted return, flows and market gain, the account's policy benchmark and
    the 60/40 reference for 1M, 3M, YTD, 1Y and since inception, with the daily history they
    come from and the policy's composition."""
    points = account_history(account=account)
    if len(points) < 2:
        return [], points, None
    start, end = points[0].day, points[-1].day
    policy = policy_benchmark(account=account, start=start, end=end)
    periods = period_returns(
        points,
        benchmark_levels=benchmark_levels(start=start, end=end),
        policy_levels=policy.levels if policy else None,
    )
    return periods, points, policy
