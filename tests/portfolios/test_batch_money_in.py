"""Recurring deposits and dividends set-based per chunk (issue #18): a chunk paid in bulk writes
the rows the one-by-one path writes (ledger, wash sales, schedules, audit log, notifications),
a bulk write that fails falls back to that path and pays every account, and the queries of a
chunk do not grow with its accounts."""

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from advisor.models import Notification
from portfolios import services
from portfolios.models import (
    Account,
    Entry,
    Lot,
    Position,
    RecurringDeposit,
    Transaction,
    WashSale,
)
from portfolios.services import distributions, purchases, recurring

from .conftest import dividend_book, drifting_prices_load
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_months(tmp_path, approved_set, market_day):
    """Weekday closes from 1 March to 30 June 2023, each fund drifting by its own daily step,
    so that lots gain and lose (some sales wash)."""
    return drifting_prices_load(tmp_path / "months.csv", market_day, step=Decimal("0.0006"))


def _jobs(market_day: date) -> dict[str, Callable[..., int]]:
    return {
        "recurring": lambda **kw: services.recurring_deposits_run(
            today=market_day + timedelta(days=31), **kw
        ),
        "dividends": lambda **kw: services.dividends_pay(through=market_day, **kw),
    }


# The bulk step of each job, made to fail to send the chunk down the one-by-one path.
KINDS = {"recurring": Transaction.Kind.DEPOSIT, "dividends": Transaction.Kind.DIVIDEND}

BULK = {
    "recurring": (recurring, "_chunk_pay"),
    "dividends": (distributions, "_chunk_dividends_pay"),
}


def _marks() -> tuple[int, int, int]:
    """The last transaction's, audit-log row's and notification's ids."""
    return tuple(  # type: ignore[return-value]
        model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (Transaction, LogEntry, Notification)
    )


def _written(marks: tuple[int, int, int]) -> dict[str, list[tuple]]:
    """What a job wrote after `marks`, keyed so that two runs compare whatever ids the new rows
    got: a transaction by (account, kind, amount, market date)."""
    since, last_log, last_notice = marks
    new = Transaction.objects.filter(pk__gt=since)
    names = {
        pk: (account_id, kind, str(amount), market_date)
        for pk, account_id, kind, amount, market_date in new.values_list(
            "pk", "account_id", "kind", "amount", "market_date"
        )
    }
    transaction_type = ContentType.objects.get_for_model(Transaction)
    schedule_type = ContentType.objects.get_for_model(RecurringDeposit)

    def audited(entry: LogEntry) -> tuple:
        changes = {k: v for k, v in (entry.changes or {}).items() if k not in {"id", "created_at"}}
        if entry.content_type_id == transaction_type.pk:
            subject: object = names[int(entry.object_pk)]
        else:
            subject = entry.object_pk
        return (
            entry.action,
            subject,
            entry.object_repr,
            entry.actor_id,
            repr(sorted(changes.items())),
        )

    def notice(row: tuple) -> tuple:
        user_id, kind, key, title, body, link = row
        txn = key.removeprefix("transaction:")
        return (user_id, kind, names[int(txn)] if txn.isdigit() else key, title, body, link)

    return {
        "cash": sorted(Account.objects.values_list("pk", "cash")),
        "positions": sorted(Position.objects.values_list("account_id", "asset_id", "quantity")),
        "transactions": sorted(
            (names[pk], description, distribution_id)
            for pk, description, distribution_id in new.values_list(
                "pk", "description", "distribution_id"
            )
        ),
        "entries": sorted(
            (names[t], a or 0, q, p or 0)
            for t, a, q, p in Entry.objects.filter(transaction__in=new).values_list(
                "transaction_id", "asset_id", "quantity", "price"
            )
        ),
        "lots": sorted(
            (names[t], *rest)
            for t, *rest in Lot.objects.filter(opened_by__in=new).values_list(
                "opened_by_id",
                "asset_id",
                "acquired_on",
                "quantity",
                "remaining",
                "unit_cost",
                "washed_units",
                "basis_adjustment",
                "holding_from",
            )
        ),
        "washes": sorted(
            WashSale.objects.filter(replacement__opened_by__in=new).values_list(
                "sale_id", "units", "disallowed", "basis_added"
            )
        ),
        "schedules": sorted(RecurringDeposit.objects.values_list("pk", "next_run", "active")),
        "audit": sorted(
            audited(entry)
            for entry in LogEntry.objects.filter(
                content_type__in=[transaction_type, schedule_type], pk__gt=last_log
            )
        ),
        "notifications": sorted(
            notice(row)
            for row in Notification.objects.filter(pk__gt=last_notice).values_list(
                "user_id", "kind", "key", "title", "body", "link"
            )
        ),
    }


