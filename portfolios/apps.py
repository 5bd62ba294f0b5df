from django.apps import AppConfig


class PortfoliosConfig(AppConfig):
    name = "portfolios"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.ModelPortfolioSet)
        auditlog.register(models.Transaction)
        auditlog.register(models.RebalanceProposal)
        auditlog.register(models.RecurringDeposit)
