"""The portfolios app: its audit-logged models and its receivers of goal changes."""

from django.apps import AppConfig
from django.db.models.signals import post_save


class PortfoliosConfig(AppConfig):
    name = "portfolios"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from advisor.models import Goal
        from advisor.signals import goal_closing

        from . import models, receivers

        auditlog.register(models.ModelPortfolioSet)
        # Reverse one-to-ones (a fee owed, a harvest, a proposal pointing here) are never set when
        # a transaction is made; diffing them cost three lookups per ledger transaction.
        auditlog.register(
            models.Transaction, exclude_fields=["fee_owed", "harvest", "rebalanceproposal"]
        )
        auditlog.register(models.RebalanceProposal)
        auditlog.register(models.RecurringDeposit)
        post_save.connect(receivers.goal_account_open, sender=Goal, dispatch_uid="goal_account")
        goal_closing.connect(receivers.goal_account_close, dispatch_uid="goal_account_close")
