"""Model monitoring: PSI, input drift of the risk model, output drift of sentiment and chat, and
the daily run's reports."""

import logging
import math
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

import numpy as np
import pytest
from django.utils import timezone

from advisor.models import Client, QuestionnaireResponse, User
from nlp import (
    admin_monitoring,  # noqa: F401 - registers the admin pages (nlp/admin.py does too)
    monitoring,
)
from nlp.models import (
    Conversation,
    Escalation,
    Message,
    ModelMonitorReport,
    ModelVersion,
    NewsItem,
    SentimentScore,
)

from ..factories import ClientFactory, UserFactory, admin_login

# --- PSI ----------------------------------------------------------------------------------------


def test_psi_of_a_two_bin_example_matches_the_hand_worked_value() -> None:
    # Expected 50/50, actual 80/20, by hand:
    # (0.8 - 0.5) ln(0.8/0.5) + (0.2 - 0.5) ln(0.2/0.5) = 0.3 * 0.4700036 + 0.3 * 0.9162907
    #                                                  = 0.1410011 + 0.2748872 = 0.4158883
    assert monitoring.psi([0.5, 0.5], [0.8, 0.2]) == pytest.approx(0.4158883, abs=1e-7)
    assert monitoring.psi_status(0.4158883) == "alert"


def test_psi_reads_siddiqis_thresholds() -> None:
    assert [monitoring.psi_status(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501)] == [
        "ok",
        "ok",
        "watch",
        "watch",
        "alert",
    ]


def test_an_empty_bin_gives_a_finite_psi_through_the_floor() -> None:
    # (1e-4 - 0.5) ln(1e-4/0.5) + (1 - 0.5) ln(1/0.5) with the floor at 1e-4
    by_hand = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + 0.5 * math.log(2)
    assert monitoring.psi([0.5, 0.5], [0.0, 1.0]) == pytest.approx(by_hand)


def test_the_monitored_features_are_the_models_inputs_in_order() -> None:
    from nlp.inference.risk_profile import FEATURES

    assert monitoring.RISK_FEATURES == FEATURES


@pytest.fixture(scope="module")
def training() -> np.ndarray:
    return monitoring.training_inputs()


def test_identical_populations_have_zero_psi_on_every_input(training: np.ndarray) -> None:
    drift = monitoring.input_drift(reference=training, live=training.copy())

    assert [f["psi"] for f in drift["features"]] == [0.0] * 9
    assert drift["status"] == "ok"
    assert drift["live_clients"] == drift["reference_rows"] == 4810


def test_the_training_deciles_hold_a_tenth_of_the_rows_each(training: np.ndarray) -> None:
    age = next(
        f
        for f in monitoring.input_drift(reference=training, live=training)["features"]
        if f["feature"] == "age"
    )
    # Ages are whole years, so ties move a decile's share off 0.1 a little, never far.
    assert len(age["expected"]) == 10
    assert all(0.06 < share < 0.14 for share in age["expected"])


def test_a_shifted_live_population_raises_an_alert(training: np.ndarray) -> None:
    # given 600 clients drawn from the training rows, every one then saying they take
    # "substantial" risk (code 1: 5% of the training rows) and 15 years older
    rng = np.random.default_rng(7)
    live = training[rng.choice(len(training), 600, replace=False)].copy()
    column = monitoring.RISK_FEATURES.index
    live[:, column("willingness")] = 1
    live[:, column("age")] += 15

    # when
    drift = monitoring.input_drift(reference=training, live=live)

    # then
    by_name = {f["feature"]: f for f in drift["features"]}
    assert by_name["willingness"]["status"] == "alert"
    assert by_name["age"]["status"] == "alert"
    assert by_name["education"]["status"] == "ok"  # a random sample of the unchanged column
    assert drift["status"] == "alert"


def test_a_small_live_population_is_shown_but_raises_nothing(training: np.ndarray) -> None:
    live = training[:5].copy()
    live[:, monitoring.RISK_FEATURES.index("willingness")] = 1

    drift = monitoring.input_drift(reference=training, live=live)

    assert {f["status"] for f in drift["features"]} == {"too_few"}
    assert drift["features"][7]["psi"] > 0.25


def test_kids_above_two_share_the_last_bin(training: np.ndarray) -> None:
    bins = monitoring.feature_bins("kids", training[:, 3])

    assert bins.labels == ("0", "1", "2", "3+")
    assert bins.counts(np.array([0, 1, 2, 3, 7.0])) == [1, 1, 1, 2]


# --- Output drift -------------------------------------------------------------------------------


def test_label_share_drift_is_found_per_week() -> None:
    expected = [0.3, 0.4, 0.3]  # negative, neutral, positive
    weeks = {
        "2026-W10": Counter(negative=30, neutral=40, positive=30),  # the expected shares
        # (0.1-0.3) ln(0.1/0.3) + 0 + (0.5-0.3) ln(0.5/0.3) = 0.2197225 + 0.1021651 = 0.3218876
        "2026-W11": Counter(negative=10, neutral=40, positive=50),
        "2026-W12": Counter(negative=5),  # too few to judge
    }

    drift = monitoring.label_drift(expected=expected, labels_by_week=weeks)

    rows = {w["week"]: w for w in drift["weeks"]}
    assert rows["2026-W10"]["psi"] == 0.0
    assert rows["2026-W10"]["status"] == "ok"
    assert rows["2026-W11"]["psi"] == pytest.approx(0.3218876, abs=1e-6)
    assert rows["2026-W11"]["status"] == "alert"
    assert rows["2026-W12"]["status"] == "too_few"
    assert drift["status"] == "alert"  # the latest week with enough scores


