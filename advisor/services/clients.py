"""Client profiles and KYC, and advisors: their group, accounts and books."""

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
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


@transaction.atomic
def client_assign_advisor(*, client: Client, advisor: User | None) -> Client:
    if advisor is not None and not advisor.is_staff:
        raise ValidationError({"advisor": ["Only staff users can hold a book of clients."]})
    client.advisor = advisor
    client.full_clean()
    client.save(update_fields=["advisor", "updated_at"])
    return client
