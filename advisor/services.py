"""Writes for clients, auth, the risk questionnaire and goals."""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from knox.settings import knox_settings

from config.celery import enqueue_on_commit

from . import risk, selectors, suitability
from .exceptions import (
    AccountLockedOut,
    AuthenticationFailed,
    QuestionnaireInvalid,
    RiskOverrideConflict,
)
from .models import (
    Client,
    DeviceToken,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
)
from .signals import goal_deleting

logger = logging.getLogger(__name__)

# The profile fields a client fills in during KYC; all must be set for KYC to be complete.
KYC_REQUIRED_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "address_line1",
    "city",
    "postal_code",
    "country",
    "employment_status",
    "annual_income",
    "net_worth",
    "liquid_net_worth",
    "dependents",
    "marital_status",
    "investment_experience",
    "objective",
    "time_horizon",
    "liquidity_needs",
    "tax_id",
)
CLIENT_EDITABLE_FIELDS = frozenset(
    {
        *KYC_REQUIRED_FIELDS,
        "address_line2",
        "region",
        "phone",
        "occupation_category",
        "education_level",
        "tax_filing_status",
    }
)
GOAL_EDITABLE_FIELDS = frozenset(
    {
        "goal_type",
        "name",
        "target_amount",
        "currency",
        "target_date",
        "initial_amount",
        "monthly_contribution",
        "priority",
        "status",
    }
)


# --- Auth -----------------------------------------------------------------------------------


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Self-registration: a client login and an empty client profile to fill in."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["An account with this email already exists."]})
    user = User(email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    client = Client(user=user, first_name=first_name, last_name=last_name)
    client.full_clean()
    client.save()
    logger.info("user registered", extra={"user_id": user.pk, "client_id": client.pk})
    return user


def _credentials_check(*, request: HttpRequest, email: str, password: str) -> User:
    # django-axes watches authenticate(): failures count towards the lockout, and a locked
    # email+IP pair is refused before the password is even checked.
    user = authenticate(request, email=email.strip().lower(), password=password)
    if getattr(request, "axes_locked_out", False):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise AccountLockedOut(
            f"Too many failed login attempts: this account is locked for {minutes} minutes. "
            "Try again later or reset your password.",
            extra={"cooloff_minutes": minutes},
        )
    if user is None or not isinstance(user, User):
        raise AuthenticationFailed("Email or password is incorrect.")
    return user


def session_login(*, request: HttpRequest, email: str, password: str) -> User:
    """Browser login: checks the credentials and starts a session (new CSRF token too)."""
    user = _credentials_check(request=request, email=email, password=password)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    logger.info("session login", extra={"user_id": user.pk})
    return user


def session_logout(*, request: HttpRequest) -> None:
    logout(request)


@transaction.atomic
def device_token_issue(
    *, request: HttpRequest, email: str, password: str, device_name: str = ""
) -> tuple[DeviceToken, str]:
    """Mobile login: a new expiring token for one device. The raw token is shown once."""
    user = _credentials_check(request=request, email=email, password=password)
    now = timezone.now()
    live = DeviceToken.objects.filter(user=user, expiry__gt=now)
    if live.count() >= knox_settings.TOKEN_LIMIT_PER_USER:
        # The oldest device gives way rather than locking the user out of a new phone.
        oldest = live.order_by("created").first()
        if oldest is not None:
            oldest.delete()
    token, raw = DeviceToken.objects.create(
        user=user, expiry=knox_settings.TOKEN_TTL, device_name=device_name
    )
    logger.info("device token issued", extra={"user_id": user.pk})
    return token, raw


def device_token_revoke(
    *, user: User, token_key: str | None = None, current: DeviceToken | None = None
) -> int:
    """Revoke one device's token (by key, or the one making the call). Returns how many went."""
    tokens = DeviceToken.objects.filter(user=user)
    if token_key is not None:
        deleted, _ = tokens.filter(token_key=token_key).delete()
    elif current is not None:
        deleted, _ = tokens.filter(pk=current.pk).delete()
    else:
        deleted = 0
    return deleted


def device_token_revoke_all(*, user: User) -> int:
    deleted, _ = DeviceToken.objects.filter(user=user).delete()
    logger.info("all device tokens revoked", extra={"user_id": user.pk, "count": deleted})
    return deleted


def device_tokens_purge_expired() -> int:
    """Delete expired tokens (knox only deletes one when it is presented)."""
    deleted, _ = DeviceToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


# --- Client profile -------------------------------------------------------------------------


@transaction.atomic
def client_update(*, client: Client, data: dict[str, Any]) -> Client:
    """Update a client's profile/KYC data; completing KYC sets the next review date."""
    unknown = set(data) - CLIENT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    client = Client.objects.select_for_update().get(pk=client.pk)
    for field, value in data.items():
        setattr(client, field, value)
    client.full_clean()
    if all(getattr(client, field) not in (None, "") for field in KYC_REQUIRED_FIELDS):
        now = timezone.now()
        if client.kyc_completed_at is None or set(data) & set(KYC_REQUIRED_FIELDS):
            client.kyc_completed_at = now
            client.kyc_review_due = now.date() + timedelta(days=settings.KYC_REVIEW_INTERVAL_DAYS)
            client.kyc_review_overdue = False
    client.save()
    return client


def kyc_reviews_flag_due(*, today: date | None = None) -> int:
    """Flag clients whose KYC review date has passed, so advisors see them. Idempotent."""
    today = today or timezone.localdate()
    return Client.objects.filter(kyc_review_due__lt=today, kyc_review_overdue=False).update(
        kyc_review_overdue=True
    )


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
        flags=_flag_rows(decision.flags),
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


def _flag_rows(flags: Iterable[suitability.Flag]) -> list[dict[str, str]]:
    return [{"code": f.code, "message": f.message} for f in flags]


@transaction.atomic
def risk_model_opinion_record(
    *,
    response: QuestionnaireResponse,
    method: str,
    model: str,
    model_level: int,
    details: dict[str, Any],
) -> RiskAssessment:
    """Store the risk model's opinion (`method`, by the version labelled `model`) and the final
    level the suitability policy decides with it (the model can only lower the rules' level or
    flag it for an advisor), and mark the opinion done.

    All or nothing, so a worker killed midway leaves the response pending with nothing
    half-written. Keyed by (response, method): a rerun rewrites the same rows."""
    rules = response.assessments.get(method=RiskAssessment.RULES_METHOD)
    ruled = selectors.assessment_decision(rules)
    decision = suitability.decide(
        willingness_level=ruled.willingness_level or rules.risk_level,
        capacity_level=ruled.capacity_level or rules.risk_level,
        model_level=model_level,
        flags=ruled.flags,
        decided_on=timezone.localdate(),
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
        flags=_flag_rows(decision.flags),
        details={
            **rules_details,
            "risk_level": decision.level,
            "model_level": model_level,
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


def model_opinion_mark(*, response_id: int, status: str, detail: str = "") -> None:
    """Say where the risk model's opinion on a response stands (shown to client and advisor)."""
    QuestionnaireResponse.objects.filter(pk=response_id).update(
        model_opinion=status, model_opinion_detail=detail[:255]
    )


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
    )
    return risk_assessment_record(
        response=data.response,
        method=RiskAssessment.OVERRIDE_METHOD,
        risk_level=decision.level,
        willingness_score=reviewed.willingness_score,
        capacity_score=reviewed.capacity_score,
        # Open only if nobody went through them; the flags themselves are kept, never cleared.
        inconsistent=bool(decision.open_flags),
        flags=_flag_rows(decision.flags),
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


# --- Goals ----------------------------------------------------------------------------------


def _goal_date_check(target_date: date) -> None:
    if target_date <= timezone.localdate():
        raise ValidationError({"target_date": ["The target date must be in the future."]})
    if target_date > timezone.localdate() + timedelta(days=365 * 100):
        raise ValidationError({"target_date": ["The target date must be within 100 years."]})


@transaction.atomic
def goal_create(*, client: Client, **fields: Any) -> Goal:
    """A new goal for a client; its date must lie in the future."""
    unknown = set(fields) - GOAL_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: ["Unknown field."] for field in unknown})
    if "target_date" in fields:
        _goal_date_check(fields["target_date"])
    goal = Goal(client=client, **fields)
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, data: dict[str, Any]) -> Goal:
    """Change a goal; a changed target date must still lie in the future."""
    unknown = set(data) - GOAL_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if "target_date" in data and data["target_date"] != goal.target_date:
        _goal_date_check(data["target_date"])
    for field, value in data.items():
        setattr(goal, field, value)
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_delete(*, goal: Goal) -> None:
    """Delete a goal; its account goes with it only if no money ever moved in it."""
    goal_deleting.send(sender=Goal, goal=goal)
    goal.delete()


