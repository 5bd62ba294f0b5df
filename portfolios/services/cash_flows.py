"""Deposits and withdrawals, invested and raised with cash-flow rebalancing: new cash buys the
most underweight funds first, a withdrawal sells the most overweight funds first.

Holdings are compared with targets per slot (`targets.slot`): a tax-loss-harvesting alternate
counts toward its primary's target, a purchase for a slot buys `purchase_ticker`'s choice, and a
sale from a slot sells its alternate first. Deposits into IRAs respect the IRS's annual limit
(`ira.py`); withdrawals from IRAs say how they are taxed (`Transaction.tax_note`)."""

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from advisor.models import (
    Goal,
    User,
    WithdrawalHold,
)
from advisor.risk_control import audit_actor
from advisor.services.notifications import notify_many
from config.celery import enqueue_on_commit

from ..broker import (
    Broker,
    Fill,
    PaperBroker,
    PriceUnavailable,
    proceeds_pooled,
    units_for_value,
)
from ..exceptions import GoalClosed, InsufficientFunds, MarketDataMissing
from ..market import closes_on, market_date_get
from ..models import Account, Asset, FeeOwed, Lot, Position, Transaction
from ..money import CENT, money, money_down, money_text
from ..notices import cash_flow_notice, cash_flow_notify
from ..targets import slot
from ..valuation import (
    Holding,
    Valuation,
    account_value,
    approved_targets,
    level_at,
    min_trade,
    risk_levels,
    target_weights,
    valuation_day,
)
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
from .ledger import (
    LedgerBatch,
    account_lock,
    ledger_batches_flush,
    ledger_cash,
    ledger_fill,
    wash_match_purchase,
)
from .purchases import loss_tickers, loss_tickers_many, purchase_choice, purchase_ticker, washes

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("10000000.00")
UNITS_SHOWN = Decimal("0.0001")  # a message's unit counts; the transaction keeps all 8 decimals


def units_text(quantity: Decimal) -> str:
    """A unit count for a message: 4 decimals, trailing zeros dropped (12.5, 0.1235)."""
    shown = quantity.quantize(UNITS_SHOWN).normalize()
    text = f"{shown:f}"
    return text if shown else f"< {UNITS_SHOWN}"


# Accounts whose shared reads (`ChunkContext`) a job takes at once: bounds its memory and its
# `IN (...)` lists (SQLite allows 32,766 parameters) when it is handed the whole book.
CHUNK_ACCOUNTS = 500


def account_range_filter(
    account_range: tuple[int, int] | None, field: str = "account_id"
) -> dict[str, int]:
    """The filter keeping rows of accounts with lo <= pk < hi (none: the whole book)."""
    if account_range is None:
        return {}
    lo, hi = account_range
    return {f"{field}__gte": lo, f"{field}__lt": hi}


# --- A daily job's chunk: its shared reads --------------------------------------------------


@dataclass
class ChunkContext:
    """What a daily job's chunk of accounts (recurring deposits, dividends, fees) reads once for
    all of them instead of once per account: the market date, the approved model portfolios,
    the clients' risk levels, the funds, each fill day's closes, and which accounts owe fees.

    Read outside the accounts' locks: none of it is written by a cash flow (the closes, the
    models and the risk profiles change by their own jobs and decisions; a job's chunk takes
    seconds). Each account's own rows (cash, positions, lots, its client's loss sales) are
    still read under its lock. `owed` may miss a fee recorded owed after it was read: that fee
    is then collected from the account's next inflow, as any owed fee is."""

    today: date  # the market date (the calendar's before any market data): goal levels
    market_day: date | None  # the market date: deposits' fill day (None: no market data)
    targets_by_level: dict[int, dict[str, Decimal]]
    levels: dict[int, int | None]  # client id → risk level (None: no risk profile)
    assets: dict[str, Asset]  # by ticker
    owed: set[int]  # account ids with fees owed, not yet collected
    closes_by_day: dict[date, dict[int, Decimal]] = field(default_factory=dict)

    @property
    def assets_by_id(self) -> dict[int, Asset]:
        return {asset.pk: asset for asset in self.assets.values()}

    def closes(self, day: date) -> dict[int, Decimal]:
        """Every fund's latest close on or before `day` (`market.closes_on`), read once."""
        if day not in self.closes_by_day:
            self.closes_by_day[day] = closes_on(day=day, assets=self.assets.values())
        return self.closes_by_day[day]

    def targets(self, account: Account) -> dict[str, Decimal] | None:
        """`valuation.target_weights` of the account (its goal loaded), from the chunk's reads."""
        level = level_at(
            goal=account.goal, risk_level=self.levels.get(account.client_id), today=self.today
        )
        return None if level is None else self.targets_by_level.get(level)

    def broker(self, broker: Broker | None) -> Broker:
        """The caller's broker, or a paper broker filling at the chunk's closes."""
        return broker if broker is not None else _ChunkBroker(self)


