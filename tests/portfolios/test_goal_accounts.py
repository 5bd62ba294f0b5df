"""Every goal has its account from the moment it is made; reads never write.

Before the re-floor, the summary and account-list GETs opened missing accounts; now the goal's
creation does (`portfolios.receivers`), so a GET is a pure read."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from advisor.models import Goal
from portfolios import services
from portfolios.exceptions import GoalClosed
from portfolios.models import Account
from portfolios.valuation import account_value

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _goal_body() -> dict:
    return {
        "goal_type": "home_purchase",
        "name": "House deposit",
        "target_amount": "80000.00",
        "target_date": (timezone.localdate() + timedelta(days=5 * 365)).isoformat(),
        "initial_amount": "5000.00",
        "monthly_contribution": "600.00",
        "priority": "need",
    }


def test_a_goal_made_through_the_api_has_its_account_at_once(client_api, client_user):
    created = client_api.post("/api/v1/goals/", _goal_body())

    assert created.status_code == 201, created.json()
    account = Account.objects.get(goal_id=created.json()["id"])
    assert account.client == client_user.client
    assert account.cash == Decimal("0.00")


def test_the_dashboard_reads_write_nothing(client_api, client_user, market_data):
    # given: a client with two goals (their accounts opened with them)
    client_api.post("/api/v1/goals/", _goal_body())
    client_api.post("/api/v1/goals/", {**_goal_body(), "name": "Second home"})

    # when: the browser client loads the dashboard and the accounts page
    with CaptureQueriesContext(connection) as queries:
        summary = client_api.get("/api/v1/portfolio/summary/")
        accounts = client_api.get("/api/v1/accounts/")

    # then
    assert summary.status_code == accounts.status_code == 200
    assert len(accounts.json()) == 2
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert [w for w in writes if "django_session" not in w and "cache" not in w] == []


def test_a_goal_deleted_before_any_money_moved_takes_its_empty_account(client_api):
    goal_id = client_api.post("/api/v1/goals/", _goal_body()).json()["id"]

    deleted = client_api.delete(f"/api/v1/goals/{goal_id}/")

    assert deleted.status_code == 204
    assert not Account.objects.filter(goal_id=goal_id).exists()


def test_a_goal_that_holds_money_is_refused_with_a_409_that_says_what_to_do(account, client_of):
    """Issue 13, finding 5: this DELETE was a 500 (ProtectedError)."""
    services.deposit_make(account=account, amount=Decimal("100.00"))
    api = APIClient()
    api.force_authenticate(account.client.user)

    deleted = api.delete(f"/api/v1/goals/{account.goal_id}/")
    closed = api.patch(f"/api/v1/goals/{account.goal_id}/", {"status": "closed"})

    for response in (deleted, closed):
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "goal_not_empty"
        assert "Withdraw it first" in response.json()["message"]
    assert response.json()["extra"]["value"] == "100.00"
    account.goal.refresh_from_db()
    assert account.goal.status == Goal.Status.ACTIVE
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_goal_emptied_to_zero_is_closed_not_deleted_its_history_kept(account):
    services.deposit_make(account=account, amount=Decimal("100.00"))
    services.withdrawal_make(account=account, amount=account_value(account=account).total)
    api = APIClient()
    api.force_authenticate(account.client.user)

    response = api.delete(f"/api/v1/goals/{account.goal_id}/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert Goal.objects.get(pk=account.goal_id).status == Goal.Status.CLOSED
    assert account.transactions.count() >= 2  # the deposit and the withdrawal stay
    # and deleting it again is harmless: it stays closed
    assert api.delete(f"/api/v1/goals/{account.goal_id}/").status_code == 200
    # and a closed goal takes no new money
    with pytest.raises(GoalClosed):
        services.deposit_make(account=account, amount=Decimal("50.00"))
    refused = api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "50.00"},
        HTTP_IDEMPOTENCY_KEY="closed-goal-deposit-1",
    )
    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == "goal_closed"
