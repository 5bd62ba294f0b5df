"""Accounts and the ledger: deposits, withdrawals, advisory fees and trades, with cash-flow
rebalancing."""

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.utils import timezone

from advisor.models import Goal, User
from advisor.selectors import risk_profile_get
from config.lifecycle import lifecycle_decide

from . import targets
from .broker import CENT, Broker, Fill, PaperBroker, units_for_value
from .exceptions import IdempotencyKeyReused, InsufficientFunds
from .market import closes_on, market_date_get
from .models import (
    Account,
    Asset,
    Entry,
    IdempotencyKey,
    Lot,
    ModelPortfolio,
    ModelPortfolioSet,
    Position,
    Price,
    RebalanceProposal,
    RecurringDeposit,
    Transaction,
)

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("10000000.00")


def money(value: Decimal) -> Decimal:
    """The one rounding rule for currency amounts: cents, banker's rounding."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def min_trade() -> Decimal:
    return Decimal(str(settings.PORTFOLIO_MIN_TRADE))


# --- Accounts and targets -------------------------------------------------------------------


def account_open(*, goal: Goal) -> Account:
    """The goal's investment account, opened on first use."""
    account, _ = Account.objects.get_or_create(
        goal=goal, defaults={"client": goal.client, "currency": goal.currency}
    )
    return account


def goal_level(*, goal: Goal, today: date | None = None) -> int | None:
    """The goal's risk level: the client's level adjusted by goal type and glide path."""
    profile = risk_profile_get(client=goal.client)
    if profile is None:
        return None
    today = today or timezone.localdate()
    years = max((goal.target_date - today).days / 365.25, 0.0)
    return targets.glide_level(
        risk_level=profile.assessment.risk_level, goal_type=goal.goal_type, years_to_goal=years
    )


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
    def value(self) -> Decimal:
        # Valued as a sale would pay: rounded down, so the total is always withdrawable.
        return (self.quantity * self.price).quantize(CENT, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Valuation:
    day: date
    cash: Decimal
    holdings: tuple[Holding, ...]

    @property
    def invested(self) -> Decimal:
        return sum((h.value for h in self.holdings), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.cash + self.invested

    def weights(self) -> dict[str, Decimal]:
        total = self.total
        if total <= 0:
            return {}
        return {h.asset.ticker: h.value / total for h in self.holdings if h.quantity > 0}


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


# --- Ledger ---------------------------------------------------------------------------------


def _ledger_cash(*, txn: Transaction, account: Account, amount: Decimal) -> None:
    Entry.objects.create(transaction=txn, account=account, quantity=amount)
    account.cash += amount
    account.full_clean(exclude=["client", "goal"])
    account.save(update_fields=["cash"])


def _ledger_fill(*, txn: Transaction, account: Account, fill: Fill) -> None:
    """Record a fill: units and cash entries, the position, and its lots (FIFO on sales)."""
    Entry.objects.create(
        transaction=txn, account=account, asset=fill.asset, quantity=fill.quantity, price=fill.price
    )
    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, asset=fill.asset
    )
    position.quantity += fill.quantity
    position.save(update_fields=["quantity"])
    if fill.quantity > 0:
        Lot.objects.create(
            account=account,
            asset=fill.asset,
            opened_by=txn,
            acquired_on=txn.market_date,
            quantity=fill.quantity,
            remaining=fill.quantity,
            unit_cost=fill.price,
        )
    else:
        _lots_consume(account=account, fill=fill)
    _ledger_cash(txn=txn, account=account, amount=fill.cash)


def _lots_consume(*, account: Account, fill: Fill) -> None:
    to_sell = -fill.quantity
    lots = Lot.objects.select_for_update().filter(
        account=account, asset=fill.asset, remaining__gt=0
    )
    for lot in lots.order_by("acquired_on", "id"):
        if to_sell <= 0:
            break
        taken = min(lot.remaining, to_sell)
        lot.remaining -= taken
        lot.realised_gain += money(taken * (fill.price - lot.unit_cost))
        lot.save(update_fields=["remaining", "realised_gain"])
        to_sell -= taken


# --- Cash-flow rebalancing ------------------------------------------------------------------


def _buys(valuation: Valuation, targets: dict[str, Decimal], cash: Decimal) -> dict[str, Decimal]:
    """Spend `cash` on the funds furthest below target first, then pro rata to target."""
    total = valuation.total
    current = {h.asset.ticker: h.value for h in valuation.holdings}
    shortfall = {
        t: max(w * total - current.get(t, Decimal(0)), Decimal(0)) for t, w in targets.items()
    }
    need = sum(shortfall.values(), Decimal(0))
    if need >= cash:
        raw = {t: cash * s / need for t, s in shortfall.items()} if need else {}
    else:
        raw = {t: s + (cash - need) * targets[t] for t, s in shortfall.items()}
    return _cents_within(raw, cash)


def _cents_within(raw: dict[str, Decimal], budget: Decimal) -> dict[str, Decimal]:
    amounts = {t: v.quantize(CENT, rounding=ROUND_DOWN) for t, v in raw.items()}
    return {t: v for t, v in amounts.items() if v >= min_trade() and v <= budget}


def _sells(
    valuation: Valuation, targets: dict[str, Decimal], raise_: Decimal
) -> dict[str, Decimal]:
    """Value to sell per fund to raise cash: most-overweight funds first (after the outflow)."""
    after = valuation.total - raise_ - valuation.cash
    current = {h.asset.ticker: h.value for h in valuation.holdings}
    excess = {
        t: max(v - targets.get(t, Decimal(0)) * max(after, Decimal(0)), Decimal(0))
        for t, v in current.items()
    }
    spare = sum(excess.values(), Decimal(0))
    if spare >= raise_ and spare > 0:
        return {t: raise_ * e / spare for t, e in excess.items() if e > 0}
    invested = sum(current.values(), Decimal(0))
    return {t: raise_ * v / invested for t, v in current.items()} if invested else {}


def _invest(*, txn: Transaction, account: Account, broker: Broker) -> list[Fill]:
    targets = target_weights(account=account)
    if not targets or account.cash < min_trade():
        return []
    valuation = account_value(account=account, day=txn.market_date)
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=targets)}
    fills = []
    for ticker, amount in sorted(_buys(valuation, targets, account.cash).items()):
        fill = broker.buy(asset=assets[ticker], amount=amount, day=txn.market_date)
        _ledger_fill(txn=txn, account=account, fill=fill)
        fills.append(fill)
    return fills


