"""The ledger: accounts, cash and unit entries, positions, tax lots and their sales. Every
money-moving service (cash flows, fees, rebalancing, harvests) books through these, inside its
own transaction and under its lock on the account.

A purchase opens a lot; a sale consumes lots in the account's lot method's order
(`lots_ordered`), recording a `LotSale` per lot with its share of the proceeds, its basis, gain
and term, and matches wash sales across the client's accounts (the rule is written out in
`portfolios.tax`)."""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import (
    get_field_value,
    get_mask_function,
    is_primitive,
    model_instance_diff,
    track_field,
)
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import F, Model, QuerySet
from django.db.models.signals import pre_save
from django.utils.encoding import smart_str

from advisor.models import Client, Goal
from config.postgres import rows_insert, rows_update

from ..broker import Fill
from ..models import Account, Asset, Entry, Lot, LotMethod, LotSale, Position, Transaction, WashSale
from ..money import CENT, money, money_down
from ..tax import (
    LONG,
    SHORT,
    WASH_WINDOW_DAYS,
    identical_tickers,
    lot_start,
    lot_term,
    lot_unit_basis,
    open_loss_sales,
    units_basis,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def account_open(*, goal: Goal) -> Account:
    """The goal's investment account; opened with the goal, idempotent (one account per goal)."""
    account, _ = Account.objects.get_or_create(
        goal=goal, defaults={"client": goal.client, "currency": goal.currency}
    )
    return account


@transaction.atomic
def account_lot_method_set(*, account: Account, lot_method: str) -> Account:
    """Choose which lots the account's sales consume from now on (sales already made stay)."""
    account = account_lock(account.pk)
    account.lot_method = lot_method
    account.full_clean(exclude=["client", "goal"])
    account.save(update_fields=["lot_method"])
    return account


# --- Locks ------------------------------------------------------------------------------------
#
# Every transaction that moves money locks in one order: its clients' rows (FOR NO KEY UPDATE,
# in id order), then its accounts' (their rows only, in id order), then the accounts' own rows
# (positions, lots, proposals). A client's lock covers the rows of all its accounts that a
# client-wide rule reaches: wash-sale matching reads and writes the lots and loss sales of the
# client's other accounts, and the IRA limit sums its IRAs' deposits. Two transactions that
# match wash sales for one client therefore run one after the other, whichever accounts (or
# daily-batch chunks) they came from: without it, two chunks each holding the lots they sold
# waited for the lots the other had sold (a deadlock, seen on a book of 10,000 accounts).
# FOR NO KEY UPDATE, not FOR UPDATE: it never blocks the key-share checks that PostgreSQL's
# foreign keys take on the client's row when another transaction inserts a row naming it.


def account_lock(account_id: int, *, related: Sequence[str] = ("goal",)) -> Account:
    """`accounts_lock` for one account, as every money-moving service locks one; returns it
    (Account.DoesNotExist where there is none)."""
    for account in accounts_lock([account_id], related=related):
        return account
    raise Account.DoesNotExist(f"No account {account_id}.")


def accounts_lock(
    account_ids: Sequence[int], *, related: Sequence[str] = ("goal",)
) -> list[Account]:
    """Lock the accounts' clients, then the accounts (rows only, `related` read with them), each
    in id order in one statement, as a daily job's chunk takes them; returns the accounts in id
    order. Two statements, whatever their number."""
    ids = sorted(set(account_ids))
    list(
        Client.objects.select_for_update(no_key=True)
        .filter(pk__in=Account.objects.filter(pk__in=ids).values("client_id"))
        .order_by("pk")
        .values("pk")
    )
    return list(
        _with_related(Account.objects.select_for_update(of=("self",)), related)
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _with_related(accounts: QuerySet[Account], related: Sequence[str]) -> QuerySet[Account]:
    # select_related() with no names would follow every foreign key
    return accounts.select_related(*related) if related else accounts


def ledger_cash(*, txn: Transaction, account: Account, amount: Decimal) -> None:
    Entry.objects.create(transaction=txn, account=account, quantity=amount)
    account.cash += amount
    account.full_clean(exclude=["client", "goal"])
    account.save(update_fields=["cash"])


def ledger_fill(
    *, txn: Transaction, account: Account, fill: Fill, lot_ids: Sequence[int] | None = None
) -> None:
    """Record a fill: units and cash entries, the position, and its lots. A purchase opens a
    lot (and may wash recent losses); a sale consumes `lot_ids` first, in that order, then the
    account's lot method's order, and records each lot's sale (and washes its losses)."""
    Entry.objects.create(
        transaction=txn, account=account, asset=fill.asset, quantity=fill.quantity, price=fill.price
    )
    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, asset=fill.asset
    )
    position.quantity += fill.quantity
    position.save(update_fields=["quantity"])
    if fill.quantity > 0:
        lot = Lot.objects.create(
            account=account,
            asset=fill.asset,
            opened_by=txn,
            acquired_on=txn.market_date,
            quantity=fill.quantity,
            remaining=fill.quantity,
            unit_cost=fill.price,
        )
        wash_match_purchase(lot=lot, client_id=account.client_id)
    elif fill.quantity < 0:
        sales = lots_sell(txn=txn, account=account, fill=fill, lot_ids=lot_ids)
        losses = [sale for sale in sales if sale.gain < 0]
        if losses and account.goal.account_type == Goal.AccountType.TAXABLE:  # only these wash
            wash_match_sales(sales=losses)
    ledger_cash(txn=txn, account=account, amount=fill.cash)


@dataclass
class LedgerBatch:
    """One account's transactions, cash entries, purchases and sales in a daily job, written in
    a few bulk statements instead of several per fill (`flush`, or `ledger_batches_flush` for a
    chunk's accounts at once): the same rows `Transaction.objects.create`, `ledger_cash` and
    `ledger_fill` write, for a caller that holds the account's lock (taken before its positions
    were read) and commits them in the same transaction. A sale consumes the open lots read
    for it (`ledger_batches_lots_read`) and records their `LotSale`s; it does not match wash
    sales: the caller matches its losses once flushed (`wash_match_sales` needs their ids). The
    account's cash is kept on `account` as entries are added, so the caller values the account
    as it stands."""

    account: Account
    positions: dict[int, Position]  # asset id → the account's position, read under its lock
    transactions: list[Transaction] = field(default_factory=list)  # made here, not yet written
    entries: list[Entry] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    changed: dict[int, Position] = field(default_factory=dict)
    cash_changed: bool = False
    open_lots: dict[int, list[Lot]] = field(default_factory=dict)  # asset id → read under lock
    sales: list[LotSale] = field(default_factory=list)
    sold: dict[int, Lot] = field(default_factory=dict)  # lots the sales consumed, by id

    @classmethod
    def read(cls, *, account: Account) -> "LedgerBatch":
        """A batch for `account` (locked by the caller), with its positions read once."""
        return cls.read_many(accounts=[account])[account.pk]

    @classmethod
    def read_many(cls, *, accounts: Sequence[Account]) -> dict[int, "LedgerBatch"]:
        """Account id → a batch for each of `accounts` (locked by the caller), their positions
        read in one query."""
        batches = {account.pk: cls(account=account, positions={}) for account in accounts}
        for position in Position.objects.filter(account__in=list(batches)).order_by():
            batches[position.account_id].positions[position.asset_id] = position
        return batches

    def held(self) -> dict[int, Decimal]:
        """Asset id → units held, as the batch stands."""
        return {a: p.quantity for a, p in self.positions.items() if p.quantity > 0}

    def transaction(self, **fields: object) -> Transaction:
        """A transaction of the account, written (with its audit-log row) when flushed; its
        entries may name it before then."""
        txn = Transaction(account=self.account, **fields)
        self.transactions.append(txn)
        return txn

    def cash(self, *, txn: Transaction, amount: Decimal) -> None:
        self.entries.append(Entry(transaction=txn, account=self.account, quantity=amount))
        self.account.cash += amount
        self.cash_changed = True

    def buy(self, *, txn: Transaction, fill: Fill) -> Lot:
        """A purchase fill: its units entry, the position, a lot, and its cash entry."""
        if fill.quantity <= 0:
            raise ValueError("LedgerBatch books purchases only.")
        self.entries.append(
            Entry(
                transaction=txn,
                account=self.account,
                asset=fill.asset,
                quantity=fill.quantity,
                price=fill.price,
            )
        )
        position = self.positions.get(fill.asset.pk)
        if position is None:
            position = Position(account=self.account, asset=fill.asset, quantity=Decimal(0))
            self.positions[fill.asset.pk] = position
        position.quantity += fill.quantity
        self.changed[fill.asset.pk] = position
        lot = Lot(
            account=self.account,
            asset=fill.asset,
            opened_by=txn,
            acquired_on=txn.market_date,
            quantity=fill.quantity,
            remaining=fill.quantity,
            unit_cost=fill.price,
        )
        self.lots.append(lot)
        self.cash(txn=txn, amount=fill.cash)
        return lot

    def sell(self, *, txn: Transaction, fill: Fill) -> list[LotSale]:
        """A sale fill, as `ledger_fill` books one (wash sales aside): its units entry, the
        position, the open lots of its fund (read by `ledger_batches_lots_read`) consumed in the
        lot method's order with a `LotSale` each, and its cash entry. Returns the sales."""
        if fill.quantity >= 0:
            raise ValueError("LedgerBatch.sell books sales only.")
        if fill.asset.pk not in self.open_lots:
            raise ValueError(f"The open lots of {fill.asset} were not read for this batch.")
        self.entries.append(
            Entry(
                transaction=txn,
                account=self.account,
                asset=fill.asset,
                quantity=fill.quantity,
                price=fill.price,
            )
        )
        position = self.positions[fill.asset.pk]  # a sale sells what the account holds
        position.quantity += fill.quantity
        self.changed[fill.asset.pk] = position
        ordered = lots_order(
            self.open_lots[fill.asset.pk],
            method=self.account.lot_method,
            price=fill.price,
            day=txn.market_date,
        )
        sales = _lots_take(txn=txn, account=self.account, fill=fill, ordered=ordered)
        self.open_lots[fill.asset.pk] = [lot for lot in ordered if lot.remaining > 0]
        self.sales += sales
        self.sold.update((sale.lot.pk, sale.lot) for sale in sales)
        self.cash(txn=txn, amount=fill.cash)
        return sales

    def flush(self) -> list[Lot]:
        """Write what was added (`ledger_batches_flush` of this batch alone)."""
        return ledger_batches_flush([self])


def ledger_batches_flush(batches: Sequence[LedgerBatch]) -> list[Lot]:
    """Write what was added to `batches` (transactions and their audit-log rows, entries,
    positions, lots, the accounts' cash), each kind of row for all of them in one or two bulk
    statements; the lots written, with their ids (for a wash-sale match)."""
    transactions = [txn for batch in batches for txn in batch.transactions]
    if transactions:
        rows_insert(transactions)
        audit_log_write(transactions, action=LogEntry.Action.CREATE)
    entries = [entry for batch in batches for entry in batch.entries]
    if entries:
        rows_insert(entries)
    changed = [p for batch in batches for p in batch.changed.values()]
    new = [p for p in changed if p.pk is None]
    old = [p for p in changed if p.pk is not None]
    if new:
        rows_insert(new)
    if old:
        rows_update(old, ["quantity"])
    lots = [lot for batch in batches for lot in batch.lots]
    if lots:
        rows_insert(lots)
    sales = [sale for batch in batches for sale in batch.sales]
    if sales:
        rows_insert(sales)
    sold = [lot for batch in batches for lot in batch.sold.values()]
    if sold:
        rows_update(sold, ["remaining", "realised_gain"])
    accounts = [batch.account for batch in batches if batch.cash_changed]
    # `ledger_cash`'s full_clean checks one rule on cash, the account's check constraint (never
    # below zero): checked here without its query, and again by the database.
    if any(account.cash < 0 for account in accounts):
        raise ValidationError({"cash": ["The account's cash cannot go below zero."]})
    if accounts:
        rows_update(accounts, ["cash"])
    for batch in batches:
        batch.transactions, batch.entries, batch.lots, batch.sales = [], [], [], []
        batch.changed, batch.sold, batch.cash_changed = {}, {}, False
    return lots


@dataclass(frozen=True, slots=True)
class _LotOrder:
    """What `lots_order` reads of a lot, from its columns (no model instance)."""

    pk: int
    acquired_on: date
    holding_from: date | None
    unit_cost: Decimal
    quantity: Decimal
    basis_adjustment: Decimal
    remaining: Decimal


def ledger_batches_lots_read(
    *,
    batches: dict[int, LedgerBatch],
    assets: dict[int, set[int]],
    selling: dict[tuple[int, int], tuple[Decimal, Decimal, date]] | None = None,
) -> None:
    """Read, locked, the open lots a sale in each batch consumes: account id → the funds it
    sells (`assets`), in one query for all of them (locked in id order, as `lots_sell` locks
    them). With `selling` ((account id, fund id) → the units its sales will sell before the
    next read, their price and day), every open lot is locked but only those the sales
    consume, in the account's lot method's order, are loaded as rows: the order is worked out
    from the lots' columns. A fee sells a sliver of a fund held in dozens of monthly lots, and
    building those rows was most of a fee chunk's reads (measured)."""
    wanted = {a: funds for a, funds in assets.items() if funds}
    if not wanted:
        return
    for account_id, funds in wanted.items():
        for asset_id in funds:
            batches[account_id].open_lots[asset_id] = []
    locked = (
        Lot.objects.select_for_update()
        .filter(
            account_id__in=list(wanted),
            asset_id__in={a for funds in wanted.values() for a in funds},
            remaining__gt=0,
        )
        .order_by("pk")
    )
    if selling is None:
        for lot in locked:
            if lot.asset_id in wanted[lot.account_id]:
                batches[lot.account_id].open_lots[lot.asset_id].append(lot)
        return
    held: defaultdict[tuple[int, int], list[_LotOrder]] = defaultdict(list)
    for account_id, asset_id, *columns in locked.values_list(
        "account_id", "asset_id", *(f.name for f in dataclass_fields(_LotOrder))
    ):
        if asset_id in wanted[account_id]:
            held[(account_id, asset_id)].append(_LotOrder(*columns))
    consumed: list[int] = []
    for key, lots in held.items():
        if key not in selling:
            consumed += (lot.pk for lot in lots)
            continue
        units, price, day = selling[key]
        method = batches[key[0]].account.lot_method
        for lot in lots_order(lots, method=method, price=price, day=day):  # type: ignore[arg-type]
            if units <= 0:
                break
            consumed.append(lot.pk)
            units -= lot.remaining
    for lot in Lot.objects.filter(pk__in=consumed).order_by("pk"):  # locked above
        batches[lot.account_id].open_lots[lot.asset_id].append(lot)


def audit_log_write(
    instances: Sequence[Model],
    *,
    action: int,
    before: Sequence[Model] | None = None,
    fields: Sequence[str] | None = None,
) -> list[LogEntry]:
    """The audit-log rows django-auditlog's receivers write for `instances` of a registered
    model saved one by one (created, or updated from `before` in `fields`), written in one
    statement for rows saved in bulk, which sends no signals: the same changes, actor (its
    `set_actor` context, applied by the pre_save it connects) and correlation id."""
    if not instances or auditlog_disabled.get() or not auditlog.contains(type(instances[0])):
        return []
    model = type(instances[0])
    content_type = ContentType.objects.get_for_model(model)
    olds: list[Model | None] = list(before) if before is not None else [None] * len(instances)
    as_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)  # auditlog's default
    created = _Created.of(model) if before is None and fields is None else None
    rows = []
    for instance, old in zip(instances, olds, strict=True):
        if any(
            result is False for _, result in pre_log.send(model, instance=instance, action=action)
        ):
            continue
        if created is not None:
            changes = _created_diff(instance, created=created, use_json_for_changes=as_json)
        else:
            changes = model_instance_diff(
                old, instance, fields_to_check=fields, use_json_for_changes=as_json
            )
        if not changes:
            continue
        row = LogEntry(
            content_type=content_type,
            object_pk=instance.pk,
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=smart_str(instance),
            serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
            action=action,
            changes=changes,
            cid=get_cid(),
        )
        get_additional_data = getattr(instance, "get_additional_data", None)
        if callable(get_additional_data):
            row.additional_data = get_additional_data()
        # `set_actor` attributes a row through the pre_save it connects, which bulk_create skips.
        pre_save.send(
            LogEntry,
            instance=row,
            raw=False,
            using=router.db_for_write(LogEntry),
            update_fields=None,
        )
        rows.append((instance, old, row, changes))
    rows_insert([row for _, _, row, _ in rows])
    for instance, old, row, changes in rows:
        post_log.send(
            model,
            instance=instance,
            instance_old=old,
            action=action,
            error=None,
            pre_log_results=[],
            changes=changes,
            log_entry=row,
            log_created=True,
            use_json_for_changes=as_json,
        )
    return [row for _, _, row, _ in rows]


