"""Reads, always scoped to what the asking user may see."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from config.errors import NotFound

from .models import Client, Goal, QuestionnaireResponse, RiskAssessment, User


def clients_visible_to(user: User) -> QuerySet[Client]:
    """Admins see every client, an advisor their book, a client only themself."""
    clients = Client.objects.select_related("user", "advisor")
    if user.is_superuser:
        return clients
    if user.is_staff:
        return clients.filter(advisor=user)
    return clients.filter(user=user)


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
    precedence = Case(
        *(When(method=method, then=Value(rank)) for rank, method in enumerate(FINAL_METHODS)),
        output_field=IntegerField(),
    )
    latest = (
        RiskAssessment.objects.filter(response__client=OuterRef("pk"), method__in=FINAL_METHODS)
        .annotate(precedence=precedence)
        .order_by("-response__submitted_at", "-response_id", "precedence")
    )
    return clients_visible_to(user).annotate(
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
    override, else rules and risk model combined, else the rules') and the others beside it."""

    response: QuestionnaireResponse
    assessment: RiskAssessment
    second_opinions: tuple[RiskAssessment, ...]

    @property
    def model_opinion(self) -> RiskAssessment | None:
        """The risk model's own opinion on this response, if it has given one."""
        return next((a for a in self.second_opinions if a.is_model_opinion), None)


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