def _raise_cash(
    *, txn: Transaction, account: Account, amount: Decimal, broker: Broker, one_fund: bool = False
) -> list[Fill]:
    """Sell holdings so that cash covers `amount`; everything if it takes everything.

    `one_fund`: sell only the most overweight fund when it covers the shortfall (fees)."""
    valuation = account_value(account=account, day=txn.market_date)
    if amount > valuation.total:
        raise InsufficientFunds(
            f"You can withdraw at most {valuation.total} {account.currency} from this account.",
            extra={
                "fields": {"amount": [f"At most {valuation.total}."]},
                "available": str(valuation.total),
            },
        )
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    fills = []
    if amount == valuation.total:
        plan = {t: h.quantity for t, h in holdings.items()}
    else:
        targets = target_weights(account=account) or {}
        need = amount - account.cash
        sells = _sells(valuation, targets, need)
        if one_fund and sells:
            # A fee is a few dollars: one sale of the most overweight fund, not dust in each.
            top = max(sorted(sells), key=lambda t: sells[t])
            if holdings[top].value >= need * Decimal("1.0001") + CENT:
                sells = {top: need}
        plan = {
            t: min(
                units_for_value(value * Decimal("1.0001") + CENT, holdings[t].price),
                holdings[t].quantity,
            )
            for t, value in sells.items()
        }
    for ticker, quantity in sorted(plan.items()):
        if quantity <= 0:
            continue
        fill = broker.sell(asset=holdings[ticker].asset, quantity=quantity, day=txn.market_date)
        _ledger_fill(txn=txn, account=account, fill=fill)
        fills.append(fill)
    return fills


