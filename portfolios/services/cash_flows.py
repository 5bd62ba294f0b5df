"""Deposits and withdrawals, invested and raised with cash-flow rebalancing: new cash buys the
most underweight funds first, a withdrawal sells the most overweight funds first.

Holdings are compared with targets per slot (`targets.slot`): a tax-loss-harvesting alternate
counts toward its primary's target, a purchase for a slot buys `purchase_ticker`'s choice, and a
sale from a slot sells its alternate first. Deposits into IRAs respect the IRS's annual limit
(`ira.py`); withdrawals from IRAs say how they are taxed (`Transaction.tax_note`)."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from advisor.models import Client, Goal, User, WithdrawalHold
from advisor.risk_control import audit_actor
from config.celery import enqueue_on_commit

from ..broker import Broker, Fill, PaperBroker, proceeds_pooled, units_for_value
from ..exceptions import GoalClosed, InsufficientFunds
from ..market import market_date_get
from ..models import Account, Asset, Transaction
from ..money import CENT, money, money_down, money_text
from ..notices import cash_flow_notify
from ..targets import slot
from ..valuation import Holding, Valuation, account_value, min_trade, target_weights
from .fees_owed import fees_owed_collect
from .holds import (
    WithdrawalHoldConflict,
    held_message,
    hold_first_approval,
    hold_lock_for_decision,
    hold_released,
    withdrawal_screen,
)
from .ira import ira_contribution_check
from .ledger import ledger_cash, ledger_fill
from .purchases import purchase_ticker

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("10000000.00")
UNITS_SHOWN = Decimal("0.0001")  # a message's unit counts; the transaction keeps all 8 decimals


def units_text(quantity: Decimal) -> str:
    """A unit count for a message: 4 decimals, trailing zeros dropped (12.5, 0.1235)."""
    shown = quantity.quantize(UNITS_SHOWN).normalize()
    text = f"{shown:f}"
    return text if shown else f"< {UNITS_SHOWN}"


def slot_values(valuation: Valuation) -> dict[str, Decimal]:
    """Each slot's value (`targets.slot`: an alternate counts toward its primary): its
    holdings' exact values summed, rounded down once."""
    exact: defaultdict[str, Decimal] = defaultdict(Decimal)
    for holding in valuation.holdings:
        exact[slot(holding.asset.ticker)] += holding.exact
    return {s: money_down(v) for s, v in exact.items()}


def slot_holdings(valuation: Valuation, slot_: str) -> list[Holding]:
    """The holdings in a slot in the order a sale takes them: the alternate first (a
    switch-back would sell it anyway), then the primary."""
    held = [h for h in valuation.holdings if slot(h.asset.ticker) == slot_ and h.quantity > 0]
    return sorted(held, key=lambda h: (h.asset.ticker == slot_, h.asset.ticker))


def _buys(valuation: Valuation, targets: dict[str, Decimal], cash: Decimal) -> dict[str, Decimal]:
    """Spend `cash` on the slots furthest below target first, then pro rata to target."""
    total = valuation.total
    current = slot_values(valuation)
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


def _slot_sells(
    valuation: Valuation, targets: dict[str, Decimal], raise_: Decimal
) -> dict[str, Decimal]:
    """Value to sell per slot to raise cash: most-overweight slots first (after the outflow)."""
    after = valuation.total - raise_ - valuation.cash
    current = slot_values(valuation)
    excess = {
        t: max(v - targets.get(t, Decimal(0)) * max(after, Decimal(0)), Decimal(0))
        for t, v in current.items()
    }
    spare = sum(excess.values(), Decimal(0))
    if spare >= raise_ and spare > 0:
        return {t: raise_ * e / spare for t, e in excess.items() if e > 0}
    invested = sum(current.values(), Decimal(0))
    return {t: raise_ * v / invested for t, v in current.items()} if invested else {}


