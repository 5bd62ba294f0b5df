"""Advisory fees billed a chunk at a time (issue #18): the fees cash covers written in bulk in
queries that do not grow with the chunk, with the rows (audit log included) the one-fee-at-a-
time path writes; a month billed by another worker meanwhile is not billed again; and an
account that fails does not stop its chunk's other accounts."""

import contextlib
import logging
import threading
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portfolios import market, services
from portfolios.models import (
    Account,
    AccountDailyValue,
    Asset,
    Entry,
    FeeOwed,
    Lot,
    LotMethod,
    LotSale,
    Position,
    Transaction,
    WashSale,
)
from portfolios.services import fees

from ..factories import GoalFactory
from .conftest import BASE_PRICES, drifting_prices_load, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db

JUNE = date(2023, 6, 1)
JUNE_END = date(2023, 6, 30)


@pytest.fixture(autouse=True)
def quarter_percent(settings):
    settings.ADVISORY_FEE_ANNUAL = Decimal("0.0025")


def _cash_book(tmp_path, accounts: int) -> list[Account]:
    """Accounts without a risk profile (their deposits stay in cash), funded at the 1 June
    close with 12,000 each; June then complete: each owes 2.47 for it, which cash covers."""
    market.assets_sync()
    for day in (JUNE, JUNE_END, date(2023, 7, 3)):
        market.prices_load(path=write_prices(tmp_path / f"{day}.csv", {day: BASE_PRICES}))
    book = []
    for _ in range(accounts):
        account = services.account_open(goal=GoalFactory())
        services.deposit_make(account=account, amount=Decimal("12000.00"), day=JUNE)
        book.append(account)
    return book


def _fees(account_ids) -> list[Transaction]:
    return list(
        Transaction.objects.filter(account_id__in=account_ids, kind=Transaction.Kind.FEE).order_by(
            "account_id", "fee_period"
        )
    )


def test_fees_cash_covers_are_billed_in_queries_that_do_not_grow_with_the_chunk(tmp_path):
    # given: 80 accounts in cash, each owing June's 2.47
    ids = [account.pk for account in _cash_book(tmp_path, 80)]

    # when: a chunk of 20 accounts, then one of 60
    with CaptureQueriesContext(connection) as twenty:
        assert fees.fees_bill(account_range=(ids[0], ids[20])) == 20
    with CaptureQueriesContext(connection) as sixty:
        assert fees.fees_bill(account_range=(ids[20], ids[-1] + 1)) == 60

    # then: the same statements, whatever the chunk's size
    assert len(sixty) <= len(twenty) + 2, (len(twenty), len(sixty))
    assert len(twenty) <= 30
    assert [f.amount for f in _fees(ids)] == [Decimal("-2.47")] * 80
    for account in Account.objects.filter(pk__in=ids[::13]):
        assert_ledger_consistent(account)
        assert account.cash == Decimal("11997.53")


def test_the_days_after_a_fee_are_rebuilt_in_queries_that_do_not_grow_with_the_chunk(tmp_path):
    # given: 80 accounts in cash with 100 more on 3 July, stored; June is then billed: each fee
    # is dated 30 June, before the stored 3 July row
    book = _cash_book(tmp_path, 80)
    for account in book:
        services.deposit_make(account=account, amount=Decimal("100.00"), day=date(2023, 7, 3))
    ids = [account.pk for account in book]
    fees.daily_values_store(account_ids=ids)
    assert fees.fees_bill() == 80

    # when: the rows of 20 accounts are rebuilt, then those of 60
    with CaptureQueriesContext(connection) as twenty:
        fees.daily_values_store(account_ids=ids[:20])
    with CaptureQueriesContext(connection) as sixty:
        fees.daily_values_store(account_ids=ids[20:])

    # then
    assert len(sixty) == len(twenty) <= 12
    for account_id in (ids[0], ids[-1]):
        assert list(
            AccountDailyValue.objects.filter(account_id=account_id)
            .order_by("day")
            .values_list("day", "cash")
        ) == [
            (JUNE, Decimal("12000.00")),
            (JUNE_END, Decimal("11997.53")),
            (date(2023, 7, 3), Decimal("12097.53")),
        ]


def _changes(txn: Transaction) -> dict:
    """The audit log's record of the fee's creation, less what differs between two accounts."""
    [entry] = LogEntry.objects.get_for_object(txn)
    assert entry.action == LogEntry.Action.CREATE
    assert entry.object_repr == str(txn)
    return {k: v for k, v in entry.changes_dict.items() if k not in {"id", "account", "created_at"}}


