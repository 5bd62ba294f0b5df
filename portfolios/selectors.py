"""Reads for the portfolio API, scoped to what the asking client may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from advisor.models import Client

from . import services
from .market import market_date_get
from .models import Account, Asset, ModelPortfolio, ModelPortfolioSet, Price, Transaction
from .targets import drift as class_drift


def account_list(*, client: Client) -> QuerySet[Account]:
    return Account.objects.filter(client=client).select_related("goal")


def account_get(*, client: Client, account_id: int) -> Account:
    try:
        return account_list(client=client).get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise Http404 from exc


def transaction_list(*, account: Account) -> QuerySet[Transaction]:
    return Transaction.objects.filter(account=account).prefetch_related("entries__asset")


def asset_list() -> QuerySet[Asset]:
    return Asset.objects.filter(active=True)


def asset_get(*, ticker: str) -> Asset:
    try:
        return asset_list().get(ticker=ticker.upper())
    except Asset.DoesNotExist as exc:
        raise Http404 from exc


def price_list(*, asset: Asset) -> QuerySet[Price]:
    return Price.objects.filter(asset=asset).order_by("date")


def model_portfolios_approved() -> QuerySet[ModelPortfolio]:
    return ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    ).select_related("portfolio_set")


@dataclass(frozen=True)
class HoldingRow:
    ticker: str
    name: str
    asset_class: str
    quantity: Decimal
    price: Decimal
    value: Decimal
    weight: Decimal
    target_weight: Decimal


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    market_date: object
    value: Decimal
    cash: Decimal
    invested: Decimal
    level: int | None
    drift: float | None
    holdings: tuple[HoldingRow, ...]


def account_summary(*, account: Account) -> AccountSummary:
    """Value, cash, holdings with actual and target weights, and drift by asset class."""
    valuation = services.account_value(account=account, day=market_date_get())
    targets = services.target_weights(account=account) or {}
    weights = valuation.weights()
    by_ticker = {h.asset.ticker: h for h in valuation.holdings}
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=set(targets) | set(by_ticker))}
    rows = []
    for ticker in sorted(set(targets) | set(by_ticker)):
        holding = by_ticker.get(ticker)
        rows.append(
            HoldingRow(
                ticker=ticker,
                name=assets[ticker].name,
                asset_class=assets[ticker].asset_class,
                quantity=holding.quantity if holding else Decimal(0),
                price=holding.price if holding else Decimal(0),
                value=holding.value if holding else Decimal("0.00"),
                weight=weights.get(ticker, Decimal(0)).quantize(Decimal("0.0001")),
                target_weight=targets.get(ticker, Decimal(0)).quantize(Decimal("0.0001")),
            )
        )
    drift = (
        class_drift(
            {t: float(w) for t, w in weights.items()}, {t: float(w) for t, w in targets.items()}
        )
        if targets and weights
        else None
    )
    return AccountSummary(
        account=account,
        market_date=valuation.day,
        value=valuation.total,
        cash=valuation.cash,
        invested=valuation.invested,
        level=services.goal_level(goal=account.goal),
        drift=round(drift, 4) if drift is not None else None,
        holdings=tuple(rows),
    )