def test_the_sentiment_reference_is_the_test_sets_label_shares() -> None:
    # nlp/training/data/news_sentences/news_sentences.csv: 246 negative, 489 neutral, 329 positive
    assert monitoring.sentiment_test_shares() == pytest.approx([246 / 1064, 489 / 1064, 329 / 1064])


# --- The daily run ------------------------------------------------------------------------------


def _version(name: str) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name,
        version=1,
        status=ModelVersion.Status.APPROVED,
        weights_path=f"{name}/1",
        weights_sha256="0" * 64,
        data_hash="0" * 64,
    )


@pytest.fixture
def monitored(db):
    """Approved versions of the three models and a week of their use."""
    versions = {name: _version(name) for name in ("sentiment", "risk_profile", "chat_intent")}
    now = timezone.now()
    # 40 news items this week, all read negative: far from the test set's 23/46/31.
    for i in range(40):
        item = NewsItem.objects.create(
            headline=f"Headline {i}", published_at=now - timedelta(minutes=i), fingerprint=f"f{i}"
        )
        SentimentScore.objects.create(
            news_item=item,
            model_version=versions["sentiment"],
            label="negative",
            negative=0.9,
            neutral=0.05,
            positive=0.05,
        )
    # One client with a complete profile and one without: one live input, one skipped.
    complete = cast(
        Client,
        ClientFactory(
            date_of_birth=date(1980, 1, 1),
            education_level="bachelors",
            marital_status="married",
            dependents=1,
            employment_status="employed",
            annual_income=Decimal("90000.00"),
            net_worth=Decimal("250000.00"),
        ),
    )
    for client in (complete, cast(Client, ClientFactory())):
        QuestionnaireResponse.objects.create(
            client=client, version="test", answers={"scf_willingness": "average"}
        )
    # 40 chat replies in 10 conversations: 12 unsure (< 0.5), 2 conversations escalated.
    for c in range(10):
        conversation = Conversation.objects.create(client=complete)
        for _ in range(4):
            Message.objects.create(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                text="reply",
                intent="fees",
                confidence=0.3 if (c < 3) else 0.9,
                model_version=versions["chat_intent"],
            )
        if c < 2:
            Escalation.objects.create(
                conversation=conversation,
                client=complete,
                reason=Escalation.Reason.LOW_CONFIDENCE,
            )
    return versions


def test_the_daily_run_reports_each_approved_version_once_a_day(monitored, caplog) -> None:
    today = timezone.localdate()

    with caplog.at_level(logging.WARNING, logger="nlp.monitoring"):
        first = monitoring.model_monitoring_run(today=today)
    again = monitoring.model_monitoring_run(today=today)

    assert ModelMonitorReport.objects.count() == 3
    assert sorted(r.pk for r in first) == sorted(r.pk for r in again)
    assert [r.metrics for r in first] == [r.metrics for r in again]
    reports = {r.model_version.name: r for r in ModelMonitorReport.objects.all()}
    sentiment = reports["sentiment"]
    assert sentiment.status == "alert"
    assert sentiment.metrics["weeks"][-1]["shares"] == {
        "negative": 1.0,
        "neutral": 0.0,
        "positive": 0.0,
    }
    assert "model monitoring alert" in caplog.text
    risk = reports["risk_profile"].metrics
    assert (risk["live_clients"], risk["skipped_clients"]) == (1, 1)
    assert reports["risk_profile"].status == "ok"  # one client is too few to judge
    chat = reports["chat_intent"].metrics["weeks"][-1]
    assert chat["count"] == 40
    assert chat["unsure_share"] == pytest.approx(12 / 40)  # watch: 0.2 <= 0.3 <= 0.35
    assert chat["escalation_share"] == pytest.approx(2 / 10)  # watch: 0.1 <= 0.2 <= 0.2
    assert chat["mean_confidence"] == pytest.approx((12 * 0.3 + 28 * 0.9) / 40)
    assert reports["chat_intent"].status == "watch"


def test_a_new_day_adds_a_report_and_keeps_the_history(monitored) -> None:
    today = timezone.localdate()
    monitoring.model_monitoring_run(today=today)
    monitoring.model_monitoring_run(today=today + timedelta(days=1))

    sentiment = monitored["sentiment"]
    assert list(sentiment.monitor_reports.values_list("day", flat=True)) == [
        today + timedelta(days=1),
        today,
    ]


def test_retired_versions_are_not_monitored(monitored) -> None:
    ModelVersion.objects.filter(name="sentiment").update(status=ModelVersion.Status.RETIRED)

    reports = monitoring.model_monitoring_run()

    assert sorted(r.model_version.name for r in reports) == ["chat_intent", "risk_profile"]


def test_the_monitoring_page_shows_the_latest_report_and_history(monitored) -> None:
    monitoring.model_monitoring_run()
    admin = cast(User, UserFactory(is_staff=True, is_superuser=True))
    browser = admin_login(admin)

    for name, table in (
        ("risk_profile", "feature-drift"),
        ("sentiment", "label-drift"),
        ("chat_intent", "chat-drift"),
    ):
        page = browser.get(f"/admin/nlp/modelmonitorreport/version/{monitored[name].pk}/")
        assert page.status_code == 200
        assert f'id="{table}"' in page.content.decode()
    alerts = browser.get("/admin/nlp/modelmonitorreport/?status__exact=alert")
    assert alerts.status_code == 200
    assert "sentiment@1" in alerts.content.decode()
