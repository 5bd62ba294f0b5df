"""Recurring deposits, dividends and advisory fees as chunk work (issue #18): each job takes an
`account_range` (lo <= id < hi), two ranges cover the book exactly once, a rerun of a chunk
does nothing, the chunk's path books what the one-account path books, and the queries per
deposit, payment or fee do not grow with the chunk."""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolios import market, services, valuation
from portfolios.models import (
    Account,
    AccountDailyValue,
    Entry,
    Lot,
    Position,
    RecurringDeposit,
    Transaction,
)
from portfolios.services import fees

from ..factories import GoalFactory
from .conftest import BASE_PRICES, dividend_book, drifting_prices_load, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_months(tmp_path, approved_set, market_day):
    """Weekday closes from 1 March to 30 June 2023, each fund drifting by its own daily step,
    so that lots gain and lose (some sales wash) and the latest complete month is May."""
    return drifting_prices_load(tmp_path / "months.csv", market_day, step=Decimal("0.0006"))


@pytest.fixture
def book(four_months) -> list[int]:
    return dividend_book(24)


def _jobs(market_day: date) -> dict[str, Callable[..., int]]:
    """Each job as the batch calls it for a chunk, on a busy day (every schedule due, the
    month's distributions and May's fees unpaid)."""
    return {
        "recurring": lambda **kw: services.recurring_deposits_run(
            today=market_day + timedelta(days=31), **kw
        ),
        "dividends": lambda **kw: services.dividends_pay(through=market_day, **kw),
        "fees": lambda **kw: services.fees_bill(**kw),
    }


KINDS = {
    "recurring": Transaction.Kind.DEPOSIT,
    "dividends": Transaction.Kind.DIVIDEND,
    "fees": Transaction.Kind.FEE,
}


def _made(kind: str, since: int) -> list[tuple[int, int | None, date | None]]:
    """(account, distribution, fee month) of the `kind` transactions after id `since`."""
    return sorted(
        Transaction.objects.filter(kind=kind, pk__gt=since).values_list(
            "account_id", "distribution_id", "fee_period"
        )
    )


def _last_id() -> int:
    return Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("job", ["recurring", "dividends", "fees"])
