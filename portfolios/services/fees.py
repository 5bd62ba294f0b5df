"""The advisory fee: accrued daily on each day's closing value, billed monthly, once per account
and complete month, paid from cash (selling a little of the most overweight fund if short).

Accrual (actual/actual, "calculated daily on the end-of-day balance"): each calendar day accrues
the annual rate / 365 (366 in a leap year) of the account's value at the latest close on or
before it, so weekends and holidays accrue at the previous close and days before the account
was funded accrue nothing: a partial month is prorated by itself. A month's bill is the sum of
its daily accruals rounded once, half up, to the cent; a bill under a cent is not made. The maths
is `valuation.fee_accrual`; this module books it.

Billing: the daily job bills every complete month not yet billed, oldest first (a missed day or
week of the job catches up). A month counts as billed when a fee transaction names it or it is
recorded as owed (`FeeOwed`: the account could not pay; collected from its next inflow).
The fee is dated at the month's last close, so the ledger rebuilt at a close
(`account_value_on`) and the next month's accrual both see it in that month.

Bounded work for dormant accounts: the job looks only at months after the account's latest
billed or owed month, at most `FEE_CATCH_UP_MONTHS` back, and skips a month in which the
account held nothing throughout (nothing in it from ten days before the month, no entry in
it). So an account up to date costs nothing, and an emptied one is not read again."""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, OuterRef, QuerySet, Subquery

from advisor.models import Goal

from ..broker import Broker, Fill, PaperBroker
from ..exceptions import InsufficientFunds
from ..market import market_date_get
from ..models import (
    Account,
    AccountDailyValue,
    Entry,
    FeeOwed,
    LotSale,
    Position,
    Transaction,
)
from ..money import CENT, money_half_up, money_value
from ..tax import identical_tickers
from ..valuation import (
    FEE_PRICES_LOOKBACK,
    FeePrices,
    LedgerLine,
    advisory_fee_annual,
    fee_accrual,
    fee_month_bill,
    fee_months_complete,
    fee_prices,
    month_last_day,
)
from .cash_flows import (
    CHUNK_ACCOUNTS,
    ChunkContext,
    account_range_filter,
    cash_out,
    chunk_context,
    sale_batched,
)
from .fees_owed import fee_billed, fee_owed_record
from .ledger import (
    LedgerBatch,
    account_lock,
    accounts_lock,
    ledger_batches_flush,
    ledger_batches_lots_read,
    wash_match_sales,
)

logger = logging.getLogger(__name__)

# The daily job bills no further back than this many complete months (an explicit
# `fees_bill(month_end=...)` still can): a bound on its work for accounts whose fees stay under
# a cent, which are never marked billed.
FEE_CATCH_UP_MONTHS = 12


def _fee_transaction(*, account: Account, period: date, day: date, fee: Decimal) -> Transaction:
    """The fee transaction of `period` (unsaved), validated without a query: the database holds
    the rules that need one (one fee per account and month, a fee takes money out)."""
    rate = format((advisory_fee_annual() * 100).normalize(), "f")
    txn = Transaction(
        account=account,
        kind=Transaction.Kind.FEE,
        amount=-fee,
        market_date=day,
        fee_period=period,
        description=(
            f"Advisory fee for {period:%B %Y} ({rate}% a year, accrued daily, billed monthly)"
        ),
    )
    txn.full_clean(exclude=["account"], validate_constraints=False)
    return txn


