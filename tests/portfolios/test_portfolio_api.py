"""The portfolio API: assets, accounts, summary, projections."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from portfolios import services
from portfolios.models import GoalProjection, MarketAssumptions, RebalanceProposal

from ..factories import AdvisorFactory
from .test_rebalancing import drifted  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(account) -> APIClient:
    api = APIClient()
    api.force_authenticate(account.client.user)
    return api


@pytest.fixture
def assumptions(approved_set):
    """Three funds' assumptions matching the test model portfolios (VTI, AGG, BIL)."""
    MarketAssumptions.objects.filter(pk=approved_set.assumptions_id).update(
        data={
            "tickers": ["VTI", "AGG", "BIL"],
            "expected_returns": [0.07, 0.035, 0.02],
            "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
        }
    )


def test_a_goal_projection_gives_percentiles_probability_and_the_contribution_for_80(
    owner_api, account, assumptions
):
    response = owner_api.get(f"/api/v1/goals/{account.goal_id}/projection/")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert 0 <= body["probability"] <= 1
    assert len(body["percentiles"]["p50"]) == body["months"] + 1
    finals = [Decimal(body["percentiles"][name][-1]) for name in ("p10", "p50", "p90")]
    assert finals == sorted(finals)
    assert Decimal(body["required_monthly_contribution"]) >= 0  # money as decimal strings
    assert body["required_contribution_capped"] is False


def test_a_what_if_with_a_bigger_contribution_raises_the_probability(
    owner_api, account, assumptions
):
    url = f"/api/v1/goals/{account.goal_id}/projection/"

    low = owner_api.get(url, {"monthly_contribution": "10.00"}).json()
    high = owner_api.get(url, {"monthly_contribution": "20000.00"}).json()
    again = owner_api.get(url, {"monthly_contribution": "10.00"}).json()

    assert high["probability"] > low["probability"]
    assert again == low
    assert GoalProjection.objects.count() == 2  # the repeated question came from the table


@pytest.mark.parametrize(
    "params",
    [
        {"monthly_contribution": "-1"},
        {"target_date": "2001-01-01"},
        {"target_date": "soon"},
        {"x": "1"},
    ],
)
def test_bad_what_ifs_are_400s(owner_api, account, assumptions, params):
    response = owner_api.get(f"/api/v1/goals/{account.goal_id}/projection/", params)

    assert response.status_code == 400


def test_without_a_risk_profile_the_projection_says_what_is_missing(approved_set):
    from ..factories import GoalFactory

    goal = GoalFactory()
    api = APIClient()
    api.force_authenticate(goal.client.user)

    response = api.get(f"/api/v1/goals/{goal.pk}/projection/")

    assert response.status_code == 202
    assert "risk questionnaire" in response.json()["message"]


def test_an_advisor_approves_a_pending_rebalance_in_their_book(drifted):  # noqa: F811
    proposal = services.rebalance_propose(account=drifted)
    advisor = AdvisorFactory()
    drifted.client.advisor = advisor
    drifted.client.save()
    api = APIClient()
    api.force_authenticate(advisor)

    queue = api.get("/api/v1/advisor/rebalances/", {"status": "pending"}).json()
    approved = api.post(f"/api/v1/advisor/rebalances/{proposal.pk}/approve/")
    again = api.post(f"/api/v1/advisor/rebalances/{proposal.pk}/approve/")

    assert [p["id"] for p in queue["results"]] == [proposal.pk]
    assert approved.json()["status"] == "executed"
    assert again.status_code == 400
    assert RebalanceProposal.objects.get().decided_by == advisor


def test_a_client_reads_but_cannot_approve_rebalances(drifted):  # noqa: F811
    proposal = services.rebalance_propose(account=drifted)
    api = APIClient()
    api.force_authenticate(drifted.client.user)

    listed = api.get(f"/api/v1/accounts/{drifted.pk}/rebalances/").json()
    refused = api.post(f"/api/v1/advisor/rebalances/{proposal.pk}/approve/")

    assert listed[0]["reason"].startswith("Drift is")
    assert refused.status_code == 403


def test_recurring_deposits_are_created_listed_and_stopped_over_the_api(owner_api, account):
    url = f"/api/v1/accounts/{account.pk}/recurring-deposits/"

    body = {"amount": "200.00", "day_of_month": 15}
    created = owner_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="schedule-1")
    replayed = owner_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="schedule-1")
    keyless = owner_api.post(url, body, format="json")
    bad = owner_api.post(
        url, {"amount": "200.00", "day_of_month": 31}, format="json", HTTP_IDEMPOTENCY_KEY="s-2"
    )
    stopped = owner_api.delete(f"{url}{created.json()['id']}/")

    assert created.status_code == 201, created.content
    # a double-submitted schedule is made once (issue 13): the retry replays the first answer
    assert replayed.status_code == 201
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == created.json()["id"]
    assert keyless.status_code == 400
    assert bad.status_code == 400
    assert stopped.status_code == 204
    assert owner_api.get(url).json() == []


def test_a_recurring_deposit_pauses_skips_its_dates_and_resumes(owner_api, account):
    from datetime import timedelta

    from django.utils import timezone

    from portfolios.models import RecurringDeposit, Transaction

    url = f"/api/v1/accounts/{account.pk}/recurring-deposits/"
    created = owner_api.post(
        url, {"amount": "200.00", "day_of_month": 15}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    ).json()
    detail = f"{url}{created['id']}/"

    paused = owner_api.patch(detail, {"active": False}, format="json")
    ran_while_paused = services.recurring_deposits_run(
        today=timezone.localdate() + timedelta(days=40)
    )
    resumed = owner_api.patch(detail, {"active": True}, format="json")
    garbage = owner_api.patch(detail, {"active": "maybe"}, format="json")
    owner_api.delete(detail)
    after_cancel = owner_api.patch(detail, {"active": True}, format="json")

    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert ran_while_paused == 0
    assert not Transaction.objects.filter(account=account).exists()
    assert resumed.json()["active"] is True
    assert resumed.json()["next_run"] > timezone.localdate().isoformat()
    assert garbage.status_code == 400
    assert after_cancel.status_code == 404  # cancelled is gone for good
    assert RecurringDeposit.objects.get(pk=created["id"]).cancelled_at is not None


def test_the_portfolio_summary_answers_the_dashboard_in_one_call(owner_api, account):
    owner_api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "1000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    body = owner_api.get("/api/v1/portfolio/summary/").json()

    assert Decimal(body["total_value"]) > Decimal("999")
    assert body["market_date"] == "2023-06-09"
    assert body["accounts"][0]["goal_id"] == account.goal_id
    assert body["risk_level"] == 10
    assert "pending_rebalances" in body


def test_the_cached_summary_changes_as_soon_as_money_moves(owner_api, account):
    def deposit(amount: str) -> None:
        owner_api.post(
            f"/api/v1/accounts/{account.pk}/deposits/",
            {"amount": amount},
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )

    deposit("1000.00")
    before = Decimal(owner_api.get("/api/v1/portfolio/summary/").json()["total_value"])
    deposit("500.00")
    after = Decimal(owner_api.get("/api/v1/portfolio/summary/").json()["total_value"])

    assert after - before > Decimal("499")


def test_a_funds_prices_give_its_close_and_total_return_level_as_strings(owner_api, market_data):
    response = owner_api.get("/api/v1/assets/VTI/prices/")

    assert response.status_code == 200, response.content
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    # a prices-only file: the first day's total-return level starts at its close
    assert rows[0] == {"date": "2023-06-09", "close": "200.0000", "total_return": "200.000000"}
