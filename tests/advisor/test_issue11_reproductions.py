"""Issue 11, finding 1, reproduced: each test failed before the one suitability policy."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from advisor import risk, selectors, services
from advisor.models import Goal, RiskAssessment

from ..factories import ClientFactory, GoalFactory
from ..portfolios import conftest as portfolio_fixtures
from .answers import answers_for

pytestmark = pytest.mark.django_db

market_day = portfolio_fixtures.market_day
market_data = portfolio_fixtures.market_data
approved_set = portfolio_fixtures.approved_set


def _submit(client, *, willingness: int, capacity: int):
    return services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=answers_for(willingness=willingness, capacity=capacity),
    )


def _model_says(response, level: int) -> RiskAssessment:
    return services.risk_model_opinion_record(
        response=response,
        method=RiskAssessment.model_method(1),
        model="risk_profile v1",
        model_level=level,
        details={},
    )


def test_the_models_opinion_never_lifts_the_level_above_the_stated_willingness():
    response = _submit(ClientFactory(), willingness=5, capacity=10)

    combined = _model_says(response, 9)  # was min(10, round((9 + 5) / 2)) = 7

    assert combined.risk_level == 5


@pytest.mark.parametrize(("rules", "model", "level"), [(7, 4, 5), (5, 2, 3)])
def test_a_half_level_rounds_toward_caution_not_to_the_even_neighbour(rules, model, level):
    response = _submit(ClientFactory(), willingness=rules, capacity=10)

    combined = _model_says(response, model)  # round(5.5) = 6 but round(3.5) = 4

    assert combined.risk_level == level


def test_an_override_above_capacity_is_refused_without_a_second_persons_approval(advisor):
    client = ClientFactory(advisor=advisor)
    _submit(client, willingness=8, capacity=4)

    with pytest.raises(ValidationError) as caught:
        services.risk_level_override(client=client, level=6, reason="Keen", actor=advisor)

    assert "level" in caught.value.message_dict
    assert selectors.risk_profile_get(client=client).assessment.risk_level == 4


def test_an_override_keeps_the_flags_it_reviewed(advisor):
    client = ClientFactory(advisor=advisor)
    _submit(client, willingness=10, capacity=1)  # flagged: wants far more than they can bear

    override = services.risk_level_override(
        client=client, level=1, reason="Talked it through", actor=advisor, flags_reviewed=True
    )

    assert "willingness_exceeds_capacity" in {f["code"] for f in override.flags}


def test_the_client_is_told_that_their_advisor_set_the_level(client_api, client_user, advisor):
    client = client_user.client
    client.advisor = advisor
    client.save()
    _submit(client, willingness=6, capacity=9)
    services.risk_level_override(
        client=client, level=4, reason="Buying a house in two years", actor=advisor
    )

    profile = client_api.get("/api/v1/risk-profile/").json()

    assert profile["risk_level"] == 4
    assert "your advisor Alex M." in profile["explanation"]
    assert "Buying a house in two years" in profile["explanation"]


def test_the_client_never_sees_the_advisors_wording(client_api, client_user):
    response = _submit(client_user.client, willingness=10, capacity=2)
    _model_says(response, 3)  # seven levels from the stated willingness: flagged for review
    advisor_wording = [
        flag["message"] for assessment in response.assessments.all() for flag in assessment.flags
    ]
    assert any("worth an advisor's review" in message for message in advisor_wording)

    bodies = [
        client_api.get("/api/v1/risk-profile/").content.decode(),
        client_api.get("/api/v1/questionnaire/responses/").content.decode(),
    ]

    for body in bodies:
        assert "advisor's review" not in body
        for message in advisor_wording:
            assert message not in body


def test_the_client_sees_the_level_and_stock_bond_split_of_each_goal(
    client_api, client_user, approved_set
):
    client = client_user.client
    _submit(client, willingness=6, capacity=6)
    far = GoalFactory(
        client=client,
        goal_type=Goal.GoalType.GENERAL_WEALTH,
        target_date=timezone.localdate() + timedelta(days=30 * 365),
    )
    rainy_day = GoalFactory(client=client, goal_type=Goal.GoalType.EMERGENCY_FUND)

    response = client_api.get("/api/v1/goals/allocations/")

    assert response.status_code == 200, response.content
    rows = {row["goal_id"]: row for row in response.json()}
    assert (rows[far.pk]["level"], rows[far.pk]["equity"], rows[far.pk]["fixed_income"]) == (
        6,
        "0.3600",
        "0.5900",
    )
    assert rows[far.pk]["other"] == "0.0500"
    assert (rows[rainy_day.pk]["level"], rows[rainy_day.pk]["equity"]) == (2, "0.1200")
