"""Advisory fees: 0.25% a year, accrued daily on each day's closing value (actual/actual: a day
is rate / 365, or 366 in a leap year, of the value at the latest close on or before it), billed
monthly as the month's accruals rounded once, half up; a fee the account cannot pay is owed
and collected from its next deposit."""

import calendar
import contextlib
import threading
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from portfolios import market, selectors, services, valuation
from portfolios.broker import PaperBroker
from portfolios.exceptions import InsufficientFunds
from portfolios.models import Asset, Entry, FeeOwed, Transaction
from portfolios.money import money, money_half_up
from portfolios.services.ledger import ledger_fill
from portfolios.tasks import fees_bill_task

from ..factories import AdvisorFactory, GoalFactory
from .conftest import BASE_PRICES, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db

RATE = Decimal("0.0025")
JUNE = date(2023, 6, 1)
JUNE_END = date(2023, 6, 30)
JULY_FIRST_CLOSE = date(2023, 7, 3)


@pytest.fixture(autouse=True)
def quarter_percent(settings):
    settings.ADVISORY_FEE_ANNUAL = RATE


def load_prices(tmp_path, day: date, prices: dict[str, str] | None = None) -> None:
    path = write_prices(tmp_path / f"{day.isoformat()}.csv", {day: prices or BASE_PRICES})
    market.prices_load(path=path)


def complete_june(tmp_path, june_end: dict[str, str] | None = None) -> None:
    """June's last close (optionally at other prices), then a July close: June is complete."""
    load_prices(tmp_path, JUNE_END, june_end)
    load_prices(tmp_path, JULY_FIRST_CLOSE, june_end)


def fund(account, tmp_path, amount: str, day: date = JUNE) -> None:
    """A close on `day` and a deposit at it (a replay of history)."""
    load_prices(tmp_path, day)
    services.deposit_make(account=account, amount=Decimal(amount), day=day)


@pytest.fixture
def cash_account(market_data):
    """An account without a risk profile: its deposits stay in cash, so values are exact."""
    return services.account_open(goal=GoalFactory())


@pytest.fixture
def vti_account(cash_account, tmp_path):
    """12,000 deposited at the 1 June close, 2,000 of it in 10 VTI at 200: 10,000 cash."""
    fund(cash_account, tmp_path, "12000.00")
    trade = Transaction.objects.create(
        account=cash_account, kind=Transaction.Kind.TRADE, amount=0, market_date=JUNE
    )
    vti = Asset.objects.get(ticker="VTI")
    fill = PaperBroker().buy(asset=vti, amount=Decimal("2000.00"), day=JUNE)
    assert fill.quantity == 10
    cash_account.refresh_from_db()  # the deposit credited another instance
    ledger_fill(txn=trade, account=cash_account, fill=fill)
    return cash_account


def fees(account) -> list[Transaction]:
    return list(
        Transaction.objects.filter(account=account, kind=Transaction.Kind.FEE).order_by("pk")
    )


def june_accrued(account) -> Decimal:
    return valuation.fee_accrued(account=account, start=JUNE, end=JUNE_END)


# --- The accrual: hand-worked golden cases --------------------------------------------------


def test_a_constant_12000_for_all_of_june_accrues_2_47(cash_account, tmp_path):
    # given: 12,000 in cash from the 1 June close; June's last close is the 30th; July has begun
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)

    # then: 30 days of 2023's 365: 12,000 × 0.0025 × 30 / 365 = 900 / 365 = 2.46575… → 2.47
    assert june_accrued(cash_account) == Decimal(900) / 365
    assert valuation.fee_month_bill(account=cash_account, period=JUNE) == Decimal("2.47")

    # when
    billed = services.fees_bill()

    # then: one fee for June, dated at its last close, taken from cash
    assert billed == 1
    [fee] = fees(cash_account)
    assert fee.amount == Decimal("-2.47")
    assert fee.fee_period == JUNE
    assert fee.market_date == JUNE_END
    assert "June 2023" in fee.description
    cash_account.refresh_from_db()
    assert cash_account.cash == Decimal("11997.53")
    assert_ledger_consistent(cash_account)