class _ChunkBroker(PaperBroker):
    """`PaperBroker` at the chunk's closes: the same fills, without a price read per fill."""

    def __init__(self, context: ChunkContext) -> None:
        self._context = context

    def _price(self, asset: Asset, day: date) -> Decimal:
        price = self._context.closes(day).get(asset.pk)
        if price is None:
            raise PriceUnavailable(f"No price for {asset.ticker} on or before {day}.")
        return price


def chunk_context(*, accounts: Sequence[Account]) -> ChunkContext:
    """The shared reads for a chunk of `accounts` (their `client_id` set): seven queries."""
    ids = [account.pk for account in accounts]
    try:
        market_day: date | None = market_date_get()
    except MarketDataMissing:
        market_day = None
    return ChunkContext(
        today=market_day or valuation_day(),  # valuation_day's rule, one read
        market_day=market_day,
        targets_by_level=approved_targets(),
        levels=risk_levels(client_ids={account.client_id for account in accounts}),
        assets={asset.ticker: asset for asset in Asset.objects.all()},
        owed=set(
            FeeOwed.objects.filter(account_id__in=ids, collected_by__isnull=True).values_list(
                "account_id", flat=True
            )
        ),
    )


def chunk_valuation(*, account: Account, day: date, context: ChunkContext) -> Valuation:
    """`account_value` of a locked account (its cash as read under the lock) at `day`'s close,
    with the chunk's closes: one query (its positions)."""
    positions = Position.objects.filter(account=account, quantity__gt=0).order_by()
    return _valuation_of(
        account=account,
        held={p.asset_id: p.quantity for p in positions},
        day=day,
        context=context,
    )


def _valuation_of(
    *, account: Account, held: dict[int, Decimal], day: date, context: ChunkContext
) -> Valuation:
    closes = context.closes(day)
    assets = context.assets_by_id
    holdings = sorted(
        (Holding(asset=assets[a], quantity=q, price=closes[a]) for a, q in held.items() if q > 0),
        key=lambda h: h.asset.ticker,  # account_values' order (Position's Meta ordering)
    )
    return Valuation(day=day, cash=account.cash, holdings=tuple(holdings))


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


def cash_invest_batched(
    *,
    txn: Transaction,
    batch: LedgerBatch,
    context: ChunkContext,
    broker: Broker,
    losses: Collection[str] | None = None,
) -> tuple[list[Fill], list[Lot]]:
    """`cash_invest` into a `LedgerBatch`, with the chunk's reads: the same buys of the same
    funds (`purchase_choice` on the account's holdings and its client's open losses: `losses`,
    `loss_tickers` on the fill day read for the chunk, or else read here in one query under the
    account's lock). Returns the fills and the lots that wash a loss, to match once the batch is
    flushed (`wash_match_purchase` needs their ids)."""
    account = batch.account
    targets = context.targets(account)
    if not targets or account.cash < min_trade():
        return [], []
    held = batch.held()
    valuation = _valuation_of(account=account, held=held, day=txn.market_date, context=context)
    buys = _buys(valuation, targets, account.cash)
    if not buys:
        return [], []
    assets = context.assets_by_id
    held_tickers = {assets[a].ticker for a in held}
    if losses is None:
        losses = loss_tickers(client_id=account.client_id, day=txn.market_date)
    fills, washing = [], []
    for slot_, amount in sorted(buys.items()):
        ticker = purchase_choice(
            primary=slot_,
            held=held_tickers,
            blocked=lambda t: washes(ticker=t, losses=losses),
        )
        fill = broker.buy(asset=context.assets[ticker], amount=amount, day=txn.market_date)
        lot = batch.buy(txn=txn, fill=fill)
        if washes(ticker=ticker, losses=losses):
            washing.append(lot)
        fills.append(fill)
    return fills, washing


def batch_flush(*, batch: LedgerBatch, washing: Sequence[Lot]) -> None:
    """Write a batch, then match the purchases that wash a loss (`ledger_fill` does it per
    lot as it opens it; nothing between them reads the lots)."""
    batches_flush(batches=[batch], washing=washing)