def test_a_fee_billed_in_bulk_is_audit_logged_as_one_charged_alone(tmp_path):
    # given: two accounts alike, one billed by the chunk, one by fee_charge
    bulk, alone = _cash_book(tmp_path, 2)
    charged = services.fee_charge(account=alone, period=JUNE, day=JUNE_END, amount=Decimal("2.47"))
    assert charged is not None

    # when
    assert fees.fees_bill() == 1

    # then: the same transaction, description and audit-log record
    [fee] = _fees([bulk.pk])
    assert (fee.amount, fee.market_date, fee.fee_period) == (Decimal("-2.47"), JUNE_END, JUNE)
    assert fee.description == charged.description
    assert "June 2023" in fee.description
    assert _changes(fee) == _changes(charged)
    assert [e.quantity for e in Entry.objects.filter(transaction=fee)] == [Decimal("-2.47")]


def test_a_month_billed_by_another_worker_after_the_chunk_read_is_not_billed_again(
    tmp_path, monkeypatch
):
    # given: another worker bills one account's June after this one read the chunk's ledgers
    first, second = _cash_book(tmp_path, 2)
    read = fees.stored_ledgers

    def read_then_other_worker_bills(**kwargs):
        ledgers = read(**kwargs)
        services.fee_charge(account=first, period=JUNE, day=JUNE_END, amount=Decimal("2.47"))
        return ledgers

    monkeypatch.setattr(fees, "stored_ledgers", read_then_other_worker_bills)

    # when
    billed = fees.fees_bill()

    # then: the month re-checked under the chunk's lock: billed once
    assert billed == 1
    assert [(f.account_id, f.fee_period) for f in _fees([first.pk, second.pk])] == [
        (first.pk, JUNE),
        (second.pk, JUNE),
    ]
    for account in (first, second):
        assert_ledger_consistent(account)


def test_an_account_that_fails_is_logged_and_its_chunks_others_are_billed(tmp_path, caplog):
    # given: three accounts in cash; the middle one is left 1.00 (less than its fee) and a
    # fund with no close at all, so the sale that should pay its fee cannot be priced
    good, bad, other = _cash_book(tmp_path, 3)
    services.withdrawal_make(account=bad, amount=Decimal("11999.00"))
    orphan = Asset.objects.create(
        ticker="ZZZ", name="Unpriced", asset_class=Asset.AssetClass.GOLD, expense_ratio="0.001"
    )
    Position.objects.create(account=bad, asset=orphan, quantity=Decimal("1"))

    # when
    with caplog.at_level(logging.WARNING, logger=fees.__name__), pytest.raises(KeyError):
        fees.fees_bill()

    # then: the chunk fell back to one fee at a time, logged; the others paid, the bad one not
    assert "advisory fees chunk failed: billed one by one" in caplog.messages
    assert "advisory fees failed" in caplog.messages
    assert [f.account_id for f in _fees([good.pk, bad.pk, other.pk])] == [good.pk, other.pk]
    # and a rerun (the batch retries the chunk) bills nothing twice
    with pytest.raises(KeyError):
        fees.fees_bill()
    assert len(_fees([good.pk, bad.pk, other.pk])) == 2


# --- On a synthetic book: fees that sell, as the one-by-one path books them ----------------------


def _synthetic(tmp_path, market_day, *, accounts: int, falling: bool) -> list[int]:
    """Weekday closes from 1 March to 30 June 2023, drifting apart (`falling`: half of the funds
    fall, so some lots lose; else every fund rises up to May's last close and stays, so that
    no lot loses at it), and `accounts` synthetic accounts: May is the complete month left to
    bill, from cash short of it."""
    drifting_prices_load(
        tmp_path / "months.csv", market_day, step=STEP, rising=not falling, until=date(2023, 5, 31)
    )
    call_command("synth_book", accounts=accounts, seed=7, history_months=3)
    return list(Account.objects.order_by("pk").values_list("pk", flat=True))


STEP = Decimal("0.0006")


@pytest.fixture
def synthetic_book(tmp_path, approved_set, market_day) -> list[int]:
    """24 synthetic accounts on closes drifting apart (some lots lose)."""
    return _synthetic(tmp_path, market_day, accounts=24, falling=True)


