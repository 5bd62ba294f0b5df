"""Fund distributions paid to holders as cash and invested: to whoever held units at the close
before the ex-date, once, rounded down to the cent."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from portfolios import market, services, tasks
from portfolios.models import Distribution, Entry, Position, Transaction
from portfolios.money import money_down
from portfolios.valuation import account_value

from ..factories import GoalFactory
from .conftest import BASE_PRICES, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db

EX_DATE = date(2023, 6, 12)  # the Monday after the fixtures' market date (Friday 2023-06-09)
PAY_DATE = date(2023, 6, 16)
PER_UNIT = Decimal("0.5912")


@pytest.fixture
def vti_distribution(market_data, tmp_path) -> Distribution:
    """VTI goes ex $0.5912 on the 12th (its close drops by about that) and pays on the 16th."""
    days = {
        EX_DATE: {**BASE_PRICES, "VTI": "199.41"},
        PAY_DATE: {**BASE_PRICES, "VTI": "201.00"},
    }
    paid = tmp_path / "d.csv"
    paid.write_text(f"ticker,ex_date,pay_date,amount\nVTI,{EX_DATE},{PAY_DATE},{PER_UNIT}\n")
    market.prices_load(path=write_prices(tmp_path / "p.csv", days), distributions=paid)
    return Distribution.objects.get()


def _second_account(client):
    goal = GoalFactory(client=client, target_date=timezone.localdate() + timedelta(days=9000))
    return services.account_open(goal=goal)


def _vti_units(account) -> Decimal:
    return Position.objects.get(account=account, asset__ticker="VTI").quantity


def test_a_holder_at_the_close_before_the_ex_date_is_paid_once_and_the_cash_invested(
    account, vti_distribution
):
    # given: units bought at the close of the 9th, before the ex-date
    services.deposit_make(account=account, amount=Decimal("10000.00"), day=date(2023, 6, 9))
    units = _vti_units(account)

    # when
    assert services.dividends_pay(through=PAY_DATE) == 1

    # then: units × amount per unit, rounded down to the cent, on the pay date
    dividend = Transaction.objects.get(kind=Transaction.Kind.DIVIDEND)
    assert dividend.amount == money_down(units * PER_UNIT) > 0
    assert (dividend.market_date, dividend.distribution) == (PAY_DATE, vti_distribution)
    assert dividend.description == (
        f"VTI dividend, $0.5912 per unit on {units.normalize():f} units (ex 2023-06-12)"
    )
    cash_in = Entry.objects.get(transaction=dividend, asset=None, quantity=dividend.amount)
    assert cash_in.account == account
    # invested like a deposit, at the pay date's close
    bought = Entry.objects.filter(transaction=dividend, asset__isnull=False)
    assert bought.exists()
    assert all(e.quantity > 0 for e in bought)
    account.refresh_from_db()
    assert account.cash < Decimal("1.00")
    assert_ledger_consistent(account)

    # and a rerun pays nothing more
    assert services.dividends_pay(through=PAY_DATE) == 0
    assert Transaction.objects.filter(kind=Transaction.Kind.DIVIDEND).count() == 1


def test_units_bought_on_the_ex_date_earn_nothing(account, bold_client, vti_distribution):
    services.deposit_make(account=account, amount=Decimal("5000.00"), day=date(2023, 6, 9))
    late = _second_account(bold_client)
    services.deposit_make(account=late, amount=Decimal("5000.00"), day=EX_DATE)

    assert services.dividends_pay(through=PAY_DATE) == 1

    assert Transaction.objects.get(kind=Transaction.Kind.DIVIDEND).account == account
    assert not Transaction.objects.filter(account=late, kind=Transaction.Kind.DIVIDEND).exists()
    assert_ledger_consistent(late)


def test_units_sold_before_the_ex_date_earn_nothing(account, vti_distribution):
    services.deposit_make(account=account, amount=Decimal("5000.00"), day=date(2023, 6, 9))
    total = account_value(account=account, day=date(2023, 6, 9)).total
    services.withdrawal_make(account=account, amount=total, day=date(2023, 6, 9))

    assert services.dividends_pay(through=PAY_DATE) == 0

    assert _vti_units(account) == 0
    assert_ledger_consistent(account)


def test_nothing_is_paid_before_the_pay_date_or_outside_the_window(account, vti_distribution):
    services.deposit_make(account=account, amount=Decimal("5000.00"), day=date(2023, 6, 9))

    assert services.dividends_pay(through=PAY_DATE - timedelta(days=1)) == 0
    assert services.dividends_pay(through=PAY_DATE + timedelta(days=40)) == 0  # a month on
    assert services.dividends_pay(through=PAY_DATE + timedelta(days=40), since=EX_DATE) == 1


def test_the_default_is_the_market_date(account, vti_distribution):
    services.deposit_make(account=account, amount=Decimal("5000.00"), day=date(2023, 6, 9))
    assert market.market_date_get() == PAY_DATE

    assert services.dividends_pay() == 1


def test_the_daily_batch_runs_after_the_prices_with_dividends_before_rebalancing_and_fees():
    from portfolios import batch

    schedule = app.conf.beat_schedule

    def at(name: str) -> tuple[int, int]:
        cron = schedule[name]["schedule"]
        return (min(cron.hour), min(cron.minute))

    assert at("portfolios.prices_import") < at("portfolios.daily_batch_run")
    order = list(batch.JOBS)
    assert (
        order.index("dividends_pay")
        < order.index("rebalance_proposals_refresh")
        < order.index("fees_bill")
    )
    assert tasks.dividends_pay_task.name == "portfolios.dividends_pay"
    assert tasks.prices_import_task.name == "portfolios.prices_import"


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_pay_each_holder_once(account, vti_distribution):
    # SQLite serialises the writers (IMMEDIATE transactions); PostgreSQL by the account's row
    # lock; either way the re-check under it and the unique constraint allow one payment.
    services.deposit_make(account=account, amount=Decimal("10000.00"), day=date(2023, 6, 9))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            services.dividends_pay(through=PAY_DATE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Transaction.objects.filter(kind=Transaction.Kind.DIVIDEND).count() == 1
    assert_ledger_consistent(account)
