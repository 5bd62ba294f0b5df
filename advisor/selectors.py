"""Reads, always scoped to what the asking user may see."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from config.errors import NotFound

from . import suitability
from .models import (
    Client,
    Goal,
    Notification,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
)


def clients_visible_to(user: User) -> QuerySet[Client]:
    """Admins see every client, an advisor their book, a client only themself."""
    clients = Client.objects.select_related("user", "advisor")
    if user.is_superuser:
        return clients
    if user.is_staff:
        return clients.filter(advisor=user)
    return clients.filter(user=user)


def clients_in_reach(user: User) -> QuerySet[Client]:
    """What a staff member works on: their book and the firm queue, the clients no advisor has
    yet (see the assignment rule in advisor.services.clients), so that nothing of theirs goes
    unseen. Admins: every client; anyone else: as clients_visible_to."""
    if user.is_staff and not user.is_superuser:
        return Client.objects.select_related("user", "advisor").filter(
            Q(advisor=user) | Q(advisor__isnull=True)
        )
    return clients_visible_to(user)


def client_of_user(user: User) -> Client:
    """The client profile of a logged-in client (advisors without one get a 404)."""
    try:
        return Client.objects.select_related("user").get(user=user)
    except Client.DoesNotExist as exc:
        raise NotFound from exc  # this login has no client profile (staff)


# Which assessment of a response is final, first match wins: an advisor's override, else the
# rules and risk model combined (once the model has spoken), else the rules alone.
FINAL_METHODS = (
    RiskAssessment.OVERRIDE_METHOD,
    RiskAssessment.COMBINED_METHOD,
    RiskAssessment.RULES_METHOD,
)


def client_list_with_risk(user: User) -> QuerySet[Client]:
    """An advisor's book annotated with the level and inconsistency flag of each client's
    current risk profile: the final assessment of the latest response, as risk_profile_get."""
    return clients_with_risk(clients_visible_to(user))


def clients_with_risk(clients: QuerySet[Client]) -> QuerySet[Client]:
    """The clients annotated as client_list_with_risk says."""
    precedence = Case(
        *(When(method=method, then=Value(rank)) for rank, method in enumerate(FINAL_METHODS)),
        output_field=IntegerField(),
    )
    latest = (
        RiskAssessment.objects.filter(response__client=OuterRef("pk"), method__in=FINAL_METHODS)
        .annotate(precedence=precedence)
        .order_by("-response__submitted_at", "-response_id", "precedence")
    )
    return clients.annotate(
        risk_level=Subquery(latest.values("risk_level")[:1]),
        risk_inconsistent=Subquery(latest.values("inconsistent")[:1]),
    )


def client_get(*, user: User, client_id: int) -> Client:
    try:
        return client_list_with_risk(user).get(pk=client_id)
    except Client.DoesNotExist as exc:
        raise NotFound from exc


def goal_list(*, client: Client) -> QuerySet[Goal]:
    return Goal.objects.filter(client=client)


def goal_get(*, client: Client, goal_id: int) -> Goal:
    try:
        return Goal.objects.get(client=client, pk=goal_id)
    except Goal.DoesNotExist as exc:
        raise NotFound from exc


def questionnaire_response_list(*, client: Client) -> QuerySet[QuestionnaireResponse]:
    return QuestionnaireResponse.objects.filter(client=client).prefetch_related("assessments")


@dataclass(frozen=True)
class RiskProfile:
    """A client's current risk profile: the latest response, its final assessment (an advisor's
    override, else rules and risk model combined, else the rules') and the others beside it.

    `decision` is the suitability policy's record behind the final level; every explanation
    (API, browser, chat, workspace) is generated from it."""

    response: QuestionnaireResponse
    assessment: RiskAssessment
    second_opinions: tuple[RiskAssessment, ...]

    @property
    def model_opinion(self) -> RiskAssessment | None:
        """The risk model's own opinion on this response, if it has given one."""
        return next((a for a in self.second_opinions if a.is_model_opinion), None)

    @cached_property
    def decision(self) -> suitability.Decision:
        return assessment_decision(self.assessment)

    @property
    def client_explanation(self) -> str:
        """For the client: the level, who set it, when and why; never an advisor's wording."""
        return self.decision.client_explanation

    @property
    def advisor_explanation(self) -> str:
        return self.decision.advisor_explanation


