"""Every goal has its account from the moment it is made; reads never write.

Before the re-floor, the summary and account-list GETs opened missing accounts; now the goal's
creation does (`portfolios.receivers`), so a GET is a pure read."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor import services as advisor_services
from portfolios import services
from portfolios.models import Account

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


def test_a_funded_goals_account_is_never_discarded(account):
    services.deposit_make(account=account, amount=Decimal("100.00"))

    with pytest.raises(ProtectedError):
        advisor_services.goal_delete(goal=account.goal)

    assert Account.objects.filter(pk=account.pk).exists()