# --- Deposits and withdrawals ---------------------------------------------------------------


@dataclass
class CashFlowResult:
    transaction: Transaction
    fills: list[Fill] = field(default_factory=list)
    message: str = ""


def _amount_check(amount: Decimal) -> Decimal:
    if amount <= 0 or amount > MAX_AMOUNT or amount != money(amount):
        raise ValidationError(
            {"amount": ["Enter a positive amount in whole cents, at most 10,000,000."]}
        )
    return amount


@transaction.atomic
def deposit_make(
    *, account: Account, amount: Decimal, broker: Broker | None = None, day: date | None = None
) -> CashFlowResult:
    """Add cash and invest it at the close, buying the most underweight funds first.

    `day` (default: the market date) lets demo data and backfills replay history."""
    _amount_check(amount)
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DEPOSIT,
        amount=amount,
        market_date=day or market_date_get(),
        description=f"Deposit of {amount} {account.currency}",
    )
    _ledger_cash(txn=txn, account=account, amount=amount)
    fills = _invest(txn=txn, account=account, broker=broker)
    if fills:
        message = f"Deposited {amount} and invested it in {len(fills)} funds at the close."
    else:
        message = (
            f"Deposited {amount}. It stays in cash until your risk profile and an approved "
            "model portfolio let us invest it."
        )
    logger.info("deposit", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return CashFlowResult(transaction=txn, fills=fills, message=message)


def _cash_out(
    *, txn: Transaction, account: Account, amount: Decimal, broker: Broker, one_fund: bool = False
) -> list[Fill]:
    """Take `amount` of cash out for `txn`, selling the most overweight funds if cash is short."""
    fills: list[Fill] = []
    if amount > account.cash:
        fills = _raise_cash(
            txn=txn, account=account, amount=amount, broker=broker, one_fund=one_fund
        )
    if amount > account.cash:  # rounding left it a few cents short: never overdraw
        raise InsufficientFunds(
            "This withdrawal would overdraw the account.",
            extra={"fields": {"amount": ["Slightly less, please: prices moved."]}},
        )
    _ledger_cash(txn=txn, account=account, amount=-amount)
    return fills


@transaction.atomic
def withdrawal_make(
    *, account: Account, amount: Decimal, broker: Broker | None = None, day: date | None = None
) -> CashFlowResult:
    """Pay out cash, selling the most overweight funds first if cash does not cover it."""
    _amount_check(amount)
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.WITHDRAWAL,
        amount=-amount,
        market_date=day or market_date_get(),
        description=f"Withdrawal of {amount} {account.currency}",
    )
    fills = _cash_out(txn=txn, account=account, amount=amount, broker=broker)
    sold = ", ".join(f"{-f.quantity} {f.asset.ticker}" for f in fills)
    message = f"Withdrew {amount}." + (f" Sold {sold} at the close to raise it." if fills else "")
    logger.info("withdrawal", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return CashFlowResult(transaction=txn, fills=fills, message=message)


# --- Advisory fees --------------------------------------------------------------------------


def advisory_fee_annual() -> Decimal:
    return Decimal(str(settings.ADVISORY_FEE_ANNUAL))


def advisory_fee_monthly(*, value: Decimal) -> Decimal:
    """One month's fee on a value: a twelfth of the annual rate, to the cent, half up."""
    return (value * advisory_fee_annual() / 12).quantize(CENT, rounding=ROUND_HALF_UP)


def advisory_fee_annual_estimate(*, value: Decimal) -> Decimal:
    """A year of fees at this value (twelve monthly bills, before their rounding), to the cent."""
    return (value * advisory_fee_annual()).quantize(CENT, rounding=ROUND_HALF_UP)


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
    invested = sum(
        ((q * closes[a]).quantize(CENT, rounding=ROUND_DOWN) for a, q in held.items()),
        Decimal("0.00"),
    )
    return money(cash) + invested


@transaction.atomic
def fee_charge(
    *, account: Account, period: date, day: date, broker: Broker | None = None
) -> Transaction | None:
    """Charge one account the advisory fee for the month `period` on its value at close `day`.

    None when that month is already billed or the fee is under a cent. Cash pays it; if cash is
    short, a little of the most overweight fund is sold at that close."""
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    billed = Transaction.objects.filter(account=account, kind=Transaction.Kind.FEE)
    if billed.filter(fee_period=period).exists():
        return None  # billed already, perhaps by another worker that held the lock first
    fee = advisory_fee_monthly(value=account_value_on(account=account, day=day))
    if fee < CENT:
        return None
    rate = format((advisory_fee_annual() * 100).normalize(), "f")
    txn = Transaction(
        account=account,
        kind=Transaction.Kind.FEE,
        amount=-fee,
        market_date=day,
        fee_period=period,
        description=f"Advisory fee for {period:%B %Y} ({rate}% a year, billed monthly)",
    )
    txn.full_clean()
    txn.save()
    _cash_out(txn=txn, account=account, amount=fee, broker=broker, one_fund=True)
    logger.info("advisory fee", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return txn


def fees_bill(*, month_end: date | None = None) -> int:
    """Bill the monthly advisory fee for a complete month (default: the latest one) to every
    account with value at its last close; one transaction per account. Idempotent: a unique
    constraint allows one fee per account and month. Returns the accounts billed."""
    complete = fee_months_complete()
    if month_end is None:
        if not complete:
            return 0
        period = max(complete)
    else:
        period = month_end.replace(day=1)
        if period not in complete:
            raise ValidationError(
                {"month_end": ["Only a month with prices after it (a complete one) is billed."]}
            )
    day = complete[period]
    already = Transaction.objects.filter(kind=Transaction.Kind.FEE, fee_period=period)
    funded = Entry.objects.filter(transaction__market_date__lte=day)
    accounts = (
        Account.objects.filter(pk__in=funded.values("account_id"))
        .exclude(pk__in=already.values("account_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    billed = 0
    for account_id in accounts:
        try:
            charged = fee_charge(account=Account(pk=account_id), period=period, day=day)
        except InsufficientFunds:
            # Emptied since the month ended: the other accounts are still billed; the next
            # run tries this one again.
            logger.warning(
                "advisory fee not collected", exc_info=True, extra={"account_id": account_id}
            )
            continue
        billed += charged is not None
    logger.info("advisory fees billed", extra={"period": period.isoformat(), "count": billed})
    return billed


# --- Idempotency ----------------------------------------------------------------------------

IDEMPOTENCY_TTL = timedelta(hours=24)


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@transaction.atomic
def idempotent(
    *,
    user: User,
    key: str,
    scope: str,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `operation` once per (user, key): the same key and body replays the first response;
    the same key with another body is refused. Returns (status, body, replayed)."""
    fingerprint = request_fingerprint({"scope": scope, "payload": payload})
    # Concurrent requests with one key queue on this row's lock (or its unique index) until the
    # first commits; they then see its stored response.
    record, created = IdempotencyKey.objects.select_for_update().get_or_create(
        user=user, key=key, defaults={"scope": scope, "request_hash": fingerprint}
    )
    if not created and record.created_at < timezone.now() - IDEMPOTENCY_TTL:
        record.delete()
        record = IdempotencyKey.objects.create(
            user=user, key=key, scope=scope, request_hash=fingerprint
        )
        created = True
    if not created:
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request.",
                extra={"key": key},
            )
        return record.response_status or 200, record.response_body, True
    status, body = operation()
    record.response_status, record.response_body = status, body
    record.save(update_fields=["response_status", "response_body"])
    return status, body, False


def idempotency_keys_purge() -> int:
    """Delete keys past their 24 h life. Idempotent."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL * 2
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- Market assumptions and model portfolios ------------------------------------------------


@transaction.atomic
def allocation_refresh(*, approve: bool | None = None) -> ModelPortfolioSet | None:
    """Re-estimate market assumptions and build ten model portfolios when prices moved on.

    Idempotent: nothing new is written while the latest assumptions already cover the market
    date. The new set is a candidate unless MODEL_PORTFOLIOS_AUTO_APPROVE (or `approve`)."""
    import pandas as pd  # the ml worker's imports: keep them out of web processes

    from . import allocation
    from .models import MarketAssumptions, Price

    day = market_date_get()
    latest = MarketAssumptions.objects.first()
    if latest is not None and latest.prices_through >= day:
        return None
    rows = Price.objects.filter(asset__active=True).values_list("date", "asset__ticker", "close")
    frame = pd.DataFrame.from_records(list(rows), columns=["date", "ticker", "close"])
    prices = frame.pivot(index="date", columns="ticker", values="close").astype(float)
    prices.index = pd.to_datetime(prices.index)
    tickers = [t for t in allocation.UNIVERSE if t in prices.columns]
    estimate = allocation.assumptions_estimate(prices[tickers].sort_index())
    assumptions = MarketAssumptions.objects.create(
        version=(latest.version + 1) if latest else 1,
        prices_through=day,
        method=estimate.method,
        data=estimate.as_dict(),
    )
    previous = ModelPortfolioSet.objects.order_by("-version").first()
    portfolio_set = ModelPortfolioSet.objects.create(
        version=(previous.version + 1) if previous else 1, assumptions=assumptions
    )
    for portfolio in allocation.model_portfolios_build(estimate):
        ModelPortfolio.objects.create(
            portfolio_set=portfolio_set,
            level=portfolio.level,
            weights={t: format(w, ".6f") for t, w in portfolio.weights.items() if w > 0},
            expected_return=portfolio.expected_return,
            volatility=portfolio.volatility,
        )
    auto = settings.MODEL_PORTFOLIOS_AUTO_APPROVE if approve is None else approve
    if auto:
        model_portfolio_set_decide(portfolio_set=portfolio_set, approve=True, actor=None)
    logger.info("model portfolios built", extra={"version": portfolio_set.version})
    return portfolio_set


def model_portfolio_set_decide(
    *, portfolio_set: ModelPortfolioSet, approve: bool, actor: User | None
) -> ModelPortfolioSet:
    """Approve (retiring the approved one) or reject a candidate set; audited."""
    return lifecycle_decide(
        row=portfolio_set,
        approve=approve,
        actor=actor,
        rejected_status=ModelPortfolioSet.Status.REJECTED,
        peers=ModelPortfolioSet.objects.all(),
    )


# --- Rebalancing ----------------------------------------------------------------------------


def drift_threshold() -> Decimal:
    return Decimal(str(settings.REBALANCE_DRIFT_THRESHOLD))


def _rebalance_plan(
    valuation: Valuation, goal_targets: dict[str, Decimal]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Trades (value per fund) that restore the targets, and the weights they lead to."""
    total = valuation.total
    current = {h.asset.ticker: h.value for h in valuation.holdings}
    trades, after = [], {}
    for ticker in sorted(set(goal_targets) | set(current)):
        want = money(goal_targets.get(ticker, Decimal(0)) * total)
        have = current.get(ticker, Decimal("0.00"))
        gap = want - have
        if abs(gap) >= min_trade():
            trades.append(
                {"ticker": ticker, "side": "buy" if gap > 0 else "sell", "value": str(abs(gap))}
            )
            have = want
        if total > 0 and have > 0:
            after[ticker] = format(have / total, ".4f")
    return trades, after


def _class_drift(weights: dict[str, Decimal], goal_targets: dict[str, Decimal]) -> Decimal:
    value = targets.drift(
        {t: float(w) for t, w in weights.items()}, {t: float(w) for t, w in goal_targets.items()}
    )
    return Decimal(str(round(value, 4)))


@transaction.atomic
def rebalance_propose(*, account: Account) -> RebalanceProposal | None:
    """Propose trades when drift (½·Σ|actual − target| by class) exceeds the threshold.

    Idempotent per market date: a pending proposal is replaced only when prices moved on."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    goal_targets = target_weights(account=account)
    valuation = account_value(account=account)
    weights = valuation.weights()
    if not goal_targets or not weights:
        return None
    drift = _class_drift(weights, goal_targets)
    pending = account.rebalances.filter(status=RebalanceProposal.Status.PENDING).first()
    if pending is not None and pending.market_date == valuation.day:
        return pending
    if drift <= drift_threshold():
        if pending is not None:  # the market came back: nothing to do any more
            pending.status = RebalanceProposal.Status.SUPERSEDED
            pending.save(update_fields=["status"])
        return None
    if pending is not None:
        pending.status = RebalanceProposal.Status.SUPERSEDED
        pending.save(update_fields=["status"])
    trades, after = _rebalance_plan(valuation, goal_targets)
    by_class_now = targets.class_weights({t: float(w) for t, w in weights.items()})
    by_class_target = targets.class_weights({t: float(w) for t, w in goal_targets.items()})
    worst = max(by_class_now, key=lambda c: abs(by_class_now[c] - by_class_target[c]))
    gap = by_class_now[worst] - by_class_target[worst]
    direction = "over" if gap > 0 else "under"
    proposal = RebalanceProposal.objects.create(
        account=account,
        market_date=valuation.day,
        drift=drift,
        threshold=drift_threshold(),
        reason=(
            f"Drift is {drift:.1%}, above the {drift_threshold():.0%} threshold; the largest "
            f"gap is {worst.replace('_', ' ')}, {abs(gap):.1%} {direction} target."
        ),
        trades=trades,
        before_weights={t: format(w, ".4f") for t, w in weights.items()},
        after_weights=after,
    )
    logger.info("rebalance proposed", extra={"account_id": account.pk, "proposal_id": proposal.pk})
    if settings.REBALANCE_AUTO_EXECUTE:
        return rebalance_decide(proposal=proposal, approve=True, actor=None)
    return proposal


@transaction.atomic
def rebalance_decide(
    *, proposal: RebalanceProposal, approve: bool, actor: User | None, broker: Broker | None = None
) -> RebalanceProposal:
    """Approve (and execute at the close) or reject a pending proposal; audited."""
    proposal = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != RebalanceProposal.Status.PENDING:
        raise ValidationError({"status": [f"This proposal is already {proposal.status}."]})
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    if not approve:
        proposal.status = RebalanceProposal.Status.REJECTED
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        return proposal
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=proposal.account_id)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.TRADE,
        amount=Decimal("0.00"),
        market_date=market_date_get(),
        description=f"Rebalance (proposal {proposal.pk})",
    )
    # Re-planned at execution: prices may have moved since the proposal. Sales first, to fund
    # the purchases; purchases then spend what the account holds.
    goal_targets = target_weights(account=account) or {}
    valuation = account_value(account=account, day=txn.market_date)
    trades, _ = _rebalance_plan(valuation, goal_targets)
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    for trade in (t for t in trades if t["side"] == "sell"):
        holding = holdings[trade["ticker"]]
        quantity = min(units_for_value(Decimal(trade["value"]), holding.price), holding.quantity)
        fill = broker.sell(asset=holding.asset, quantity=quantity, day=txn.market_date)
        _ledger_fill(txn=txn, account=account, fill=fill)
    buys = {t["ticker"]: Decimal(t["value"]) for t in trades if t["side"] == "buy"}
    wanted = sum(buys.values(), Decimal(0))
    scale = min(Decimal(1), account.cash / wanted) if wanted else Decimal(0)
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=buys)}
    for ticker, value in sorted(buys.items()):
        amount = (value * scale).quantize(CENT, rounding=ROUND_DOWN)
        if amount >= min_trade() and amount <= account.cash:
            fill = broker.buy(asset=assets[ticker], amount=amount, day=txn.market_date)
            _ledger_fill(txn=txn, account=account, fill=fill)
    proposal.status = RebalanceProposal.Status.EXECUTED
    proposal.executed_transaction = txn
    proposal.save(update_fields=["status", "decided_by", "decided_at", "executed_transaction"])
    logger.info("rebalance executed", extra={"proposal_id": proposal.pk, "transaction_id": txn.pk})
    return proposal


def rebalance_proposals_refresh() -> int:
    """Daily: propose a rebalance for every drifted account. Returns proposals pending."""
    for account_id in Account.objects.values_list("pk", flat=True):
        rebalance_propose(account=Account(pk=account_id))
    return RebalanceProposal.objects.filter(status=RebalanceProposal.Status.PENDING).count()


# --- Recurring deposits ---------------------------------------------------------------------


def _next_month_day(after: date, day_of_month: int) -> date:
    candidate = after.replace(day=day_of_month)
    if candidate > after:
        return candidate
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return date(year, month, day_of_month)


@transaction.atomic
def recurring_deposit_create(
    *, account: Account, amount: Decimal, day_of_month: int
) -> RecurringDeposit:
    _amount_check(amount)
    if not 1 <= day_of_month <= 28:
        raise ValidationError(
            {"day_of_month": ["Choose a day from 1 to 28, so every month has it."]}
        )
    recurring = RecurringDeposit(
        account=account,
        amount=amount,
        day_of_month=day_of_month,
        next_run=_next_month_day(timezone.localdate() - timedelta(days=1), day_of_month),
    )
    recurring.full_clean()
    recurring.save()
    return recurring


@transaction.atomic
def recurring_deposit_cancel(*, recurring: RecurringDeposit) -> None:
    recurring.active = False
    recurring.cancelled_at = timezone.now()
    recurring.save(update_fields=["active", "cancelled_at"])


@transaction.atomic
def recurring_deposit_pause(*, recurring: RecurringDeposit, paused: bool) -> RecurringDeposit:
    """Pause or resume. A resumed deposit pays from its next day of the month after today:
    months missed while paused are not paid in arrears."""
    recurring = RecurringDeposit.objects.select_for_update().get(pk=recurring.pk)
    if recurring.cancelled_at is not None:
        raise ValidationError({"active": ["This recurring deposit was cancelled."]})
    recurring.active = not paused
    if not paused:
        recurring.next_run = max(
            recurring.next_run,
            _next_month_day(timezone.localdate() - timedelta(days=1), recurring.day_of_month),
        )
    recurring.save(update_fields=["active", "next_run"])
    return recurring


def recurring_deposits_run(*, today: date | None = None) -> int:
    """Run every due recurring deposit once per scheduled date (keyed, so a rerun pays nothing)."""
    today = today or timezone.localdate()
    ran = 0
    due = RecurringDeposit.objects.filter(
        active=True, cancelled_at=None, next_run__lte=today
    ).select_related("account__client__user")
    for recurring in due:
        with transaction.atomic():
            locked = RecurringDeposit.objects.select_for_update().get(pk=recurring.pk)
            if not locked.active or locked.next_run > today:
                continue  # another worker ran it
            scheduled = locked.next_run
            account = recurring.account

            def pay(account: Account = account, amount: Decimal = locked.amount) -> tuple[int, Any]:
                result = deposit_make(account=account, amount=amount)
                return 201, {"transaction": result.transaction.pk}

            idempotent(
                user=account.client.user,
                key=f"recurring:{locked.pk}:{scheduled.isoformat()}",
                scope="recurring-deposit",
                payload={"amount": str(locked.amount)},
                operation=pay,
            )
            locked.next_run = _next_month_day(scheduled, locked.day_of_month)
            locked.save(update_fields=["next_run"])
            ran += 1
    return ran
