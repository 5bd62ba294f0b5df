"""Deposits and withdrawals, invested and raised with cash-flow rebalancing: new cash buys the
most underweight funds first, a withdrawal sells the most overweight funds first."""

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from advisor.models import Goal
from config.celery import enqueue_on_commit

from ..broker import Broker, Fill, PaperBroker, proceeds_pooled, units_for_value
from ..exceptions import GoalClosed, InsufficientFunds
from ..market import market_date_get
from ..models import Account, Asset, Transaction
from ..money import CENT, money, money_down, money_text
from ..notices import cash_flow_notify
from ..valuation import Valuation, account_value, min_trade, target_weights
from .fees_owed import fees_owed_collect
from .ledger import ledger_cash, ledger_fill

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("10000000.00")
UNITS_SHOWN = Decimal("0.0001")  # a message's unit counts; the transaction keeps all 8 decimals


def units_text(quantity: Decimal) -> str:
    """A unit count for a message: 4 decimals, trailing zeros dropped (12.5, 0.1235)."""
    shown = quantity.quantize(UNITS_SHOWN).normalize()
    text = f"{shown:f}"
    return text if shown else f"< {UNITS_SHOWN}"


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
    amounts = {t: money_down(v) for t, v in raw.items()}
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


def cash_invest(*, txn: Transaction, account: Account, broker: Broker) -> list[Fill]:
    targets = target_weights(account=account)
    if not targets or account.cash < min_trade():
        return []
    valuation = account_value(account=account, day=txn.market_date)
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=targets)}
    fills = []
    for ticker, amount in sorted(_buys(valuation, targets, account.cash).items()):
        fill = broker.buy(asset=assets[ticker], amount=amount, day=txn.market_date)
        ledger_fill(txn=txn, account=account, fill=fill)
        fills.append(fill)
    return fills


def raise_cash(
    *, txn: Transaction, account: Account, amount: Decimal, broker: Broker, one_fund: bool = False
) -> list[Fill]:
    """Sell holdings so that cash covers `amount`; everything if it takes everything.

    `one_fund`: sell only the most overweight fund when it covers the shortfall (fees)."""
    valuation = account_value(account=account, day=txn.market_date)
    if amount > valuation.total:
        raise InsufficientFunds(
            f"You can withdraw at most {money_text(valuation.total, account.currency)} from this "
            "account.",
            extra={
                "fields": {"amount": [f"At most {money_text(valuation.total, account.currency)}."]},
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
        fills.append(
            broker.sell(asset=holdings[ticker].asset, quantity=quantity, day=txn.market_date)
        )
    if all(plan.get(t) == h.quantity for t, h in holdings.items()):
        # Everything sold: settled as one batch on the exact proceeds rounded once, so the
        # account raises exactly the total shown (cash + money_value of the holdings).
        fills = proceeds_pooled(fills)
    for fill in fills:
        ledger_fill(txn=txn, account=account, fill=fill)
    return fills


def plan_changed(*, account: Account) -> None:
    """The money or the schedule behind the account's goal changed: once committed, its plan's
    chance of success is projected again (portfolios.goal_plans_project → the ml worker)."""
    enqueue_on_commit("portfolios.goal_plans_project", goal_ids=[account.goal_id])


@dataclass
class CashFlowResult:
    transaction: Transaction
    fills: list[Fill] = field(default_factory=list)
    message: str = ""


def amount_check(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValidationError({"amount": ["Enter an amount of at least $0.01."]})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount": [f"Enter an amount of at most {money_text(MAX_AMOUNT)}."]})
    if amount != money(amount):
        raise ValidationError({"amount": ["Enter whole cents: at most 2 decimal places."]})
    return amount


@transaction.atomic
def deposit_make(
    *, account: Account, amount: Decimal, broker: Broker | None = None, day: date | None = None
) -> CashFlowResult:
    """Add cash and invest it at the close, buying the most underweight funds first.

    Advisory fees the account owes are paid from the new cash first, so only the rest is
    invested. `day` (default: the market date) lets demo data and backfills replay history."""
    amount_check(amount)
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().select_related("goal").get(pk=account.pk)
    if account.goal.status == Goal.Status.CLOSED:
        raise GoalClosed(
            f"The goal “{account.goal.name}” is closed: it takes no new money. Reopen it, or "
            "deposit to another goal."
        )
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DEPOSIT,
        amount=amount,
        market_date=day or market_date_get(),
        description=f"Deposit of {money_text(amount, account.currency)}",
    )
    ledger_cash(txn=txn, account=account, amount=amount)
    collected = fees_owed_collect(account=account, day=txn.market_date, broker=broker)
    fills = cash_invest(txn=txn, account=account, broker=broker)
    shown = money_text(amount, account.currency)
    if fills:
        funds = "1 fund" if len(fills) == 1 else f"{len(fills)} funds"
        message = f"Deposited {shown} and invested it in {funds} at the close."
    else:
        message = (
            f"Deposited {shown}. It stays in cash until your risk profile and an approved "
            "model portfolio let us invest it."
        )
    if collected:
        paid = -sum((fee.amount for fee in collected), Decimal(0))
        message += f" {money_text(paid, account.currency)} of it paid the advisory fees you owed."
    logger.info("deposit", extra={"account_id": account.pk, "transaction_id": txn.pk})
    if day is None:  # a live deposit, not a replay of history: the goal's plan changed
        plan_changed(account=account)
        cash_flow_notify(txn=txn)
    return CashFlowResult(transaction=txn, fills=fills, message=message)


def cash_out(
    *, txn: Transaction, account: Account, amount: Decimal, broker: Broker, one_fund: bool = False
) -> list[Fill]:
    """Take `amount` of cash out for `txn`, selling the most overweight funds if cash is short."""
    fills: list[Fill] = []
    if amount > account.cash:
        fills = raise_cash(
            txn=txn, account=account, amount=amount, broker=broker, one_fund=one_fund
        )
    if amount > account.cash:  # rounding left it a few cents short: never overdraw
        raise InsufficientFunds(
            "This withdrawal would overdraw the account.",
            extra={"fields": {"amount": ["Slightly less, please: prices moved."]}},
        )
    ledger_cash(txn=txn, account=account, amount=-amount)
    return fills


@transaction.atomic
def withdrawal_make(
    *, account: Account, amount: Decimal, broker: Broker | None = None, day: date | None = None
) -> CashFlowResult:
    """Pay out cash, selling the most overweight funds first if cash does not cover it."""
    amount_check(amount)
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.WITHDRAWAL,
        amount=-amount,
        market_date=day or market_date_get(),
        description=f"Withdrawal of {money_text(amount, account.currency)}",
    )
    fills = cash_out(txn=txn, account=account, amount=amount, broker=broker)
    sold = ", ".join(f"{units_text(-f.quantity)} {f.asset.ticker}" for f in fills)
    message = f"Withdrew {money_text(amount, account.currency)}." + (
        f" Sold {sold} at the close to raise it." if fills else ""
    )
    logger.info("withdrawal", extra={"account_id": account.pk, "transaction_id": txn.pk})
    if day is None:
        plan_changed(account=account)
        cash_flow_notify(txn=txn)
    return CashFlowResult(transaction=txn, fills=fills, message=message)
