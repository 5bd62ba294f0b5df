"""The risk questionnaire: submissions scored by the rules, the model's opinion recorded beside
them, each final level decided by the suitability policy."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.celery import enqueue_on_commit

from .. import risk, selectors, suitability
from ..exceptions import (
    QuestionnaireInvalid,
)
from ..models import (
    Client,
    QuestionnaireResponse,
    RiskAssessment,
)

logger = logging.getLogger(__name__)

# --- Risk questionnaire ---------------------------------------------------------------------


@dataclass(frozen=True)
class SecondOpinion:
    """Another method's estimate for a response, e.g. the ML risk classifier's."""

    method: str
    risk_level: int
    details: dict[str, Any]


@transaction.atomic
def questionnaire_submit(
    *, client: Client, version: str, answers: object, second_opinions: Iterable[SecondOpinion] = ()
) -> QuestionnaireResponse:
    """Validate answers against their version, store them and the rules-based assessment."""
    try:
        question_set = risk.question_set_get(version)
    except risk.UnknownQuestionnaireVersion as exc:
        raise QuestionnaireInvalid(
            "Invalid input.", code="invalid", extra={"fields": {"version": [str(exc)]}}
        ) from exc
    try:
        cleaned = risk.answers_validate(question_set, answers)
    except risk.AnswersInvalid as exc:
        raise QuestionnaireInvalid(
            "Some answers are invalid.",
            code="invalid",
            extra={"fields": {"answers": exc.field_errors}},
        ) from exc

    response = QuestionnaireResponse.objects.create(
        client=client,
        version=question_set.version,
        answers=cleaned,
        model_opinion=(
            QuestionnaireResponse.ModelOpinion.PENDING
            if settings.RISK_SECOND_OPINION_TASK
            else QuestionnaireResponse.ModelOpinion.UNAVAILABLE
        ),
    )
    score = risk.answers_score(question_set, cleaned)
    decision = replace(score.decision, decided_on=timezone.localdate(response.submitted_at))
    risk_assessment_record(
        response=response,
        method=RiskAssessment.RULES_METHOD,
        risk_level=decision.level,
        willingness_score=score.willingness_score,
        capacity_score=score.capacity_score,
        inconsistent=score.inconsistent,
        flags=flag_rows(decision.flags),
        details={**score.as_details(), "decision": decision.as_details()},
    )
    for opinion in second_opinions:
        risk_assessment_record(
            response=response,
            method=opinion.method,
            risk_level=opinion.risk_level,
            details=opinion.details,
        )
    if settings.RISK_SECOND_OPINION_TASK:
        # The ml worker adds the risk model's opinion once this transaction has committed; a
        # broker outage must not fail the submission: the rules stand alone until it catches up.
        enqueue_on_commit(settings.RISK_SECOND_OPINION_TASK, response_id=response.pk)
    if settings.SUITABILITY_STRESS_CAP_TASK:
        # portfolios holds the levels' worst stress losses: it re-decides the new level with the
        # stress cap once this transaction has committed (the nightly figures do it again).
        enqueue_on_commit(settings.SUITABILITY_STRESS_CAP_TASK, client_ids=[client.pk])
    logger.info(
        "questionnaire submitted",
        extra={"client_id": client.pk, "response_id": response.pk, "version": version},
    )
    return response


def risk_assessment_record(
    *,
    response: QuestionnaireResponse,
    method: str,
    risk_level: int,
    willingness_score: int | None = None,
    capacity_score: int | None = None,
    inconsistent: bool = False,
    flags: list[dict[str, str]] | None = None,
    details: dict[str, Any] | None = None,
) -> RiskAssessment:
    """Store one method's estimate for a response; rerunning the same method replaces it."""
    assessment = RiskAssessment.objects.filter(response=response, method=method).first()
    assessment = assessment or RiskAssessment(response=response, method=method)
    assessment.risk_level = risk_level
    assessment.willingness_score = willingness_score
    assessment.capacity_score = capacity_score
    assessment.inconsistent = inconsistent
    assessment.flags = flags or []
    assessment.details = details or {}
    assessment.full_clean()
    assessment.save()
    return assessment


