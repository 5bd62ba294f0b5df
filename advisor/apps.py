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

        from .risk_control import risk_control_audit_register

        risk_control_audit_register()
        post_migrate.connect(_advisor_group_ensure, dispatch_uid="advisor_groups_ensure")


def _advisor_group_ensure(app_config: AppConfig, **kwargs: object) -> None:
    # The groups name permissions of the floors above, which exist only once those apps have
    # migrated (post_migrate is sent per app with models, in INSTALLED_APPS order): once, after
    # the last of them.
    from django.apps import apps

    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if app_config is not last:
        return
    from .risk_control import compliance_group_ensure, risk_rules_seed
    from .services import advisor_group_ensure

    advisor_group_ensure()
    compliance_group_ensure()
    risk_rules_seed()
