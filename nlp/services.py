"""Writes of the models side: register and approve model versions; run predictors (on the ml
worker) and hand their results to the rest of Meridian.

Predictors load through `nlp.inference.registry`, imported inside each run so that web
processes, which import this module for the registry writes, never load torch."""

import contextlib
import csv
import functools
import logging
import shutil
import statistics
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from advisor import services as advisor_services
from advisor.models import QuestionnaireResponse, RiskAssessment, User, age_on
from config.celery import enqueue
from config.lifecycle import lifecycle_decide

from .cards import card_build
from .exceptions import FeaturesIncomplete, ModelUnavailable
from .models import ModelVersion, NewsImpact, NewsItem, SentimentScore
from .registry import files_sha256, model_root

logger = logging.getLogger(__name__)

BATCH = 64
# Items one scoring task reads before it queues the next (nlp.tasks): well within its time limit.
SENTIMENT_CHUNK = 512


# --- Model versions ---------------------------------------------------------------------------


class TrainResultLike(Protocol):
    metrics: dict[str, float]
    data_hash: str
    files: list[str]


def staging_dir(name: str) -> Path:
    """An empty folder for `name`'s trainer to write a new model into."""
    path = model_root() / name / "staging"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@transaction.atomic
def version_register(
    *, name: str, trained_in: Path, result: TrainResultLike, quick: bool
) -> ModelVersion:
    """Move a freshly trained model into its version folder and record it as a candidate;
    approve it at once when NLP_AUTO_APPROVE_MODELS says so (the demo default)."""
    latest = ModelVersion.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
    version = latest + 1
    target = model_root() / name / f"v{version}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(str(trained_in), str(target))
    model_version = ModelVersion.objects.create(
        name=name,
        version=version,
        weights_path=str(target.relative_to(model_root())),
        weights_sha256=files_sha256(target),
        data_hash=result.data_hash,
        metrics=result.metrics,
        card=card_build(name=name, metrics=result.metrics, quick=quick),
        quick=quick,
    )
    logger.info("model registered", extra={"model": name, "version": version})
    if settings.NLP_AUTO_APPROVE_MODELS:
        version_decide(model_version=model_version, approve=True, actor=None)
    return model_version


def version_decide(
    *, model_version: ModelVersion, approve: bool, actor: User | None
) -> ModelVersion:
    """Approve a candidate (retiring the served one) or retire it; audited."""
    model_version = lifecycle_decide(
        row=model_version,
        approve=approve,
        actor=actor,
        rejected_status=ModelVersion.Status.RETIRED,
        peers=ModelVersion.objects.filter(name=model_version.name),
        permission="nlp.approve_modelversion",
    )
    if model_version.status == ModelVersion.Status.APPROVED:
        transaction.on_commit(lambda: _catch_up(model_version.name))
    return model_version


def _catch_up(name: str) -> None:
    """A newly served model reads what is waiting: unscored news, or every client's latest
    questionnaire response for a risk opinion from the new version."""
    if name in ("sentiment", "asset_impact"):  # the news scoring task scores both
        enqueue("nlp.sentiment_score_pending")
    elif name == "risk_profile":
        latest = QuestionnaireResponse.objects.order_by(
            "client_id", "-submitted_at", "-id"
        ).values_list("client_id", "id")
        seen: set[int] = set()
        for client_id, response_id in latest:
            if client_id not in seen:
                seen.add(client_id)
                enqueue("nlp.risk_profile_assess", response_id=response_id)


# --- News sentiment ---------------------------------------------------------------------------


def sentiment_score_pending(*, limit: int = SENTIMENT_CHUNK) -> int:
    """Score news items the approved sentiment model has not read yet, then their impact on
    the asset classes they are linked to (news_impact_score_pending). Returns the number of
    items the sentiment model read; raises ModelUnavailable, after the impact scoring, when no
    sentiment model is served."""
    try:
        return _tone_score_pending(limit=limit)
    finally:
        # No impact model yet: its approval queues this task again.
        with contextlib.suppress(ModelUnavailable):
            news_impact_score_pending(limit=limit)


