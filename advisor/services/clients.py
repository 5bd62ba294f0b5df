"""Client profiles and KYC, and advisors: their group, accounts and books."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ..models import (
    Client,
    User,
)

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
# How the client's form names each KYC field, so "what is missing" reads in the client's words.
KYC_FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "address_line1": "Street address",
    "city": "City",
    "postal_code": "Postal code",
    "country": "Country",
    "employment_status": "Employment",
    "annual_income": "Annual income",
    "net_worth": "Net worth",
    "liquid_net_worth": "Liquid net worth",
    "dependents": "Dependents",
    "marital_status": "Marital status",
    "investment_experience": "Investment experience",
    "objective": "Main objective",
    "time_horizon": "Time horizon",
    "liquidity_needs": "Liquidity needs",
    "tax_id": "Tax ID (SSN or ITIN)",
}
CLIENT_EDITABLE_FIELDS = frozenset(
    {
        *KYC_REQUIRED_FIELDS,
        "address_line2",
        "region",
        "phone",
        "occupation_category",
        "education_level",
        "tax_filing_status",
        "harvest_auto",
    }
)

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
    if not kyc_missing_fields(client=client):
        now = timezone.now()
        if client.kyc_completed_at is None or set(data) & set(KYC_REQUIRED_FIELDS):
            client.kyc_completed_at = now
            client.kyc_review_due = now.date() + timedelta(days=settings.KYC_REVIEW_INTERVAL_DAYS)
            client.kyc_review_overdue = False
    client.save()
    return client


def kyc_missing_fields(*, client: Client) -> list[str]:
    """The KYC fields still empty, in form order: KYC is complete when there are none. The one
    rule both `client_update` and the API's `kyc_missing` go by."""
    return [field for field in KYC_REQUIRED_FIELDS if getattr(client, field) in (None, "")]


def kyc_reviews_flag_due(*, today: date | None = None) -> int:
    """Flag clients whose KYC review date has passed, so advisors see them. Idempotent."""
    today = today or timezone.localdate()
    return Client.objects.filter(kyc_review_due__lt=today, kyc_review_overdue=False).update(
        kyc_review_overdue=True
    )


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
    ("portfolios", "taxharvest", ("view", "change")),
    ("portfolios", "document", ("view",)),
    ("portfolios", "lotsale", ("view",)),
    ("portfolios", "washsale", ("view",)),
    ("portfolios", "governancereport", ("view",)),
    ("advisor", "withdrawalhold", ("view",)),
    ("nlp", "modelmonitorreport", ("view",)),
    ("nlp", "newsitem", ("view", "add")),
    ("nlp", "conversation", ("view",)),
    ("nlp", "message", ("view",)),
    ("nlp", "escalation", ("view", "change")),
)


# Firm-wide decisions, not an advisor's: the investment committee approves model-portfolio sets
# and model versions (two different members, config.lifecycle). Membership is given by an admin.
COMMITTEE_GROUP = "Investment committee"
COMMITTEE_PERMISSIONS = (
    ("portfolios", "modelportfolioset", ("view", "change", "approve")),
    ("nlp", "modelversion", ("view", "change", "approve")),
)


def _group_ensure(name: str, permissions: tuple[tuple[str, str, tuple[str, ...]], ...]) -> Any:
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=name)
    wanted = Q()
    for app_label, model, actions in permissions:
        for action in actions:
            wanted |= Q(content_type__app_label=app_label, codename=f"{action}_{model}")
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def advisor_group_ensure() -> Any:
    """The admin permissions every advisor has; their rows are still scoped to their book. Also
    keeps the investment committee's group in step."""
    _group_ensure(COMMITTEE_GROUP, COMMITTEE_PERMISSIONS)
    return _group_ensure(ADVISOR_GROUP, ADVISOR_PERMISSIONS)


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


# --- Books: who looks after which client ----------------------------------------------------
#
# The assignment rule, applied at sign-up (user_register): the new client goes to the
# least-loaded advisor, that is the active staff member of the Advisors group with the fewest
# active clients (clients whose login is active) in their book; ties go to the lowest id, the
# longest-serving advisor. With no such advisor the client stays unassigned, in the firm queue:
# every advisor sees the unassigned clients (advisor.selectors.clients_in_reach) with their
# escalations, flags and goals, and claims one with "Assign to me" (client_claim); an admin can
# move a client to another book at any time (client_assign_advisor). Every change is in the
# client's audit trail, with the actor. Two sign-ups at the same instant may both pick the same
# advisor: loads drift by one at worst, and the next sign-ups even them out.


def advisors_assignable() -> QuerySet[User]:
    """The advisors who can take new clients, each annotated with `active_clients`."""
    return (
        User.objects.filter(is_active=True, is_staff=True, groups__name=ADVISOR_GROUP)
        .annotate(active_clients=Count("book", filter=Q(book__user__is_active=True), distinct=True))
        .order_by("active_clients", "pk")
    )


def advisor_least_loaded() -> User | None:
    """The advisor the assignment rule picks, or None (the client goes to the firm queue)."""
    return advisors_assignable().first()


@contextmanager
def _audit_actor(actor: User | None) -> Iterator[None]:
    """Attribute the audit entries to `actor` (None: leave the request's or the system's)."""
    if actor is None:
        yield
        return
    from .overrides import _audit_actor as audit_actor  # it restores an enclosing context

    with audit_actor(actor):
        yield


@transaction.atomic
def client_assign_advisor(
    *, client: Client, advisor: User | None, actor: User | None = None
) -> Client:
    """Put the client in `advisor`'s book (None: back to the firm queue); audited."""
    if advisor is not None and not (advisor.is_staff and advisor.is_active):
        raise ValidationError({"advisor": ["Only active staff users can hold a book of clients."]})
    client = Client.objects.select_for_update().get(pk=client.pk)
    client.advisor = advisor
    client.full_clean()
    with _audit_actor(actor):
        client.save(update_fields=["advisor", "updated_at"])
    logger.info(
        "client assigned",
        extra={
            "client_id": client.pk,
            "advisor_id": advisor.pk if advisor else None,
            "actor_id": actor.pk if actor else None,
        },
    )
    return client


def client_advisor_auto_assign(*, client: Client) -> Client:
    """The sign-up rule (above): the least-loaded advisor, or the firm queue if there is none."""
    advisor = advisor_least_loaded()
    if advisor is None:
        logger.warning(
            "no advisor to assign: client left in the firm queue", extra={"client_id": client.pk}
        )
        return client
    return client_assign_advisor(client=client, advisor=advisor)


@transaction.atomic
def client_claim(*, client: Client, advisor: User) -> Client:
    """An advisor takes an unassigned client from the firm queue into their book ("Assign to
    me"); audited. A client someone else claimed first is refused, not taken over."""
    if not (advisor.is_staff and advisor.is_active):
        raise PermissionDenied("Only advisors can take clients into their book.")
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.advisor_id is not None:
        if locked.advisor_id == advisor.pk:
            return locked
        raise ValidationError(
            {"advisor": [f"{locked} is already in {locked.advisor}'s book."]}, code="claimed"
        )
    return client_assign_advisor(client=locked, advisor=advisor, actor=advisor)