def batches_flush(*, batches: Sequence[LedgerBatch], washing: Sequence[Lot]) -> None:
    """`batch_flush` of a chunk's batches: their rows in a few bulk statements, then the
    purchases that wash a loss matched, each against its client's losses."""
    ledger_batches_flush(batches)
    for lot in washing:
        wash_match_purchase(lot=lot, client_id=lot.account.client_id)


# `loss_tickers_many`'s answer: (client id, day) → the funds the client sold at a loss.
Losses = dict[tuple[int, date], set[str]]
_Item = TypeVar("_Item")


def purchases_in_rounds(
    *,
    queues: dict[int, list[_Item]],
    days: Collection[date],
    book: Callable[[int, _Item, Losses], tuple[LedgerBatch | None, list[Lot]]],
) -> None:
    """Book each client's queued money in (`queues`: client id → its items, in order) through
    `book(client_id, item, losses)`, which returns the batch it added to (None: nothing) and
    the lots it opened that wash a loss; in rounds: each client's items up to one whose
    purchase washes a loss, then every batch touched written and those purchases matched
    (`batches_flush`), and the clients' losses read again before their next item (as the
    one-by-one path matches each purchase's before the next): one round when nothing
    washes. `losses` are `loss_tickers_many` of the clients on `days`. Empties `queues`."""
    losses = loss_tickers_many(client_ids=list(queues), days=days)
    while queues:
        touched: dict[int, LedgerBatch] = {}
        washing: list[Lot] = []
        for client_id in list(queues):
            queue = queues[client_id]
            while queue:
                batch, washes = book(client_id, queue.pop(0), losses)
                if batch is not None:
                    touched[batch.account.pk] = batch
                if washes:
                    washing += washes
                    break
            if not queue:
                del queues[client_id]
        batches_flush(batches=[touched[pk] for pk in sorted(touched)], washing=washing)
        if queues:
            losses = loss_tickers_many(client_ids=list(queues), days=days)


def deposits_notify(*, txns: Sequence[Transaction], user_ids: dict[int, int]) -> None:
    """`cash_flow_notify` of deposits booked in bulk (their accounts' goals loaded; `user_ids`:
    client id → its user's id), in a few queries (`notify_many`)."""
    notices = [
        cash_flow_notice(txn=txn, account=txn.account, user_id=user_ids[txn.account.client_id])
        for txn in txns
    ]
    notify_many(notices)


def sale_plan(
    *,
    valuation: Valuation,
    targets: dict[str, Decimal],
    amount: Decimal,
    cash: Decimal,
    one_fund: bool = False,
) -> dict[str, Decimal]:
    """Ticker → units to sell so that `cash` covers `amount` (at most `valuation.total`, at its
    close): every holding when it takes everything, else the most overweight funds first
    (`_sells`), each sale's units covering its value plus a margin for rounding (capped at the
    units held). `one_fund`: sell only the most overweight slot's fund when it covers the
    shortfall (its alternate if that does, else its primary). Reads nothing."""
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    if amount == valuation.total:
        return {t: h.quantity for t, h in holdings.items()}
    need = amount - cash
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
    return {
        t: min(
            units_for_value(value * Decimal("1.0001") + CENT, holdings[t].price),
            holdings[t].quantity,
        )
        for t, value in sells.items()
    }


def sale_batched(
    *, txn: Transaction, batch: LedgerBatch, amount: Decimal, context: ChunkContext, broker: Broker
) -> Fill | None:
    """The sale `raise_cash(one_fund=True)` makes so that cash covers `amount`, for an account
    in a `LedgerBatch` as the batch stands, at `txn`'s close from the chunk's reads: no query.
    None, and nothing sold, unless that is one sale of part of a holding whose proceeds cover
    the shortfall (a sale across funds, of everything, whose proceeds are pooled, or of more
    than the account is worth stays `raise_cash`'s). The caller books the fill
    (`LedgerBatch.sell`)."""
    account = batch.account
    valuation = _valuation_of(
        account=account, held=batch.held(), day=txn.market_date, context=context
    )
    if amount <= account.cash or amount >= valuation.total:
        return None
    plan = sale_plan(
        valuation=valuation,
        targets=context.targets(account) or {},
        amount=amount,
        cash=account.cash,
        one_fund=True,
    )
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    sold = [(t, q) for t, q in plan.items() if q > 0]
    if len(sold) != 1 or all(plan.get(t) == h.quantity for t, h in holdings.items()):
        return None
    [(ticker, quantity)] = sold
    fill = broker.sell(asset=holdings[ticker].asset, quantity=quantity, day=txn.market_date)
    return fill if account.cash + fill.cash >= amount else None