def _sells(
    valuation: Valuation, targets: dict[str, Decimal], raise_: Decimal
) -> dict[str, Decimal]:
    """Value to sell per fund to raise cash: the slots' sales, each taken from the slot's
    alternate first and the rest from its primary."""
    sells: dict[str, Decimal] = {}
    for slot_, value in _slot_sells(valuation, targets, raise_).items():
        held = slot_holdings(valuation, slot_)
        left = value
        for holding in held:
            if left <= 0:
                break
            take = min(left, holding.value)
            if take > 0:
                sells[holding.asset.ticker] = take
            left -= take
        if left > 0 and held:
            # The slot's value is its holdings' exact sum rounded once, up to a cent more than
            # their rounded values: the last fund covers the rest (raise_cash caps the units).
            last = held[-1].asset.ticker
            sells[last] = sells.get(last, Decimal(0)) + left
    return sells


def cash_invest(*, txn: Transaction, account: Account, broker: Broker) -> list[Fill]:
    """Invest the account's cash at `txn`'s close: the most underweight slots first, each
    buying the fund `purchase_ticker` chooses for it (its primary or its alternate)."""
    targets = target_weights(account=account)
    if not targets or account.cash < min_trade():
        return []
    valuation = account_value(account=account, day=txn.market_date)
    buys = _buys(valuation, targets, account.cash)
    tickers = {s: purchase_ticker(account=account, primary=s, day=txn.market_date) for s in buys}
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=tickers.values())}
    fills = []
    for slot_, amount in sorted(buys.items()):
        fill = broker.buy(asset=assets[tickers[slot_]], amount=amount, day=txn.market_date)
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
        by_slot = _slot_sells(valuation, targets, need)
        if one_fund and by_slot:
            # A fee is a few dollars: one sale from the most overweight slot, not dust in each,
            # of its alternate if that covers it (else its primary).
            top = max(sorted(by_slot), key=lambda t: by_slot[t])
            for holding in slot_holdings(valuation, top):
                if holding.value >= need * Decimal("1.0001") + CENT:
                    sells = {holding.asset.ticker: need}
                    break
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
    """A cash flow made, or a withdrawal held for review (`hold` set, no transaction)."""

    transaction: Transaction | None
    fills: list[Fill] = field(default_factory=list)
    message: str = ""
    hold: WithdrawalHold | None = None


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
    invested. `day` (default: the market date) lets demo data and backfills replay history.
    Into an IRA, a deposit past the year's contribution limit is refused (IraLimitExceeded).

    Locks the client's row, then the account's: the IRA limit is shared by all of a client's
    IRAs, so two deposits into two of them are checked one after the other. Every deposit
    takes the client's lock (not only an IRA's), so a goal switched to an IRA before its
    first deposit commits cannot let that deposit skip the check."""
    amount_check(amount)
    broker = broker or PaperBroker()
    market_date = day or market_date_get()
    client_id = Account.objects.values_list("client_id", flat=True).get(pk=account.pk)
    # FOR NO KEY UPDATE: it still orders deposits, but never blocks the key-share checks that
    # PostgreSQL's foreign keys take on the client's row at another transaction's commit (a
    # withdrawal holding the account's lock would otherwise deadlock with this deposit).
    Client.objects.select_for_update(no_key=True).only("pk").get(pk=client_id)
    # of=("self",): the account's row only; its goal's row is the goal services' to lock.
    account = (
        Account.objects.select_for_update(of=("self",)).select_related("goal").get(pk=account.pk)
    )
    if account.goal.status == Goal.Status.CLOSED:
        raise GoalClosed(
            f"The goal “{account.goal.name}” is closed: it takes no new money. Reopen it, or "
            "deposit to another goal."
        )
    ira_contribution_check(account=account, amount=amount, day=market_date)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DEPOSIT,
        amount=amount,
        market_date=market_date,
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


PENALTY_FREE_MONTHS = 59 * 12 + 6  # age 59½ (IRC §72(t)(2)(A)(i))


def withdrawal_tax_note(*, account_type: str, born: date | None, day: date) -> str:
    """How a withdrawal from an account of this type is taxed, as told to the client; empty
    for a taxable account (its sales' gains are reported with the lots). The early-withdrawal
    penalty is mentioned unless the client is known to be 59½ or older on `day`."""
    past_59_half = born is not None and (
        (day.year - born.year) * 12 + day.month - born.month - (day.day < born.day)
        >= PENALTY_FREE_MONTHS
    )
    if account_type == Goal.AccountType.TRADITIONAL_IRA:
        if past_59_half:
            return "Taxed as ordinary income."
        return "Taxed as ordinary income; before age 59½ an extra 10% penalty may apply."
    if account_type == Goal.AccountType.ROTH_IRA:
        if past_59_half:
            return (
                "Your contributions come out tax-free; earnings may be taxed before your first "
                "Roth contribution is five years old."
            )
        return (
            "Your contributions come out tax-free; earnings may be taxed and penalised before "
            "age 59½ and five years."
        )
    return ""


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
    *,
    account: Account,
    amount: Decimal,
    broker: Broker | None = None,
    day: date | None = None,
    idempotency_key: str = "",
    release: WithdrawalHold | None = None,
) -> CashFlowResult:
    """Pay out cash, selling the most overweight funds if cash does not cover it.

    A live withdrawal (no `day`) is screened by the risk rules first, under the account's lock:
    a held one is recorded (`WithdrawalHold`, with the request's `idempotency_key`), the client
    is told, and nothing moves (`hold` set, no transaction). `release`: the hold an advisor
    released (withdrawal_release), which skips the rules and is executed instead.
    From an IRA, the transaction and the message carry its tax treatment (`tax_note`)."""
    amount_check(amount)
    broker = broker or PaperBroker()
    account = (
        Account.objects.select_for_update(of=("self",))
        .select_related("goal", "client")
        .get(pk=account.pk)
    )
    if release is None and day is None:
        hold = withdrawal_screen(account=account, amount=amount, idempotency_key=idempotency_key)
        if hold is not None:
            return CashFlowResult(
                transaction=None, hold=hold, message=held_message(hold=hold, account=account)
            )
    market_date = day or market_date_get()
    tax_note = withdrawal_tax_note(
        account_type=account.goal.account_type,
        born=account.client.date_of_birth,
        day=market_date,
    )
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.WITHDRAWAL,
        amount=-amount,
        market_date=market_date,
        description=f"Withdrawal of {money_text(amount, account.currency)}",
        tax_note=tax_note,
    )
    fills = cash_out(txn=txn, account=account, amount=amount, broker=broker)
    sold = ", ".join(f"{units_text(-f.quantity)} {f.asset.ticker}" for f in fills)
    message = f"Withdrew {money_text(amount, account.currency)}." + (
        f" Sold {sold} at the close to raise it." if fills else ""
    )
    if tax_note:
        message += f" {tax_note}"
    logger.info("withdrawal", extra={"account_id": account.pk, "transaction_id": txn.pk})
    if day is None:
        plan_changed(account=account)
        cash_flow_notify(txn=txn)
    return CashFlowResult(transaction=txn, fills=fills, message=message)


@transaction.atomic
def withdrawal_release(
    *, hold: WithdrawalHold, actor: User, note: str = "", broker: Broker | None = None
) -> WithdrawalHold:
    """An advisor releases a held withdrawal: it is executed at that day's close through
    withdrawal_make (the rules skipped), exactly once. From the four-eyes threshold up, the
    first approval only records itself; a second staff member's executes it.

    The hold's row is locked first and must still be pending, so a double release or a
    release racing a rejection executes at most once (the loser gets a 409). If the money left
    by another path meanwhile, nothing moves and the hold stays pending for a rejection (409)."""
    with audit_actor(actor):
        hold = hold_lock_for_decision(hold=hold, actor=actor)
        if hold_first_approval(hold=hold, actor=actor, note=note):
            return hold
        account = Account.objects.get(pk=hold.account_id)
        try:
            with transaction.atomic():  # a savepoint: a refusal leaves the hold as it was
                result = withdrawal_make(
                    account=account, amount=hold.amount, broker=broker, release=hold
                )
        except InsufficientFunds as exc:
            raise WithdrawalHoldConflict(
                "The account no longer holds this amount (money left it since the hold): "
                "nothing was withdrawn. Reject the hold, or ask the client for a new request.",
                code="withdrawal_hold_insufficient_funds",
                extra=exc.extra,
            ) from exc
        assert result.transaction is not None  # noqa: S101 - a release is never screened
        hold_released(hold=hold, actor=actor, txn=result.transaction, note=note)
    logger.info(
        "withdrawal hold released",
        extra={"hold_id": hold.pk, "actor_id": actor.pk, "transaction_id": result.transaction.pk},
    )
    return hold