def flag_rows(flags: Iterable[suitability.Flag]) -> list[dict[str, str]]:
    return [{"code": f.code, "message": f.message} for f in flags]


@transaction.atomic
def risk_model_opinion_record(
    *,
    response: QuestionnaireResponse,
    method: str,
    model: str,
    model_level: int,
    details: dict[str, Any],
    model_confident: bool = True,
) -> RiskAssessment:
    """Store the risk model's opinion (`method`, by the version labelled `model`) and the final
    level the suitability policy decides with it (the model can only lower the rules' level or
    flag it for an advisor; a low-confidence opinion also asks an advisor to review), and mark
    the opinion done.

    All or nothing, so a worker killed midway leaves the response pending with nothing
    half-written. Keyed by (response, method): a rerun rewrites the same rows."""
    rules = response.assessments.get(method=RiskAssessment.RULES_METHOD)
    ruled = selectors.assessment_decision(rules)
    decision = model_opinion_decide(
        willingness_level=ruled.willingness_level or rules.risk_level,
        capacity_level=ruled.capacity_level or rules.risk_level,
        model_level=model_level,
        model_confident=model_confident,
        model_levels=(details.get("level_low"), details.get("level_high")),
        flags=ruled.flags,
        decided_on=timezone.localdate(),
        stress=ruled.stress,  # the stress cap the rules' decision was made under still holds
    )
    risk_assessment_record(
        response=response, method=method, risk_level=model_level, details=details
    )
    rules_details = {k: v for k, v in rules.details.items() if k != "decision"}
    assessment = risk_assessment_record(
        response=response,
        method=RiskAssessment.COMBINED_METHOD,
        risk_level=decision.level,
        willingness_score=rules.willingness_score,
        capacity_score=rules.capacity_score,
        inconsistent=bool(decision.open_flags),
        flags=flag_rows(decision.flags),
        details={
            **rules_details,
            "risk_level": decision.level,
            "model_level": model_level,
            "model_confidence": "high" if model_confident else "low",
            "model": model,
            "rule": suitability.RULE,
            "decision": decision.as_details(),
        },
    )
    model_opinion_mark(
        response_id=response.pk,
        status=QuestionnaireResponse.ModelOpinion.DONE,
        detail=model,
    )
    return assessment


MODEL_LOW_CONFIDENCE = "model_low_confidence"


def model_opinion_decide(
    *,
    willingness_level: int,
    capacity_level: int,
    model_level: int,
    model_confident: bool,
    model_levels: tuple[int | None, int | None] = (None, None),
    flags: Iterable[suitability.Flag] = (),
    decided_on: date | None = None,
    stress: suitability.StressCap | None = None,
) -> suitability.Decision:
    """The suitability policy's decision with the model's level, plus a review flag when the
    model is unsure (its 80% interval spans many levels).

    Low confidence changes only the flags, never the level: the model's level still only pulls
    the rules' level down, as a confident one would. Dropping an unsure model's opinion instead
    would give back a level it had lowered, i.e. raise it, and uncertainty must never do that."""
    decision = suitability.decide(
        willingness_level=willingness_level,
        capacity_level=capacity_level,
        model_level=model_level,
        flags=flags,
        decided_on=decided_on,
        stress=stress,
    )
    if model_confident or any(f.code == MODEL_LOW_CONFIDENCE for f in decision.flags):
        return decision
    low, high = model_levels
    spread = f" (its 80% interval spans levels {low} to {high})" if low and high else ""
    flag = suitability.Flag(
        code=MODEL_LOW_CONFIDENCE,
        message=f"The risk model is unsure of this client's level{spread}: its level {model_level} "
        "is a weak signal, worth an advisor's review with the client.",
    )
    return replace(decision, flags=(*decision.flags, flag))


def model_opinion_mark(*, response_id: int, status: str, detail: str = "") -> None:
    """Say where the risk model's opinion on a response stands (shown to client and advisor)."""
    QuestionnaireResponse.objects.filter(pk=response_id).update(
        model_opinion=status, model_opinion_detail=detail[:255]
    )
