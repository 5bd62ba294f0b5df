"""Model cards: built at registration from nlp/cards.py and the version's metrics, shown in the
admin beside the approval buttons, served at GET /api/v1/models/ to any logged-in user."""

import io
import json
from dataclasses import dataclass, field

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from nlp import registry, services
from nlp.cards import SPECS, card_build
from nlp.models import ModelVersion

from ..factories import committee_member

pytestmark = pytest.mark.django_db

MODELS_URL = "/api/v1/models/"
RISK_METRICS = {
    "gbm_r2": 0.679,
    "rf_r2": 0.680,
    "mean_r2": -0.001,
    "gbm_level_exact": 0.504,
    "rf_level_exact": 0.419,
    "majority_level_exact": 0.10,
    "gbm_level_within_1": 0.902,
    "rf_level_within_1": 0.850,
    "gbm_interval_coverage": 0.802,
    "gbm_interval_levels": 3.9,
}


@dataclass
class Result:
    metrics: dict = field(default_factory=lambda: dict(RISK_METRICS))
    data_hash: str = "d" * 64
    files: list = field(default_factory=lambda: ["weights.bin"])


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.NLP_MODEL_DIR = str(tmp_path / "models")
    return tmp_path / "models"


def _register(name: str, metrics: dict | None = None) -> ModelVersion:
    staging = services.staging_dir(name)
    (staging / "weights.bin").write_bytes(name.encode())
    return services.version_register(
        name=name, trained_in=staging, result=Result(metrics or dict(RISK_METRICS)), quick=True
    )


def test_every_model_has_a_card_that_says_what_it_must_never_decide():
    for name in (*registry.MODEL_NAMES, "asset_impact", "news_linking"):
        card = card_build(name=name, metrics={}, quick=False)

        assert card["name"] == name
        assert card["never_decides"], name
        assert card["intended_use"], name
        assert card["known_failures"], name
        assert all(d["licence"] and d["source"] for d in card["data_sets"]), name
    assert any("raises" in line for line in SPECS["risk_profile"].never_decides)
    assert any("money" in line for line in SPECS["risk_profile"].never_decides)


def test_the_risk_card_sets_each_figure_against_its_baselines():
    card = card_build(name="risk_profile", metrics=RISK_METRICS | {"note": "x"}, quick=False)

    rows = {row["label"]: row for row in card["metrics"]}
    r2 = rows["grouped-CV R^2"]
    assert r2["value"] == 0.679
    assert r2["baselines"] == [{"name": "random forest", "key": "rf_r2", "value": 0.680}]
    assert rows["80% interval coverage (households)"]["value"] == 0.802
    assert card["all_metrics"] == RISK_METRICS  # numbers only
    assert "SCF" in card["data_sets"][0]["name"]


def test_a_model_without_a_card_spec_says_so_rather_than_inventing_one():
    card = card_build(name="mystery", metrics={"accuracy": 0.5}, quick=True)

    assert "No card written" in card["summary"]
    assert card["all_metrics"] == {"accuracy": 0.5}


def test_registering_a_version_stores_its_card(model_dir):
    version = _register("risk_profile")

    version.refresh_from_db()
    assert version.card == card_build(name="risk_profile", metrics=RISK_METRICS, quick=True)
    assert version.card["quick"] is True


def test_a_card_exists_for_every_model_registered_after_quick_training(served):
    # `served`: every model trained --quick and registered through services.version_register.
    for name, version in served.items():
        version.refresh_from_db()
        assert version.card["name"] == name
        assert version.card["metrics"], name  # figures from this version's own training
        assert registry.card_of(version) == version.card
    risk = {row["key"]: row for row in served["risk_profile"].card["metrics"]}
    assert risk["gbm_interval_coverage"]["value"] == pytest.approx(
        served["risk_profile"].metrics["gbm_interval_coverage"]
    )


def test_a_version_registered_before_cards_gets_one_built_from_its_metrics(model_dir):
    version = _register("risk_profile")
    ModelVersion.objects.filter(pk=version.pk).update(card={})
    version.refresh_from_db()

    assert registry.card_of(version)["metrics"][0]["key"] == "gbm_r2"


