"""Models trained with --quick, registered, and served: commands, tasks and the questionnaire."""

import io
import json
import shutil
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command

from advisor import risk
from advisor import services as advisor_services
from advisor.models import RiskAssessment
from advisor.selectors import risk_profile_get
from config.celery import app
from nlp import news, registry
from nlp.inference import registry as loaded
from nlp.models import ModelVersion, NewsItem, SentimentScore
from nlp.tasks import sentiment_score_pending_task
from portfolios import market

from ..factories import ClientFactory

pytestmark = pytest.mark.django_db

KYC = {
    "first_name": "Test",
    "last_name": "Client",
    "education_level": "bachelors",
    "marital_status": "married",
    "dependents": 2,
    "employment_status": "employed",
    "occupation_category": "technology",
    "annual_income": Decimal("95000"),
    "net_worth": Decimal("250000"),
}


@pytest.fixture(scope="session")
def quick_models(tmp_path_factory, django_db_blocker):
    """Both models trained once per run on their --quick slices (files only)."""
    from nlp.training import risk_profile, sentiment

    root = tmp_path_factory.mktemp("trained")
    results = {}
    for name, trainer in (("sentiment", sentiment), ("risk_profile", risk_profile)):
        results[name] = (
            root / name,
            trainer.train(out_dir=root / name, quick=True, progress=False),
        )
    return results


@pytest.fixture
def served(quick_models, settings, tmp_path):
    """Register the quick models as approved versions in this test's NLP_MODEL_DIR."""
    settings.NLP_MODEL_DIR = str(tmp_path / "models")
    settings.NLP_AUTO_APPROVE_MODELS = True
    loaded._load.cache_clear()
    versions = {}
    for name, (folder, result) in quick_models.items():
        staging = registry.staging_dir(name)
        shutil.rmtree(staging)
        shutil.copytree(folder, staging)
        versions[name] = registry.version_register(
            name=name, trained_in=staging, result=result, quick=True
        )
    yield versions
    loaded._load.cache_clear()


def test_predict_sentiment_writes_one_json_object_per_line(served, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Profits soared to a record\nShares plunged\n"))
    out = io.StringIO()

    call_command("predict_sentiment", stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert line["label"] in {"negative", "neutral", "positive"}
        assert set(line["scores"]) == {"negative", "neutral", "positive"}
        assert abs(sum(line["scores"].values()) - 1) < 1e-4


def test_news_is_scored_by_the_approved_version_and_a_rerun_writes_nothing_new(served):
    market.assets_sync()
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))

    first = sentiment_score_pending_task.delay().get()
    second = sentiment_score_pending_task.delay().get()

    assert first == NewsItem.objects.count() == 36
    assert second == 0
    assert SentimentScore.objects.filter(model_version=served["sentiment"]).count() == 36


def test_the_questionnaire_gets_the_models_opinion_and_a_combined_level(served, bold_answers):
    from nlp.services import risk_profile_assess

    client = ClientFactory(date_of_birth="1985-03-02", **KYC)
    response = advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )

    combined = risk_profile_assess(response_id=response.pk)
    again = risk_profile_assess(response_id=response.pk)

    profile = risk_profile_get(client=client)
    methods = {a.method for a in response.assessments.all()}
    model = response.assessments.get(method=f"risk_profile@{served['risk_profile'].version}")
    assert combined.pk == again.pk  # keyed by (response, method): a rerun rewrites
    assert methods == {"rules-v1", "combined-v1", model.method}
    assert profile.assessment.method == RiskAssessment.COMBINED_METHOD
    assert combined.risk_level <= combined.details["capacity_level"]
    assert set(model.details["attributions"]) >= {"age", "income", "willingness"}
    disagreement = abs(model.risk_level - combined.details["willingness_level"])
    assert ("model_vs_stated" in {f["code"] for f in combined.flags}) == (disagreement >= 3)


def test_without_kyc_data_the_model_waits_and_the_rules_stand(served, bold_answers):
    from nlp.services import risk_profile_assess

    client = ClientFactory()
    response = advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )

    assert risk_profile_assess(response_id=response.pk) is None
    assert risk_profile_get(client=client).assessment.method == RiskAssessment.RULES_METHOD


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_ml_worker_scores_news_end_to_end(served):
    market.assets_sync()
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["ml"]):
            scored = sentiment_score_pending_task.delay().get(timeout=120)
    finally:
        app.conf.task_always_eager = True

    assert scored == 36
    assert ModelVersion.objects.get(name="sentiment").status == "approved"
    assert SentimentScore.objects.count() == 36
