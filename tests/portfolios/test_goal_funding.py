"""The goal's funding: what its account has scheduled each month beside the plan's figure."""

from decimal import Decimal
from typing import cast

import pytest
from rest_framework.test import APIClient

from advisor.models import Client
from portfolios import selectors, services
from portfolios.money import money_text
from portfolios.services.cash_flows import units_text

from ..factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(account) -> APIClient:
    api = APIClient()
    api.force_authenticate(account.client.user)
    return api


def test_scheduled_monthly_sums_only_active_recurring_deposits(account):
    goal_id = account.goal_id
    services.recurring_deposit_create(account=account, amount=Decimal("250.00"), day_of_month=1)
    services.recurring_deposit_create(account=account, amount=Decimal("100.50"), day_of_month=15)
    paused = services.recurring_deposit_create(
        account=account, amount=Decimal("999.00"), day_of_month=3
    )
    services.recurring_deposit_pause(recurring=paused, paused=True)
    cancelled = services.recurring_deposit_create(
        account=account, amount=Decimal("40.00"), day_of_month=4
    )
    services.recurring_deposit_cancel(recurring=cancelled)

    assert selectors.goal_scheduled_monthly(goal_ids=[goal_id]) == {goal_id: Decimal("350.50")}


def test_scheduled_monthly_is_zero_without_recurring_deposits(account):
    scheduled = selectors.goal_scheduled_monthly(goal_ids=[account.goal_id])

    assert scheduled == {account.goal_id: Decimal("0.00")}


def test_the_funding_api_gives_the_plan_and_the_schedule_as_decimal_strings(owner_api, account):
    goal = account.goal
    goal.monthly_contribution = Decimal("500.00")
    goal.initial_amount = Decimal("5000.00")
    goal.save()
    services.recurring_deposit_create(account=account, amount=Decimal("300.00"), day_of_month=1)

    response = owner_api.get(f"/api/v1/goals/{goal.pk}/funding/")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "goal_id": goal.pk,
        "account_id": account.pk,
        "currency": "USD",
        "initial_amount": "5000.00",
        "monthly_contribution": "500.00",
        "scheduled_monthly": "300.00",
    }


def test_the_funding_of_another_clients_goal_is_a_404(account):
    stranger = APIClient()
    stranger.force_authenticate(cast(Client, ClientFactory()).user)

    response = stranger.get(f"/api/v1/goals/{account.goal_id}/funding/")

    assert response.status_code == 404


def test_the_dashboard_shows_the_same_scheduled_figure(owner_api, account):
    services.recurring_deposit_create(account=account, amount=Decimal("125.00"), day_of_month=9)

    goals = owner_api.get("/api/v1/portfolio/summary/").json()["goals"]

    assert [g["scheduled_monthly"] for g in goals] == ["125.00"]
    assert goals[0]["monthly_contribution"] == str(account.goal.monthly_contribution)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("5000", "$5,000.00"),
        ("1234567.891", "$1,234,567.89"),
        ("0.5", "$0.50"),
        ("-12.3", "-$12.30"),
    ],
)
def test_money_text_formats_dollars_with_separators_and_cents(value, text):
    assert money_text(Decimal(value)) == text


@pytest.mark.parametrize(
    ("quantity", "text"),
    [("12.50000000", "12.5"), ("0.12345678", "0.1235"), ("3.00000000", "3")],
)
def test_unit_counts_in_messages_keep_four_decimals(quantity, text):
    assert units_text(Decimal(quantity)) == text


def test_a_deposit_message_reads_as_money(account):
    result = services.deposit_make(account=account, amount=Decimal("5000.00"))

    assert result.message.startswith("Deposited $5,000.00 ")


def test_a_withdrawal_message_rounds_the_units_sold(account):
    services.deposit_make(account=account, amount=Decimal("5000.00"))

    result = services.withdrawal_make(account=account, amount=Decimal("1234.56"))

    assert result.message.startswith("Withdrew $1,234.56. Sold ")
    sold = result.message.removeprefix("Withdrew $1,234.56. Sold ").split(" at the close")[0]
    for part in sold.split(", "):
        units = part.split(" ")[0]
        assert len(units.partition(".")[2]) <= 4, part


def test_an_amount_over_the_limit_is_refused_with_the_limit_as_money(owner_api, account):
    response = owner_api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "9999999999.99"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="too-much",
    )

    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["amount"] == [
        "Enter an amount of at most $10,000,000.00."
    ]