@pytest.mark.parametrize("job", ["recurring", "dividends"])
@pytest.mark.parametrize("pairs_identical", [False, True])
def test_a_chunk_paid_in_bulk_writes_what_the_one_by_one_path_writes(
    four_months, job, pairs_identical, monkeypatch, caplog, settings
):
    # given: a book with an IRA or two over the limit, and a busy day; with the harvesting
    # pairs identical, the purchases wash the book's recent losses (a client's dividends are
    # then paid in rounds: each purchase's washes matched before the client's next payment)
    settings.WASH_SALE_PAIRS_IDENTICAL = pairs_identical
    dividend_book(30)
    run = _jobs(four_months)[job]

    # when: the one-by-one path (the bulk step fails), undone afterwards
    module, bulk = BULK[job]
    real = getattr(module, bulk)

    def failing(**kwargs):
        raise RuntimeError("bulk write failed")

    with transaction.atomic():
        since = _marks()
        monkeypatch.setattr(module, bulk, failing)
        with caplog.at_level(logging.ERROR):
            one_by_one_made = run()
        monkeypatch.setattr(module, bulk, real)
        one_by_one = _written(since)
        transaction.set_rollback(True)
    # and the bulk path
    since = _marks()
    made = run()

    # then: the same rows, and the failed bulk step was logged, not raised
    assert made == one_by_one_made > 10
    assert _written(since) == one_by_one
    assert bool(one_by_one["washes"]) == pairs_identical
    assert any(
        "paid one by one" in r.getMessage() or "account by account" in r.getMessage()
        for r in caplog.records
    )
    assert run() == 0  # and a rerun pays nothing
    for account in Account.objects.all():
        assert_ledger_consistent(account)


@pytest.mark.parametrize("job", ["recurring", "dividends"])
def test_a_chunks_queries_do_not_grow_with_its_accounts(four_months, job):
    # given: a book of 80 accounts, a chunk of 20 of them and one of 60
    ids = dividend_book(80)
    run = _jobs(four_months)[job]
    small, large = (ids[0], ids[20]), (ids[20], ids[-1] + 1)

    def measured(account_range: tuple[int, int]) -> tuple[int, int]:
        before = _marks()[0]
        with CaptureQueriesContext(connection) as captured:
            run(account_range=account_range)
        return len(captured), Transaction.objects.filter(pk__gt=before).count()

    # when
    queries_small, made_small = measured(small)
    queries_large, made_large = measured(large)

    # then: three times the accounts, a few queries more at most (SQLite splits a bulk insert
    # of many rows by its limit on parameters)
    assert made_large > 2 * made_small > 0
    assert queries_large - queries_small <= 6, (queries_small, queries_large)


def test_the_chunks_losses_are_each_clients_own(four_months):
    # loss_tickers_many gives each client and day what loss_tickers gives it
    dividend_book(30)
    clients = set(Account.objects.values_list("client_id", flat=True))
    days = [four_months - timedelta(days=d) for d in (0, 9, 20, 45)]
    many = purchases.loss_tickers_many(client_ids=clients, days=days)
    found = 0
    for client_id in clients:
        for day in days:
            one = purchases.loss_tickers(client_id=client_id, day=day)
            assert many.get((client_id, day), set()) == one
            found += bool(one)
    assert found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("job", ["recurring", "dividends"])
def test_concurrent_workers_on_one_chunk_pay_each_item_once(four_months, job):
    # given: a book, and what the job pays on it, undone afterwards
    dividend_book(12)
    run = _jobs(four_months)[job]
    with transaction.atomic():
        due = run()
        transaction.set_rollback(True)
    assert due > 0
    since = _marks()[0]

    # when: three workers run the same chunk at once (PostgreSQL: the chunk's row locks, taken
    # in one order, and the re-checks under them; SQLite serialises the writers)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            run()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then: each item paid once
    assert errors == []
    assert Transaction.objects.filter(pk__gt=since, kind=KINDS[job]).count() == due
    for account in Account.objects.all():
        assert_ledger_consistent(account)
