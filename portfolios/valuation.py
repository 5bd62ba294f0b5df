"""Reads that value accounts and price the advisory fee: the goal's level and target weights, an
account's holdings at a close (today's or one rebuilt from the ledger), and the fee due on a
value. No writes."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.utils import timezone

from advisor.models import Goal
from advisor.selectors import risk_profile_get

from . import targets
from .exceptions import MarketDataMissing
from .market import closes_on, market_date_get
from .models import Account, Asset, Entry, ModelPortfolio, ModelPortfolioSet, Price
from .money import money_down, money_half_up, money_value


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
    today = today or valuation_day()
    years = max((goal.target_date - today).days / 365.25, 0.0)
    return targets.glide_level(
        risk_level=profile.assessment.risk_level, goal_type=goal.goal_type, years_to_goal=years
    )


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
    day = day or market_date_get()
    positions = list(account.positions.select_related("asset").filter(quantity__gt=0))
    closes = closes_on(day=day, assets=[p.asset for p in positions])
    holdings = tuple(
        Holding(asset=p.asset, quantity=p.quantity, price=closes[p.asset_id]) for p in positions
    )
    # Cash read afresh: the caller's instance may predate a deposit made through another one.
    cash = Account.objects.filter(pk=account.pk).values_list("cash", flat=True).get()
    return Valuation(day=day, cash=cash, holdings=holdings)


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


def advisory_fee_monthly(*, value: Decimal) -> Decimal:
    """One month's fee on a value: a twelfth of the annual rate, to the cent, half up."""
    return money_half_up(value * advisory_fee_annual() / 12)


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
