"""Reads that value accounts and price the advisory fee: the goal's level and target weights, an
account's holdings at a close (today's or one rebuilt from the ledger), and the fee accrued over
a span of days. No writes.

The advisory fee accrues daily and is billed monthly ("calculated daily on the end-of-day
balance", as Betterment puts it). Each calendar day d accrues

    value(d) × annual rate / (days in d's year: 365 or 366)

where value(d) is the account's value at the latest close on or before d, of what it held at that
close (ledger entries dated on or before it; cash + Σ units × close, unrounded). So a weekend or a
holiday accrues at the previous close, a day before the account was funded accrues nothing (a
partial month is prorated by itself), and a full year at a constant value accrues exactly the
annual rate (actual/actual). A month's bill is its accruals summed exactly and rounded once, half
up, to the cent (`money_half_up`)."""

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.utils import timezone

from advisor.models import Goal, QuestionnaireResponse
from advisor.selectors import final_assessment, risk_profile_get

from . import targets
from .exceptions import MarketDataMissing
from .market import closes_on, market_date_get
from .models import Account, Asset, Entry, ModelPortfolio, ModelPortfolioSet, Position, Price
from .money import money_down, money_half_up, money_value

# A ledger entry as the fee accrual reads it: (market date, asset id or None for cash, quantity).
LedgerLine = tuple[date, int | None, Decimal]


def min_trade() -> Decimal:
    return Decimal(str(settings.PORTFOLIO_MIN_TRADE))


def drift_threshold() -> Decimal:
    return Decimal(str(settings.REBALANCE_DRIFT_THRESHOLD))


def goal_level(*, goal: Goal, today: date | None = None) -> int | None:
    """The goal's risk level: the client's level adjusted by goal type and glide path, at the
    market date (the 'today' of valuations, fills and projections, so every surface and the
    projection's first glide step show the same level)."""
    profile = risk_profile_get(client=goal.client)
    if profile is None:
        return None
    return level_at(
        goal=goal, risk_level=profile.assessment.risk_level, today=today or valuation_day()
    )


def level_at(*, goal: Goal, risk_level: int | None, today: date) -> int | None:
    """`goal_level` for a caller that has read the client's risk level (None: no profile)."""
    if risk_level is None:
        return None
    years = max((goal.target_date - today).days / 365.25, 0.0)
    return targets.glide_level(risk_level=risk_level, goal_type=goal.goal_type, years_to_goal=years)


def valuation_day() -> date:
    try:
        return market_date_get()
    except MarketDataMissing:  # a fresh install: the glide path counts from the calendar
        return timezone.localdate()


def target_weights(*, account: Account) -> dict[str, Decimal] | None:
    """Ticker → target weight from the approved model portfolio at the goal's level."""
    level = goal_level(goal=account.goal)
    if level is None:
        return None
    portfolio = ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED, level=level
    ).first()
    if portfolio is None:
        return None
    return {ticker: Decimal(str(weight)) for ticker, weight in portfolio.weights.items()}


def approved_targets() -> dict[int, dict[str, Decimal]]:
    """Level → ticker → target weight of the approved model portfolios, in one query: for
    each level the portfolio `target_weights` picks (the first in the models' order)."""
    by_level: dict[int, dict[str, Decimal]] = {}
    for portfolio in ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    ):
        by_level.setdefault(
            portfolio.level,
            {ticker: Decimal(str(weight)) for ticker, weight in portfolio.weights.items()},
        )
    return by_level


def risk_levels(*, client_ids: Iterable[int]) -> dict[int, int | None]:
    """Client id → the risk level `goal_level` starts from (the final assessment of the
    client's latest response; None: no response), for many clients in two queries."""
    levels: dict[int, int | None] = dict.fromkeys(client_ids)
    seen: set[int] = set()
    # Meta ordering (newest first): the first response met per client is its latest.
    responses = QuestionnaireResponse.objects.filter(client_id__in=list(levels))
    for response in responses.prefetch_related("assessments"):
        if response.client_id in seen:
            continue
        seen.add(response.client_id)
        levels[response.client_id] = final_assessment(list(response.assessments.all())).risk_level
    return levels


@dataclass(frozen=True)
class Holding:
    asset: Asset
    quantity: Decimal
    price: Decimal

    @property
    def exact(self) -> Decimal:
        """Units × close, unrounded: what totals are summed from."""
        return self.quantity * self.price

    @property
    def value(self) -> Decimal:
        # For a table row only: a total is the exact sum rounded once (Valuation.total).
        return money_down(self.exact)


@dataclass(frozen=True)
class Valuation:
    day: date
    cash: Decimal
    holdings: tuple[Holding, ...]

    @property
    def invested(self) -> Decimal:
        """The holdings' exact value rounded once (cash is whole cents: cash + invested = total)."""
        return money_value(sum((h.exact for h in self.holdings), Decimal(0)))

    @property
    def total(self) -> Decimal:
        """Cash + Σ units × close, rounded once by `money_value`: what selling everything pays."""
        return money_value(self.cash + sum((h.exact for h in self.holdings), Decimal(0)))

    def weights(self) -> dict[str, Decimal]:
        total = self.total
        if total <= 0:
            return {}
        return {h.asset.ticker: h.exact / total for h in self.holdings if h.quantity > 0}