@dataclass(frozen=True)
class _Created:
    """What `model_instance_diff(None, instance)` compares for a created instance of a model,
    worked out once for many instances: every field `get_fields` lists but many-to-many, less
    the registry's exclusions, and which of them it masks, with what."""

    fields: list[Any]
    masked: frozenset[str]
    mask: Any  # the registry's mask function, for the masked fields

    @classmethod
    def of(cls, model: type[Model]) -> "_Created":
        fields = [f for f in model._meta.get_fields() if track_field(f)]
        options = auditlog.get_model_fields(model)
        if options["include_fields"]:
            fields = [f for f in fields if f.name in options["include_fields"]]
        if options["exclude_fields"]:
            fields = [f for f in fields if f.name not in options["exclude_fields"]]
        masked = frozenset(options["mask_fields"])
        mask = get_mask_function(options.get("mask_callable")) if masked else None
        return cls(fields=fields, masked=masked, mask=mask)


def _created_diff(
    instance: Model, *, created: _Created, use_json_for_changes: bool
) -> dict[str, Any] | None:
    """`model_instance_diff(None, instance, use_json_for_changes=…)`, the same changes: a
    created instance's "before" is None in every field, so only its side is read (auditlog
    reads the missing side of each field through two caught exceptions: half the audit-log time
    of a chunk's transactions, measured). `tests/portfolios/test_ledger.py` compares the two."""
    diff: dict[str, Any] = {}
    for f in created.fields:
        value = get_field_value(instance, f, use_json_for_changes)
        if value is None:  # as the missing side: no change
            continue
        if f.name in created.masked:
            diff[f.name] = (created.mask(smart_str(None)), created.mask(smart_str(value)))
        elif use_json_for_changes:
            diff[f.name] = (None, value if is_primitive(value) else smart_str(value))
        else:
            diff[f.name] = (smart_str(None), smart_str(value))
    return diff or None


