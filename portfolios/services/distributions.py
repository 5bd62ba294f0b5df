"""Fund distributions paid to holders as cash, then invested like a deposit.

Closes are actual prices, so a fund's close drops by its distribution on the ex-date; the holder
is made whole by the cash, paid on the pay date to whoever held units at the close before the
ex-date (as a fund pays its record holders)."""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Sum

from ..broker import Broker, PaperBroker
from ..market import market_date_get
from ..models import Account, Distribution, Entry, Lot, Transaction
from ..money import CENT, money_down
from .cash_flows import (
    CHUNK_ACCOUNTS,
    ChunkContext,
    Losses,
    batch_flush,
    cash_invest,
    cash_invest_batched,
    chunk_context,
    purchases_in_rounds,
)
from .fees_owed import fees_owed_collect
from .ledger import LedgerBatch, account_lock, accounts_lock, ledger_cash

logger = logging.getLogger(__name__)

# Without `since`, a run looks back this far for pay dates: a daily job that missed a few days
# catches up, and the work stays bounded instead of scanning every distribution ever paid.
LOOKBACK = timedelta(days=31)


def _units_before(*, account_id: int, distribution: Distribution) -> Decimal:
    """Units held at the close before the ex-date: every unit entry booked before it (summed
    here, exactly: SQLite sums decimals as floats)."""
    quantities = Entry.objects.filter(
        account_id=account_id,
        asset_id=distribution.asset_id,
        transaction__market_date__lt=distribution.ex_date,
    ).values_list("quantity", flat=True)
    return sum(quantities, Decimal(0))


def _holders(
    distribution: Distribution, *, account_range: tuple[int, int] | None = None
) -> list[int]:
    """Accounts with units of the fund at the close before the ex-date, not yet paid (a
    candidate list: each payment recounts the units exactly, under the account's lock)."""
    rows = (
        Entry.objects.of_accounts(account_range=account_range)
        .filter(asset_id=distribution.asset_id, transaction__market_date__lt=distribution.ex_date)
        .exclude(account__transactions__distribution=distribution)
        .values("account_id")
        .annotate(units=Sum("quantity"))
        .order_by("account_id")
    )
    return [row["account_id"] for row in rows if Decimal(row["units"] or 0) > 0]


@transaction.atomic
def dividend_pay(
    *, account: Account, distribution: Distribution, broker: Broker | None = None
) -> Transaction | None:
    """Pay one account its cash for one distribution, once, and invest it at the pay date's
    close. None when already paid, or when its holding was worth under a cent."""
    account = account_lock(account.pk, related=())
    # Re-checked under the lock: a concurrent run that got here first has paid it.
    if Transaction.objects.filter(account=account, distribution=distribution).exists():
        return None
    units = _units_before(account_id=account.pk, distribution=distribution)
    amount = money_down(units * distribution.amount)
    if amount < CENT:
        return None
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DIVIDEND,
        amount=amount,
        market_date=distribution.pay_date,
        distribution=distribution,
        description=_description(distribution, units),
    )
    ledger_cash(txn=txn, account=account, amount=amount)
    # An inflow, like a deposit: advisory fees the account owes are paid from it first, and the
    # rest is invested the way a deposit's cash is, the most underweight funds first.
    broker = broker or PaperBroker()
    fees_owed_collect(account=account, day=txn.market_date, broker=broker)
    cash_invest(txn=txn, account=account, broker=broker)
    logger.info(
        "dividend paid",
        extra={"account_id": account.pk, "transaction_id": txn.pk, "distribution": distribution.pk},
    )
    return txn


