"""The advisor app: its audit-logged models."""

from django.apps import AppConfig


class AdvisorConfig(AppConfig):
    name = "advisor"
    verbose_name = "Clients and advisors"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.db.models.signals import post_migrate

        from . import models

        # The tax id is masked in the audit trail: the log must not undo the encryption.
        auditlog.register(
            models.Client,
            mask_fields=["tax_id"],
            mask_callable="advisor.audit.mask_all_but_last_four",
        )
        auditlog.register(models.QuestionnaireResponse)
        auditlog.register(models.RiskAssessment)
        auditlog.register(models.RiskOverrideRequest)
        auditlog.register(models.Goal)
        auditlog.register(
            models.User, include_fields=["email", "is_staff", "is_active", "is_superuser"]
        )

        # After every app's migrations: the groups name permissions of the floors above, which
        # exist only once those apps have migrated.
        post_migrate.connect(_advisor_group_ensure, dispatch_uid="advisor_groups_ensure")


def _advisor_group_ensure(**kwargs: object) -> None:
    # Permissions exist only after migrate, so the Advisors group is kept in step here.
    from .services import advisor_group_ensure

    advisor_group_ensure()