# --- Lot order -------------------------------------------------------------------------------


# tax_min's groups, by (at a loss, term): short-term losses, long-term losses, long-term gains,
# short-term gains.
TAX_MIN_RANK = {(True, SHORT): 0, (True, LONG): 1, (False, LONG): 2, (False, SHORT): 3}


def _fifo_key(lot: Lot) -> tuple[date, int]:
    return (lot.acquired_on, lot.pk)


def lots_order(lots: Sequence[Lot], *, method: str, price: Decimal, day: date) -> list[Lot]:
    """The order a sale at `price` on `day` consumes `lots` in, by lot method:

    - fifo: oldest first (acquired_on, id);
    - hifo: the highest basis per unit first (wash-sale adjustments included), ties oldest first;
    - tax_min: losses first, short-term losses (taxed at the higher rate) before long-term,
      the largest loss per unit first in each; then long-term gains, then short-term gains,
      the smallest gain per unit first in each. Ties oldest first. A lot at no gain counts as
      a gain (of zero, so it goes first among its term's gains)."""
    if method == LotMethod.FIFO:
        return sorted(lots, key=_fifo_key)
    if method == LotMethod.HIFO:
        return sorted(lots, key=lambda lot: (-lot_unit_basis(lot), *_fifo_key(lot)))
    if method != LotMethod.TAX_MIN:
        raise ValueError(f"Unknown lot method {method!r}.")

    def tax_min_key(lot: Lot) -> tuple[int, Decimal, date, int]:
        gain = price - lot_unit_basis(lot)  # per unit; below zero: a loss
        term = lot_term(lot, day)
        # losses: the most negative first; gains: the smallest first
        return (TAX_MIN_RANK[(gain < 0, term)], gain, *_fifo_key(lot))

    return sorted(lots, key=tax_min_key)


