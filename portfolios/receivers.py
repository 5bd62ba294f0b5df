"""How portfolios follows the goals of advisor, the floor below it, which cannot call up: a goal
gets its account when it is made (so no read ever has to open one) and its plan projected when
it is made or edited, and a goal deleted before
any money moved takes its empty account with it. Each receiver calls one service; connected in
`PortfoliosConfig.ready`."""

from typing import Any

from advisor.models import Goal
from config.celery import enqueue_on_commit

from .models import Account
from .services.ledger import account_open


def goal_account_open(sender: type[Goal], instance: Goal, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # a fixture being loaded: rows arrive as they are
        return
    if created:
        account_open(goal=instance)
    # A new or edited goal is a new plan: its chance of success is projected again.
    enqueue_on_commit("portfolios.goal_plans_project", goal_ids=[instance.pk])


def goal_account_discard(sender: type[Goal], goal: Goal, **kwargs: Any) -> None:
    # An account with a transaction is history: the goal stays protected (on_delete=PROTECT).
    Account.objects.filter(goal=goal, transactions__isnull=True).delete()