def _tone_score_pending(*, limit: int) -> int:
    """Score news items the approved sentiment model has not read yet, in batches.

    Keyed by (item, model version): a rerun, or a second worker, writes nothing twice."""
    from .inference.registry import get  # torch: loaded in the ml worker only

    version, predictor = get("sentiment")
    pending = list(NewsItem.objects.exclude(scores__model_version=version).order_by("id")[:limit])
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        began = time.perf_counter()
        predictions = predictor.predict([f"{i.headline}. {i.summary}".strip() for i in batch])
        # One upsert per batch: a rerun, or a second worker, replaces rather than duplicates.
        SentimentScore.objects.bulk_create(
            [
                SentimentScore(
                    news_item=item,
                    model_version=version,
                    label=prediction.label,
                    negative=prediction.scores["negative"],
                    neutral=prediction.scores["neutral"],
                    positive=prediction.scores["positive"],
                    scored_at=timezone.now(),
                )
                for item, prediction in zip(batch, predictions, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["news_item", "model_version"],
            update_fields=["label", "negative", "neutral", "positive", "scored_at"],
        )
        logger.info(
            "sentiment scored",
            extra={
                "model": version.label,
                "batch": len(batch),
                "ms": round((time.perf_counter() - began) * 1000),
            },
        )
    return len(pending)


# --- News impact per asset class -------------------------------------------------------------


@functools.cache
def _impact_load(path: str, sha256: str) -> Any:
    # nlp.inference.registry.get() once it knows "asset_impact" (a change outside nlp/services).
    from .inference.device import device_resolve
    from .inference.impact import ImpactPredictor

    if files_sha256(Path(path)) != sha256:
        raise ModelUnavailable(f"asset_impact at {path}: files do not match the registry's sha256.")
    return ImpactPredictor.load(Path(path), device_resolve(settings.NLP_DEVICE))


def impact_served() -> tuple[ModelVersion, Any]:
    """The approved asset_impact version and its predictor, loaded once per process."""
    version = ModelVersion.objects.filter(
        name="asset_impact", status=ModelVersion.Status.APPROVED
    ).first()
    if version is None:
        raise ModelUnavailable("No approved asset_impact model yet: run `manage.py train_models`.")
    folder = model_root() / version.weights_path
    if not folder.is_dir():
        raise ModelUnavailable(f"{version}: its files are missing from NLP_MODEL_DIR.")
    return version, _impact_load(str(folder), version.weights_sha256)


def news_impact_classes(item: NewsItem) -> list[str]:
    """The asset classes an item bears on: those it is linked to and those of its tickers."""
    return sorted(set(item.asset_classes) | {a.asset_class for a in item.assets.all()})


def news_impact_score_pending(*, limit: int = SENTIMENT_CHUNK) -> int:
    """Score the impact of news items the approved asset_impact model has not read yet on each
    asset class they bear on. Items linked to nothing are left alone.

    Keyed by (item, model version, asset class): a rerun, or a second worker, writes nothing
    twice. Returns the number of items read."""
    version, predictor = impact_served()
    pending = list(
        NewsItem.objects.exclude(impacts__model_version=version)
        .filter(~Q(asset_classes=[]) | Q(assets__isnull=False))
        .distinct()
        .prefetch_related("assets")
        .order_by("id")[:limit]
    )
    for start in range(0, len(pending), BATCH):
        began = time.perf_counter()
        pairs = [
            (item, asset_class)
            for item in pending[start : start + BATCH]
            for asset_class in news_impact_classes(item)
        ]
        predictions = predictor.predict_pairs([(c, i.headline) for i, c in pairs])
        NewsImpact.objects.bulk_create(
            [
                NewsImpact(
                    news_item=item,
                    model_version=version,
                    asset_class=asset_class,
                    label=prediction.label,
                    negative=prediction.scores["negative"],
                    neutral=prediction.scores["neutral"],
                    positive=prediction.scores["positive"],
                    scored_at=timezone.now(),
                )
                for (item, asset_class), prediction in zip(pairs, predictions, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["news_item", "model_version", "asset_class"],
            update_fields=["label", "negative", "neutral", "positive", "scored_at"],
        )
        logger.info(
            "impact scored",
            extra={
                "model": version.label,
                "pairs": len(pairs),
                "ms": round((time.perf_counter() - began) * 1000),
            },
        )
    return len(pending)


# --- Risk profile: the model's second opinion -----------------------------------------------

Opinion = QuestionnaireResponse.ModelOpinion

# Meridian's KYC answers in the SCF's codes (the model was trained on the SCF).
EDUCATION_CODES = {
    "no_high_school": 1,
    "high_school": 2,
    "some_college": 3,
    "bachelors": 4,
    "graduate": 4,
}
# SCF OCCAT1 (work status of the head) as the Federal Reserve's summary-extract macro
# (bulletin.macro.txt) defines it: 1 works for someone else; 2 self-employed or partnership;
# 3 retired or disabled, and students, homemakers and others not working aged 65 or older;
# 4 other groups not working (mainly those under 65 and out of the labour force).
OCCUPATION_CODES = {"employed": 1, "self_employed": 2, "retired": 3}
NOT_WORKING = frozenset({"unemployed", "student", "homemaker"})  # 3 from age 65, 4 under 65
OCCUPATION_AGE = 65
# The same macro's labour-force flag, which splits the 55-or-older life-cycle groups into
# "working" (5) and "not working" (6): only the retired, disabled, homemakers and others not
# working are out of it; the unemployed and students count as in the labour force.
IN_LABOUR_FORCE = frozenset({"employed", "self_employed", "unemployed", "student"})
WILLINGNESS_CODES = {"substantial": 1, "above_average": 2, "average": 3, "none": 4}
# The extract's dollars are at 2009 prices (nlp/data/cpi/README.md shows why), so a client's
# dollars are converted with the shipped CPI series before they reach the model.
CPI_FILE = Path(__file__).parent / "data" / "cpi" / "cpi_monthly.csv"
SCF_PRICE_YEAR = 2009


def occupation_code(employment_status: str, age: int) -> int:
    """Meridian's employment status -> SCF OCCAT1 for a head of this age."""
    if employment_status in OCCUPATION_CODES:
        return OCCUPATION_CODES[employment_status]
    if employment_status in NOT_WORKING:
        return 3 if age >= OCCUPATION_AGE else 4
    raise ValueError(f"no SCF work status for employment status {employment_status!r}.")


@functools.cache
def _cpi_by_month() -> dict[tuple[int, int], float]:
    with CPI_FILE.open(newline="") as rows:
        return {
            (int(row["month"][:4]), int(row["month"][5:7])): float(row["cpi"])
            for row in csv.DictReader(rows)
        }


def scf_dollars(amount: Decimal | float, *, on: date) -> float:
    """`amount` dollars of the day `on` at the SCF extract's prices (2009): times CPI(2009
    average) / CPI(the month of `on`); after the series' last month, its last value."""
    cpi = _cpi_by_month()
    month = (on.year, on.month)
    if month < min(cpi):
        raise ValueError(f"the CPI series starts in {min(cpi)}, after {on.isoformat()}.")
    base = statistics.fmean(value for (year, _), value in cpi.items() if year == SCF_PRICE_YEAR)
    return float(amount) * base / cpi[min(month, max(cpi))]


def risk_features(*, response: Any) -> Any:
    """The model's inputs from a client's KYC profile and questionnaire answers.

    Only what the client told us: the SCF's saving and spending-attitude questions, which Meridian
    does not ask, are not model inputs. Age and the dollars' prices are taken as of today."""
    from .inference.risk_profile import RiskFeatures, life_cycle_code

    client = response.client
    needed = (
        "date_of_birth",
        "education_level",
        "marital_status",
        "dependents",
        "employment_status",
        "annual_income",
        "net_worth",
    )
    missing = [f for f in needed if getattr(client, f) in (None, "")]
    if missing:
        raise FeaturesIncomplete(f"missing {', '.join(missing)}")
    today = timezone.localdate()
    age = age_on(client.date_of_birth, today)
    married = client.marital_status == "married"
    working = client.employment_status in IN_LABOUR_FORCE
    return RiskFeatures(
        age=age,
        education=EDUCATION_CODES[client.education_level],
        married=1 if married else 2,
        kids=client.dependents,
        life_cycle=life_cycle_code(
            age=age, married=married, kids=client.dependents, working=working
        ),
        occupation=occupation_code(client.employment_status, age),
        income=scf_dollars(client.annual_income, on=today),
        willingness=WILLINGNESS_CODES[response.answers["scf_willingness"]],
        net_worth=scf_dollars(client.net_worth, on=today),
    )


def risk_profile_assess(*, response_id: int) -> RiskAssessment | None:
    """Run the risk model on a response and hand its level to advisor, which stores it and the
    combined final level beside the rules' assessment (advisor.services.risk_model_opinion_record).

    A rerun rewrites the same rows. The response's `model_opinion` says where this stands.
    Raises ModelUnavailable (after marking the response) when no approved model is served."""
    from .inference.registry import get  # torch: loaded in the ml worker only

    response = QuestionnaireResponse.objects.select_related("client").get(pk=response_id)
    try:
        features = risk_features(response=response)
    except FeaturesIncomplete as exc:
        logger.info("risk model skipped", extra={"response_id": response_id, "reason": str(exc)})
        advisor_services.model_opinion_mark(
            response_id=response_id, status=Opinion.INCOMPLETE_PROFILE, detail=str(exc)
        )
        return None
    try:
        version, predictor = get("risk_profile")
    except ModelUnavailable as exc:
        advisor_services.model_opinion_mark(
            response_id=response_id, status=Opinion.UNAVAILABLE, detail=str(exc)
        )
        raise
    prediction = predictor.predict([features])[0]
    return advisor_services.risk_model_opinion_record(
        response=response,
        method=RiskAssessment.model_method(version.version),
        model=version.label,
        model_level=prediction.level,
        model_confident=prediction.confidence == "high",
        details={
            "tolerance": prediction.tolerance,
            "tolerance_low": prediction.tolerance_low,
            "tolerance_high": prediction.tolerance_high,
            "interval": prediction.interval,
            "level_low": prediction.level_low,
            "level_high": prediction.level_high,
            "confidence": prediction.confidence,
            "baseline_tolerance": prediction.baseline_tolerance,
            "attributions": prediction.attributions,
            "model": version.label,
        },
    )