def lots_ordered(*, account: Account, asset: Asset, price: Decimal, day: date) -> list[Lot]:
    """The account's open lots of `asset` in the order a sale at `price` on `day` consumes them
    (the account's lot method)."""
    lots = list(Lot.objects.filter(account=account, asset=asset, remaining__gt=0))
    return lots_order(lots, method=account.lot_method, price=price, day=day)


# --- Sales -----------------------------------------------------------------------------------


def proceeds_split(cash: Decimal, units: Sequence[Decimal]) -> list[Decimal]:
    """`cash` split over parts pro rata to `units`, in cents that sum exactly to `cash`: each
    part rounded down, the cents left over going to the largest remainders (ties: the earlier
    part)."""
    total = sum(units, Decimal(0))
    if not units:
        return []
    if total <= 0:
        return [cash] + [Decimal("0.00")] * (len(units) - 1)
    exact = [cash * u / total for u in units]
    parts = [money_down(x) for x in exact]
    spare = int((cash - sum(parts, Decimal(0))) / CENT)
    for i in sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))[:spare]:
        parts[i] += CENT
    return parts


def lots_sell(
    *, txn: Transaction, account: Account, fill: Fill, lot_ids: Sequence[int] | None = None
) -> list[LotSale]:
    """Consume lots for a sale fill (`lot_ids` first, in that order, then the lot method's
    order) and record a `LotSale` for each: its share of the fill's cash, the units' basis, the
    gain and its term. Keeps each lot's `realised_gain` (the sum of its sales' gains)."""
    # Locked in one order (by id), then ordered in Python.
    held = {
        lot.pk: lot
        for lot in Lot.objects.select_for_update()
        .filter(account=account, asset=fill.asset, remaining__gt=0)
        .order_by("pk")
    }
    chosen: list[Lot] = []
    for lot_id in lot_ids or ():
        if lot_id not in held:
            raise ValueError(f"Lot {lot_id} is not an open lot of {fill.asset} in this account.")
        if held[lot_id] not in chosen:
            chosen.append(held[lot_id])
    rest = [lot for lot in held.values() if lot not in chosen]
    ordered = chosen + lots_order(
        rest, method=account.lot_method, price=fill.price, day=txn.market_date
    )
    sales = _lots_take(txn=txn, account=account, fill=fill, ordered=ordered)
    for sale in sales:
        sale.save()
        sale.lot.save(update_fields=["remaining", "realised_gain"])
    return sales