# --- Advisors -------------------------------------------------------------------------------

ADVISOR_GROUP = "Advisors"
ADVISOR_PERMISSIONS = (
    ("advisor", "client", ("view", "change")),
    ("advisor", "goal", ("view", "change")),
    ("advisor", "questionnaireresponse", ("view",)),
    ("advisor", "riskassessment", ("view",)),
    ("advisor", "riskoverriderequest", ("view",)),
    ("portfolios", "account", ("view",)),
    ("portfolios", "transaction", ("view",)),
    ("portfolios", "modelportfolioset", ("view", "change")),
    ("portfolios", "asset", ("view",)),
    ("portfolios", "rebalanceproposal", ("view", "change")),
    ("nlp", "newsitem", ("view", "add")),
    ("nlp", "conversation", ("view",)),
    ("nlp", "message", ("view",)),
    ("nlp", "escalation", ("view", "change")),
)


def advisor_group_ensure() -> Any:
    """The admin permissions every advisor has; their rows are still scoped to their book."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=ADVISOR_GROUP)
    wanted = Q()
    for app_label, model, actions in ADVISOR_PERMISSIONS:
        for action in actions:
            wanted |= Q(content_type__app_label=app_label, codename=f"{action}_{model}")
    group.permissions.set(Permission.objects.filter(wanted))
    return group


@transaction.atomic
def advisor_create(
    *, email: str, password: str | None, first_name: str = "", last_name: str = ""
) -> User:
    """A staff login in the Advisors group; clients are assigned to its book separately."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name, is_staff=True
    )
    user.groups.add(advisor_group_ensure())
    return user


@transaction.atomic
def client_assign_advisor(*, client: Client, advisor: User | None) -> Client:
    if advisor is not None and not advisor.is_staff:
        raise ValidationError({"advisor": ["Only staff users can hold a book of clients."]})
    client.advisor = advisor
    client.full_clean()
    client.save(update_fields=["advisor", "updated_at"])
    return client