def test_the_models_endpoint_lists_the_served_versions_with_their_cards(
    model_dir, settings, client_api
):
    _register("risk_profile")
    _register("chat_intent", {"test_accuracy": 0.9})
    settings.NLP_AUTO_APPROVE_MODELS = False
    _register("risk_profile", {"gbm_r2": 0.1})  # a candidate: not served, not listed

    response = client_api.get(MODELS_URL)

    assert response.status_code == 200
    body = response.json()
    assert [(m["name"], m["version"]) for m in body] == [("chat_intent", 1), ("risk_profile", 1)]
    risk = body[1]
    assert risk["label"] == "risk_profile@1"
    assert risk["card"]["title"] == SPECS["risk_profile"].title
    assert risk["card"]["never_decides"] == list(SPECS["risk_profile"].never_decides)
    assert risk["card"]["metrics"][0]["baselines"][0]["name"] == "random forest"
    assert "weights_path" not in risk  # where files live on the server is not for clients


def test_an_advisor_sees_the_same_list_as_a_client(model_dir, client_api, advisor_api):
    _register("risk_profile")

    assert advisor_api.get(MODELS_URL).json() == client_api.get(MODELS_URL).json()


def test_an_anonymous_request_is_refused(model_dir, api_client):
    _register("risk_profile")

    response = api_client.get(MODELS_URL)

    assert response.status_code == 401


def test_the_admin_shows_the_card_beside_the_approval_buttons(model_dir, settings, client):
    settings.NLP_AUTO_APPROVE_MODELS = False
    version = _register("risk_profile")
    client.force_login(committee_member())

    page = client.get(reverse("admin:nlp_modelversion_change", args=[version.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="model-card"' in html
    assert "Never raises a client&#x27;s risk level" in html
    assert "random forest: 0.680" in html
    assert 'id="version-decide"' in html  # the committee's buttons, after the card
    assert html.index('id="model-card"') < html.index('id="version-decide"')


def test_approving_from_the_cards_page_records_the_first_approval(model_dir, settings, client):
    settings.NLP_AUTO_APPROVE_MODELS = False
    version = _register("risk_profile")
    member = committee_member()
    client.force_login(member)

    client.post(
        reverse("admin:nlp_modelversion_decide", args=[version.pk]), {"decision": "approve"}
    )

    version.refresh_from_db()
    assert version.first_approved_by == member
    assert version.status == ModelVersion.Status.CANDIDATE  # four eyes: one more to go


def test_an_advisor_outside_the_committee_can_neither_open_nor_decide_a_version(
    model_dir, settings, client, advisor_user
):
    # Advisors read the cards through the API; the admin page is the committee's.
    settings.NLP_AUTO_APPROVE_MODELS = False
    version = _register("risk_profile")
    client.force_login(advisor_user)

    page = client.get(reverse("admin:nlp_modelversion_change", args=[version.pk]))
    decided = client.post(
        reverse("admin:nlp_modelversion_decide", args=[version.pk]), {"decision": "approve"}
    )

    assert page.status_code == 403
    assert decided.status_code == 403
    version.refresh_from_db()
    assert version.first_approved_by is None


def test_models_evaluate_reports_the_risk_model_against_its_baselines_with_its_card(model_dir):
    call_command("train_models", "risk_profile", "--quick", "--no-progress")
    out = io.StringIO()

    call_command("models_evaluate", "risk_profile", "--quick", stdout=out, stderr=io.StringIO())

    report = json.loads(out.getvalue().rsplit("Saved to", 1)[0])
    cv = report["risk_profile"]["grouped_cv"]
    assert cv["gbm_level_exact"] > cv["majority_level_exact"]
    assert {"rf_r2", "mean_r2", "gbm_interval_coverage"} <= set(cv)
    assert report["risk_profile"]["card"]["name"] == "risk_profile"
    assert "not_served" not in report
    assert (model_dir / "reports" / "evaluation-latest.json").is_file()


def test_models_evaluate_refuses_when_nothing_is_served(model_dir):
    with pytest.raises(CommandError, match="train_models"):
        call_command("models_evaluate", "chat_intent", stdout=io.StringIO(), stderr=io.StringIO())