def _written() -> dict[str, list[tuple]]:
    """What billing writes, without ids (a rolled-back run's ids are not given again)."""

    def rows(query) -> list[tuple]:
        return sorted(query, key=repr)

    fee = Transaction.Kind.FEE
    return {
        "cash": rows(Account.objects.values_list("pk", "cash")),
        "positions": rows(Position.objects.values_list("account_id", "asset_id", "quantity")),
        "fees": rows(
            Transaction.objects.filter(kind=fee).values_list(
                "account_id", "amount", "market_date", "fee_period", "description"
            )
        ),
        "entries": rows(
            Entry.objects.filter(transaction__kind=fee).values_list(
                "account_id", "asset_id", "quantity", "price"
            )
        ),
        "lots": rows(
            Lot.objects.values_list(
                "account_id",
                "asset_id",
                "remaining",
                "realised_gain",
                "washed_units",
                "basis_adjustment",
                "holding_from",
            )
        ),
        "sales": rows(
            LotSale.objects.filter(transaction__kind=fee).values_list(
                "account_id",
                "asset_id",
                "sold_on",
                "quantity",
                "proceeds",
                "cost_basis",
                "gain",
                "term",
                "wash_disallowed",
                "washed_units",
            )
        ),
        "washes": rows(WashSale.objects.values_list("units", "disallowed", "basis_added")),
        "owed": rows(FeeOwed.objects.values_list("account_id", "period", "amount")),
        "audit": rows(
            (entry.object_repr, entry.action)
            for entry in LogEntry.objects.get_for_objects(Transaction.objects.filter(kind=fee))
        ),
    }


def _billed_log(caplog) -> dict:
    [record] = [r for r in caplog.records if r.getMessage() == "advisory fees billed"]
    caplog.clear()
    return {
        k: getattr(record, k)
        for k in (
            "count",
            "owed",
            "one_by_one",
            "sales_batched",
            "sales_alone",
            "loss_sales",
            "sale_rounds",
        )
    }


@pytest.mark.parametrize("methods", [None, list(LotMethod)], ids=["synth", "mixed-methods"])
def test_the_chunk_books_what_billing_one_fee_at_a_time_books(
    synthetic_book, monkeypatch, caplog, methods
):
    # given: accounts of every lot method (the chunk loads only the lots its sales consume,
    # in the lot method's order worked out from their columns)
    for i, account_id in enumerate(synthetic_book if methods else ()):
        Account.objects.filter(pk=account_id).update(lot_method=methods[i % len(methods)])
    # and the chunk's billing, undone afterwards
    with caplog.at_level(logging.INFO, logger=fees.__name__), transaction.atomic():
        chunked = fees.fees_bill()
        by_chunk = _written()
        transaction.set_rollback(True)
    tally = _billed_log(caplog)

    # when: the chunk's bulk write fails, so that every account is billed one fee at a time
    def failing(batches):
        raise RuntimeError("bulk write refused")

    monkeypatch.setattr(fees, "ledger_batches_flush", failing)
    one_by_one = fees.fees_bill()

    # then: the same fees, sales, lots, wash sales, cash and audit log
    assert chunked == one_by_one > 10
    assert _written() == by_chunk
    assert by_chunk["sales"]  # fees that needed a sale
    for account in Account.objects.filter(pk__in=synthetic_book):
        assert_ledger_consistent(account)
    # and the chunk booked most sales in bulk, some at a loss that washes
    assert tally["one_by_one"] == 0, tally
    assert tally["sales_batched"] > tally["sales_alone"], tally
    assert tally["loss_sales"] > 0, tally
    assert by_chunk["washes"]


def test_a_sale_after_its_clients_losing_sale_sees_that_loss_washed(
    tmp_path, account, monkeypatch, caplog
):
    # given: one client's two taxable accounts; the first bought on 1 June 2022, the second on
    # 15 June 2023 after VTI and AGG fell; then VTI fell further, so that AGG is overweight in
    # both at June's last close: the first's fee sells AGG at a long-term loss that the
    # second's AGG (bought within 30 days) washes, so the lot the second's fee sells next
    # counts as held since 2022 (long-term)
    first = account
    second = services.account_open(
        goal=GoalFactory(
            client=first.client, goal_type="retirement", target_date=first.goal.target_date
        )
    )
    fell = {**BASE_PRICES, "VTI": "100", "AGG": "90"}
    days = {
        date(2022, 6, 1): BASE_PRICES,
        JUNE: BASE_PRICES,
        date(2023, 6, 15): fell,
        JUNE_END: {**fell, "VTI": "95"},
        date(2023, 7, 3): {**fell, "VTI": "95"},
    }
    market.prices_load(path=write_prices(tmp_path / "june.csv", days))
    services.deposit_make(account=first, amount=Decimal("12000.00"), day=date(2022, 6, 1))
    services.deposit_make(account=second, amount=Decimal("12000.00"), day=date(2023, 6, 15))
    with caplog.at_level(logging.INFO, logger=fees.__name__), transaction.atomic():
        assert fees.fees_bill(month_end=JUNE_END) == 2
        by_chunk = _written()
        transaction.set_rollback(True)
    tally = _billed_log(caplog)

    # when: billed one fee at a time
    monkeypatch.setattr(fees, "ledger_batches_flush", lambda batches: 1 / 0)
    assert fees.fees_bill(month_end=JUNE_END) == 2

    # then: the second's sale was booked after the first's loss was washed, as one at a time,
    # in the chunk's second round of bulk sales
    assert _written() == by_chunk
    assert (tally["sales_batched"], tally["sales_alone"], tally["loss_sales"]) == (2, 0, 1)
    assert tally["sale_rounds"] == 2
    assert len(by_chunk["washes"]) == 1
    terms = {row[0]: row[7] for row in by_chunk["sales"]}
    assert terms == {first.pk: LotSale.Term.LONG, second.pk: LotSale.Term.LONG}
    for account_ in (first, second):
        assert_ledger_consistent(account_)