@transaction.atomic
def fee_charge(
    *,
    account: Account,
    period: date,
    day: date,
    amount: Decimal | None = None,
    broker: Broker | None = None,
    context: ChunkContext | None = None,
) -> Transaction | None:
    """Charge one account the advisory fee for the month `period`, dated at its last close `day`.

    `amount`: the bill, when the caller priced it (fees_bill does, one price read for every
    account); by default the month's daily accruals rounded once. None when the month is
    already billed or owed, or the fee is under a cent. Cash pays it; if cash is short, a
    little of the most overweight fund is sold at that close. InsufficientFunds when the
    account is worth less than the fee (nothing is booked). `context`: the daily job's chunk
    reads (models, risk levels, closes) that a sale prices from."""
    broker = context.broker(broker) if context is not None else broker or PaperBroker()
    account = account_lock(account.pk)
    if fee_billed(account=account, period=period):
        return None  # billed already, perhaps by another worker that held the lock first
    fee = fee_month_bill(account=account, period=period) if amount is None else amount
    if fee < CENT:
        return None
    txn = _fee_transaction(account=account, period=period, day=day, fee=fee)
    txn.save()
    cash_out(txn=txn, account=account, amount=fee, broker=broker, one_fund=True, context=context)
    logger.info("advisory fee", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return txn


def _months_to_bill(
    *,
    periods: list[date],
    complete: dict[date, date],
    explicit: bool,
    account_range: tuple[int, int] | None = None,
) -> dict[int, list[date]]:
    """Account id → the months to price for it, oldest first (see the module's docstring), of
    the accounts in `account_range`."""
    last_day = complete[periods[-1]]
    in_range = account_range_filter(account_range)
    spans = {
        account_id: (first, last)
        for account_id, first, last in Entry.objects.of_accounts(account_range=account_range)
        .filter(transaction__market_date__lte=last_day)
        .order_by()
        .values("account_id")
        .annotate(first=Min("transaction__market_date"), last=Max("transaction__market_date"))
        .values_list("account_id", "first", "last")
    }
    settled: set[tuple[int, date | None]] = set()  # (account, month) billed or owed
    latest_billed: dict[int, date] = {}
    if explicit:
        settled.update(
            Transaction.objects.filter(
                kind=Transaction.Kind.FEE, fee_period__in=periods, **in_range
            ).values_list("account_id", "fee_period")
        )
        settled.update(
            FeeOwed.objects.filter(period__in=periods, **in_range).values_list(
                "account_id", "period"
            )
        )
    else:
        for rows in (
            Transaction.objects.filter(kind=Transaction.Kind.FEE, **in_range)
            .order_by()
            .values("account_id")
            .annotate(latest=Max("fee_period"))
            .values_list("account_id", "latest"),
            FeeOwed.objects.filter(**in_range)
            .order_by()
            .values("account_id")
            .annotate(latest=Max("period"))
            .values_list("account_id", "latest"),
        ):
            for account_id, latest in rows:
                latest_billed[account_id] = max(latest, latest_billed.get(account_id, latest))
    held_now = set(
        Account.objects.filter(cash__gt=0, **account_range_filter(account_range, "pk")).values_list(
            "pk", flat=True
        )
    ) | set(
        Position.objects.filter(quantity__gt=0, **in_range).values_list("account_id", flat=True)
    )
    months: dict[int, list[date]] = {}
    for account_id, (first, last) in sorted(spans.items()):
        wanted = []
        for period in periods:
            if (account_id, period) in settled:
                continue
            if period <= latest_billed.get(account_id, date.min):
                continue
            if month_last_day(period) < first:
                continue  # before the account's first entry
            if account_id not in held_now and last < period - FEE_PRICES_LOOKBACK:
                continue  # emptied before this month and nothing since
            wanted.append(period)
        if wanted:
            months[account_id] = wanted
    return months


# --- Stored daily values ----------------------------------------------------------------------

# An entry as the store reads it: (id, market date, asset id or None for cash, quantity).
_Line = tuple[int, date, int | None, Decimal]


def daily_values_store(*, account_ids: Sequence[int]) -> int:
    """Bring the accounts' stored daily holdings (`AccountDailyValue`) up to their ledgers; the
    rows added. One transaction with the accounts locked (id order), so none of their entries is
    in flight: every entry of theirs up to the latest id read is visible, which becomes each
    account's mark. New entries dated after an account's latest row add rows; one dated on or
    before it (a fee, dated at its month's last close) rebuilds the rows from its day (three
    queries per day rebuilt from, whatever the number of accounts). An account up to date costs
    nothing beyond the chunk's five queries."""
    ids = sorted(set(account_ids))
    if not ids:
        return 0
    with transaction.atomic():
        list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        watermark = Entry.objects.aggregate(top=Max("id"))["top"] or 0
        latest = {row.account_id: row for row in _latest_daily_values(ids)}
        fresh: defaultdict[int, list[_Line]] = defaultdict(list)
        fields = ("account_id", "id", "transaction__market_date", "asset_id", "quantity")
        stored = [pk for pk in ids if pk in latest]
        reads = []
        if stored:
            since = min(latest[pk].entry_mark for pk in stored)
            reads.append(Entry.objects.of_accounts(stored).filter(id__gt=since))
        unstored = [pk for pk in ids if pk not in latest]
        if unstored:
            reads.append(Entry.objects.of_accounts(unstored))
        for entries in reads:
            for account_id, entry_id, day, asset_id, quantity in (
                entries.filter(id__lte=watermark).order_by().values_list(*fields)
            ):
                row = latest.get(account_id)
                if row is None or entry_id > row.entry_mark:
                    fresh[account_id].append((entry_id, day, asset_id, quantity))
        # An entry booked back on or before an account's latest stored day (a fee, dated at its
        # month's last close): its rows are rebuilt from that day, on the row before it.
        firsts = {pk: min(line[1] for line in lines) for pk, lines in fresh.items()}
        rebuilt = _rebuild_reads(
            firsts={
                pk: day for pk, day in firsts.items() if pk in latest and day <= latest[pk].day
            },
            watermark=watermark,
        )
        added: list[AccountDailyValue] = []
        for account_id, lines in sorted(fresh.items()):
            base, lines = rebuilt.get(account_id, (latest.get(account_id), lines))
            added += _rows_after(account_id=account_id, lines=lines, base=base, watermark=watermark)
        AccountDailyValue.objects.bulk_create(added, batch_size=2000)
        AccountDailyValue.objects.filter(
            pk__in=[row.pk for pk, row in latest.items() if pk not in fresh]
        ).update(entry_mark=watermark)  # nothing new up to the watermark: skip it next time
    return len(added)


def _latest_daily_values(
    account_ids: Sequence[int], *, before: date | None = None
) -> QuerySet[AccountDailyValue]:
    """Each account's latest stored daily value (dated before `before`, if given): one index
    probe per account. (Matching each stored row's day against its account's latest, the
    obvious filter, ran that probe for every stored row of the accounts: 24 months of days
    each, 7× the time at 10,000 accounts.)"""
    latest = AccountDailyValue.objects.filter(account_id=OuterRef("pk"))
    if before is not None:
        latest = latest.filter(day__lt=before)
    return AccountDailyValue.objects.filter(
        pk__in=Account.objects.filter(pk__in=list(account_ids))
        .annotate(latest=Subquery(latest.order_by("-day").values("pk")[:1]))
        .values("latest")
    )


def _rebuild_reads(
    *, firsts: dict[int, date], watermark: int
) -> dict[int, tuple[AccountDailyValue | None, list[_Line]]]:
    """Account id → (its row before `firsts[id]`, its entries from that day up to the
    watermark), its rows from that day deleted: three queries per distinct day (the fees of a
    chunk are dated at one or two closes), not per account."""
    days: defaultdict[date, list[int]] = defaultdict(list)
    for account_id, first in firsts.items():
        days[first].append(account_id)
    rebuilt: dict[int, tuple[AccountDailyValue | None, list[_Line]]] = {}
    for first, ids in sorted(days.items()):
        bases = {row.account_id: row for row in _latest_daily_values(ids, before=first)}
        AccountDailyValue.objects.filter(account_id__in=ids, day__gte=first).delete()
        lines: defaultdict[int, list[_Line]] = defaultdict(list)
        for account_id, entry_id, day, asset_id, quantity in (
            Entry.objects.of_accounts(ids)
            .filter(transaction__market_date__gte=first, id__lte=watermark)
            .order_by()
            .values_list("account_id", "id", "transaction__market_date", "asset_id", "quantity")
        ):
            lines[account_id].append((entry_id, day, asset_id, quantity))
        for account_id in ids:
            rebuilt[account_id] = (bases.get(account_id), lines[account_id])
    return rebuilt


def _rows_after(
    *,
    account_id: int,
    lines: list[_Line],
    base: AccountDailyValue | None,
    watermark: int,
) -> list[AccountDailyValue]:
    """The rows for one account's entries `lines`, dated after its stored row `base`."""
    cash = base.cash if base is not None else Decimal("0.00")
    units = {int(a): Decimal(q) for a, q in base.units.items()} if base is not None else {}
    rows = []
    for day, group in groupby(sorted(lines, key=lambda line: (line[1], line[0])), key=_day):
        for _, _, asset_id, quantity in group:
            if asset_id is None:
                cash += quantity
            else:
                units[asset_id] = units.get(asset_id, Decimal(0)) + quantity
        rows.append(
            AccountDailyValue(
                account_id=account_id,
                day=day,
                cash=cash,
                units={str(a): str(q) for a, q in sorted(units.items()) if q},
                entry_mark=watermark,
            )
        )
    return rows


def _day(line: _Line) -> date:
    return line[1]


def stored_ledgers(
    *, account_ids: Sequence[int], since: date, through: date
) -> dict[int, list[LedgerLine]]:
    """Account id → ledger lines that give, at every close from `since` to `through`, the
    account's holdings as its stored daily values record them (`fee_accrual` reads them as it
    reads the ledger): the holdings of its latest row before `since`, dated on that row's day,
    then each later row's change, on its day. Two queries whatever the number of accounts."""
    ids = list(account_ids)
    before = _latest_daily_values(ids, before=since)
    during = AccountDailyValue.objects.filter(
        account_id__in=ids, day__gte=since, day__lte=through
    ).order_by("account_id", "day")
    ledgers: dict[int, list[LedgerLine]] = {pk: [] for pk in ids}
    held: dict[int, tuple[Decimal, dict[int, Decimal]]] = {}
    for row in [*before, *during]:
        cash = row.cash
        units = {int(a): Decimal(q) for a, q in row.units.items()}
        old_cash, old_units = held.get(row.account_id, (Decimal(0), {}))
        lines = ledgers[row.account_id]
        if cash != old_cash:
            lines.append((row.day, None, cash - old_cash))
        for asset_id in sorted(set(units) | set(old_units)):
            change = units.get(asset_id, Decimal(0)) - old_units.get(asset_id, Decimal(0))
            if change:
                lines.append((row.day, asset_id, change))
        if not lines or lines[-1][0] != row.day:
            lines.append((row.day, None, Decimal(0)))  # a day with entries, nothing changed
        held[row.account_id] = (cash, units)
    return ledgers


def _empty_throughout(ledger: list[LedgerLine], period: date) -> bool:
    """The account held nothing in the month: empty from ten days before it, no entry in it."""
    since = period - FEE_PRICES_LOOKBACK
    end = month_last_day(period)
    if any(since <= day <= end for day, _, _ in ledger):
        return False
    balances: defaultdict[int | None, Decimal] = defaultdict(Decimal)
    for day, asset_id, quantity in ledger:
        if day < since:
            balances[asset_id] += quantity
    return all(quantity == 0 for quantity in balances.values())


def fees_bill(
    *, month_end: date | None = None, account_range: tuple[int, int] | None = None
) -> int:
    """Bill the advisory fee of every complete month not yet billed (or of one given month), to
    every account that accrued one (of the accounts with lo <= id < hi, `account_range`; None:
    every account), oldest month first. Idempotent: a unique constraint allows one fee per
    account and month, and a month owed is not billed again. An account worth less than its fee
    owes it (`FeeOwed`). Each `CHUNK_ACCOUNTS` accounts are billed together (`_chunk_bill`):
    their stored values and the months' prices read once, their fees written in bulk under
    their locks; an account the chunk leaves is billed one by one (`fee_charge`). Returns the
    fee transactions made."""
    complete = fee_months_complete()
    if month_end is None:
        periods = sorted(complete)[-FEE_CATCH_UP_MONTHS:]
        if not periods:
            return 0
    else:
        period = month_end.replace(day=1)
        if period not in complete:
            raise ValidationError(
                {"month_end": ["Only a month with prices after it (a complete one) is billed."]}
            )
        periods = [period]
    months = _months_to_bill(
        periods=periods,
        complete=complete,
        explicit=month_end is not None,
        account_range=account_range,
    )
    prices: dict[date, FeePrices] = {}  # one read per month, for every account
    tally = _Tally()
    ids = sorted(months)
    for start in range(0, len(ids), CHUNK_ACCOUNTS):
        chunk = ids[start : start + CHUNK_ACCOUNTS]
        for period in sorted({p for pk in chunk for p in months[pk]} - set(prices)):
            prices[period] = fee_prices(start=period, end=month_last_day(period))
        first = min(months[pk][0] for pk in chunk)
        bills = _Bills(
            months=months,
            complete=complete,
            prices=prices,
            since=prices[first].days[0] if prices[first].days else first,
        )
        daily_values_store(account_ids=chunk)
        ledgers = stored_ledgers(
            account_ids=chunk, since=bills.since, through=max(bills.through(pk) for pk in chunk)
        )
        _chunk_bill(chunk=chunk, ledgers=ledgers, bills=bills, tally=tally)
    logger.info(
        "advisory fees billed",
        extra={
            "periods": [p.isoformat() for p in periods[:1] + periods[-1:]],
            "count": tally.billed,
            "owed": tally.owed,
            "one_by_one": tally.one_by_one,
            "sales_batched": tally.sales_batched,
            "sales_alone": tally.sales_alone,
            "loss_sales": tally.loss_sales,
            "sale_rounds": tally.sale_rounds,
        },
    )
    if tally.failure is not None:
        raise tally.failure  # the batch records the chunk failed (and retries a transient error)
    return tally.billed


@dataclass
class _Tally:
    billed: int = 0  # fee transactions made
    owed: int = 0  # months recorded owed
    one_by_one: int = 0  # accounts billed by the per-account path
    sales_batched: int = 0  # fees whose sale the chunk booked in bulk
    sales_alone: int = 0  # fees whose sale the chunk booked by `cash_out`
    loss_sales: int = 0  # lots sold at a loss in bulk in taxable accounts (wash-sale matched)
    sale_rounds: int = 0  # rounds of bulk sales (`_sales_book`)
    failure: Exception | None = None  # the first account that failed there (logged)


@dataclass(frozen=True)
class _Bills:
    """What pricing a chunk's months needs: each account's months to bill, each month's last
    close and prices, and the close the chunk's stored ledgers start from."""

    months: dict[int, list[date]]
    complete: dict[date, date]
    prices: dict[date, FeePrices]
    since: date

    def through(self, account_id: int) -> date:
        """The last close of the account's last month to bill."""
        return self.complete[self.months[account_id][-1]]

    def fee(self, *, ledger: list[LedgerLine], period: date) -> Decimal | None:
        """The month's bill on `ledger`; None when nothing is billed (the account held nothing
        throughout, or the bill is under a cent)."""
        if _empty_throughout(ledger, period):
            return None
        fee = money_half_up(
            fee_accrual(
                ledger=ledger,
                prices=self.prices[period],
                start=period,
                end=month_last_day(period),
                rate=advisory_fee_annual(),
            )
        )
        return None if fee < CENT else fee


def _chunk_bill(
    *, chunk: list[int], ledgers: dict[int, list[LedgerLine]], bills: _Bills, tally: _Tally
) -> None:
    """Bill a chunk's accounts in one transaction under their locks (one statement, in id
    order), re-checking there what is billed or owed: the fees written in bulk (transactions
    and their audit-log rows, entries, the accounts' cash) with the sales that pay the fees
    cash does not cover (`_sales_book`); months the account cannot pay are recorded owed
    afterwards, as `fee_charge`'s callers record them.

    An account's months are billed oldest first, each on a ledger with the fees before it (as
    its stored values would show them). Left to the one-by-one path: an account from a month
    that needs a sale (or is owed, or was billed elsewhere meanwhile) before its last one, and
    every account of a chunk whose transaction fails (logged), so one bad account does not
    stop the others' billing."""
    wanted = {pk: bills.months[pk] for pk in chunk}
    owed: list[tuple[Account, date, Decimal]] = []
    left: dict[int, list[date]] = {}  # account id → its months for the one-by-one path
    made: list[Transaction] = []
    try:
        with transaction.atomic():
            accounts = accounts_lock(chunk)
            settled = _settled(account_ids=chunk, periods={p for m in wanted.values() for p in m})
            batches = LedgerBatch.read_many(accounts=accounts)
            context: ChunkContext | None = None  # read when a first fee needs a sale
            sales: list[tuple[Transaction, Decimal]] = []  # fees cash does not cover
            for account in accounts:
                months = wanted[account.pk]
                ledger = [
                    line for line in ledgers[account.pk] if line[0] <= bills.through(account.pk)
                ]
                batch = batches[account.pk]
                for i, period in enumerate(months):
                    last = i + 1 == len(months)
                    if (account.pk, period) in settled:
                        if not last:
                            left[account.pk] = months[i + 1 :]  # priced on that month's fee
                            break
                        continue
                    fee = bills.fee(ledger=ledger, period=period)
                    if fee is None:
                        continue
                    day = bills.complete[period]
                    txn = _fee_transaction(account=account, period=period, day=day, fee=fee)
                    if fee <= account.cash:
                        batch.transactions.append(txn)
                        batch.cash(txn=txn, amount=-fee)  # account.cash follows
                        ledger.append((day, None, -fee))  # the next month's accrual sees it
                        made.append(txn)
                    elif not last:
                        left[account.pk] = months[i:]  # the next months would see the sale
                        break
                    else:
                        if context is None:
                            context = chunk_context(accounts=accounts)
                        if fee > _worth(batch=batch, day=day, context=context):
                            owed.append((account, period, fee))
                        else:
                            batch.transactions.append(txn)
                            sales.append((txn, fee))
                            made.append(txn)
            if sales:
                assert context is not None  # noqa: S101 - read for the first sale
                _sales_book(sales=sales, batches=batches, context=context, tally=tally)
            else:
                ledger_batches_flush(list(batches.values()))
    except Exception:  # noqa: BLE001 - logged; its accounts are billed one by one instead
        logger.warning(
            "advisory fees chunk failed: billed one by one",
            exc_info=True,
            extra={"first_account_id": chunk[0], "last_account_id": chunk[-1]},
        )
        made, owed, left = [], [], dict(wanted)
    for txn in made:
        logger.info("advisory fee", extra={"account_id": txn.account_id, "transaction_id": txn.pk})
    tally.billed += len(made)
    for account, period, fee in owed:
        recorded = fee_owed_record(
            account=account, period=period, amount=fee, day=market_date_get()
        )
        tally.owed += recorded is not None
    if left:
        _bill_one_by_one(left=left, bills=bills, tally=tally)


def _sales_book(
    *,
    sales: list[tuple[Transaction, Decimal]],
    batches: dict[int, LedgerBatch],
    context: ChunkContext,
    tally: _Tally,
) -> None:
    """Book the sales that pay a chunk's fees (in account order), and flush its batches.

    A fee's sale of part of one fund (`sale_batched`, as `cash_out(one_fund=True)` plans it)
    goes into the account's batch: the funds' open lots read for them all in one query, their
    lots and sales written in bulk. Any other sale (across funds, of everything) is booked by
    `cash_out` once the batches are written, and so is every later one of its client: its
    wash-sale matches reach the client's other accounts, so a client's sales keep their order
    around it. The losses sold in bulk in taxable accounts are matched against their clients'
    purchases once the batches are written (`wash_match_sales`: all of them in a few queries).
    As a match changes the client's lots of identical funds (their basis, holding period,
    washed units), a later sale of the client's from one of those funds waits for the next
    round, and the client's later sales with it: a round books what it can in bulk, writes it
    and matches its losses, and the next one reads the waiting sales' lots again (a round per
    such sale of a client at most; the first sale waiting is always booked)."""
    broker = context.broker(None)
    fills: dict[int, Fill] = {}  # fee transaction (by position in `sales`) → its sale
    for i, (txn, fee) in enumerate(sales):
        fill = sale_batched(
            txn=txn, batch=batches[txn.account.pk], amount=fee, context=context, broker=broker
        )
        if fill is not None:
            fills[i] = fill
    alone: list[tuple[Transaction, Decimal]] = []
    lonely: set[int] = set()  # clients with a sale left to `cash_out`: so are their later ones
    waiting = list(range(len(sales)))
    while waiting:
        # What each account sells of each fund this round at most (a sale left for the next
        # round counted too), so only the lots these could consume are loaded; a fund sold at
        # two prices or on two days (its lots' order differs) has all its lots loaded.
        selling: dict[tuple[int, int], tuple[Decimal, Decimal, date]] = {}
        mixed: set[tuple[int, int]] = set()
        for i in waiting:
            if i in fills:
                txn, fill = sales[i][0], fills[i]
                key = (txn.account.pk, fill.asset.pk)
                units, price, day = selling.get(key, (Decimal(0), fill.price, txn.market_date))
                if (price, day) != (fill.price, txn.market_date):
                    mixed.add(key)
                selling[key] = (units - fill.quantity, price, day)
        for key in mixed:
            del selling[key]
        ledger_batches_lots_read(
            batches=batches,
            assets={sales[i][0].account.pk: {fills[i].asset.pk} for i in waiting if i in fills},
            selling=selling,
        )
        later: list[int] = []
        after: set[int] = set()  # clients whose next sales wait for the next round
        washing: set[tuple[int, str]] = set()  # (client, fund) a loss booked here may wash
        losses: list[LotSale] = []
        for i in waiting:
            txn, fee = sales[i]
            account, fill = txn.account, fills.get(i)
            if fill is None or account.client_id in lonely:
                alone.append((txn, fee))
                lonely.add(account.client_id)
                continue
            if account.client_id in after or (account.client_id, fill.asset.ticker) in washing:
                later.append(i)
                after.add(account.client_id)
                continue
            batch = batches[account.pk]
            lost = [sale for sale in batch.sell(txn=txn, fill=fill) if sale.gain < 0]
            batch.cash(txn=txn, amount=-fee)
            if lost and account.goal.account_type == Goal.AccountType.TAXABLE:  # only these wash
                losses += lost
                washing |= {(account.client_id, t) for t in identical_tickers(fill.asset.ticker)}
        ledger_batches_flush(list(batches.values()))
        wash_match_sales(sales=losses)
        tally.loss_sales += len(losses)
        tally.sale_rounds += 1
        waiting = later
    for txn, fee in alone:
        cash_out(
            txn=txn, account=txn.account, amount=fee, broker=broker, one_fund=True, context=context
        )
    tally.sales_batched += len(sales) - len(alone)
    tally.sales_alone += len(alone)


def _settled(*, account_ids: Sequence[int], periods: set[date]) -> set[tuple[int, date]]:
    """(account, month) of `periods` billed or owed, of the accounts: two queries."""
    billed = Transaction.objects.filter(
        kind=Transaction.Kind.FEE, account_id__in=account_ids, fee_period__in=periods
    ).values_list("account_id", "fee_period")
    owed = FeeOwed.objects.filter(account_id__in=account_ids, period__in=periods).values_list(
        "account_id", "period"
    )
    return {(a, p) for a, p in billed if p is not None} | set(owed)


def _worth(*, batch: LedgerBatch, day: date, context: ChunkContext) -> Decimal:
    """What selling everything pays at `day`'s close (`Valuation.total`), of a locked account
    as its batch stands: more than this, `raise_cash` refuses (InsufficientFunds)."""
    closes = context.closes(day)
    return money_value(
        batch.account.cash + sum((q * closes[a] for a, q in batch.held().items()), Decimal(0))
    )


def _bill_one_by_one(*, left: dict[int, list[date]], bills: _Bills, tally: _Tally) -> None:
    """Bill these accounts' months one fee at a time (`fee_charge`, each in its own transaction
    under the account's lock), each month priced on a ledger stored after the fee before it.
    An account that fails is logged and the others billed; `fees_bill` raises the first
    failure once every chunk is billed."""
    accounts = list(Account.objects.filter(pk__in=left).order_by("pk"))
    context = chunk_context(accounts=accounts)
    for account in accounts:
        tally.one_by_one += 1
        try:
            _account_bill(
                account=account, months=left[account.pk], bills=bills, tally=tally, context=context
            )
        except Exception as exc:  # noqa: BLE001 - logged, raised once the others are billed
            logger.exception("advisory fees failed", extra={"account_id": account.pk})
            tally.failure = tally.failure or exc


def _account_bill(
    *, account: Account, months: list[date], bills: _Bills, tally: _Tally, context: ChunkContext
) -> None:
    """Bill one account's `months` oldest first, each by `fee_charge`; a month it cannot pay
    is recorded owed."""
    ledger = _ledger_restored(account_id=account.pk, bills=bills)
    for i, period in enumerate(months):
        fee = bills.fee(ledger=ledger, period=period)
        if fee is None:
            continue
        try:
            charged = fee_charge(
                account=account,
                period=period,
                day=bills.complete[period],
                amount=fee,
                context=context,
            )
        except InsufficientFunds:
            # Worth less than the fee (emptied since the month ended): owed, and collected
            # from the next deposit or dividend; the others are still billed.
            recorded = fee_owed_record(
                account=account, period=period, amount=fee, day=market_date_get()
            )
            tally.owed += recorded is not None
            continue
        if charged is not None:
            tally.billed += 1
        if i + 1 < len(months):
            # The next month's accrual sees this fee (or another worker's), as a later run would.
            ledger = _ledger_restored(account_id=account.pk, bills=bills)


def _ledger_restored(*, account_id: int, bills: _Bills) -> list[LedgerLine]:
    """The account's ledger for pricing its months, from its stored values brought up to date."""
    daily_values_store(account_ids=[account_id])
    through = bills.through(account_id)
    ledger = stored_ledgers(account_ids=[account_id], since=bills.since, through=through)
    return [line for line in ledger[account_id] if line[0] <= through]