def test_an_account_funded_on_15_june_pays_for_16_days(cash_account, tmp_path):
    # given: funded at the 15 June close; 1-14 June accrue nothing (no value at their closes)
    fund(cash_account, tmp_path, "12000.00", day=date(2023, 6, 15))
    complete_june(tmp_path)

    # then: 15..30 June is 16 days: 12,000 × 0.0025 × 16 / 365 = 480 / 365 = 1.31506… → 1.32
    assert june_accrued(cash_account) == Decimal(480) / 365
    assert services.fees_bill() == 1
    assert [f.amount for f in fees(cash_account)] == [Decimal("-1.32")]


def test_a_value_that_changes_mid_month_accrues_each_days_value(vti_account, tmp_path):
    # given: 10,000 cash + 10 VTI. VTI closes at 200 (1 and 9 June), 260 on 15 June and 200
    # again on 30 June
    load_prices(tmp_path, date(2023, 6, 15), {**BASE_PRICES, "VTI": "260"})
    complete_june(tmp_path)

    # then: 1-14 June (14 days) at 12,000, 15-29 June (15 days) at 12,600, 30 June at 12,000:
    # (14 × 12,000 + 15 × 12,600 + 12,000) × 0.0025 / 365 = 369,000 × 0.0025 / 365
    #   = 922.5 / 365 = 2.52739… → 2.53
    assert june_accrued(vti_account) == Decimal("922.5") / 365
    assert services.fees_bill() == 1
    assert [f.amount for f in fees(vti_account)] == [Decimal("-2.53")]


def test_a_weekend_accrues_at_fridays_close(vti_account, tmp_path):
    # given: VTI closes at 260 on Friday 16 June and at 200 on Monday 19 June
    friday, saturday, sunday, monday = (date(2023, 6, d) for d in (16, 17, 18, 19))
    load_prices(tmp_path, friday, {**BASE_PRICES, "VTI": "260"})
    load_prices(tmp_path, monday)

    def accrued(start: date, end: date) -> Decimal:
        return valuation.fee_accrued(account=vti_account, start=start, end=end)

    # then: Saturday and Sunday each accrue Friday's 12,600 × 0.0025 / 365 = 31.5 / 365;
    # Monday accrues its own 12,000 × 0.0025 / 365 = 30 / 365
    assert accrued(saturday, sunday) == Decimal(63) / 365
    assert accrued(friday, sunday) == Decimal("94.5") / 365
    assert accrued(monday, monday) == Decimal(30) / 365


@pytest.mark.parametrize(
    ("value", "bill"),
    [
        ("730.00", "0.01"),  # one day: 730 × 0.0025 / 365 = 0.005, rounded half up, not to even
        ("729.99", "0.00"),
        ("0.00", "0.00"),
    ],
)
def test_a_bill_is_the_accrual_rounded_once_half_up(value, bill):
    ledger = [(date(2023, 1, 2), None, Decimal(value))]
    prices = valuation.FeePrices(
        start=date(2023, 1, 2), end=date(2023, 1, 2), days=(date(2023, 1, 2),), closes={}
    )

    accrued = valuation.fee_accrual(
        ledger=ledger, prices=prices, start=date(2023, 1, 2), end=date(2023, 1, 2), rate=RATE
    )

    assert money_half_up(accrued) == Decimal(bill)


@pytest.mark.parametrize("year", [2023, 2024])  # 365 and 366 days
def test_a_full_year_at_a_constant_value_accrues_exactly_the_annual_rate(year):
    first = date(year, 1, 1)
    closes = tuple(first + timedelta(days=n) for n in range(0, 366, 7) if n < 365 + (year % 4 == 0))
    prices = valuation.FeePrices(start=first, end=date(year, 12, 31), days=closes, closes={})

    accrued = valuation.fee_accrual(
        ledger=[(first, None, Decimal("12345.67"))],
        prices=prices,
        start=first,
        end=date(year, 12, 31),
        rate=RATE,
    )

    assert accrued == Decimal("12345.67") * RATE


# --- Billing ----------------------------------------------------------------------------------


def test_the_fee_is_on_the_months_values_not_on_later_deposits(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))  # dated 3 July

    services.fees_bill()

    assert [f.amount for f in fees(cash_account)] == [Decimal("-2.47")]


def test_billing_twice_bills_once(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)

    first = services.fees_bill()
    second = services.fees_bill()
    explicit = services.fees_bill(month_end=JUNE_END)

    assert (first, second, explicit) == (1, 0, 0)
    assert len(fees(cash_account)) == 1
    cash_account.refresh_from_db()
    assert cash_account.cash == Decimal("11997.53")