def _lots_take(
    *, txn: Transaction, account: Account, fill: Fill, ordered: Sequence[Lot]
) -> list[LotSale]:
    """The sales (unsaved) of a sale fill's units from `ordered` lots, first to last: each
    lot's share of the fill's cash, the units' basis, the gain and its term; each lot's
    `remaining` and `realised_gain` updated (unsaved)."""
    to_sell = -fill.quantity
    taken: list[tuple[Lot, Decimal]] = []
    for lot in ordered:
        if to_sell <= 0:
            break
        units = min(lot.remaining, to_sell)
        taken.append((lot, units))
        to_sell -= units
    if to_sell > 0:
        # The position and the lots disagree (the daily reconciliation reports it): the
        # proceeds are allocated over the units the lots had.
        logger.error(
            "sale beyond the lots held",
            extra={"account_id": account.pk, "asset": fill.asset.pk, "transaction_id": txn.pk},
        )
    proceeds = proceeds_split(fill.cash, [units for _, units in taken])
    sales = []
    for (lot, units), cash in zip(taken, proceeds, strict=True):
        basis = units_basis(lot, units)
        sale = LotSale(
            lot=lot,
            transaction=txn,
            account=account,
            asset=fill.asset,
            sold_on=txn.market_date,
            quantity=units,
            proceeds=cash,
            cost_basis=basis,
            gain=cash - basis,
            term=lot_term(lot, txn.market_date),
        )
        lot.remaining -= units
        lot.realised_gain += sale.gain
        sales.append(sale)
    return sales