def dividends_pay(
    *,
    through: date | None = None,
    since: date | None = None,
    broker: Broker | None = None,
    account_range: tuple[int, int] | None = None,
) -> int:
    """Pay every distribution with a pay date in (since, through] (default: the market date,
    and 31 days before it) to each account that held the fund at the close before its ex-date,
    of the accounts with lo <= id < hi (`account_range`; None: every account).

    Idempotent: one payment per account and distribution (a unique constraint, re-checked under
    the accounts' locks), so reruns and concurrent workers pay once. Set-based per
    `CHUNK_ACCOUNTS` accounts (`_chunk_dividends_pay`): a chunk's payments are read and written
    in a constant number of statements, in one transaction under its accounts' locks. The
    accounts owing fees, and the whole chunk if its bulk write fails (logged), are paid account
    by account after it (`_account_dividends_pay`: each in its own transaction, its
    distributions in pay-date order, each a savepoint; one that fails is logged and retried by
    the next run, the others are paid). Returns the payments made."""
    through = through or market_date_get()
    since = since if since is not None else through - LOOKBACK
    due = list(
        Distribution.objects.filter(pay_date__gt=since, pay_date__lte=through)
        .select_related("asset")
        .order_by("pay_date", "asset__ticker")
    )
    owed: dict[int, list[Distribution]] = {}  # account id → its candidate distributions
    for distribution in due:
        for account_id in _holders(distribution, account_range=account_range):
            owed.setdefault(account_id, []).append(distribution)
    ids = sorted(owed)
    paid = 0
    for start in range(0, len(ids), CHUNK_ACCOUNTS):
        chunk = ids[start : start + CHUNK_ACCOUNTS]
        accounts = list(Account.objects.filter(pk__in=chunk).order_by("pk"))
        context = chunk_context(accounts=accounts)
        try:
            with transaction.atomic():
                made, rest = _chunk_dividends_pay(
                    account_ids=chunk, owed=owed, context=context, broker=broker
                )
        except OperationalError:
            raise  # transient: the task retries, and what was paid stays paid
        except Exception:
            logger.exception(
                "dividends not paid in bulk: paid account by account",
                extra={"first_account_id": chunk[0]},
            )
            made, rest = 0, chunk
        paid += made
        left = set(rest)
        for account in (a for a in accounts if a.pk in left):
            try:
                paid += _account_dividends_pay(
                    account=account, distributions=owed[account.pk], context=context, broker=broker
                )
            except OperationalError:
                raise  # transient: the task retries, and what was paid stays paid
            except Exception:
                logger.exception("dividends not paid", extra={"account_id": account.pk})
                continue  # the next run retries this account; the others are paid
    logger.info("dividends paid", extra={"through": through.isoformat(), "count": paid})
    return paid


def _chunk_dividends_pay(
    *,
    account_ids: list[int],
    owed: dict[int, list[Distribution]],
    context: ChunkContext,
    broker: Broker | None,
) -> tuple[int, list[int]]:
    """Pay a chunk's accounts their unpaid distributions (`owed`, pay-date order) in bulk, in
    the caller's transaction: `_account_dividends_pay`'s rows, read and written in a constant
    number of statements under the accounts' locks (taken in id order, in one statement).
    Returns the payments made, and the accounts left to `_account_dividends_pay`: those owing
    fees (collected row by row)."""
    locked = accounts_lock(account_ids)
    distributions = {d.pk: d for a in locked for d in owed[a.pk]}
    # Re-checked under the locks: a concurrent run that got here first has paid them.
    done = set(
        Transaction.objects.filter(
            account__in=locked, distribution__in=list(distributions)
        ).values_list("account_id", "distribution_id")
    )
    todo = {
        a.pk: [d for d in owed[a.pk] if (a.pk, d.pk) not in done]
        for a in locked
        if any((a.pk, d.pk) not in done for d in owed[a.pk])
    }
    if not todo:
        return 0, []
    accounts = [a for a in locked if a.pk in todo]
    units = _units_before_many(account_ids=list(todo), distributions=list(distributions.values()))
    rest = [a.pk for a in accounts if a.pk in context.owed]
    batches = LedgerBatch.read_many(accounts=[a for a in accounts if a.pk not in context.owed])
    queues: dict[int, list[tuple[LedgerBatch, Distribution]]] = {}  # client id → its payments
    for batch in batches.values():
        queue = queues.setdefault(batch.account.client_id, [])
        queue += [(batch, distribution) for distribution in todo[batch.account.pk]]
    broker_ = context.broker(broker)
    made: list[Transaction] = []

    def pay(
        client_id: int, item: tuple[LedgerBatch, Distribution], losses: Losses
    ) -> tuple[LedgerBatch | None, list[Lot]]:
        batch, distribution = item
        txn, washes = _dividend_book_batched(
            batch=batch,
            distribution=distribution,
            units=units[(batch.account.pk, distribution.pk)],
            losses=losses.get((client_id, distribution.pay_date), set()),
            context=context,
            broker=broker_,
        )
        if txn is None:
            return None, washes
        made.append(txn)
        return batch, washes

    purchases_in_rounds(queues=queues, days={d.pay_date for d in distributions.values()}, book=pay)
    for txn in made:
        logger.info(
            "dividend paid",
            extra={
                "account_id": txn.account_id,
                "transaction_id": txn.pk,
                "distribution": txn.distribution_id,
            },
        )
    return len(made), rest


