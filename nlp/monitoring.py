"""Model monitoring: input and output drift of each approved model version, stored once a day.

Population stability index (Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 8 "System
stability report"): with a reference (expected) share e_i and a live (actual) share a_i of bin i,

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

A bin that is empty on either side would make the logarithm infinite, so every share is floored at
`PSI_FLOOR` (0.0001, the usual practice) first. Siddiqi's reading, used as thresholds here:
PSI < 0.1 stable (ok), 0.1-0.25 some change (watch), > 0.25 a significant shift (alert).

What is compared, per model name:
- risk_profile (input drift): each of its nine inputs, live clients (the inputs
  `nlp.services.risk_features` builds from each client's latest questionnaire response, exactly as
  the model sees them) against the shipped SCF extract it is trained on (every row of
  `nlp/training/data/scf_risk_tolerance/InputData.csv`, as training weights them). Bins: age,
  income and net worth at the deciles of the training data (10 bins, fewer where deciles tie, the
  outer two open-ended); kids 0, 1, 2, 3 or more; every coded input (education, married, life
  cycle, occupation, willingness) one bin per SCF code. The report's status is the worst feature's.
- sentiment (output drift): the share of each label per ISO week of the news items' publication,
  from `SentimentScore` rows of the version, against the label shares of its test set
  (`nlp/training/data/news_sentences/news_sentences.csv`); one PSI over the three labels per week.
- chat_intent (output drift): per ISO week of the reply, the mean confidence of the version's
  replies (fallbacks excluded), the share of unsure ones (below `CHAT_CONFIDENCE_THRESHOLD`) and
  the share of the conversations it answered that were escalated to an advisor that week; no
  training-time reference exists for these, so the thresholds are absolute (settings below).

A week, or a live population, with fewer than `NLP_MONITOR_MIN_COUNT` rows is shown but marked
"too_few" and raises nothing. The weekly models' status is that of the latest week with enough
rows. A report is kept per version and day (a rerun that day replaces it); an alert is logged as a
warning and listed in the admin (Model monitor reports, filtered by status)."""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from advisor.models import QuestionnaireResponse

from .exceptions import FeaturesIncomplete
from .models import Escalation, Message, ModelMonitorReport, ModelVersion, SentimentScore
from .registry import MODEL_NAMES

logger = logging.getLogger(__name__)

PSI_FLOOR = 1e-4
PSI_WATCH = 0.1  # from here: watch
PSI_ALERT = 0.25  # above this: alert
OK, WATCH, ALERT, TOO_FEW = "ok", "watch", "alert", "too_few"
_RANK = {OK: 0, TOO_FEW: 0, WATCH: 1, ALERT: 2}

# The risk model's inputs, in its FEATURES order (nlp.inference.risk_profile, which imports
# torch; tests check the two agree).
RISK_FEATURES = (
    "age",
    "education",
    "married",
    "kids",
    "life_cycle",
    "occupation",
    "income",
    "willingness",
    "net_worth",
)
DECILE_FEATURES = frozenset({"age", "income", "net_worth"})
CODED_FEATURES: dict[str, tuple[int, ...]] = {
    "education": (1, 2, 3, 4),
    "married": (1, 2),
    "kids": (0, 1, 2, 3),  # the last is "3 or more"
    "life_cycle": (1, 2, 3, 4, 5, 6),
    "occupation": (1, 2, 3, 4),
    "willingness": (1, 2, 3, 4),
}
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SENTIMENT_TEST_CSV = (
    Path(__file__).parent / "training" / "data" / "news_sentences" / "news_sentences.csv"
)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def min_count() -> int:
    return int(_setting("NLP_MONITOR_MIN_COUNT", 30))


def weeks_shown() -> int:
    return int(_setting("NLP_MONITOR_WEEKS", 8))


