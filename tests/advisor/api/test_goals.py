"""The goals API: create, list, update, delete, and their validation."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from advisor.models import Goal

from ...factories import GoalFactory

pytestmark = pytest.mark.django_db


def _future(days: int = 3650) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _goal(**overrides) -> dict:
    return {
        "goal_type": "retirement",
        "name": "Retire at 60",
        "target_amount": "1500000.00",
        "target_date": _future(),
        "initial_amount": "25000.00",
        "monthly_contribution": "1200.00",
        "priority": "need",
        **overrides,
    }


def test_a_client_creates_lists_updates_and_deletes_a_goal(client_api):
    created = client_api.post("/api/v1/goals/", _goal())
    goal_id = created.json()["id"]

    listed = client_api.get("/api/v1/goals/").json()
    patched = client_api.patch(f"/api/v1/goals/{goal_id}/", {"monthly_contribution": "1500.50"})
    deleted = client_api.delete(f"/api/v1/goals/{goal_id}/")

    assert created.status_code == 201, created.content
    assert created.json()["currency"] == "USD"
    assert listed["count"] == 1
    assert patched.json()["monthly_contribution"] == "1500.50"
    assert deleted.status_code == 204
    assert client_api.get(f"/api/v1/goals/{goal_id}/").status_code == 404


def test_goals_filter_by_status_and_type(client_api, client_user):
    GoalFactory(client=client_user.client, goal_type="education", status="active")
    GoalFactory(client=client_user.client, goal_type="retirement", status="paused")

    body = client_api.get("/api/v1/goals/", {"status": "paused"}).json()

    assert [g["goal_type"] for g in body["results"]] == ["retirement"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_date", "2001-01-01"),
        ("target_date", timezone.localdate().isoformat()),
        ("target_date", "9999-12-31"),
        ("target_date", "tomorrow"),
        ("target_amount", "-100"),
        ("target_amount", "0"),
        ("target_amount", "1e30"),
        ("target_amount", "12.345"),
        ("monthly_contribution", "-1"),
        ("goal_type", "yacht"),
        ("priority", "urgent"),
        ("currency", "dollars"),
        ("name", "x" * 1000),
        ("name", ""),
    ],
)
def test_bad_goal_input_is_a_400_naming_the_field(client_api, field, value):
    response = client_api.post("/api/v1/goals/", _goal(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not Goal.objects.exists()


def test_a_goal_changes_are_audited_with_the_actor(client_api, client_user):
    goal_id = client_api.post("/api/v1/goals/", _goal()).json()["id"]
    client_api.patch(f"/api/v1/goals/{goal_id}/", {"name": "Retire at 58"})

    entries = LogEntry.objects.get_for_object(Goal.objects.get(pk=goal_id))

    assert entries.count() == 2
    assert {e.actor for e in entries} == {client_user}
    assert entries.first().changes_dict["name"] == ["Retire at 60", "Retire at 58"]


def test_a_goal_whose_date_has_passed_can_still_be_renamed(client_api, client_user):
    goal = GoalFactory(client=client_user.client)
    Goal.objects.filter(pk=goal.pk).update(target_date=timezone.localdate() - timedelta(days=1))

    response = client_api.patch(f"/api/v1/goals/{goal.pk}/", {"name": "Done", "status": "achieved"})

    assert response.status_code == 200, response.content


def test_a_huge_body_is_refused_with_413_in_the_error_shape(client_api):
    response = client_api.post("/api/v1/goals/", _goal(name="x" * (2 * 1024 * 1024)))

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Goal.objects.exists()
