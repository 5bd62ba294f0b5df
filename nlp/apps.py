"""The nlp app: its audit-logged models."""

from django.apps import AppConfig


class NlpConfig(AppConfig):
    name = "nlp"
    verbose_name = "Models and news"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.ModelVersion, exclude_fields=["metrics"])
        auditlog.register(models.Escalation)
