"""The advisor API: an advisor's book, scoped, with risk levels and goals."""

import pytest

from advisor import risk, services

from ...factories import AdvisorFactory, ClientFactory, GoalFactory

pytestmark = pytest.mark.django_db


def test_an_advisor_lists_only_their_book_with_risk_levels(advisor_api, advisor_user, bold_answers):
    mine = ClientFactory(advisor=advisor_user)
    ClientFactory(advisor=AdvisorFactory())
    ClientFactory()
    services.questionnaire_submit(client=mine, version=risk.CURRENT_VERSION, answers=bold_answers)

    body = advisor_api.get("/api/v1/advisor/clients/").json()

    assert [c["id"] for c in body["results"]] == [mine.pk]
    assert body["results"][0]["risk_level"] == 10


def test_an_advisor_filters_the_book_by_flags(
    advisor_api, advisor_user, bold_answers, cautious_answers
):
    flagged, calm = ClientFactory(advisor=advisor_user), ClientFactory(advisor=advisor_user)
    capacity = {q.key for q in risk.question_set_get().questions if q.dimension == "capacity"}
    mixed = {k: cautious_answers[k] if k in capacity else v for k, v in bold_answers.items()}
    services.questionnaire_submit(client=flagged, version=risk.CURRENT_VERSION, answers=mixed)
    services.questionnaire_submit(client=calm, version=risk.CURRENT_VERSION, answers=bold_answers)

    body = advisor_api.get("/api/v1/advisor/clients/", {"risk_inconsistent": "true"}).json()

    assert [c["id"] for c in body["results"]] == [flagged.pk]


def test_an_advisor_sees_a_book_clients_goals_and_risk_profile(
    advisor_api, advisor_user, bold_answers
):
    client = ClientFactory(advisor=advisor_user)
    GoalFactory(client=client)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=bold_answers)

    goals = advisor_api.get(f"/api/v1/advisor/clients/{client.pk}/goals/").json()
    profile = advisor_api.get(f"/api/v1/advisor/clients/{client.pk}/risk-profile/").json()

    assert len(goals) == 1
    assert profile["risk_level"] == 10


def test_an_admin_sees_every_client(bold_answers):
    from rest_framework.test import APIClient

    from ...factories import UserFactory

    admin = UserFactory(is_staff=True, is_superuser=True)
    ClientFactory(advisor=AdvisorFactory())
    ClientFactory()
    api = APIClient()
    api.force_authenticate(admin)

    assert api.get("/api/v1/advisor/clients/").json()["count"] == 2


def test_clients_cannot_use_advisor_routes(client_api):
    assert client_api.get("/api/v1/advisor/clients/").status_code == 403
