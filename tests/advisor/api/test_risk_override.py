"""The risk-override API: field errors for bad input, four-eyes above capacity, and what the
client then reads."""

import pytest
from rest_framework.test import APIClient

from advisor import risk, services
from advisor.models import RiskOverrideRequest, User

from ...factories import AdvisorFactory, ClientFactory
from ..answers import answers_for
from ..test_risk_overrides import compliance_officer

pytestmark = pytest.mark.django_db


def _as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def keen(advisor):
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=answers_for(willingness=8, capacity=4),
    )
    return client


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"level": 0, "reason": "x"}, "level"),
        ({"level": 11, "reason": "x"}, "level"),
        ({"level": "high", "reason": "x"}, "level"),
        ({"level": 3}, "reason"),
        ({"level": 3, "reason": ""}, "reason"),
        ({"level": 3, "reason": "x" * 1001}, "reason"),
        ({"level": 3, "reason": "x", "approved": True}, "approved"),
        ({"level": 6, "reason": "Keen"}, "level"),  # above capacity (4): a request instead
    ],
)
def test_a_bad_override_is_a_400_with_the_field_named(advisor, keen, body, field):
    response = _as(advisor).post(
        f"/api/v1/advisor/clients/{keen.pk}/risk-override/", body, format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["extra"]["fields"]


def test_an_override_answers_the_advisors_view_of_the_profile(advisor, keen):
    response = _as(advisor).post(
        f"/api/v1/advisor/clients/{keen.pk}/risk-override/",
        {"level": 2, "reason": "Retiring next year"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["risk_level"] == 2
    assert body["decision"]["decided_by"] == "advisor"
    assert body["decision"]["override"]["set_by"] == "Alex M."
    assert body["advisor_explanation"].startswith("Level 2 of 10, decided by an advisor override")
    assert "your advisor Alex M." in body["explanation"]


def test_clients_and_other_books_cannot_override(advisor, keen):
    url = f"/api/v1/advisor/clients/{keen.pk}/risk-override/"
    body = {"level": 2, "reason": "x"}

    assert _as(keen.user).post(url, body, format="json").status_code == 403
    assert _as(AdvisorFactory()).post(url, body, format="json").status_code == 404


def test_above_capacity_goes_through_a_request_a_second_person_approves(advisor, keen):
    sam = compliance_officer(first_name="Sam", last_name="Kerr")
    created = _as(advisor).post(
        f"/api/v1/advisor/clients/{keen.pk}/risk-override-requests/",
        {"level": 6, "reason": "Large pension besides"},
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    listed = _as(sam).get("/api/v1/advisor/risk-override-requests/", {"status": "pending"})
    assert [r["id"] for r in listed.json()["results"]] == [request_id]

    own = _as(advisor).post(f"/api/v1/advisor/risk-override-requests/{request_id}/approve/")
    approved = _as(sam).post(
        f"/api/v1/advisor/risk-override-requests/{request_id}/approve/",
        {"note": "Statement seen"},
        format="json",
    )
    again = _as(sam).post(f"/api/v1/advisor/risk-override-requests/{request_id}/approve/")
    seen_by_client = _as(keen.user).get("/api/v1/risk-profile/").json()

    assert own.status_code == 403  # no compliance permission, and it is their own request
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert again.status_code == 409
    assert again.json()["code"] == "override_request_decided"
    assert seen_by_client["risk_level"] == 6
    assert seen_by_client["decision"]["override"]["approved_above_capacity"] is True
    assert "approved_by" not in seen_by_client["decision"]["override"]
    assert (
        "a second person in compliance checked and approved it" in (seen_by_client["explanation"])
    )


def test_a_request_within_capacity_is_a_400(advisor, keen):
    response = _as(advisor).post(
        f"/api/v1/advisor/clients/{keen.pk}/risk-override-requests/",
        {"level": 3, "reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert "level" in response.json()["extra"]["fields"]
    assert not RiskOverrideRequest.objects.exists()


def test_another_advisor_cannot_see_or_decide_a_request(advisor, keen):
    request = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )
    other = _as(AdvisorFactory())

    assert other.get("/api/v1/advisor/risk-override-requests/").json()["results"] == []
    assert (
        other.post(f"/api/v1/advisor/risk-override-requests/{request.pk}/reject/").status_code
        == 404
    )


def test_the_advisor_api_shows_the_flags_own_words_and_the_client_api_the_clients(
    advisor, bold_answers, cautious_answers
):
    capacity = {q.key for q in risk.question_set_get().questions if q.dimension == "capacity"}
    answers = {k: cautious_answers[k] if k in capacity else v for k, v in bold_answers.items()}
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=answers)

    for_advisor = _as(advisor).get(f"/api/v1/advisor/clients/{client.pk}/risk-profile/").json()
    for_client = _as(client.user).get("/api/v1/risk-profile/").json()

    advisor_words = for_advisor["flags"][0]["message"]
    assert advisor_words.startswith("The client wants far more risk")
    assert for_client["flags"][0]["code"] == "willingness_exceeds_capacity"
    assert for_client["flags"][0]["message"].startswith("You are willing to take far more risk")
    assert advisor_words not in str(for_client)
    assert "advisor_explanation" not in for_client
    assert for_advisor["explanation"] == for_client["explanation"]  # what the client reads
