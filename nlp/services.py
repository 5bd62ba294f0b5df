"""Run predictors and hand their results to the rest of Meridian (ml worker side)."""

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from advisor import services as advisor_services
from advisor.models import QuestionnaireResponse, RiskAssessment

from .models import NewsItem, SentimentScore

logger = logging.getLogger(__name__)

BATCH = 64


def sentiment_score_pending(*, limit: int = 512) -> int:
    """Score news items the approved sentiment model has not read yet, in batches.

    Keyed by (item, model version): a rerun, or a second worker, writes nothing twice."""
    from .inference.registry import get

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


# --- Risk profile: the model's second opinion -----------------------------------------------

MODEL_DISAGREEMENT_LEVELS = 3
COMBINED_METHOD = RiskAssessment.COMBINED_METHOD
Opinion = QuestionnaireResponse.ModelOpinion

# Meridian's KYC answers in the SCF's codes (the model was trained on the SCF).
EDUCATION_CODES = {
    "no_high_school": 1,
    "high_school": 2,
    "some_college": 3,
    "bachelors": 4,
    "graduate": 4,
}
# SCF OCCAT1 (work status of the head): 1 employee, 2 self-employed or partner, 3 retired or not
# working, 4 other.
OCCUPATION_CODES = {
    "employed": 1,
    "self_employed": 2,
    "retired": 3,
    "unemployed": 3,
    "homemaker": 3,
    "student": 4,
}
WILLINGNESS_CODES = {"substantial": 1, "above_average": 2, "average": 3, "none": 4}
WORKING = {"employed", "self_employed"}


class FeaturesIncomplete(ValueError):
    """The profile lacks what the model needs; the message names the fields."""


def risk_features(*, response: Any) -> Any:
    """The model's inputs from a client's KYC profile and questionnaire answers.

    The SCF asks two things Meridian does not: whether the household saved last year (taken
    from the emergency-reserves answer: three months or more counts as saving) and its attitude
    to spending more (the survey's middle answer, 3, for everyone)."""
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
    born = client.date_of_birth
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    married = client.marital_status == "married"
    working = client.employment_status in WORKING
    occupation = OCCUPATION_CODES[client.employment_status]
    reserves = response.answers.get("emergency_reserves", "")
    return RiskFeatures(
        age=age,
        education=EDUCATION_CODES[client.education_level],
        married=1 if married else 2,
        kids=client.dependents,
        life_cycle=life_cycle_code(
            age=age, married=married, kids=client.dependents, working=working
        ),
        occupation=occupation,
        income=float(client.annual_income),
        willingness=WILLINGNESS_CODES[response.answers["scf_willingness"]],
        saving=3 if reserves in ("3_to_5", "6_or_more", "over_6") else 2,
        spend_more=3,
        net_worth=float(client.net_worth),
    )


def risk_profile_assess(*, response_id: int) -> RiskAssessment | None:
    """Add the model's opinion and the combined final level beside the rules' assessment.

    Final level = the mean of the model's level and the stated willingness level, capped by the
    capacity level; a 3-level disagreement between model and stated answers is flagged for the
    advisor. Keyed by (response, method): a rerun rewrites the same rows. The response's
    `model_opinion` says where this stands; the rows and that status commit together, so a
    worker killed midway leaves the response pending with nothing half-written.

    Raises ModelUnavailable (after marking the response) when no approved model is served."""
    from .inference.registry import ModelUnavailable, get

    response = QuestionnaireResponse.objects.select_related("client").get(pk=response_id)
    rules = response.assessments.get(method=RiskAssessment.RULES_METHOD)
    try:
        features = risk_features(response=response)
    except FeaturesIncomplete as exc:
        logger.info("risk model skipped", extra={"response_id": response_id, "reason": str(exc)})
        model_opinion_mark(response_id, Opinion.INCOMPLETE_PROFILE, str(exc))
        return None
    try:
        version, predictor = get("risk_profile")
    except ModelUnavailable as exc:
        model_opinion_mark(response_id, Opinion.UNAVAILABLE, str(exc))
        raise
    prediction = predictor.predict([features])[0]
    method = f"risk_profile@{version.version}"
    willing = rules.details.get("willingness_level", rules.risk_level)
    able = rules.details.get("capacity_level", rules.risk_level)
    combined = min(able, max(1, round((prediction.level + willing) / 2)))
    flags = list(rules.flags)
    if abs(prediction.level - willing) >= MODEL_DISAGREEMENT_LEVELS:
        flags.append(
            {
                "code": "model_vs_stated",
                "message": f"The risk model puts this client at level {prediction.level}, "
                f"{abs(prediction.level - willing)} levels from their stated willingness "
                f"({willing}): worth an advisor's review.",
            }
        )
    with transaction.atomic():
        advisor_services.risk_assessment_record(
            response=response,
            method=method,
            risk_level=prediction.level,
            details={
                "tolerance": prediction.tolerance,
                "baseline_tolerance": prediction.baseline_tolerance,
                "attributions": prediction.attributions,
                "model": version.label,
            },
        )
        assessment = advisor_services.risk_assessment_record(
            response=response,
            method=COMBINED_METHOD,
            risk_level=combined,
            willingness_score=rules.willingness_score,
            capacity_score=rules.capacity_score,
            inconsistent=bool(flags),
            flags=flags,
            details={
                **rules.details,
                "model_level": prediction.level,
                "model": version.label,
                "rule": "min(capacity level, round((model level + willingness level) / 2))",
            },
        )
        model_opinion_mark(response_id, Opinion.DONE, version.label)
    return assessment


def model_opinion_mark(response_id: int, status: str, detail: str = "") -> None:
    QuestionnaireResponse.objects.filter(pk=response_id).update(
        model_opinion=status, model_opinion_detail=detail[:255]
    )