# --- Wash sales ------------------------------------------------------------------------------


def _wash(*, sale: LotSale, replacement: Lot, units: Decimal, taxable: bool) -> WashSale | None:
    """Match `units` of a loss sale with `units` of a replacement lot (both rows locked)."""
    wash = _wash_made(sale=sale, replacement=replacement, units=units, taxable=taxable)
    if wash is None:
        return None
    wash.save()
    sale.save(update_fields=["wash_disallowed", "washed_units"])
    replacement.save(update_fields=_WASHED_LOT_FIELDS if taxable else ["washed_units"])
    return wash


_WASHED_LOT_FIELDS = ["washed_units", "basis_adjustment", "holding_from"]


def _wash_made(
    *, sale: LotSale, replacement: Lot, units: Decimal, taxable: bool
) -> WashSale | None:
    """`_wash`'s match, unsaved: the wash sale, and the sale's and the replacement's fields
    it changes set on them."""
    loss = -sale.gain
    if sale.washed_units + units == sale.quantity:
        disallowed = loss - sale.wash_disallowed  # the last units take the rest: no cent lost
    else:
        disallowed = min(money(loss * units / sale.quantity), loss - sale.wash_disallowed)
    if disallowed <= 0:
        return None  # a sliver worth under half a cent of loss: nothing to disallow
    added = disallowed if taxable else Decimal("0.00")
    wash = WashSale(
        sale=sale, replacement=replacement, units=units, disallowed=disallowed, basis_added=added
    )
    sale.wash_disallowed += disallowed
    sale.washed_units += units
    replacement.washed_units += units
    if taxable:
        # The disallowed loss moves into the replacement's basis, and its holding period
        # carries over (IRS Pub. 550); in an IRA it is lost (Rev. Rul. 2008-5).
        replacement.basis_adjustment += added
        start = lot_start(sale.lot)
        if start < lot_start(replacement):
            replacement.holding_from = start
    return wash