def _dividend_book_batched(
    *,
    batch: LedgerBatch,
    distribution: Distribution,
    units: Decimal,
    losses: set[str],
    context: ChunkContext,
    broker: Broker,
) -> tuple[Transaction | None, list[Lot]]:
    """`_dividend_book`'s rows into a batch, not yet written, with the chunk's reads (`losses`:
    the client's on the pay date): the transaction (None under a cent), and the lots that wash
    a loss."""
    amount = money_down(units * distribution.amount)
    if amount < CENT:
        return None, []
    txn = batch.transaction(
        kind=Transaction.Kind.DIVIDEND,
        amount=amount,
        market_date=distribution.pay_date,
        distribution=distribution,
        description=_description(distribution, units),
    )
    batch.cash(txn=txn, amount=amount)
    _, washing = cash_invest_batched(
        txn=txn, batch=batch, context=context, broker=broker, losses=losses
    )
    return txn, washing


def _account_dividends_pay(
    *,
    account: Account,
    distributions: list[Distribution],
    context: ChunkContext,
    broker: Broker | None,
) -> int:
    """Pay one account its unpaid `distributions` (pay-date order), in one transaction under
    its lock; `dividend_pay`'s rows, each distribution's in a savepoint."""
    made = 0
    broker_ = context.broker(broker)
    with transaction.atomic():
        locked = account_lock(account.pk)
        done = set(
            Transaction.objects.filter(account=locked, distribution__in=distributions).values_list(
                "distribution_id", flat=True
            )
        )
        todo = [d for d in distributions if d.pk not in done]
        if not todo:
            return 0
        units = _units_before_each(account_id=locked.pk, distributions=todo)
        batch = LedgerBatch.read(account=locked)
        for distribution in todo:
            try:
                with transaction.atomic():
                    made += (
                        _dividend_book(
                            batch=batch,
                            distribution=distribution,
                            units=units[distribution.pk],
                            context=context,
                            broker=broker_,
                        )
                        is not None
                    )
            except OperationalError:
                raise
            except Exception as exc:
                if not isinstance(exc, IntegrityError):  # else: paid by a concurrent run
                    logger.exception(
                        "dividend not paid",
                        extra={"account_id": locked.pk, "distribution": distribution.pk},
                    )
                # The savepoint undid its rows: the batch starts again from the account's.
                locked = account_lock(account.pk)
                batch = LedgerBatch.read(account=locked)
    return made


def _units_before_each(*, account_id: int, distributions: list[Distribution]) -> dict[int, Decimal]:
    """Distribution id → `_units_before` it, for one account, from one read of its entries."""
    units = _units_before_many(account_ids=[account_id], distributions=distributions)
    return {d.pk: units[(account_id, d.pk)] for d in distributions}


def _units_before_many(
    *, account_ids: list[int], distributions: list[Distribution]
) -> dict[tuple[int, int], Decimal]:
    """(account id, distribution id) → `_units_before` it, for each of `account_ids` and
    `distributions`, from one read of their entries (summed here, exactly)."""
    latest = max(d.ex_date for d in distributions)
    rows = (
        Entry.objects.of_accounts(account_ids)
        .filter(
            asset_id__in={d.asset_id for d in distributions},
            transaction__market_date__lt=latest,
        )
        .values_list("account_id", "asset_id", "transaction__market_date", "quantity")
    )
    lines: dict[tuple[int, int], list[tuple[date, Decimal]]] = {}
    for account_id, asset_id, day, quantity in rows:
        lines.setdefault((account_id, asset_id), []).append((day, quantity))
    return {
        (account_id, d.pk): sum(
            (q for day, q in lines.get((account_id, d.asset_id), ()) if day < d.ex_date),
            Decimal(0),
        )
        for account_id in account_ids
        for d in distributions
    }


def _dividend_book(
    *,
    batch: LedgerBatch,
    distribution: Distribution,
    units: Decimal,
    context: ChunkContext,
    broker: Broker,
) -> Transaction | None:
    """`dividend_pay`'s rows into a `LedgerBatch` (the account locked by the caller)."""
    account = batch.account
    amount = money_down(units * distribution.amount)
    if amount < CENT:
        return None
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DIVIDEND,
        amount=amount,
        market_date=distribution.pay_date,
        distribution=distribution,
        description=_description(distribution, units),
    )
    batch.cash(txn=txn, amount=amount)
    if account.pk in context.owed:
        batch.flush()  # fees_owed_collect reads the account's cash from its row
        fees_owed_collect(account=account, day=txn.market_date, broker=broker)
    _, washing = cash_invest_batched(txn=txn, batch=batch, context=context, broker=broker)
    batch_flush(batch=batch, washing=washing)
    logger.info(
        "dividend paid",
        extra={"account_id": account.pk, "transaction_id": txn.pk, "distribution": distribution.pk},
    )
    return txn


def _description(distribution: Distribution, units: Decimal) -> str:
    return (
        f"{distribution.asset.ticker} dividend, ${distribution.amount.normalize():f} per unit on "
        f"{units.normalize():f} units (ex {distribution.ex_date.isoformat()})"
    )[:255]