def test_fees_paid_by_a_sale_are_billed_in_queries_that_do_not_grow_with_the_chunk(
    tmp_path, approved_set, market_day, caplog
):
    # given: 80 synthetic accounts invested in funds that rose: every May fee sells at a gain
    ids = _synthetic(tmp_path, market_day, accounts=80, falling=False)

    # when: a chunk of 20 accounts, then one of 60
    with caplog.at_level(logging.INFO, logger=fees.__name__):
        with CaptureQueriesContext(connection) as twenty:
            fees.fees_bill(account_range=(ids[0], ids[20]))
        first = _billed_log(caplog)
        with CaptureQueriesContext(connection) as sixty:
            fees.fees_bill(account_range=(ids[20], ids[-1] + 1))
        second = _billed_log(caplog)

    # then: the sales booked in bulk, in the same statements whatever the chunk's size
    assert first["sales_batched"] >= 15, first
    assert second["sales_batched"] >= 45, second
    assert first["sales_alone"] == second["sales_alone"] == 0, (first, second)
    assert len(sixty) <= len(twenty) + 3, (len(twenty), len(sixty))
    for account in Account.objects.filter(pk__in=ids[::7]):
        assert_ledger_consistent(account)


# --- Two chunks, one client ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_chunks_selling_at_a_loss_for_one_client_do_not_deadlock(
    tmp_path, account, monkeypatch, caplog
):
    # Two fee chunks of a book of 10,000 accounts deadlocked: each held the lots it had sold
    # and, matching its losses' wash sales, waited for the lots the other had sold, in the
    # same client's other account. The chunks lock their clients first now, so the second
    # waits for the first before it sells anything.
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL=postgres://…)")
    # given: one client's two taxable accounts, both bought on 15 June 2023; by June's last
    # close every fund fell and VTI most, so each account's fee sells another fund at a loss
    # that the other account's lot of it (bought within 30 days) washes
    first = account
    second = services.account_open(
        goal=GoalFactory(
            client=first.client, goal_type="retirement", target_date=first.goal.target_date
        )
    )
    fell = {ticker: str(Decimal(price) * Decimal("0.95")) for ticker, price in BASE_PRICES.items()}
    days = {
        JUNE: BASE_PRICES,
        date(2023, 6, 15): BASE_PRICES,
        JUNE_END: {**fell, "VTI": "170"},
        date(2023, 7, 3): {**fell, "VTI": "170"},
    }
    market.prices_load(path=write_prices(tmp_path / "june.csv", days))
    for account_ in (first, second):
        services.deposit_make(account=account_, amount=Decimal("12000.00"), day=date(2023, 6, 15))
    chunks = [(first.pk, second.pk), (second.pk, second.pk + 1)]

    # the two chunks billed one after the other, either way round, undone afterwards
    def bill(chunk) -> int:
        return fees.fees_bill(month_end=JUNE_END, account_range=chunk)

    serial = []
    for order in (chunks, chunks[::-1]):
        with transaction.atomic():
            assert [bill(chunk) for chunk in order] == [1, 1]
            serial.append(_written())
            transaction.set_rollback(True)
    assert all(len(written["washes"]) == 2 for written in serial)

    # when: both chunks at once, each waiting for the other (up to 3 s) after its sales are
    # written and before it matches their wash sales: where both got there, each held its own
    # lots and asked for the other's
    meeting = threading.Barrier(2)
    match = fees.wash_match_sales

    def meet_then_match(*, sales):
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=3)
        return match(sales=sales)

    monkeypatch.setattr(fees, "wash_match_sales", meet_then_match)
    errors: list[BaseException] = []

    def worker(chunk) -> None:
        try:
            assert bill(chunk) == 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    with caplog.at_level(logging.WARNING, logger=fees.__name__):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    # then: neither chunk failed (a deadlock's victim is logged and billed one by one), and the
    # book is what billing them one after the other writes
    assert errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert _written() in serial
    for account_ in (first, second):
        assert_ledger_consistent(account_)
