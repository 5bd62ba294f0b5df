"""Advisory fees: 0.25% a year, billed monthly on each account's value at the month's last close."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from portfolios import market, selectors, services, valuation
from portfolios.models import Entry, Transaction
from portfolios.money import money
from portfolios.tasks import fees_bill_task

from ..factories import AdvisorFactory, GoalFactory
from .conftest import BASE_PRICES, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db

JUNE_END = date(2023, 6, 30)
JULY_FIRST_CLOSE = date(2023, 7, 3)


def load_prices(tmp_path, day: date, prices: dict[str, str] | None = None) -> None:
    path = write_prices(tmp_path / f"{day.isoformat()}.csv", {day: prices or BASE_PRICES})
    market.prices_load(path=path)


def complete_june(tmp_path, june_end: dict[str, str] | None = None) -> None:
    """June's last close (optionally at other prices), then a July close: June is complete."""
    load_prices(tmp_path, JUNE_END, june_end)
    load_prices(tmp_path, JULY_FIRST_CLOSE, june_end)


@pytest.fixture
def cash_account(market_data):
    """An account without a risk profile: its deposits stay in cash, so values are exact."""
    return services.account_open(goal=GoalFactory())


def fees(account) -> list[Transaction]:
    return list(Transaction.objects.filter(account=account, kind=Transaction.Kind.FEE))


@pytest.mark.parametrize(
    ("value", "fee"),
    [
        ("12000.00", "2.50"),
        ("100000.00", "20.83"),
        ("24.00", "0.01"),  # 0.005 rounds half up, not to even
        ("23.99", "0.00"),
        ("0.00", "0.00"),
    ],
)
def test_a_months_fee_is_a_twelfth_of_a_quarter_percent_to_the_cent_half_up(value, fee):
    assert valuation.advisory_fee_monthly(value=Decimal(value)) == Decimal(fee)


def test_an_account_worth_12000_at_the_months_last_close_pays_2_50(cash_account, tmp_path):
    # given: 12,000 in cash on 9 June; June's last close is the 30th; July has begun
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    complete_june(tmp_path)

    # when
    billed = services.fees_bill()

    # then: one fee for June, dated at its last close, taken from cash
    assert billed == 1
    [fee] = fees(cash_account)
    assert fee.amount == Decimal("-2.50")
    assert fee.fee_period == date(2023, 6, 1)
    assert fee.market_date == JUNE_END
    assert "June 2023" in fee.description
    cash_account.refresh_from_db()
    assert cash_account.cash == Decimal("11997.50")
    assert_ledger_consistent(cash_account)


def test_the_fee_is_on_the_value_at_the_months_end_not_on_later_deposits(cash_account, tmp_path):
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    complete_june(tmp_path)
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))  # dated 3 July

    services.fees_bill()

    assert [f.amount for f in fees(cash_account)] == [Decimal("-2.50")]


def test_billing_twice_bills_once(cash_account, tmp_path):
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    complete_june(tmp_path)

    first = services.fees_bill()
    second = services.fees_bill()
    explicit = services.fees_bill(month_end=JUNE_END)

    assert (first, second, explicit) == (1, 0, 0)
    assert len(fees(cash_account)) == 1
    cash_account.refresh_from_db()
    assert cash_account.cash == Decimal("11997.50")


def test_the_database_refuses_a_second_fee_for_the_same_account_and_month(cash_account):
    services.deposit_make(account=cash_account, amount=Decimal("100.00"))
    june = {"account": cash_account, "kind": Transaction.Kind.FEE, "market_date": JUNE_END}
    Transaction.objects.create(**june, amount=Decimal("-0.02"), fee_period=date(2023, 6, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(**june, amount=Decimal("-0.02"), fee_period=date(2023, 6, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(**june, amount=Decimal("-0.02"))  # a fee names its month


def test_the_task_bills_the_latest_complete_month_and_beat_runs_it_daily(cash_account, tmp_path):
    from config.celery import app

    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    complete_june(tmp_path)

    assert fees_bill_task.delay().get() == 1
    assert fees_bill_task.delay().get() == 0
    assert app.conf.beat_schedule["portfolios.fees_bill"]["task"] == "portfolios.fees_bill"


def test_the_current_month_is_not_billed_until_it_is_complete(cash_account, tmp_path):
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    load_prices(tmp_path, JUNE_END)  # June's last close, but no July price yet

    assert services.fees_bill() == 0
    with pytest.raises(ValidationError):
        services.fees_bill(month_end=JUNE_END)
    assert fees(cash_account) == []


def test_cash_short_sells_a_little_of_the_most_overweight_fund(account, tmp_path, market_data):
    # given: an invested account; bonds halve by June's end, so stocks are the most overweight
    # fund and T-bills overweight too
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    complete_june(tmp_path, {**BASE_PRICES, "AGG": str(Decimal(BASE_PRICES["AGG"]) / 2)})
    value = valuation.account_value(account=account, day=JUNE_END).total
    expected = valuation.advisory_fee_monthly(value=value)
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
    if deposit:
        services.deposit_make(account=cash_account, amount=Decimal(deposit))
    complete_june(tmp_path)

    assert services.fees_bill() == 0
    assert fees(cash_account) == []


def test_an_account_emptied_before_its_months_end_is_not_billed(cash_account, tmp_path):
    services.deposit_make(account=cash_account, amount=Decimal("500.00"))
    services.withdrawal_make(account=cash_account, amount=Decimal("500.00"))
    complete_june(tmp_path)

    assert services.fees_bill() == 0


def _itd_twr(account) -> Decimal:
    performance = selectors.account_performance(account=account)
    return next(p.twr for p in performance.periods if p.period == "ITD")


def test_a_fee_lowers_the_time_weighted_return_it_is_not_a_cash_flow(cash_account, tmp_path):
    # given: cash earns nothing, so without fees the return is exactly zero
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
    complete_june(tmp_path)
    assert _itd_twr(cash_account) == 0

    # when
    services.fees_bill()

    # then: returns are net of fees: the 2.50 is a 2.50 / 12,000 loss, not a withdrawal
    assert _itd_twr(cash_account) == Decimal("-0.000208")
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
    services.deposit_make(account=cash_account, amount=Decimal("12000.00"))
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
    assert body["paid_ytd"] == body["paid_since_inception"] == "2.50"
    assert body["value"] == "11997.50"
    assert body["estimated_annual_fee"] == "29.99"  # 0.25% of 11,997.50
    assert body["fund_expense_ratio"] is None  # all in cash: no funds held
    [row] = body["accounts"]
    assert row["account_id"] == billed.pk
    assert row["paid_since_inception"] == "2.50"
    assert row["last_fee_month"] == "2023-06-01"
    assert row["last_fee_amount"] == "2.50"


def test_fees_paid_in_an_earlier_year_are_not_year_to_date(billed, tmp_path):
    load_prices(tmp_path, date(2024, 1, 2))

    summary = selectors.fees_summary(client=billed.client)

    assert summary.year == 2024
    assert summary.paid_ytd == 0
    assert summary.paid_since_inception == Decimal("2.50")


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
    assert fee["amount"] == "-2.50"
    assert fee["market_date"] == JUNE_END.isoformat()
    assert fee["description"].startswith("Advisory fee for June 2023")
    assert fee["entries"] == [{"ticker": None, "quantity": "-2.50000000", "price": None}]
