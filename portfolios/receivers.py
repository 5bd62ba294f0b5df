"""How portfolios follows the goals of advisor, the floor below it, which cannot call up: a goal
gets its account when it is made (so no read ever has to open one), and a goal deleted before
any money moved takes its empty account with it. Each receiver calls one service; connected in
`PortfoliosConfig.ready`."""

from typing import Any

from advisor.models import Goal

from .models import Account
from .services.ledger import account_open


def goal_account_open(sender: type[Goal], instance: Goal, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):  # raw: a fixture being loaded, rows arrive as they are
        account_open(goal=instance)


def goal_account_discard(sender: type[Goal], goal: Goal, **kwargs: Any) -> None:
    # An account with a transaction is history: the goal stays protected (on_delete=PROTECT).
    Account.objects.filter(goal=goal, transactions__isnull=True).delete()