def test_two_account_ranges_cover_the_book_once_and_a_chunk_rerun_does_nothing(
    book, four_months, job
):
    # given
    run = _jobs(four_months)[job]
    kind = KINDS[job]
    middle = book[len(book) // 2]
    first, second = (book[0], middle), (middle, book[-1] + 1)
    before = _last_id()

    # when: the first chunk, then the second
    made_first = run(account_range=first)
    touched_first = _made(kind, before)
    made_second = run(account_range=second)
    made = _made(kind, before)

    # then: the first chunk touched only its accounts, the two made everything once
    assert made_first == len(touched_first) > 0
    assert all(first[0] <= account_id < first[1] for account_id, _, _ in touched_first)
    assert made_second == len(made) - len(touched_first) > 0
    assert any(account_id >= middle for account_id, _, _ in made)
    assert len(set(made)) == len(made)  # one per account and schedule, distribution or month
    # a chunk run again, and the whole book after both, do nothing
    rows = Entry.objects.count()
    assert run(account_range=first) == 0
    assert run(account_range=None) == 0
    assert Entry.objects.count() == rows
    for account in Account.objects.filter(pk__in={a for a, _, _ in made}):
        assert_ledger_consistent(account)
    assert services.ledger_reconcile() == 0


def test_a_range_outside_the_book_does_nothing(book, four_months):
    outside = (book[-1] + 1, book[-1] + 100)
    for run in _jobs(four_months).values():
        assert run(account_range=outside) == 0
    assert not Transaction.objects.filter(market_date__gt=four_months).exists()


# --- The chunk's path books what the one-account path books -----------------------------------


def test_a_recurring_deposit_books_what_a_deposit_makes(account, market_data):
    # given: two goals of one client, alike, one paid by hand and one by its schedule
    twin = services.account_open(
        goal=GoalFactory(
            client=account.client,
            goal_type=account.goal.goal_type,
            target_date=account.goal.target_date,
        )
    )
    services.deposit_make(account=account, amount=Decimal("1234.56"))
    today = timezone.localdate()
    RecurringDeposit.objects.create(
        account=twin, amount=Decimal("1234.56"), day_of_month=1, next_run=today
    )

    # when
    assert services.recurring_deposits_run(today=today) == 1

    # then: the same cash, units, lots and entries
    def ledger(acc: Account) -> tuple[object, ...]:
        acc.refresh_from_db()
        return (
            acc.cash,
            sorted(Position.objects.filter(account=acc).values_list("asset_id", "quantity")),
            sorted(
                Lot.objects.filter(account=acc).values_list(
                    "asset_id", "quantity", "remaining", "unit_cost", "acquired_on"
                )
            ),
            sorted(
                (asset_id or 0, quantity, price or 0)
                for asset_id, quantity, price in Entry.objects.filter(account=acc).values_list(
                    "asset_id", "quantity", "price"
                )
            ),
        )

    assert ledger(twin) == ledger(account)
    assert_ledger_consistent(twin)


# --- Queries per deposit, payment and fee do not grow with the chunk -----------------------------

# Per work item (a deposit, a payment, a fee), measured on this book: the chunk's shared reads
# are a constant; deposits and payments are read and written set-based per chunk (a few
# statements for all of them); a fee's own rows (a sale's lots) a few dozen statements at most.
CEILING = {"recurring": 5, "dividends": 3, "fees": 45}


@pytest.mark.parametrize("job", ["recurring", "dividends", "fees"])
def test_queries_per_item_do_not_grow_with_the_chunk(four_months, job):
    # given: a book of 25 accounts, a chunk of its first 5 and one of the next 20
    ids = dividend_book(25)
    run = _jobs(four_months)[job]
    kind = KINDS[job]
    small, large = (ids[0], ids[5]), (ids[5], ids[-1] + 1)

    def measured(account_range: tuple[int, int]) -> tuple[int, int]:
        before = _last_id()
        with CaptureQueriesContext(connection) as captured:
            run(account_range=account_range)
        return len(captured), len(_made(kind, before))

    # when
    queries_small, items_small = measured(small)
    queries_large, items_large = measured(large)

    # then: the larger chunk's queries per item are no more than the smaller's (its shared
    # reads are spread over more items), within a small constant for the items' own variety
    assert items_small > 0
    assert items_large > items_small
    per_small, per_large = queries_small / items_small, queries_large / items_large
    assert per_large <= per_small + 3, (per_small, per_large)
    assert per_large <= CEILING[job], per_large


# --- Fees from stored daily values --------------------------------------------------------------


def _replayed(account_id: int, period: date) -> Decimal:
    """The month's accrual replaying the whole ledger (`valuation.fee_accrued`): the reference."""
    return valuation.fee_accrued(
        account=Account(pk=account_id), start=period, end=valuation.month_last_day(period)
    )


def _from_stored(account_id: int, period: date) -> Decimal:
    end = valuation.month_last_day(period)
    prices = valuation.fee_prices(start=period, end=end)
    ledger = fees.stored_ledgers(account_ids=[account_id], since=prices.days[0], through=end)
    return valuation.fee_accrual(
        ledger=ledger[account_id],
        prices=prices,
        start=period,
        end=end,
        rate=valuation.advisory_fee_annual(),
    )


def test_stored_daily_values_accrue_what_the_ledger_replay_accrues_on_a_syntheticdividend_book(
    book,
):
    # given: the book's daily values stored, then its May fees billed (each dated at May's last
    # close, before the June entries already stored: those accounts' rows are rebuilt)
    months = sorted(valuation.fee_months_complete())
    assert fees.daily_values_store(account_ids=book) > 0
    assert services.fees_bill() > 0
    fees.daily_values_store(account_ids=book)

    # then: every account's accrual in every complete month is the ledger replay's, exactly
    for account_id in book:
        for period in months:
            assert _from_stored(account_id, period) == _replayed(account_id, period)
    # and the stored holdings are the ledger's at the latest row
    for account_id in book:
        row = AccountDailyValue.objects.filter(account_id=account_id).order_by("-day").first()
        assert row is not None
        assert row.cash == Account.objects.get(pk=account_id).cash
        units = {int(a): Decimal(q) for a, q in row.units.items()}
        held = dict(
            Position.objects.filter(account_id=account_id, quantity__gt=0).values_list(
                "asset_id", "quantity"
            )
        )
        assert units == held


def test_a_fee_booked_before_a_stored_day_rebuilds_the_days_after_it(
    market_data, tmp_path, settings
):
    # given: 12,000 in cash from the 1 June close (no risk profile: it stays in cash), 3,000
    # more on 3 July, stored; June is then billed: 2.47 dated at its last close, 30 June
    settings.ADVISORY_FEE_ANNUAL = Decimal("0.0025")
    account = services.account_open(goal=GoalFactory())
    june, july = date(2023, 6, 1), date(2023, 7, 1)
    for day in (june, date(2023, 6, 30), date(2023, 7, 3), date(2023, 7, 31), date(2023, 8, 1)):
        market.prices_load(path=write_prices(tmp_path / f"{day}.csv", {day: BASE_PRICES}))
    services.deposit_make(account=account, amount=Decimal("12000.00"), day=june)
    services.deposit_make(account=account, amount=Decimal("3000.00"), day=date(2023, 7, 3))
    fees.daily_values_store(account_ids=[account.pk])
    assert services.fees_bill(month_end=date(2023, 6, 30)) == 1

    # when
    fees.daily_values_store(account_ids=[account.pk])

    # then: the rows from 30 June on are rebuilt with the fee in them
    rows = list(
        AccountDailyValue.objects.filter(account=account)
        .order_by("day")
        .values_list("day", "cash", "units")
    )
    assert rows == [
        (june, Decimal("12000.00"), {}),
        (date(2023, 6, 30), Decimal("11997.53"), {}),
        (date(2023, 7, 3), Decimal("14997.53"), {}),
    ]
    # July, by hand: 1-2 July at 11,997.53 (the 30 June close), 3-31 July (29 days) at
    # 14,997.53: (2 × 11,997.53 + 29 × 14,997.53) × 0.0025 / 365 = 1,147.308575 / 365
    #   = 3.14331… → 3.14
    assert _from_stored(account.pk, july) == Decimal("1147.308575") / 365
    assert _replayed(account.pk, july) == Decimal("1147.308575") / 365
    assert services.fees_bill(month_end=date(2023, 7, 31)) == 1
    fee = Transaction.objects.get(account=account, fee_period=july)
    assert fee.amount == Decimal("-3.14")


def test_an_account_up_to_date_adds_no_rows_and_only_moves_its_mark(book):
    assert fees.daily_values_store(account_ids=book) > 0
    rows = AccountDailyValue.objects.count()
    with CaptureQueriesContext(connection) as captured:
        assert fees.daily_values_store(account_ids=book) == 0
    assert AccountDailyValue.objects.count() == rows
    assert len(captured) <= 8  # the chunk's reads, whatever its size