def assessment_decision(assessment: RiskAssessment) -> suitability.Decision:
    """The suitability decision behind an assessment's level: the record stored with it, or,
    for a row written before the policy, the policy re-applied to its inputs when that gives
    the stored level, else the level as recorded. Its level is always the row's level."""
    details = assessment.details or {}
    stored = details.get("decision")
    if isinstance(stored, dict):
        try:
            decision = suitability.decision_from_details(stored)
        except (KeyError, TypeError, ValueError):
            decision = None
        if decision is not None and decision.level == assessment.risk_level:
            return decision
    return _decision_rebuilt(assessment)


def _decision_rebuilt(assessment: RiskAssessment) -> suitability.Decision:
    details = assessment.details or {}
    willing, able = details.get("willingness_level"), details.get("capacity_level")
    overridden = assessment.method == RiskAssessment.OVERRIDE_METHOD
    flags = suitability.flags_from(
        (details.get("reviewed_flags") or []) if overridden else (assessment.flags or [])
    )
    decided_on = timezone.localdate(assessment.created_at) if assessment.created_at else None
    decided_by: suitability.DecidedBy = "advisor" if overridden else "rules"
    try:
        if not isinstance(willing, int) or not isinstance(able, int):
            raise ValueError("levels missing")
        override = None
        if overridden:
            override = suitability.Override(
                level=assessment.risk_level,
                reason=str(details.get("reason") or "—"),
                set_by="",
                set_on=decided_on,
                flags_reviewed=bool(flags),
            )
        decision = suitability.decide(
            willingness_level=willing,
            capacity_level=able,
            model_level=details.get("model_level")
            if assessment.method == RiskAssessment.COMBINED_METHOD
            else None,
            override=override,
            flags=flags,
            decided_on=decided_on,
        )
        if decision.level == assessment.risk_level:
            return decision
        decided_by = decision.decided_by
    except ValueError:  # levels missing or out of range: show the level as recorded
        pass
    return suitability.recorded(
        level=assessment.risk_level,
        decided_by=decided_by,
        willingness_level=willing if isinstance(willing, int) else None,
        capacity_level=able if isinstance(able, int) else None,
        flags=flags,
        decided_on=decided_on,
    )


def final_assessment(assessments: Iterable[RiskAssessment]) -> RiskAssessment:
    """The assessment in force among one response's assessments (see FINAL_METHODS)."""
    by_method = {a.method: a for a in assessments}
    for method in FINAL_METHODS:
        if method in by_method:
            return by_method[method]
    raise RiskAssessment.DoesNotExist("The response has no final assessment.")


def risk_profile_get(*, client: Client) -> RiskProfile | None:
    response = questionnaire_response_list(client=client).first()
    if response is None:
        return None
    # An override on an older response no longer applies: only the latest response counts.
    assessments = list(response.assessments.all())
    final = final_assessment(assessments)
    others = tuple(a for a in assessments if a is not final)
    return RiskProfile(response=response, assessment=final, second_opinions=others)


def risk_override_requests_visible_to(user: User) -> QuerySet[RiskOverrideRequest]:
    """Requests to override above capacity: every one for a user who may approve them (the
    compliance permission) or an admin; an advisor those of their book."""
    requests = RiskOverrideRequest.objects.select_related(
        "response__client", "requested_by", "decided_by"
    )
    if user.is_superuser or (
        user.is_staff and user.has_perm(RiskOverrideRequest.APPROVE_PERMISSION)
    ):
        return requests
    if user.is_staff:
        return requests.filter(Q(response__client__advisor=user) | Q(requested_by=user))
    return requests.none()


def risk_override_request_get(*, user: User, request_id: int) -> RiskOverrideRequest:
    try:
        return risk_override_requests_visible_to(user).get(pk=request_id)
    except RiskOverrideRequest.DoesNotExist as exc:
        raise NotFound from exc


def risk_override_requests_pending(*, response: QuestionnaireResponse) -> list[RiskOverrideRequest]:
    """The request waiting for a compliance approval on this response, if any (at most one)."""
    return list(
        RiskOverrideRequest.objects.filter(
            response=response, status=RiskOverrideRequest.Status.PENDING
        ).select_related("requested_by")
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notices, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_unread_count(*, user: User) -> int:
    """How many of the user's notices are unread: the bell's figure."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