def account_value(*, account: Account, day: date | None = None) -> Valuation:
    return account_values(accounts=[account], day=day)[account.pk]


def account_values(*, accounts: Sequence[Account], day: date | None = None) -> dict[int, Valuation]:
    """Account id → its valuation at `day`'s close (default: the market date): three queries
    whatever the number of accounts (positions, their closes, cash)."""
    day = day or market_date_get()
    ids = [account.pk for account in accounts]
    # Each fund's row is built once from the joined columns, not once per position (a chunk's
    # ten thousand positions were most of its valuations' time as model rows, measured).
    columns = [f.attname for f in Asset._meta.concrete_fields]
    rows = (
        # Meta ordering (account, asset): each account's positions in the order it reads them.
        Position.objects.filter(account_id__in=ids, quantity__gt=0).values_list(
            "account_id", "quantity", *(f"asset__{c}" for c in columns)
        )
    )
    key = columns.index(Asset._meta.pk.attname)
    assets: dict[int, Asset] = {}
    positions = []
    for account_id, quantity, *values in rows:
        asset = assets.get(values[key])
        if asset is None:
            asset = assets[values[key]] = Asset.from_db(rows.db, columns, values)
        positions.append((account_id, quantity, asset))
    closes = closes_on(day=day, assets=assets.values())
    held: dict[int, list[Holding]] = {pk: [] for pk in ids}
    for account_id, quantity, asset in positions:
        held[account_id].append(Holding(asset=asset, quantity=quantity, price=closes[asset.pk]))
    # Cash read afresh: the caller's instance may predate a deposit made through another one.
    cash = dict(Account.objects.filter(pk__in=ids).values_list("pk", "cash"))
    return {pk: Valuation(day=day, cash=cash[pk], holdings=tuple(held[pk])) for pk in ids}


def account_value_on(*, account: Account, day: date) -> Decimal:
    """The account's value at `day`'s close, rebuilt from the ledger: a month is billed after it
    ends, when today's holdings may already differ from those at its last close."""
    cash = Decimal("0.00")
    units: defaultdict[int, Decimal] = defaultdict(Decimal)
    entries = Entry.objects.filter(account=account, transaction__market_date__lte=day)
    for asset_id, quantity in entries.values_list("asset_id", "quantity"):
        if asset_id is None:
            cash += quantity
        else:
            units[asset_id] += quantity
    held = {asset_id: quantity for asset_id, quantity in units.items() if quantity > 0}
    closes = closes_on(day=day, assets=Asset.objects.filter(pk__in=held))
    return money_value(cash + sum((q * closes[a] for a, q in held.items()), Decimal(0)))


def class_drift(weights: dict[str, Decimal], goal_targets: dict[str, Decimal]) -> Decimal:
    """Drift by asset class (½·Σ|actual − target|), to four places."""
    value = targets.drift(
        {t: float(w) for t, w in weights.items()}, {t: float(w) for t, w in goal_targets.items()}
    )
    return Decimal(str(round(value, 4)))


# --- Advisory fee ---------------------------------------------------------------------------


def advisory_fee_annual() -> Decimal:
    return Decimal(str(settings.ADVISORY_FEE_ANNUAL))


def advisory_fee_annual_estimate(*, value: Decimal) -> Decimal:
    """A year of fees at this value (twelve monthly bills, before their rounding), to the cent."""
    return money_half_up(value * advisory_fee_annual())


def fee_months_complete() -> dict[date, date]:
    """Month (its first day) → its last market date, for every month with prices that is
    complete: a later month has prices, so no close of it can still arrive."""
    rows = (
        Price.objects.order_by()  # no default ordering in the GROUP BY
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(last=Max("date"))
        .values_list("month", "last")
    )
    months = dict(rows)
    if not months:
        return {}
    latest = max(months)
    return {month: last for month, last in months.items() if month < latest}


# How far before a span its closes are read: the latest close on or before its first day is
# usually a day or three earlier (a weekend, a holiday); a fund with an older gap is looked up.
FEE_PRICES_LOOKBACK = timedelta(days=10)


@dataclass(frozen=True)
class FeePrices:
    """The closes a fee accrual over [start, end] reads, read once: every market date from
    before `start` to `end`, and each asset's closes on them (`before`: a fund's latest close
    before the window, when it has none on the window's first market date)."""

    start: date
    end: date
    days: tuple[date, ...]
    closes: dict[date, dict[int, Decimal]]
    before: dict[int, Decimal] = field(default_factory=dict)


