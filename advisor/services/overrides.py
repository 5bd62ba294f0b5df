"""Advisors' overrides of a client's risk level: within capacity with a reason, above capacity
only with a second person's approval (four-eyes); both audited."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import selectors, suitability
from ..exceptions import (
    RiskOverrideConflict,
)
from ..models import (
    Client,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
)
from .questionnaire import flag_rows, risk_assessment_record

logger = logging.getLogger(__name__)

OVERRIDE_REASON_MAX_LENGTH = 1000


@contextmanager
def _audit_actor(actor: User) -> Iterator[None]:
    """Attribute audit log entries to `actor`, also outside a request (shell, tasks).

    auditlog's set_actor does not restore an enclosing context (the admin's middleware has one)
    when it exits, so the enclosing one is put back here and keeps its actor and address."""
    enclosing = auditlog_value.get(None)
    try:
        with set_actor(
            actor,
            remote_addr=enclosing.get("remote_addr") if enclosing else None,
            remote_port=enclosing.get("remote_port") if enclosing else None,
        ):
            yield
    finally:
        if enclosing is not None:
            auditlog_value.set(enclosing)


def _override_allowed(*, client: Client, actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only advisors can override a risk level.")
    if not actor.is_superuser and client.advisor_id != actor.pk:
        raise PermissionDenied("This client is not in your book.")


@dataclass(frozen=True)
class _OverrideInput:
    response: QuestionnaireResponse
    reviewed: RiskAssessment  # the latest estimate without any override: what the advisor saw
    decision: suitability.Decision  # the policy's decision behind it
    reason: str
    flags_reviewed: bool


def _override_input(
    *, client: Client, level: object, reason: object, flags_reviewed: bool, above_capacity: bool
) -> _OverrideInput:
    """Validate an override (or a request for one) against the client's latest response,
    reporting every problem at once as field errors."""
    errors: dict[str, list[str]] = {}
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
        errors["level"] = ["The risk level must be a whole number from 1 to 10."]
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = ["Give the reason for the override."]
    elif len(reason) > OVERRIDE_REASON_MAX_LENGTH:
        errors["reason"] = [f"Keep the reason under {OVERRIDE_REASON_MAX_LENGTH} characters."]
    response = (
        QuestionnaireResponse.objects.select_for_update()
        .filter(client=client)
        .order_by("-submitted_at", "-id")
        .first()
    )
    if response is None:
        errors["client"] = ["The client has not answered the risk questionnaire yet."]
        raise ValidationError(errors)
    reviewed = selectors.final_assessment(
        a for a in response.assessments.all() if a.method != RiskAssessment.OVERRIDE_METHOD
    )
    decision = selectors.assessment_decision(reviewed)
    capacity = decision.capacity_level or reviewed.risk_level
    if "level" not in errors and isinstance(level, int):
        if not above_capacity and level > capacity:
            errors["level"] = [
                f"Level {level} is above this client's capacity level ({capacity}). An override "
                "above capacity needs a second person's approval: send it as a request for "
                "compliance approval."
            ]
        elif above_capacity and level <= capacity:
            errors["level"] = [
                f"Level {level} is within this client's capacity level ({capacity}): override "
                "it directly, no approval needed."
            ]
    if decision.flags and not flags_reviewed:
        codes = ", ".join(f.code for f in decision.flags)
        errors["flags_reviewed"] = [
            f"This profile has {len(decision.flags)} flag(s) ({codes}): confirm you went "
            "through them with the client."
        ]
    if errors:
        raise ValidationError(errors)
    return _OverrideInput(
        response=response,
        reviewed=reviewed,
        decision=decision,
        reason=reason,
        flags_reviewed=flags_reviewed and bool(decision.flags),
    )


def _role(*, client: Client, user: User) -> suitability.Role:
    return "advisor" if client.advisor_id == user.pk else "staff"


def _override_record(
    *,
    data: _OverrideInput,
    override: suitability.Override,
    previous: RiskAssessment,
    extra: dict[str, Any],
) -> RiskAssessment:
    """Store an override decided by the policy; the flags it reviewed stay on the row."""
    reviewed, ruled = data.reviewed, data.decision
    decision = suitability.decide(
        willingness_level=ruled.willingness_level or reviewed.risk_level,
        capacity_level=ruled.capacity_level or reviewed.risk_level,
        model_level=ruled.model_level,
        override=override,
        flags=ruled.flags,
        decided_on=timezone.localdate(),
        stress=ruled.stress,  # the override is judged against the same stress cap
    )
    return risk_assessment_record(
        response=data.response,
        method=RiskAssessment.OVERRIDE_METHOD,
        risk_level=decision.level,
        willingness_score=reviewed.willingness_score,
        capacity_score=reviewed.capacity_score,
        # Open only if nobody went through them; the flags themselves are kept, never cleared.
        inconsistent=bool(decision.open_flags),
        flags=flag_rows(decision.flags),
        details={
            "reason": override.reason,
            "previous_level": previous.risk_level,
            "previous_method": previous.method,
            "willingness_level": decision.willingness_level,
            "capacity_level": decision.capacity_level,
            "reviewed_flags": reviewed.flags,
            "flags_reviewed": decision.flags_reviewed,
            **extra,
            "decision": decision.as_details(),
        },
    )


@transaction.atomic
def risk_level_override(
    *, client: Client, level: int, reason: str, actor: User, flags_reviewed: bool = False
) -> RiskAssessment:
    """An advisor sets a client's risk level within 1..capacity, giving a reason; it beats the
    rules and the risk model (goal targets follow) until the client answers the questionnaire
    again. Open flags must be confirmed as gone through, and stay on the record. Audited.
    Above capacity, see risk_override_request_create (four-eyes)."""
    _override_allowed(client=client, actor=actor)
    data = _override_input(
        client=client,
        level=level,
        reason=reason,
        flags_reviewed=flags_reviewed,
        above_capacity=False,
    )
    previous = selectors.final_assessment(data.response.assessments.all())
    override = suitability.Override(
        level=level,
        reason=data.reason,
        set_by=suitability.person_name(actor.first_name, actor.last_name),
        set_by_role=_role(client=client, user=actor),
        set_on=timezone.localdate(),
        flags_reviewed=data.flags_reviewed,
    )
    with _audit_actor(actor):
        assessment = _override_record(
            data=data, override=override, previous=previous, extra={"overridden_by": actor.email}
        )
    logger.info(
        "risk level overridden",
        extra={"client_id": client.pk, "response_id": data.response.pk, "actor_id": actor.pk},
    )
    return assessment


@transaction.atomic
def risk_override_request_create(
    *, client: Client, level: int, reason: str, actor: User, flags_reviewed: bool = False
) -> RiskOverrideRequest:
    """An advisor asks to set a client's level above their capacity level; it takes effect only
    once a second person with the compliance permission approves it. A newer request on the
    same response withdraws the pending one. Audited."""
    _override_allowed(client=client, actor=actor)
    data = _override_input(
        client=client,
        level=level,
        reason=reason,
        flags_reviewed=flags_reviewed,
        above_capacity=True,
    )
    now = timezone.now()
    with _audit_actor(actor):
        pending = RiskOverrideRequest.objects.select_for_update().filter(
            response=data.response, status=RiskOverrideRequest.Status.PENDING
        )
        for earlier in pending.order_by("pk"):
            earlier.status = RiskOverrideRequest.Status.WITHDRAWN
            earlier.decided_by = actor
            earlier.decided_at = now
            earlier.decision_note = "Replaced by a newer request."
            earlier.full_clean()
            earlier.save()
        request = RiskOverrideRequest(
            response=data.response,
            level=level,
            capacity_level=data.decision.capacity_level or data.reviewed.risk_level,
            reason=data.reason,
            flags_reviewed=data.flags_reviewed,
            requested_by=actor,
            requested_at=now,
        )
        request.full_clean()
        request.save()
    logger.info(
        "risk override above capacity requested",
        extra={"client_id": client.pk, "request_id": request.pk, "actor_id": actor.pk},
    )
    return request


def _decision_allowed(*, override_request: RiskOverrideRequest, actor: User) -> None:
    if not actor.is_staff or not actor.has_perm(RiskOverrideRequest.APPROVE_PERMISSION):
        raise PermissionDenied(
            "Deciding on an override above capacity needs the compliance permission."
        )
    if override_request.status != RiskOverrideRequest.Status.PENDING:
        raise RiskOverrideConflict(
            f"This request is already {override_request.get_status_display().lower()}.",
            code="override_request_decided",
        )


def _decision_note(note: object) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > OVERRIDE_REASON_MAX_LENGTH:
        raise ValidationError(
            {"note": [f"Keep the note under {OVERRIDE_REASON_MAX_LENGTH} characters."]}
        )
    return note


@transaction.atomic
def risk_override_request_approve(
    *, override_request: RiskOverrideRequest, actor: User, note: str = ""
) -> RiskAssessment:
    """The second person (compliance permission, not the requester) approves an override above
    capacity: it takes effect at once, naming both people. Refused (409) once decided or when
    the client has answered the questionnaire again since. Audited."""
    note = _decision_note(note)
    request = (
        RiskOverrideRequest.objects.select_for_update()
        .select_related("response__client", "requested_by")
        .get(pk=override_request.pk)
    )
    _decision_allowed(override_request=request, actor=actor)
    if request.requested_by_id == actor.pk:
        raise PermissionDenied("Four eyes: someone other than the requester must approve it.")
    client = request.response.client
    latest = QuestionnaireResponse.objects.filter(client=client).order_by("-submitted_at", "-id")
    if latest.values_list("pk", flat=True).first() != request.response_id:
        raise RiskOverrideConflict(
            "The client has answered the questionnaire again since this request was made, so "
            "it no longer applies. Ask the advisor for a new request if it still should.",
            code="override_request_stale",
        )
    try:
        data = _override_input(
            client=client,
            level=request.level,
            reason=request.reason,
            flags_reviewed=request.flags_reviewed,
            above_capacity=True,
        )
    except ValidationError as exc:  # e.g. the risk model raised a flag the requester never saw
        raise RiskOverrideConflict(
            "The client's profile changed since this request was made: "
            + " ".join(m for messages in exc.message_dict.values() for m in messages)
            + " Ask the advisor for a new request.",
            code="override_request_stale",
        ) from exc
    requester = request.requested_by
    previous = selectors.final_assessment(data.response.assessments.all())
    override = suitability.Override(
        level=request.level,
        reason=request.reason,
        set_by=suitability.person_name(requester.first_name, requester.last_name),
        set_by_role=_role(client=client, user=requester),
        set_on=timezone.localdate(request.requested_at),
        approved_by=suitability.person_name(actor.first_name, actor.last_name) or actor.email,
        approved_on=timezone.localdate(),
        flags_reviewed=data.flags_reviewed,
    )
    with _audit_actor(actor):
        request.status = RiskOverrideRequest.Status.APPROVED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = note
        request.full_clean()
        request.save()
        assessment = _override_record(
            data=data,
            override=override,
            previous=previous,
            extra={
                "overridden_by": requester.email,
                "approved_by": actor.email,
                "override_request_id": request.pk,
            },
        )
    logger.info(
        "risk override above capacity approved",
        extra={"client_id": client.pk, "request_id": request.pk, "actor_id": actor.pk},
    )
    return assessment


@transaction.atomic
def risk_override_request_reject(
    *, override_request: RiskOverrideRequest, actor: User, note: str = ""
) -> RiskOverrideRequest:
    """A person with the compliance permission turns an override above capacity down; the
    client's level stays as it is. Audited."""
    note = _decision_note(note)
    request = RiskOverrideRequest.objects.select_for_update().get(pk=override_request.pk)
    _decision_allowed(override_request=request, actor=actor)
    with _audit_actor(actor):
        request.status = RiskOverrideRequest.Status.REJECTED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = note
        request.full_clean()
        request.save()
    logger.info(
        "risk override above capacity rejected",
        extra={"request_id": request.pk, "actor_id": actor.pk},
    )
    return request
