"""How portfolios follows the goals of advisor, the floor below it, which cannot call up: a goal
gets its account when it is made (so no read ever has to open one) and its plan projected when
it is made or edited; a goal deleted before any money moved takes its empty account with it,
and once money has moved a goal is closed instead (never deleted), and only when nothing is
left in it; its account type changes only before any money moved. Each receiver calls one
service; connected in `PortfoliosConfig.ready` (the account-type one by `@receiver` below,
which runs when `ready` imports this module)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.dispatch import receiver

from advisor.exceptions import GoalNotEmpty
from advisor.models import Goal
from advisor.signals import GOAL_HAS_HISTORY, goal_account_type_changing
from config.celery import enqueue_on_commit

from .models import Account
from .services.ledger import account_open
from .valuation import account_value


def goal_account_open(sender: type[Goal], instance: Goal, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # a fixture being loaded: rows arrive as they are
        return
    if created:
        account_open(goal=instance)
    # A new or edited goal is a new plan: its chance of success is projected again.
    enqueue_on_commit("portfolios.goal_plans_project", goal_ids=[instance.pk])


def goal_account_close(sender: type[Goal], goal: Goal, deleting: bool, **kwargs: Any) -> str | None:
    """Refuse while the account holds money; when deleting, discard an account no money ever
    moved in, and answer GOAL_HAS_HISTORY for one with transactions (the goal is closed)."""
    account = Account.objects.select_for_update().filter(goal=goal).first()
    if account is None:
        return None
    if account.cash > 0 or account.positions.filter(quantity__gt=0).exists():
        value = account_value(account=account).total
        raise GoalNotEmpty(
            f"This goal's account still holds ${value:,}. Withdraw it first; then the goal can "
            "be closed, its history kept.",
            extra={"account_id": account.pk, "value": str(value)},
        )
    if not account.transactions.exists():
        if deleting:
            account.delete()
        return None
    return GOAL_HAS_HISTORY


ACCOUNT_TYPE_FIXED = (
    "The account type cannot change once money is in the account; open a new goal instead."
)


@receiver(goal_account_type_changing, dispatch_uid="goal_account_type_fixed")
def goal_account_type_fixed(
    sender: type[Goal], goal: Goal, account_type: str, **kwargs: Any
) -> None:
    """Refuse a new account type once any transaction was booked in the goal's account: its
    deposits, sales and withdrawals were taxed (or limited) as the old type. The account's lock
    makes a deposit in flight either finish first (then this refuses) or wait for the change."""
    account = Account.objects.select_for_update().filter(goal=goal).first()
    if account is not None and account.transactions.exists():
        raise ValidationError({"account_type": [ACCOUNT_TYPE_FIXED]})
