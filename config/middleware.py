"""Middleware: the audit trail's actor, resolved lazily so token-authenticated calls record it."""

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with the actor resolved when the log entry is written.

    The stock middleware reads request.user before DRF has authenticated a token, so API
    changes would be logged without an actor. A lazy actor sees the user DRF sets later.
    """

    @staticmethod
    def _get_actor(request: HttpRequest) -> Any:
        return SimpleLazyObject(lambda: getattr(request, "user", None))
