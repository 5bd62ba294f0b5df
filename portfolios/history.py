"""An account's daily value history, rebuilt from its ledger and prices, and its performance."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery

from advisor.models import Goal
from advisor.selectors import risk_profile_get

from .benchmarks import (
    PolicyBenchmark,
    _level_on,
    _portfolio_weights,
    _prices,
    _rounded_weights,
    policy_benchmark,
    reference_levels,
)
from .models import Account, Entry, MarketDataRevision, Price, Transaction
from .money import money_value
from .performance import DailyPoint, PeriodReturn, period_returns, policy_index

# A ledger line as the replay reads it: (market date, entry id, asset id or None for cash, units).
Line = tuple[date, int, int | None, Decimal]


def account_history(*, account: Account, end: date | None = None) -> list[DailyPoint]:
    """Close-of-day value and external flow for every trading day since the first deposit."""
    return account_histories(accounts=[account], end=end)[account.pk]


def account_histories(
    *, accounts: Sequence[Account], end: date | None = None
) -> dict[int, list[DailyPoint]]:
    """Account id → `account_history`, for many accounts in four queries whatever their number:
    the ledger, the trading days, the closes and the external flows, each read once for all."""
    return {pk: replay.points for pk, replay in _replays(accounts=accounts, end=end).items()}


@dataclass
class _Replay:
    """One account's ledger replayed through `through` (its last valued day): the daily
    points, and where the replay stands, so later days can be added without starting over."""

    points: list[DailyPoint]
    cash: Decimal = Decimal("0.00")
    units: dict[int, Decimal] = field(default_factory=dict)
    last_price: dict[int, Decimal] = field(default_factory=dict)
    pending: list[Line] = field(default_factory=list)  # lines dated after `through`
    through: date | None = None

    def run(
        self,
        trading_days: Sequence[date],
        prices: Mapping[date, Mapping[int, Decimal]],
        flows: Mapping[date, Decimal],
    ) -> None:
        """Value each trading day after `through` (from the first line's day on a fresh one)."""
        if not self.pending and self.through is None:
            return
        first = self.pending[0][0] if self.through is None else None
        index = 0
        for day in trading_days:
            if (first is not None and day < first) or (
                self.through is not None and day <= self.through
            ):
                continue
            while index < len(self.pending) and self.pending[index][0] <= day:
                _, _, asset_id, quantity = self.pending[index]
                if asset_id is None:
                    self.cash += quantity
                else:
                    self.units[asset_id] = self.units.get(asset_id, Decimal(0)) + quantity
                index += 1
            self.last_price.update(prices.get(day, {}))
            value = money_value(
                self.cash
                + sum((q * self.last_price[a] for a, q in self.units.items() if q), Decimal(0))
            )
            self.points.append(DailyPoint(day=day, value=value, flow=flows.get(day, Decimal(0))))
            self.through = day
        self.pending = self.pending[index:]


def _replays(*, accounts: Sequence[Account], end: date | None = None) -> dict[int, _Replay]:
    ids = [account.pk for account in accounts]
    ledgers: dict[int, list[Line]] = {pk: [] for pk in ids}
    entries = Entry.objects.of_accounts(ids).order_by(
        "account_id", "transaction__market_date", "id"
    )
    for account_id, day, entry_id, asset_id, quantity in entries.values_list(
        "account_id", "transaction__market_date", "id", "asset_id", "quantity"
    ):
        ledgers[account_id].append((day, entry_id, asset_id, quantity))
    replays = {pk: _Replay(points=[], pending=ledgers[pk]) for pk in ids}
    starts = [ledger[0][0] for ledger in ledgers.values() if ledger]
    if not starts:
        return replays
    days = Price.objects.filter(date__gte=min(starts)).order_by()
    if end is not None:
        days = days.filter(date__lte=end)
    asset_ids = {line[2] for ledger in ledgers.values() for line in ledger if line[2]}
    trading_days, prices, flows = _market(days=days, asset_ids=asset_ids, account_ids=ids)
    for pk, replay in replays.items():
        replay.run(trading_days, prices, flows[pk])
    return replays


def _market(
    *, days: QuerySet[Price], asset_ids: Iterable[int], account_ids: Sequence[int]
) -> tuple[list[date], dict[date, dict[int, Decimal]], dict[int, dict[date, Decimal]]]:
    """The trading days and the funds' closes among `days`, and the accounts' external flows
    on those days: what a replay reads besides the ledger."""
    trading_days = sorted(days.values_list("date", flat=True).distinct())
    prices: dict[date, dict[int, Decimal]] = defaultdict(dict)
    for day, asset_id, close in days.filter(asset_id__in=set(asset_ids)).values_list(
        "date", "asset_id", "close"
    ):
        prices[day][asset_id] = close
    flows: dict[int, dict[date, Decimal]] = {pk: defaultdict(Decimal) for pk in account_ids}
    # Only the client's own money in and out is external; a trade moves nothing in or out, and
    # an advisory fee is a cost that lowers the return (returns are shown net of fees).
    external = (Transaction.Kind.DEPOSIT, Transaction.Kind.WITHDRAWAL)
    transactions = Transaction.objects.filter(account_id__in=account_ids, kind__in=external)
    if trading_days:
        transactions = transactions.filter(market_date__gte=trading_days[0])
    for account_id, day, amount in transactions.order_by().values_list(
        "account_id", "market_date", "amount"
    ):
        flows[account_id][day] += amount
    return trading_days, prices, flows


# --- Stored daily values --------------------------------------------------------------------

HISTORY_STORE_SECONDS = 60 * 60 * 24 * 7


@dataclass(frozen=True)
class _Stored:
    """An account's valued days as stored, with what they were computed from: its last ledger
    entry, the last price row and the last market-data revision."""

    entry: int | None
    price: int | None
    revision: int | None
    replay: _Replay


def account_history_stored(*, account: Account) -> list[DailyPoint]:
    """`account_history`, from the account's stored daily values (kept in the cache): the days
    already valued are kept and only the trading days since are added, with the entries dated
    on them. Rebuilt whole when anything dated on or before the last stored day changed (an
    entry or a close dated then, a revised figure) or a fund new to the account appears."""
    key = f"account-history:{account.pk}:{account.opened_at.isoformat()}"
    marks = (
        Account.objects.filter(pk=account.pk)
        .annotate(
            entry=Subquery(
                Entry.objects.filter(account=OuterRef("pk")).order_by("-id").values("id")[:1]
            ),
            price=Subquery(Price.objects.order_by("-id").values("id")[:1]),
            revision=Subquery(MarketDataRevision.objects.order_by("-id").values("id")[:1]),
        )
        .values_list("entry", "price", "revision")
        .get()
    )
    stored: _Stored | None = cache.get(key)
    replay = _extended(account=account, stored=stored, marks=marks) if stored else None
    if replay is None:
        replay = _replays(accounts=[account])[account.pk]
    cache.set(key, _Stored(*marks, replay=replay), HISTORY_STORE_SECONDS)
    return list(replay.points)


def _extended(
    *, account: Account, stored: _Stored, marks: tuple[int | None, int | None, int | None]
) -> _Replay | None:
    """The stored replay with the days since added; None when it must be rebuilt."""
    entry, price, revision = marks
    replay = stored.replay
    if revision != stored.revision or replay.through is None:
        return None
    through = replay.through
    if price != stored.price and (
        Price.objects.filter(id__gt=stored.price or 0, date__lte=through).exists()
    ):
        return None  # a close filled in for a day already valued
    new: list[Line] = []
    if entry != stored.entry:
        new = [
            (day, entry_id, asset_id, quantity)
            for day, entry_id, asset_id, quantity in Entry.objects.filter(
                account=account, id__gt=stored.entry or 0
            ).values_list("transaction__market_date", "id", "asset_id", "quantity")
        ]
        known = set(replay.units) | {line[2] for line in replay.pending}
        if not new:
            return None  # entries gone: never in a ledger, but then nothing stored holds
        if any(day <= through or (a is not None and a not in known) for day, _, a, _ in new):
            return None
    if price == stored.price and not new:
        return replay
    replay = _Replay(
        points=list(replay.points),
        cash=replay.cash,
        units=dict(replay.units),
        last_price=dict(replay.last_price),
        pending=sorted(replay.pending + new, key=lambda line: (line[0], line[1])),
        through=through,
    )
    assets = set(replay.units) | {line[2] for line in replay.pending if line[2]}
    days = Price.objects.filter(date__gt=through).order_by()
    trading_days, prices, flows = _market(days=days, asset_ids=assets, account_ids=[account.pk])
    replay.run(trading_days, prices, flows[account.pk])
    return replay


def benchmark_levels(*, start: date, end: date) -> dict[date, Decimal]:
    """The 60/40 VTI/AGG reference (benchmarks.reference_levels)."""
    return reference_levels(start=start, end=end)


def policy_benchmarks(
    *, accounts: Sequence[Account], spans: Mapping[int, tuple[date, date]]
) -> dict[int, PolicyBenchmark | None]:
    """Account id → `benchmarks.policy_benchmark` over its span (start, end), for the accounts
    in `spans`, in a fixed number of queries: one risk profile per client, the approved model
    portfolios and the total-return levels of every fund involved, each read once for all.

    The same steps as `policy_benchmark` (tests/portfolios/test_query_counts.py checks that
    both agree); each account's index is computed from its own funds over its own span."""
    by_level: dict[int, dict[str, Decimal]] | None = None
    risk: dict[int, int | None] = {}
    plans: dict[int, tuple[Account, int, set[int]]] = {}
    results: dict[int, PolicyBenchmark | None] = {}
    for account in accounts:
        if account.pk not in spans:
            continue
        start, end = spans[account.pk]
        goal = account.goal
        if goal.client_id not in risk:
            # The account's client is its goal's (account_open), and account_list reads it.
            profile = risk_profile_get(client=account.client)
            risk[goal.client_id] = profile.assessment.risk_level if profile else None
        risk_level = risk[goal.client_id]
        if risk_level is None:
            results[account.pk] = None
            continue
        if by_level is None:
            by_level = _portfolio_weights()
        months = {day.replace(day=1) for day in (start, end)}
        cursor = start.replace(day=1)
        while cursor <= end:
            months.add(cursor)
            cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        levels_used = {_level_on(goal, risk_level, month) for month in months}
        levels_used.add(_level_on(goal, risk_level, end))
        if not levels_used <= set(by_level):
            results[account.pk] = None
            continue
        plans[account.pk] = (account, risk_level, levels_used)
    if not plans or by_level is None:
        return results
    weights = by_level
    tickers = {t for _, _, used in plans.values() for level in used for t in weights[level]}
    first = min(spans[pk][0] for pk in plans)
    last = max(spans[pk][1] for pk in plans)
    series = _prices(tickers, start=first, end=last)
    for pk, (account, client_level, levels_used) in plans.items():
        start, end = spans[pk]
        goal = account.goal
        own = {t for level in levels_used for t in weights[level]}
        prices = {
            ticker: {day: level for day, level in series[ticker].items() if start <= day <= end}
            for ticker in sorted(own)
            if ticker in series
        }

        def weights_on(
            day: date, goal: Goal = goal, client_level: int = client_level
        ) -> Mapping[str, Decimal]:
            return weights[_level_on(goal, client_level, day)]

        last_level = _level_on(goal, client_level, end)
        results[pk] = PolicyBenchmark(
            level=last_level,
            weights=_rounded_weights(weights[last_level]),
            levels=policy_index(
                {t: history for t, history in prices.items() if history},
                weights_on,
                start=start,
                end=end,
            ),
        )
    return results


def account_performance(
    *, account: Account
) -> tuple[list[PeriodReturn], list[DailyPoint], PolicyBenchmark | None]:
    """TWR, money-weighted return, flows and market gain, the account's policy benchmark and
    the 60/40 reference for 1M, 3M, YTD, 1Y and since inception, with the daily history they
    come from and the policy's composition. The history comes from the account's stored daily
    values (`account_history_stored`): the same points, without replaying the whole ledger."""
    points = account_history_stored(account=account)
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
