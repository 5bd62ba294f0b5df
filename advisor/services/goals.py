"""Goals: created, edited and deleted by their client (accounts follow, in portfolios)."""

import logging
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import (
    Client,
    Goal,
)
from ..signals import GOAL_HAS_HISTORY, goal_account_type_changing, goal_closing

logger = logging.getLogger(__name__)

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
        "account_type",
    }
)


def goal_account_type_suggested(goal_type: str) -> str:
    """The account type the client is offered for a goal: a traditional IRA for retirement,
    taxable otherwise. Only a suggestion: the model's default stays taxable, and the client
    picks (an IRA's money is locked up until 59½, which suits retirement only)."""
    if goal_type == Goal.GoalType.RETIREMENT:
        return Goal.AccountType.TRADITIONAL_IRA
    return Goal.AccountType.TAXABLE


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
    """Change a goal; a changed target date must still lie in the future, and its account type
    may change only while no money has moved in its account."""
    unknown = set(data) - GOAL_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    # FOR NO KEY UPDATE (an edit never changes the goal's key): a deposit committing in its
    # account checks its foreign key to the goal with a key-share lock on this row, which a
    # plain FOR UPDATE would block while the receivers below wait on that deposit's account.
    goal = Goal.objects.select_for_update(no_key=True).get(pk=goal.pk)
    if data.get("status") == Goal.Status.CLOSED and goal.status != Goal.Status.CLOSED:
        goal_closing.send(sender=Goal, goal=goal, deleting=False)  # refuses while it holds money
    if "account_type" in data and data["account_type"] != goal.account_type:
        # Refused once money moved in the account (taxes already followed the old type).
        goal_account_type_changing.send(sender=Goal, goal=goal, account_type=data["account_type"])
    if "target_date" in data and data["target_date"] != goal.target_date:
        _goal_date_check(data["target_date"])
    for field, value in data.items():
        setattr(goal, field, value)
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_delete(*, goal: Goal) -> Goal | None:
    """Delete a goal, or close it: a goal whose account has history (money moved in it) is
    closed instead, its transactions kept; None when deleted, the closed goal otherwise. A goal
    whose account still holds money is refused (GoalNotEmpty, 409): withdraw it first."""
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    answers = goal_closing.send(sender=Goal, goal=goal, deleting=True)
    if any(answer == GOAL_HAS_HISTORY for _, answer in answers):
        return _close(goal)
    goal.delete()
    logger.info("goal deleted", extra={"goal_id": goal.pk})
    return None


def _close(goal: Goal) -> Goal:
    goal.status = Goal.Status.CLOSED
    goal.save(update_fields=["status"])
    logger.info("goal closed", extra={"goal_id": goal.pk})
    return goal
