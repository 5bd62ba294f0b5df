"""Models trained with --quick, registered, and served: commands, tasks and the questionnaire."""

import io
import json
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.core.management import call_command

from advisor import risk
from advisor import services as advisor_services
from advisor.models import RiskAssessment
from advisor.selectors import risk_profile_get
from advisor.services import questionnaire as questionnaire_services
from config.celery import app
from nlp import news
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
    response.refresh_from_db()
    assert response.model_opinion == "incomplete_profile"
    assert "date_of_birth" in response.model_opinion_detail


def test_the_risk_profile_api_says_where_the_models_opinion_stands(
    served, bold_answers, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    client = ClientFactory(date_of_birth="1985-03-02", **KYC)
    api = APIClient()
    api.force_authenticate(client.user)

    with django_capture_on_commit_callbacks(execute=False):  # the task is queued, not yet run
        submitted = api.post(
            "/api/v1/questionnaire/responses/",
            {"version": risk.CURRENT_VERSION, "answers": bold_answers},
            format="json",
        )
    assert submitted.status_code == 201
    pending = api.get("/api/v1/risk-profile/").json()
    response = client.questionnaire_responses.get()
    from nlp.tasks import risk_profile_assess_task

    risk_profile_assess_task.delay(response_id=response.pk)
    done = api.get("/api/v1/risk-profile/").json()

    assert (pending["model_opinion"], pending["method"]) == ("pending", "rules-v1")
    assert (done["model_opinion"], done["method"]) == ("done", "combined-v1")
    assert done["model_opinion_detail"] == served["risk_profile"].label


def test_without_an_approved_model_the_opinion_is_unavailable(served, bold_answers):
    from nlp.tasks import risk_profile_assess_task

    version = served["risk_profile"]
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.RETIRED)
    loaded._load.cache_clear()
    client = ClientFactory(date_of_birth="1985-03-02", **KYC)
    response = advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )

    assert risk_profile_assess_task.delay(response_id=response.pk).get() is None
    response.refresh_from_db()
    assert response.model_opinion == "unavailable"


def test_a_task_failing_midway_writes_no_half_of_the_opinion_and_is_marked_failed(
    served, bold_answers, monkeypatch
):
    from nlp.tasks import risk_profile_assess_task

    client = ClientFactory(date_of_birth="1985-03-02", **KYC)
    response = advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    record = advisor_services.risk_assessment_record

    def fail_on_the_combined_row(**kwargs):
        if kwargs["method"] == RiskAssessment.COMBINED_METHOD:
            raise RuntimeError("worker lost mid-task")
        return record(**kwargs)

    monkeypatch.setattr(questionnaire_services, "risk_assessment_record", fail_on_the_combined_row)

    with pytest.raises(RuntimeError):
        risk_profile_assess_task.delay(response_id=response.pk)

    response.refresh_from_db()
    assert {a.method for a in response.assessments.all()} == {"rules-v1"}  # model row rolled back
    assert (response.model_opinion, response.model_opinion_detail) == ("failed", "RuntimeError")


def test_a_sentiment_batch_that_fails_keeps_the_batches_before_it_whole(served, monkeypatch):
    from nlp import services

    market.assets_sync()
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))
    monkeypatch.setattr(services, "BATCH", 10)
    _, predictor = loaded.get("sentiment")
    real_predict, calls = predictor.predict, []

    def fail_on_the_third_batch(texts):
        calls.append(len(texts))
        if len(calls) == 3:
            raise RuntimeError("worker lost mid-task")
        return real_predict(texts)

    monkeypatch.setattr(predictor, "predict", fail_on_the_third_batch)
    with pytest.raises(RuntimeError):
        services.sentiment_score_pending()
    monkeypatch.setattr(predictor, "predict", real_predict)
    after_failure = SentimentScore.objects.count()
    rerun = services.sentiment_score_pending()

    assert after_failure == 20  # two whole batches, nothing of the third
    assert rerun == 16
    assert SentimentScore.objects.count() == 36


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_batch_worker_scores_news_end_to_end(served, through_broker):
    market.assets_sync()
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["batch"]):
        pending = sentiment_score_pending_task.delay()
        scored = pending.get(timeout=120)

    assert not isinstance(pending, EagerResult)  # the worker did it, through the broker
    assert scored == 36
    assert ModelVersion.objects.get(name="sentiment").status == "approved"
    assert SentimentScore.objects.count() == 36