def raise_cash(
    *,
    txn: Transaction,
    account: Account,
    amount: Decimal,
    broker: Broker,
    one_fund: bool = False,
    context: ChunkContext | None = None,
) -> list[Fill]:
    """Sell holdings so that cash covers `amount`; everything if it takes everything.

    `one_fund`: sell only the most overweight fund when it covers the shortfall (fees).
    `context`: a daily job's chunk reads (the account locked, its goal loaded)."""
    if context is None:
        valuation = account_value(account=account, day=txn.market_date)
    else:
        valuation = chunk_valuation(account=account, day=txn.market_date, context=context)
    if amount > valuation.total:
        raise InsufficientFunds(
            f"You can withdraw at most {money_text(valuation.total, account.currency)} from this "
            "account.",
            extra={
                "fields": {"amount": [f"At most {money_text(valuation.total, account.currency)}."]},
                "available": str(valuation.total),
            },
        )
    targets: dict[str, Decimal] = {}
    if amount < valuation.total:  # selling everything needs no targets
        targets = (
            target_weights(account=account) if context is None else context.targets(account)
        ) or {}
    plan = sale_plan(
        valuation=valuation, targets=targets, amount=amount, cash=account.cash, one_fund=one_fund
    )
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    fills = []
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


def plans_changed(*, goal_ids: Sequence[int]) -> None:
    """`plan_changed` for many goals at once (a daily job's chunk): one task projects them."""
    if goal_ids:
        enqueue_on_commit("portfolios.goal_plans_project", goal_ids=sorted(set(goal_ids)))


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
    # The client's row, then the account's (`account_lock`); its goal's row is the goal
    # services' to lock.
    account = account_lock(account.pk)
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
    message = _deposit_message(amount=amount, account=account, fills=fills, collected=collected)
    logger.info("deposit", extra={"account_id": account.pk, "transaction_id": txn.pk})
    if day is None:  # a live deposit, not a replay of history: the goal's plan changed
        plan_changed(account=account)
        cash_flow_notify(txn=txn)
    return CashFlowResult(transaction=txn, fills=fills, message=message)


def deposit_batched(
    *, account: Account, amount: Decimal, context: ChunkContext, broker: Broker | None = None
) -> CashFlowResult:
    """`deposit_make` for a daily job's chunk (recurring deposits): the same checks, locks
    (the client's row, then the account's), rows and notification, with the chunk's shared
    reads and the account's ledger rows written in bulk (`LedgerBatch`). The caller holds the
    transaction, and re-projects the chunk's goals once (`plans_changed`) instead of each."""
    amount_check(amount)
    account = account_lock(account.pk)
    if account.goal.status == Goal.Status.CLOSED:
        raise GoalClosed(
            f"The goal “{account.goal.name}” is closed: it takes no new money. Reopen it, or "
            "deposit to another goal."
        )
    market_date = context.market_day or market_date_get()  # none: MarketDataMissing
    if account.goal.account_type in Goal.IRA_TYPES:
        ira_contribution_check(account=account, amount=amount, day=market_date)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DEPOSIT,
        amount=amount,
        market_date=market_date,
        description=f"Deposit of {money_text(amount, account.currency)}",
    )
    broker = context.broker(broker)
    batch = LedgerBatch.read(account=account)
    batch.cash(txn=txn, amount=amount)
    collected: list[Transaction] = []
    if account.pk in context.owed:
        batch.flush()  # fees_owed_collect reads the account's cash from its row
        collected = fees_owed_collect(account=account, day=txn.market_date, broker=broker)
    fills, washing = cash_invest_batched(txn=txn, batch=batch, context=context, broker=broker)
    batch_flush(batch=batch, washing=washing)
    message = _deposit_message(amount=amount, account=account, fills=fills, collected=collected)
    logger.info("deposit", extra={"account_id": account.pk, "transaction_id": txn.pk})
    cash_flow_notify(txn=txn)
    return CashFlowResult(transaction=txn, fills=fills, message=message)


def _deposit_message(
    *, amount: Decimal, account: Account, fills: list[Fill], collected: list[Transaction]
) -> str:
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
    return message


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
    *,
    txn: Transaction,
    account: Account,
    amount: Decimal,
    broker: Broker,
    one_fund: bool = False,
    context: ChunkContext | None = None,
) -> list[Fill]:
    """Take `amount` of cash out for `txn`, selling the most overweight funds if cash is short."""
    fills: list[Fill] = []
    if amount > account.cash:
        fills = raise_cash(
            txn=txn,
            account=account,
            amount=amount,
            broker=broker,
            one_fund=one_fund,
            context=context,
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
    account = account_lock(account.pk, related=("goal", "client"))
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