def _taxable_accounts(account_ids: set[int]) -> set[int]:
    return set(
        Account.objects.filter(
            pk__in=account_ids, goal__account_type=Goal.AccountType.TAXABLE
        ).values_list("pk", flat=True)
    )


def wash_match_sales(*, sales: Sequence[LotSale]) -> list[WashSale]:
    """Match loss sales in taxable accounts (written, `account` loaded), each in turn: its
    units against lots of an identical fund bought in the 30 days up to and including the
    sale, in any of the client's accounts (not by the sale's own transaction, not the sold lot
    itself), oldest first; in a few queries whatever their number: the candidate lots of them
    all read (locked) in one, the matches and what they change written in bulk. For sales
    none of which sold a lot another's match changes (a later sale of an identical fund of the
    same client is matched after this one's matches are written: `fees._sales_book`'s rounds)."""
    if not sales:
        return []
    tickers = {t for sale in sales for t in identical_tickers(sale.asset.ticker)}
    read = (
        Lot.objects.select_for_update(of=("self",))
        .filter(
            account__client_id__in={sale.account.client_id for sale in sales},
            asset__ticker__in=tickers,
            acquired_on__gte=min(s.sold_on for s in sales) - timedelta(days=WASH_WINDOW_DAYS),
            acquired_on__lte=max(s.sold_on for s in sales),
            remaining__gt=0,
            washed_units__lt=F("quantity"),
        )
        .annotate(client_id=F("account__client_id"), ticker=F("asset__ticker"))
        .order_by("pk")
    )
    lots = sorted(read, key=_fifo_key)
    taxable = _taxable_accounts({lot.account_id for lot in lots})
    # Each sale looks at its client's lots only (oldest first): a chunk's sales against every
    # lot read for the chunk was quadratic, most of a fee chunk's matching time (measured).
    by_client: defaultdict[int, list[Any]] = defaultdict(list)  # Lots, with client_id, ticker
    for lot in lots:
        by_client[lot.client_id].append(lot)
    washes: list[WashSale] = []
    changed: dict[int, Lot] = {}
    for sale in sales:
        identical = identical_tickers(sale.asset.ticker)
        since = sale.sold_on - timedelta(days=WASH_WINDOW_DAYS)
        for replacement in by_client.get(sale.account.client_id, ()):
            left = sale.quantity - sale.washed_units
            if left <= 0:
                break
            if (
                replacement.ticker not in identical
                or not since <= replacement.acquired_on <= sale.sold_on
                or replacement.opened_by_id == sale.transaction_id
                or replacement.pk == sale.lot_id
            ):
                continue
            units = min(
                left, replacement.remaining, replacement.quantity - replacement.washed_units
            )
            if units <= 0:
                continue
            wash = _wash_made(
                sale=sale,
                replacement=replacement,
                units=units,
                taxable=replacement.account_id in taxable,
            )
            if wash:
                washes.append(wash)
                changed[replacement.pk] = replacement
    if washes:
        WashSale.objects.bulk_create(washes)
        rows_update([wash.sale for wash in washes], ["wash_disallowed", "washed_units"])
        rows_update(list(changed.values()), _WASHED_LOT_FIELDS)
    return washes


def wash_match_purchase(*, lot: Lot, client_id: int) -> list[WashSale]:
    """A new lot: match it against the client's taxable loss sales of an identical fund sold
    in the 30 days before its purchase (or on the day) with units still unmatched, oldest
    first."""
    sales = list(
        open_loss_sales(
            client_id=client_id, tickers=identical_tickers(lot.asset.ticker), day=lot.acquired_on
        )
        .select_for_update(of=("self",))
        .select_related("lot", "asset")
        .order_by("pk")
    )
    sales.sort(key=lambda sale: (sale.sold_on, sale.pk))
    if not sales:
        return []
    taxable = lot.account_id in _taxable_accounts({lot.account_id})
    washes = []
    for sale in sales:
        units = min(sale.quantity - sale.washed_units, lot.quantity - lot.washed_units)
        if units <= 0:
            break
        wash = _wash(sale=sale, replacement=lot, units=units, taxable=taxable)
        if wash:
            washes.append(wash)
    return washes