def month_last_day(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def fee_prices(*, start: date, end: date, assets: Iterable[int] | None = None) -> FeePrices:
    """The closes of `assets` (ids; default: every asset) for an accrual over [start, end].

    One read for the window, so billing a month for many accounts prices them all from it."""
    anchor = Price.objects.filter(date__lte=start).aggregate(day=Max("date"))["day"]
    first = start - FEE_PRICES_LOOKBACK
    if anchor is not None:
        first = min(first, anchor)
    prices = Price.objects.filter(date__range=(first, end)).order_by()
    days = tuple(sorted(set(prices.values_list("date", flat=True).distinct())))
    wanted = None if assets is None else set(assets)
    if wanted is not None:
        prices = prices.filter(asset_id__in=wanted)
    closes: dict[date, dict[int, Decimal]] = defaultdict(dict)
    first_seen: dict[int, date] = {}
    for asset_id, day, close in prices.values_list("asset_id", "date", "close"):
        closes[day][asset_id] = close
        first_seen[asset_id] = min(day, first_seen.get(asset_id, day))
    if wanted is None:
        wanted = set(Asset.objects.values_list("pk", flat=True))
    before = {}
    for asset_id in sorted(wanted):
        if days and first_seen.get(asset_id, date.max) <= days[0]:
            continue  # priced on the window's first market date: nothing older is needed
        older = (
            Price.objects.filter(asset_id=asset_id, date__lt=first)
            .order_by("-date")
            .values_list("close", flat=True)
            .first()
        )
        if older is not None:
            before[asset_id] = older
    return FeePrices(start=start, end=end, days=days, closes=dict(closes), before=before)


def fee_ledger(*, account: Account, through: date | None = None) -> list[LedgerLine]:
    """The account's entries, oldest first, for the accrual: read once, reused for every month."""
    entries = Entry.objects.filter(account=account).order_by("transaction__market_date", "pk")
    if through is not None:
        entries = entries.filter(transaction__market_date__lte=through)
    return list(entries.values_list("transaction__market_date", "asset_id", "quantity"))


def fee_accrual(
    *, ledger: Sequence[LedgerLine], prices: FeePrices, start: date, end: date, rate: Decimal
) -> Decimal:
    """Σ over each calendar day d in [start, end] of value(d) × rate / days in d's year, exact.

    Plain data in, so a bill and its property tests need no database. Values are summed per
    year and divided once, so a constant value over a whole year accrues exactly `rate`."""
    if end < start:
        return Decimal(0)
    lines = sorted(ledger, key=lambda line: line[0])
    cash = Decimal(0)
    units: defaultdict[int, Decimal] = defaultdict(Decimal)
    latest = dict(prices.before)
    values: list[tuple[date, Decimal]] = []  # (close, the account's value at it), ascending
    i = 0
    for close in prices.days:
        if close > end:
            break
        while i < len(lines) and lines[i][0] <= close:
            _, asset_id, quantity = lines[i]
            if asset_id is None:
                cash += quantity
            else:
                units[asset_id] += quantity
            i += 1
        latest.update(prices.closes.get(close, {}))
        value = cash
        for asset_id, quantity in units.items():
            if quantity <= 0:
                continue
            if asset_id not in latest:
                raise MarketDataMissing(f"No close for asset {asset_id} on or before {close}.")
            value += quantity * latest[asset_id]
        values.append((close, value))
    by_year: defaultdict[int, Decimal] = defaultdict(Decimal)
    j, value, day = 0, Decimal(0), start
    while day <= end:
        while j < len(values) and values[j][0] <= day:
            value = values[j][1]
            j += 1
        by_year[day.year] += value  # no close yet on or before `day`: not funded, zero
        day += timedelta(days=1)
    return sum(
        (rate * total / (366 if calendar.isleap(year) else 365) for year, total in by_year.items()),
        Decimal(0),
    )


def fee_accrued(
    *,
    account: Account,
    start: date,
    end: date,
    ledger: Sequence[LedgerLine] | None = None,
    prices: FeePrices | None = None,
) -> Decimal:
    """The advisory fee the account accrued from `start` to `end`, both included, unrounded.

    `ledger` and `prices` let a caller that prices many months or accounts read them once."""
    if ledger is None:
        ledger = fee_ledger(account=account, through=end)
    if prices is None:
        held = {asset_id for _, asset_id, _ in ledger if asset_id is not None}
        prices = fee_prices(start=start, end=end, assets=held)
    return fee_accrual(
        ledger=ledger, prices=prices, start=start, end=end, rate=advisory_fee_annual()
    )


def fee_month_bill(
    *,
    account: Account,
    period: date,
    ledger: Sequence[LedgerLine] | None = None,
    prices: FeePrices | None = None,
) -> Decimal:
    """The bill for the month starting `period`: its daily accruals summed, rounded once."""
    return money_half_up(
        fee_accrued(
            account=account,
            start=period,
            end=month_last_day(period),
            ledger=ledger,
            prices=prices,
        )
    )