# --- PSI ------------------------------------------------------------------------------------


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two share vectors over the same bins (each sums to 1)."""
    if len(expected) != len(actual):
        raise ValueError("expected and actual shares need the same bins.")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def psi_status(value: float) -> str:
    if value > PSI_ALERT:
        return ALERT
    if value >= PSI_WATCH:
        return WATCH
    return OK


def shares(counts: Iterable[float]) -> list[float]:
    counts = list(counts)
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: _RANK[s], default=OK)


@dataclass(frozen=True)
class Bins:
    """Right-closed bins split at `edges`: bin 0 is (-inf, edges[0]], the last (edges[-1], inf)."""

    edges: tuple[float, ...]
    labels: tuple[str, ...]

    def counts(self, values: np.ndarray) -> list[int]:
        index = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="left")
        return np.bincount(index, minlength=len(self.edges) + 1).tolist()


def feature_bins(feature: str, reference: np.ndarray) -> Bins:
    """The bins of one input: training deciles for age and dollars, one per code otherwise."""
    if feature in CODED_FEATURES:
        codes = CODED_FEATURES[feature]
        names = [str(c) for c in codes]
        if feature == "kids":
            names[-1] = f"{codes[-1]}+"
        return Bins(edges=tuple(c + 0.5 for c in codes[:-1]), labels=tuple(names))
    deciles = np.quantile(reference, np.linspace(0.1, 0.9, 9))
    edges = tuple(float(e) for e in np.unique(deciles))
    bounds = ("-inf", *(f"{e:,.0f}" for e in edges), "inf")
    labels = tuple(f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True))
    return Bins(edges=edges, labels=labels)


def input_drift(*, reference: np.ndarray, live: np.ndarray) -> dict[str, Any]:
    """PSI of each input, live rows against reference rows (both (n, 9) in RISK_FEATURES order)."""
    features: list[dict[str, Any]] = []
    for column, name in enumerate(RISK_FEATURES):
        bins = feature_bins(name, reference[:, column])
        expected = shares(bins.counts(reference[:, column]))
        actual = shares(bins.counts(live[:, column])) if len(live) else [0.0] * len(expected)
        value = psi(expected, actual)
        features.append(
            {
                "feature": name,
                "psi": round(value, 6),
                "status": psi_status(value) if len(live) >= min_count() else TOO_FEW,
                "bins": list(bins.labels),
                "expected": [round(s, 6) for s in expected],
                "actual": [round(s, 6) for s in actual],
            }
        )
    return {
        "live_clients": len(live),
        "reference_rows": len(reference),
        "features": features,
        "status": worst(f["status"] for f in features),
    }


# --- Risk profile: the inputs -------------------------------------------------------------------


def training_inputs() -> np.ndarray:
    """The SCF extract's rows as the model trains on them, in RISK_FEATURES order."""
    from .training.risk_profile import load_dataset  # ml worker: pandas, torch

    return load_dataset().raw


def live_inputs() -> tuple[np.ndarray, int]:
    """Each client's inputs from their latest questionnaire response, as the model sees them
    today; and how many clients were skipped for an incomplete profile."""
    from .services import risk_features  # ml worker: imports the predictor's torch module

    latest = QuestionnaireResponse.objects.filter(client=OuterRef("client")).order_by(
        "-submitted_at", "-id"
    )
    responses = QuestionnaireResponse.objects.filter(
        pk=Subquery(latest.values("pk")[:1])
    ).select_related("client")
    rows, skipped = [], 0
    for response in responses.iterator(chunk_size=500):
        try:
            features = risk_features(response=response)
        except (FeaturesIncomplete, KeyError, ValueError):
            skipped += 1  # an old questionnaire without the SCF question, or a missing KYC field
            continue
        rows.append([float(getattr(features, name)) for name in RISK_FEATURES])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(RISK_FEATURES)), skipped


def risk_profile_metrics(*, reference: np.ndarray | None = None) -> dict[str, Any]:
    live, skipped = live_inputs()
    metrics = input_drift(
        reference=training_inputs() if reference is None else reference, live=live
    )
    metrics["skipped_clients"] = skipped
    return metrics


# --- Weekly outputs ----------------------------------------------------------------------------


