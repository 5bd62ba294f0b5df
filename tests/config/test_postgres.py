"""config.postgres: psycopg's array dumper escapes as psycopg itself would, faster; rows_update
and rows_insert write what Django's bulk_update and bulk_create write."""

import inspect
import random
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.array import ListDumper

from config.postgres import _Escape, rows_insert, rows_update
from portfolios.models import Account, Asset, Entry, GoalProjection, Lot, Transaction
from tests.factories import GoalFactory

PSYCOPG_ESCAPE = re.compile(rb'(["\\])')


def test_the_escape_writes_what_psycopgs_pattern_writes():
    rng = random.Random(0)  # noqa: S311 - test data, not a secret
    alphabet = b"ab\"\\{},' \n"
    for _ in range(5000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _Escape.sub(rb"\\\1", data) == PSYCOPG_ESCAPE.sub(rb"\\\1", data), data
    assert _Escape.sub(rb"\\\1", memoryview(b'a"b')) == b'a\\"b'


def test_psycopgs_list_dumper_uses_it():
    # If psycopg stops escaping through `_re_esc`, the patch no longer applies: look again.
    assert "self._re_esc.sub(" in inspect.getsource(ListDumper._dump_list)
    assert ListDumper._re_esc.pattern == _Escape.pattern
    assert isinstance(ListDumper._re_esc, _Escape)
    values = ['{"a": "b\\\\c"}', "plain"]
    dumped = Transformer().get_dumper(values, PyFormat.TEXT).dump(values)
    assert bytes(dumped) == b'{"{\\"a\\": \\"b\\\\\\\\c\\"}",plain}'


@pytest.mark.django_db
def test_arrays_of_quotes_and_backslashes_reach_postgresql_intact():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's array parser (DATABASE_URL=postgres://…)")
    values = ['{"a": "b\\\\c"}', 'say "hi"', "back\\slash", "", "{,}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [values])
        assert cursor.fetchone()[0] == values


@pytest.mark.django_db
def test_rows_update_writes_what_bulk_update_writes():
    # given: projections of goals (text, JSON, a nullable time) and the goals' accounts' cash
    # (numeric), changed in memory; one projection twice, its second copy changed otherwise
    goals = [GoalFactory() for _ in range(3)]
    projections = [
        GoalProjection.objects.create(goal=goal, inputs_hash=f"h{i}", inputs={"i": i})
        for i, goal in enumerate(goals)
    ]
    now = timezone.now()
    results = [{"quote": 'say "hi"', "path": "a\\b", "n": [1.5, None]}, None, {"k": {}}]
    for projection, result in zip(projections, results, strict=True):
        projection.status = GoalProjection.Status.READY
        projection.result = result
        projection.computed_at = now if result else None
    twin = GoalProjection.objects.get(pk=projections[0].pk)
    twin.result = {"twin": True}
    accounts = list(Account.objects.filter(goal__in=goals).order_by("pk"))  # opened with them
    for i, account in enumerate(accounts):
        account.cash = Decimal("1234.56") * i

    # when: written by rows_update, and the same changes by bulk_update, each read back
    def read() -> tuple[list, list]:
        return (
            list(
                GoalProjection.objects.filter(pk__in=[p.pk for p in projections])
                .order_by("pk")
                .values_list("status", "result", "computed_at", "inputs")
            ),
            list(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("cash")),
        )

    with transaction.atomic():
        assert rows_update([*projections, twin], ["status", "result", "computed_at"]) == 3
        assert rows_update(accounts, ["cash"]) == 3
        ours = read()
        transaction.set_rollback(True)
    GoalProjection.objects.bulk_update([*projections, twin], ["status", "result", "computed_at"])
    Account.objects.bulk_update(accounts, ["cash"])

    # then: the same rows
    assert ours == read()
    assert ours[0][0][1] == results[0]  # the first of two objects with one pk wins


def test_rows_update_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="pk"):
        rows_update([Account(pk=1)], ["id"])
    with pytest.raises(ValueError, match="saved"):
        rows_update([Account()], ["cash"])
    assert rows_update([], ["cash"]) == 0


def _ledger_rows(account: Account, asset: Asset) -> list[list]:
    """A transaction (its kind an enum member, its time auto_now_add), entries and a lot that
    name it before it is saved, and an audit-log row with JSON: unsaved, in write order."""
    day = timezone.now().date()
    txn = Transaction(
        account=account,
        kind=Transaction.Kind.DEPOSIT,
        amount=Decimal("100.00"),
        market_date=day,
        description='say "hi" \\ back',
    )
    entries = [
        Entry(transaction=txn, account=account, quantity=Decimal("100.00")),
        Entry(
            transaction=txn,
            account=account,
            asset=asset,
            quantity=Decimal("0.123456"),
            price=Decimal("101.25"),
        ),
        Entry(transaction=txn, account=account, quantity=Decimal("-12.50")),
    ]
    lot = Lot(
        account=account,
        asset=asset,
        opened_by=txn,
        acquired_on=day,
        quantity=Decimal("0.123456"),
        remaining=Decimal("0.123456"),
        unit_cost=Decimal("101.25"),
    )
    log = LogEntry(
        content_type=ContentType.objects.get_for_model(Transaction),
        object_pk="1",
        object_id=1,
        object_repr="deposit",
        action=LogEntry.Action.CREATE,
        changes={"amount": ["None", "100.00"], "quote": 'a "b" \\ c'},
    )
    return [[txn], entries, [lot], [log]]


def _read(rows: list[list]) -> list:
    """The rows as the database holds them, less their ids, their transaction's id (checked
    apart) and their times of writing."""
    skip = {"id", "created_at", "timestamp", "transaction_id", "opened_by_id"}
    read = []
    for objs in rows:
        model = type(objs[0])
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        written = model.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk")
        read.append([tuple(getattr(row, n) for n in names) for row in written])
    return read


@pytest.mark.django_db
def test_rows_insert_writes_what_bulk_create_writes():
    # given: a transaction, its entries and lot (naming it unsaved), an audit-log row
    account = Account.objects.get(goal=GoalFactory())
    asset = Asset.objects.create(ticker="TST", name="Test fund", asset_class="us_equity")

    # when: written by rows_insert, and the same rows by bulk_create, each read back
    with transaction.atomic():
        ours = _ledger_rows(account, asset)
        for objs in ours:
            rows_insert(objs)
        assert all(o.pk is not None and not o._state.adding for objs in ours for o in objs)
        assert ours[1][0].transaction_id == ours[0][0].pk == ours[2][0].opened_by_id
        ours_read = _read(ours)
    theirs = _ledger_rows(account, asset)
    for objs in theirs:
        type(objs[0]).objects.bulk_create(objs)

    # then: the same rows, ids and times aside (their times: set on writing); the entries and
    # the lot name their transaction
    assert ours_read == _read(theirs)
    for txn, entries, lots, _ in (ours, theirs):
        named = Entry.objects.filter(pk__in=[e.pk for e in entries]).values("transaction_id")
        assert {row["transaction_id"] for row in named} == {txn[0].pk}
        assert Lot.objects.get(pk=lots[0].pk).opened_by_id == txn[0].pk
    assert ours[0][0].created_at is not None
    assert ours[3][0].timestamp is not None


@pytest.mark.django_db
def test_rows_insert_refuses_an_unsaved_relation():
    account = Account.objects.get(goal=GoalFactory())
    txn = Transaction(account=account, kind="deposit", amount=1, market_date=timezone.now())
    with pytest.raises(ValueError, match="unsaved related object 'transaction'"):
        rows_insert([Entry(transaction=txn, account=account, quantity=Decimal(1))])
    rows_insert([])  # nothing to write