def test_the_database_refuses_a_second_fee_for_the_same_account_and_month(cash_account):
    services.deposit_make(account=cash_account, amount=Decimal("100.00"))
    june = {"account": cash_account, "kind": Transaction.Kind.FEE, "market_date": JUNE_END}
    Transaction.objects.create(**june, amount=Decimal("-0.02"), fee_period=JUNE)

    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(**june, amount=Decimal("-0.02"), fee_period=JUNE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(**june, amount=Decimal("-0.02"))  # a fee names its month


def test_the_task_bills_the_complete_months_and_beat_runs_it_daily(cash_account, tmp_path):
    from config.celery import app

    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)

    assert fees_bill_task.delay().get() == 1
    assert fees_bill_task.delay().get() == 0
    # beat runs it daily inside the fanned-out batch, after the prices
    assert app.conf.beat_schedule["portfolios.daily_batch_run"]["task"] == (
        "portfolios.daily_batch_run"
    )
    from portfolios import batch

    assert "fees_bill" in batch.JOBS


def test_the_current_month_is_not_billed_until_it_is_complete(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    load_prices(tmp_path, JUNE_END)  # June's last close, but no July price yet

    assert services.fees_bill() == 0
    with pytest.raises(ValidationError):
        services.fees_bill(month_end=JUNE_END)
    assert fees(cash_account) == []


def test_three_missed_months_are_billed_by_one_run_oldest_first_and_once(cash_account, tmp_path):
    # given: 12,000 from 1 June; closes at the ends of June, July and August and on 1 September:
    # three complete months, none billed (the job did not run)
    fund(cash_account, tmp_path, "12000.00")
    for day in (JUNE_END, date(2023, 7, 31), date(2023, 8, 31), date(2023, 9, 1)):
        load_prices(tmp_path, day)

    # when
    billed = services.fees_bill()

    # then: each month on its days, after the fees before it (each dated at its month's close):
    #   June:   12,000.00 × 0.0025 × 30 / 365 = 2.46575… → 2.47
    #   July:   11,997.53 × 0.0025 × 31 / 365 = 2.54742… → 2.55
    #   August: 11,994.98 × 0.0025 × 31 / 365 = 2.54687… → 2.55
    assert billed == 3
    charged = fees(cash_account)
    assert [(f.fee_period, f.market_date, f.amount) for f in charged] == [
        (JUNE, JUNE_END, Decimal("-2.47")),
        (date(2023, 7, 1), date(2023, 7, 31), Decimal("-2.55")),
        (date(2023, 8, 1), date(2023, 8, 31), Decimal("-2.55")),
    ]
    assert services.fees_bill() == 0
    assert len(fees(cash_account)) == 3
    assert_ledger_consistent(cash_account)


def test_months_billed_one_by_one_come_to_the_same_as_a_catch_up(cash_account, tmp_path):
    # given: the months of the catch-up above, each billed after its end (as the job would)
    fund(cash_account, tmp_path, "12000.00")
    ends = (JUNE_END, date(2023, 7, 31), date(2023, 8, 31))
    for day in (*ends, date(2023, 9, 1)):
        load_prices(tmp_path, day)

    for end in ends:
        assert services.fees_bill(month_end=end) == 1

    # then: the same bills as the catch-up's
    assert [f.amount for f in fees(cash_account)] == [
        Decimal(a) for a in ("-2.47", "-2.55", "-2.55")
    ]


def test_an_account_closed_mid_month_owes_its_days_and_is_not_read_again(cash_account, tmp_path):
    # given: June billed; everything withdrawn at the 3 July close; August passes
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    services.fees_bill()
    services.withdrawal_make(account=cash_account, amount=Decimal("11997.53"))
    for day in (date(2023, 8, 31), date(2023, 9, 1)):
        load_prices(tmp_path, day)

    # when
    assert services.fees_bill() == 0

    # then: July's 1 and 2 (at June's last close, 11,997.53) are owed:
    # 2 × 11,997.53 × 0.0025 / 365 = 0.16435… → 0.16; August, empty throughout, is not billed
    [owed] = FeeOwed.objects.filter(account=cash_account)
    assert (owed.period, owed.amount) == (date(2023, 7, 1), Decimal("0.16"))
    complete = valuation.fee_months_complete()
    months = services.fees._months_to_bill(
        periods=sorted(complete), complete=complete, explicit=False
    )
    assert months == {}  # nothing left to price for it, today or on any later day


def test_cash_short_sells_a_little_of_the_most_overweight_fund(account, tmp_path, market_data):
    # given: an invested account; bonds halve by June's end, so stocks are the most overweight
    # fund and T-bills overweight too
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    complete_june(tmp_path, {**BASE_PRICES, "AGG": str(Decimal(BASE_PRICES["AGG"]) / 2)})
    expected = valuation.fee_month_bill(account=account, period=JUNE)
    account.refresh_from_db()
    assert account.cash < expected

    # when
    assert services.fees_bill() == 1

    # then: one sale, of stocks only, at June's last close, pays the fee
    [fee] = fees(account)
    assert fee.amount == -expected
    sold = Entry.objects.filter(transaction=fee, asset__isnull=False)
    assert [(e.asset.ticker, e.quantity < 0) for e in sold] == [("VTI", True)]
    assert -sold[0].quantity * sold[0].price < expected + Decimal("0.05")
    assert_ledger_consistent(account)


@pytest.mark.parametrize("deposit", [None, "23.99"])
def test_an_empty_account_or_one_whose_fee_is_under_a_cent_is_not_billed(
    cash_account, tmp_path, deposit
):
    # 23.99 from 9 June: 22 days × 23.99 × 0.0025 / 365 = 0.0036… → 0.00
    if deposit:
        services.deposit_make(account=cash_account, amount=Decimal(deposit))
    complete_june(tmp_path)

    assert services.fees_bill() == 0
    assert fees(cash_account) == []
    assert not FeeOwed.objects.exists()


def test_an_account_emptied_at_the_close_it_was_funded_is_not_billed(cash_account, tmp_path):
    services.deposit_make(account=cash_account, amount=Decimal("500.00"))
    services.withdrawal_make(account=cash_account, amount=Decimal("500.00"))
    complete_june(tmp_path)

    assert services.fees_bill() == 0
    assert not FeeOwed.objects.exists()


# --- Concurrent workers -----------------------------------------------------------------------


def test_a_worker_that_finds_the_month_billed_or_owed_under_the_lock_bills_nothing(
    cash_account, tmp_path
):
    # given: a worker priced June, but another billed it before this one took the lock
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    fee = valuation.fee_month_bill(account=cash_account, period=JUNE)
    assert services.fee_charge(account=cash_account, period=JUNE, day=JUNE_END, amount=fee)

    # then: the late worker books nothing, and a month owed is not billed either
    assert services.fee_charge(account=cash_account, period=JUNE, day=JUNE_END) is None
    july = date(2023, 7, 1)
    FeeOwed.objects.create(
        account=cash_account, period=july, amount=Decimal("1.00"), billed_on=JULY_FIRST_CLOSE
    )
    assert (
        services.fee_charge(account=cash_account, period=july, day=JULY_FIRST_CLOSE, amount=fee)
        is None
    )
    assert len(fees(cash_account)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_billing_runs_bill_each_month_once(tmp_path):
    # On SQLite (the test settings' file database) each transaction takes the write lock when
    # it begins, which serialises the workers as PostgreSQL's row lock on the account does.
    # given: three funded accounts and two complete months
    market.assets_sync()
    load_prices(tmp_path, date(2023, 6, 9))
    accounts = [services.account_open(goal=GoalFactory()) for _ in range(3)]
    for account in accounts:
        fund(account, tmp_path, "12000.00")
    for day in (JUNE_END, date(2023, 7, 31), date(2023, 8, 1)):
        load_prices(tmp_path, day)
    errors: list[BaseException] = []
    counts: list[int] = []

    def worker() -> None:
        try:
            counts.append(services.fees_bill())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    # when: six workers run the daily job at once
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then: each account pays June and July once, whatever the interleaving
    assert errors == []
    assert sum(counts) == 6
    for account in accounts:
        assert [f.fee_period for f in fees(account)] == [JUNE, date(2023, 7, 1)]
        assert_ledger_consistent(account)


# --- Fees owed --------------------------------------------------------------------------------


def test_a_fee_the_account_cannot_pay_is_owed_and_taken_from_the_next_deposit(account, tmp_path):
    # given: invested from 1 June, then everything withdrawn on 3 July, before June is billed
    fund(account, tmp_path, "12000.00")
    complete_june(tmp_path)
    june_fee = valuation.fee_month_bill(account=account, period=JUNE)
    assert Decimal("2.40") < june_fee < Decimal("2.50")
    everything = valuation.account_value(account=account).total
    services.withdrawal_make(account=account, amount=everything)

    # when: June is billed
    assert services.fees_bill() == 0

    # then: it is owed, not dropped, and not billed again
    [owed] = FeeOwed.objects.filter(account=account)
    assert (owed.period, owed.amount, owed.billed_on) == (JUNE, june_fee, JULY_FIRST_CLOSE)
    assert owed.collected_by is None
    assert fees(account) == []
    assert services.fees_bill() == 0
    assert FeeOwed.objects.count() == 1
    assert selectors.fees_summary(client=account.client).owed == june_fee

    # when: 100 is deposited
    result = services.deposit_make(account=account, amount=Decimal("100.00"))

    # then: the fee is taken first and the rest invested
    owed.refresh_from_db()
    [fee] = fees(account)
    assert owed.collected_by == fee
    assert (fee.fee_period, fee.market_date, fee.amount) == (JUNE, JULY_FIRST_CLOSE, -june_fee)
    assert fee.description.startswith("Advisory fee for June 2023, owed since 3 July 2023")
    spent = -sum(f.cash for f in result.fills)
    account.refresh_from_db()
    assert spent + account.cash == Decimal("100.00") - june_fee
    assert account.cash < Decimal("1.00")
    assert "paid the advisory fees you owed" in result.message
    assert selectors.fees_summary(client=account.client).owed == 0
    assert_ledger_consistent(account)

    # and: the next deposit owes nothing more
    assert services.deposit_make(account=account, amount=Decimal("50.00")).fills
    assert len(fees(account)) == 1


def test_owed_fees_are_collected_oldest_first_while_cash_covers_them(cash_account):
    # given: 5.00 owed for May, then 1.00 for June
    for period, amount in ((date(2023, 5, 1), "5.00"), (JUNE, "1.00")):
        FeeOwed.objects.create(
            account=cash_account, period=period, amount=Decimal(amount), billed_on=JUNE_END
        )

    # when: 3.00 comes in, then 10.00
    services.deposit_make(account=cash_account, amount=Decimal("3.00"))
    first = [f.fee_period for f in fees(cash_account)]
    services.deposit_make(account=cash_account, amount=Decimal("10.00"))

    # then: May's 5.00 does not fit in 3.00, and June's does not jump the queue
    assert first == []
    assert [(f.fee_period, f.amount) for f in fees(cash_account)] == [
        (date(2023, 5, 1), Decimal("-5.00")),
        (JUNE, Decimal("-1.00")),
    ]
    cash_account.refresh_from_db()
    assert cash_account.cash == Decimal("7.00")
    assert services.fees_owed_collect(account=cash_account, day=JUNE_END) == []
    assert_ledger_consistent(cash_account)


def test_a_month_owed_is_not_recorded_twice_nor_billed_after(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    record = services.fees.fee_owed_record
    assert record(account=cash_account, period=JUNE, amount=Decimal("2.47"), day=JUNE_END)
    assert record(account=cash_account, period=JUNE, amount=Decimal("2.47"), day=JUNE_END) is None

    assert services.fees_bill() == 0
    assert FeeOwed.objects.count() == 1


# --- Property: a bill is its daily accruals, rounded once --------------------------------------


def _daily_accruals(ledger, closes: dict[date, dict[int, Decimal]], month: date) -> list[Fraction]:
    """Each day's accrual worked out the slow way: find the close, rebuild the holdings."""
    days_in_year = 366 if calendar.isleap(month.year) else 365
    out = []
    for n in range(calendar.monthrange(month.year, month.month)[1]):
        day = month + timedelta(days=n)
        close = max((c for c in closes if c <= day), default=None)
        if close is None:
            out.append(Fraction(0))
            continue
        value = Fraction(0)
        for entry_day, asset_id, quantity in ledger:
            if entry_day > close:
                continue
            if asset_id is None:
                value += Fraction(quantity)
            else:
                price = closes[max(c for c in closes if c <= close and asset_id in closes[c])]
                value += Fraction(quantity) * Fraction(price[asset_id])
        out.append(value * Fraction(RATE) / days_in_year)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    month=st.sampled_from([date(2023, 2, 1), date(2023, 6, 1), date(2024, 2, 1), date(2024, 7, 1)]),
    closing_days=st.sets(st.integers(min_value=-5, max_value=30), min_size=1, max_size=25),
    flows=st.lists(
        st.tuples(
            st.integers(min_value=-5, max_value=30),
            st.decimals(min_value="0.01", max_value="50000", places=2),
        ),
        max_size=6,
    ),
    units=st.decimals(min_value="0", max_value="500", places=8),
    prices=st.lists(
        st.decimals(min_value="1", max_value="400", places=4), min_size=36, max_size=36
    ),
)
def test_a_months_bill_is_its_daily_accruals_rounded_once(
    month, closing_days, flows, units, prices
):
    # given: random closes (some before the month), 1,000 cash and some units of one fund at
    # the first close, and deposits on random days (some not closes: seen at the next close)
    last = calendar.monthrange(month.year, month.month)[1]
    end = month + timedelta(days=last - 1)
    days = sorted({month + timedelta(days=min(n, last - 1)) for n in closing_days})
    closes = {day: {1: prices[(day - month).days + 5]} for day in days}
    ledger = [(days[0], None, Decimal("1000.00")), (days[0], 1, units)]
    ledger += [(month + timedelta(days=min(n, last - 1)), None, amount) for n, amount in flows]
    window = valuation.FeePrices(start=month, end=end, days=tuple(days), closes=closes)

    # when
    accrued = valuation.fee_accrual(ledger=ledger, prices=window, start=month, end=end, rate=RATE)

    # then: the sum of the days worked out one by one, rounded once to the same bill
    exact = sum(_daily_accruals(ledger, closes, month), Fraction(0))
    assert abs(Fraction(accrued) - exact) < Fraction(1, 10**18)
    assert money_half_up(accrued) == money_half_up(_decimal(exact))
    # and never more than the rate on the largest value at any close, for every day
    largest = max(
        sum(
            (Fraction(q) * (Fraction(closes[c][1]) if a else 1) for d, a, q in ledger if d <= c),
            Fraction(0),
        )
        for c in days
    )
    bound = largest * Fraction(RATE) * last / 365
    assert Fraction(accrued) <= bound + Fraction(1, 10**18)
    assert money_half_up(accrued) <= money_half_up(_decimal(bound))


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


# --- The ledger stays whole -------------------------------------------------------------------


def test_entries_still_sum_to_balances_after_fees_and_collections(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    services.fees_bill()
    FeeOwed.objects.create(
        account=cash_account, period=date(2023, 5, 1), amount=Decimal("3.00"), billed_on=JUNE_END
    )
    services.deposit_make(account=cash_account, amount=Decimal("10.00"))
    with contextlib.suppress(InsufficientFunds):
        services.withdrawal_make(account=cash_account, amount=Decimal("20000.00"))

    assert_ledger_consistent(cash_account)
    assert sum((-f.amount for f in fees(cash_account)), Decimal(0)) == Decimal("5.47")


def _itd_twr(account) -> Decimal:
    performance = selectors.account_performance(account=account)
    return next(p.twr for p in performance.periods if p.period == "ITD")


def test_a_fee_lowers_the_time_weighted_return_it_is_not_a_cash_flow(cash_account, tmp_path):
    # given: cash earns nothing, so without fees the return is exactly zero
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    assert _itd_twr(cash_account) == 0

    # when
    services.fees_bill()

    # then: returns are net of fees: the 2.47 is a 2.47 / 12,000 loss, not a withdrawal
    assert _itd_twr(cash_account) == Decimal("-0.000206")
    history = selectors.account_performance(account=cash_account).history
    assert all(point.flow == 0 for point in history if point.day == JUNE_END)


def test_an_invested_accounts_return_is_lower_with_the_fee_than_without(
    account, tmp_path, market_data
):
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    complete_june(tmp_path, {t: str(Decimal(p) * Decimal("1.02")) for t, p in BASE_PRICES.items()})
    services.withdrawal_make(account=account, amount=Decimal("1000.00"))  # still a flow
    without_fee = _itd_twr(account)
    june_value = valuation.account_value_on(account=account, day=JUNE_END)

    services.fees_bill()

    with_fee = _itd_twr(account)
    fee = -fees(account)[0].amount
    assert with_fee < without_fee
    assert abs(with_fee - ((1 + without_fee) * (1 - fee / june_value) - 1)) < Decimal("0.000005")


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def billed(cash_account, tmp_path):
    fund(cash_account, tmp_path, "12000.00")
    complete_june(tmp_path)
    services.fees_bill()
    return cash_account


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_fees_endpoint_returns_the_schedule_and_the_fees_paid(billed):
    response = _api(billed.client.user).get("/api/v1/fees/")

    body = response.json()
    assert response.status_code == 200, body
    assert body["schedule"]["annual_rate"] == "0.002500"
    assert "monthly" in body["schedule"]["billing"]
    assert body["market_date"] == JULY_FIRST_CLOSE.isoformat()
    assert body["year"] == 2023
    assert body["paid_ytd"] == body["paid_since_inception"] == "2.47"
    assert body["value"] == "11997.53"
    assert body["estimated_annual_fee"] == "29.99"  # 0.25% of 11,997.53 = 29.993825
    # 1-3 July at June's last close (after its fee): 3 × 11,997.53 × 0.0025 / 365 = 0.2465… → 0.25
    assert body["accrued_this_month"] == "0.25"
    assert body["owed"] == "0.00"
    assert body["fund_expense_ratio"] is None  # all in cash: no funds held
    [row] = body["accounts"]
    assert row["account_id"] == billed.pk
    assert row["paid_since_inception"] == "2.47"
    assert row["last_fee_month"] == "2023-06-01"
    assert row["last_fee_amount"] == "2.47"
    assert (row["accrued_this_month"], row["owed"]) == ("0.25", "0.00")


def test_fees_paid_in_an_earlier_year_are_not_year_to_date(billed, tmp_path):
    load_prices(tmp_path, date(2024, 1, 2))

    summary = selectors.fees_summary(client=billed.client)

    assert summary.year == 2024
    assert summary.paid_ytd == 0
    assert summary.paid_since_inception == Decimal("2.47")


def test_the_summary_shows_the_funds_weighted_expense_ratio_as_information(account):
    services.deposit_make(account=account, amount=Decimal("10000.00"))

    summary = selectors.fees_summary(client=account.client)

    holdings = valuation.account_value(account=account).holdings
    cost = sum(h.value * h.asset.expense_ratio for h in holdings)
    invested = sum(h.value for h in holdings)
    [row] = summary.accounts
    assert row.fund_expense_ratio == (cost / invested).quantize(Decimal("0.000001"))
    assert Decimal("0.0003") < row.fund_expense_ratio < Decimal("0.0014")
    assert row.estimated_annual_fund_expenses == money(cost)
    assert summary.paid_since_inception == 0
    assert "not billed" in summary.schedule.fund_expenses


def test_a_client_cannot_see_anothers_fees(billed, other_client_user):
    body = _api(other_client_user).get("/api/v1/fees/").json()

    assert body["accounts"] == []
    assert body["paid_since_inception"] == "0.00"


def test_a_login_without_a_client_profile_gets_a_404(billed):
    response = _api(AdvisorFactory()).get("/api/v1/fees/")

    assert response.status_code == 404
    assert set(response.json()) == {"message", "code", "extra"}


def test_the_fees_endpoint_needs_a_login(billed):
    assert APIClient().get("/api/v1/fees/").status_code in (401, 403)


def test_the_transaction_history_shows_the_fee(billed):
    response = _api(billed.client.user).get(f"/api/v1/accounts/{billed.pk}/transactions/")

    body = response.json()
    assert response.status_code == 200, body
    fee = next(t for t in body["results"] if t["kind"] == "fee")
    assert fee["amount"] == "-2.47"
    assert fee["market_date"] == JUNE_END.isoformat()
    assert fee["description"].startswith("Advisory fee for June 2023")
    assert fee["entries"] == [{"ticker": None, "quantity": "-2.47000000", "price": None}]


def test_the_summary_shows_fees_owed_and_the_fee_accrued_this_month_as_strings(billed):
    FeeOwed.objects.create(
        account=billed, period=date(2023, 5, 1), amount=Decimal("1.25"), billed_on=JUNE_END
    )

    body = _api(billed.client.user).get("/api/v1/fees/").json()

    assert (body["owed"], body["accrued_this_month"]) == ("1.25", "0.25")
    summary = selectors.fees_summary(client=billed.client)
    assert summary.accrued_this_month == money_half_up(
        valuation.fee_accrued(account=billed, start=date(2023, 7, 1), end=JULY_FIRST_CLOSE)
    )