def iso_week(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment).date()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def window_start(today: date) -> date:
    """The Monday `weeks_shown() - 1` weeks before this week's."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks_shown() - 1)


def _aware(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _latest_counted(weeks: list[dict[str, Any]]) -> str:
    counted = [w for w in weeks if w["status"] != TOO_FEW]
    return counted[-1]["status"] if counted else OK


def sentiment_test_shares() -> list[float]:
    with SENTIMENT_TEST_CSV.open(newline="") as rows:
        counts = Counter(row["label"] for row in csv.DictReader(rows))
    return shares(counts[label] for label in SENTIMENT_LABELS)


def label_drift(
    *, expected: Sequence[float], labels_by_week: dict[str, Counter[str]]
) -> dict[str, Any]:
    """One PSI per week of the label shares against `expected` (SENTIMENT_LABELS order)."""
    weeks = []
    for week in sorted(labels_by_week):
        counts = labels_by_week[week]
        total = sum(counts.values())
        actual = shares(counts[label] for label in SENTIMENT_LABELS)
        value = psi(expected, actual)
        weeks.append(
            {
                "week": week,
                "count": total,
                "shares": dict(zip(SENTIMENT_LABELS, (round(s, 6) for s in actual), strict=True)),
                "psi": round(value, 6),
                "status": psi_status(value) if total >= min_count() else TOO_FEW,
            }
        )
    return {
        "expected": dict(zip(SENTIMENT_LABELS, (round(s, 6) for s in expected), strict=True)),
        "weeks": weeks,
        "status": _latest_counted(weeks),
    }


def sentiment_metrics(*, version: ModelVersion, since: date, until: date) -> dict[str, Any]:
    """Weeks from `since` up to the day before `until`."""
    by_week: dict[str, Counter[str]] = defaultdict(Counter)
    scores = SentimentScore.objects.filter(
        model_version=version,
        news_item__published_at__gte=_aware(since),
        news_item__published_at__lt=_aware(until),
    ).values_list("news_item__published_at", "label")
    for published_at, label in scores.iterator():
        by_week[iso_week(published_at)][label] += 1
    return label_drift(expected=sentiment_test_shares(), labels_by_week=by_week)


def _rate_status(value: float, *, watch: float, alert: float) -> str:
    if value > alert:
        return ALERT
    if value >= watch:
        return WATCH
    return OK


def chat_metrics(*, version: ModelVersion, since: date, until: date) -> dict[str, Any]:
    """Weeks from `since` up to the day before `until`."""
    threshold = float(settings.CHAT_CONFIDENCE_THRESHOLD)
    unsure_limits = (
        float(_setting("NLP_MONITOR_UNSURE_WATCH", 0.2)),
        float(_setting("NLP_MONITOR_UNSURE_ALERT", 0.35)),
    )
    escalation_limits = (
        float(_setting("NLP_MONITOR_ESCALATION_WATCH", 0.1)),
        float(_setting("NLP_MONITOR_ESCALATION_ALERT", 0.2)),
    )
    confidences: dict[str, list[float]] = defaultdict(list)
    conversations: dict[str, set[int]] = defaultdict(set)
    replies = Message.objects.filter(
        model_version=version,
        role=Message.Role.ASSISTANT,
        fallback=False,
        confidence__isnull=False,
        created_at__gte=_aware(since),
        created_at__lt=_aware(until),
    ).values_list("created_at", "confidence", "conversation_id")
    for created_at, confidence, conversation_id in replies.iterator():
        if confidence is None:
            continue
        week = iso_week(created_at)
        confidences[week].append(confidence)
        conversations[week].add(conversation_id)
    escalated: dict[str, set[int]] = defaultdict(set)
    answered = set().union(*conversations.values()) if conversations else set()
    for created_at, conversation_id in Escalation.objects.filter(
        conversation_id__in=answered, created_at__gte=_aware(since), created_at__lt=_aware(until)
    ).values_list("created_at", "conversation_id"):
        week = iso_week(created_at)
        if conversation_id in conversations.get(week, ()):
            escalated[week].add(conversation_id)
    weeks = []
    for week in sorted(confidences):
        values = confidences[week]
        unsure = sum(1 for c in values if c < threshold) / len(values)
        escalation = len(escalated[week]) / len(conversations[week])
        status = worst(
            (
                _rate_status(unsure, watch=unsure_limits[0], alert=unsure_limits[1]),
                _rate_status(escalation, watch=escalation_limits[0], alert=escalation_limits[1]),
            )
        )
        weeks.append(
            {
                "week": week,
                "count": len(values),
                "mean_confidence": round(sum(values) / len(values), 6),
                "unsure_share": round(unsure, 6),
                "conversations": len(conversations[week]),
                "escalation_share": round(escalation, 6),
                "status": status if len(values) >= min_count() else TOO_FEW,
            }
        )
    return {
        "confidence_threshold": threshold,
        "unsure_limits": list(unsure_limits),
        "escalation_limits": list(escalation_limits),
        "weeks": weeks,
        "status": _latest_counted(weeks),
    }


# --- The daily run ----------------------------------------------------------------------------


@transaction.atomic
def model_monitor_report_store(
    *,
    model_version: ModelVersion,
    day: date,
    period_start: date,
    period_end: date,
    metrics: dict[str, Any],
) -> ModelMonitorReport:
    """Keep one report per version and day: a rerun that day replaces it."""
    status = metrics["status"] if metrics["status"] != TOO_FEW else OK
    report = (
        ModelMonitorReport.objects.select_for_update()
        .filter(model_version=model_version, day=day)
        .first()
    ) or ModelMonitorReport(model_version=model_version, day=day)
    report.period_start = period_start
    report.period_end = period_end
    report.metrics = metrics
    report.status = status
    report.computed_at = timezone.now()
    report.full_clean()
    report.save()
    if status == ModelMonitorReport.Status.ALERT:
        logger.warning(
            "model monitoring alert",
            extra={"model": model_version.label, "day": day.isoformat(), "report_id": report.pk},
        )
    return report


def model_monitoring_run(*, today: date | None = None) -> list[ModelMonitorReport]:
    """Monitor every approved model version for `today` (default: the local date)."""
    today = today or timezone.localdate()
    since, until = window_start(today), today + timedelta(days=1)
    reports = []
    for version in ModelVersion.objects.filter(
        name__in=MODEL_NAMES, status=ModelVersion.Status.APPROVED
    ):
        if version.name == "risk_profile":
            metrics, start = risk_profile_metrics(), today
        elif version.name == "sentiment":
            metrics, start = sentiment_metrics(version=version, since=since, until=until), since
        else:
            metrics, start = chat_metrics(version=version, since=since, until=until), since
        reports.append(
            model_monitor_report_store(
                model_version=version,
                day=today,
                period_start=start,
                period_end=today,
                metrics=metrics,
            )
        )
    return reports
