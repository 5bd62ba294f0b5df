"""The risk questionnaire API: questions, submission, the risk profile."""

import pytest

from advisor import risk, services
from advisor.models import QuestionnaireResponse, RiskAssessment
from advisor.selectors import risk_profile_get

pytestmark = pytest.mark.django_db


def test_the_current_questionnaire_lists_willingness_and_capacity_questions(client_api):
    body = client_api.get("/api/v1/questionnaire/").json()

    assert body["version"] == risk.CURRENT_VERSION
    assert {q["dimension"] for q in body["questions"]} == {"willingness", "capacity"}
    scf = next(q for q in body["questions"] if q["key"] == "scf_willingness")
    assert {c["value"] for c in scf["choices"]} == {
        "substantial",
        "above_average",
        "average",
        "none",
    }


def test_an_unknown_questionnaire_version_is_a_400(client_api):
    response = client_api.get("/api/v1/questionnaire/", {"version": "1999.9"})

    assert response.status_code == 400
    assert "version" in response.json()["extra"]["fields"]


def test_submitting_answers_scores_them_and_sets_the_risk_profile(client_api, bold_answers):
    submitted = client_api.post(
        "/api/v1/questionnaire/responses/",
        {"version": risk.CURRENT_VERSION, "answers": bold_answers},
        format="json",
    )
    profile = client_api.get("/api/v1/risk-profile/").json()

    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["assessments"][0]["method"] == RiskAssessment.RULES_METHOD
    assert profile["risk_level"] == 10
    assert profile["willingness_score"] == 100
    assert profile["capacity_score"] == 100
    assert profile["inconsistent"] is False
    assert "10 of 10" in profile["explanation"]


def test_the_lower_of_willingness_and_capacity_caps_the_level(
    client_api, bold_answers, cautious_answers
):
    capacity_keys = {q.key for q in risk.question_set_get().questions if q.dimension == "capacity"}
    answers = {k: cautious_answers[k] if k in capacity_keys else v for k, v in bold_answers.items()}

    client_api.post(
        "/api/v1/questionnaire/responses/",
        {"version": risk.CURRENT_VERSION, "answers": answers},
        format="json",
    )
    profile = client_api.get("/api/v1/risk-profile/").json()

    assert profile["risk_level"] == 1
    assert profile["willingness_score"] == 100
    assert profile["inconsistent"] is True
    assert "willingness_exceeds_capacity" in {f["code"] for f in profile["flags"]}
    assert "capacity to bear losses is the lower" in profile["explanation"]


def test_the_risk_profile_is_a_404_before_any_answers(client_api):
    response = client_api.get("/api/v1/risk-profile/")

    assert response.status_code == 404
    assert response.json()["code"] == "risk_profile_missing"


@pytest.mark.parametrize(
    "answers",
    [
        "not an object",
        [],
        {"scf_willingness": "substantial"},
        {"made_up": "x"},
        {"scf_willingness": 3},
        {f"k{i}": "v" for i in range(500)},
    ],
)
def test_invalid_answers_are_a_400_and_store_nothing(client_api, answers):
    response = client_api.post(
        "/api/v1/questionnaire/responses/",
        {"version": risk.CURRENT_VERSION, "answers": answers},
        format="json",
    )

    assert response.status_code == 400
    assert "answers" in response.json()["extra"]["fields"]
    assert not QuestionnaireResponse.objects.exists()


def test_an_unknown_answer_choice_names_the_question(client_api, bold_answers):
    answers = {**bold_answers, "loss_reaction": "panic"}

    response = client_api.post(
        "/api/v1/questionnaire/responses/",
        {"version": risk.CURRENT_VERSION, "answers": answers},
        format="json",
    )

    assert response.status_code == 400
    assert "loss_reaction" in response.json()["extra"]["fields"]["answers"]


def test_a_second_opinion_sits_beside_the_rules_without_replacing_them(
    client_of, client_user, bold_answers
):
    response = services.questionnaire_submit(
        client=client_of(client_user),
        version=risk.CURRENT_VERSION,
        answers=bold_answers,
        second_opinions=[services.SecondOpinion(method="risk-mlp@3", risk_level=7, details={})],
    )
    profile = risk_profile_get(client=client_of(client_user))

    assert profile.response == response
    assert profile.assessment.risk_level == 10
    assert [(o.method, o.risk_level) for o in profile.second_opinions] == [("risk-mlp@3", 7)]
