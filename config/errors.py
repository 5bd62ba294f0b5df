"""One error shape for the whole API: {"message", "code", "extra"}.

Services raise ApplicationError (or Django's ValidationError from full_clean); views never catch.
"""

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error a client can act on; rendered as 400 unless a subclass says otherwise."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self, message: str, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class NotFound(ApplicationError):
    """A selector found no such object for this user; rendered as the API's 404."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


# The database refused or dropped the connection (PostgreSQL restarting, a failover, SQLite's lock
# wait ran out): nothing was written, so the client may retry after a short pause.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 2
UNAVAILABLE_MESSAGE = "The service is busy; try again in a moment."


def database_unavailable_response(request_path: str) -> HttpResponse:
    """503 + Retry-After, JSON for the API and plain text elsewhere."""
    if request_path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(UNAVAILABLE_MESSAGE, "unavailable"), status=503
        )
    else:
        response = HttpResponse(UNAVAILABLE_MESSAGE, status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_body(message: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, "extra": extra or {}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.message, exc.code, exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, DATABASE_UNAVAILABLE):
        # The database is busy (SQLite's lock wait ran out) or restarting: nothing was written,
        # so the client may simply retry.
        logger.warning("database unavailable", exc_info=exc)
        return Response(
            error_body(UNAVAILABLE_MESSAGE, "unavailable"),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    # Imported here: DRF's views module resolves the authentication classes (knox's models) on
    # import, which needs Django's apps loaded, and the model layer imports this module's errors
    # in processes without them (benchmarks.gpu_check on a GPU machine).
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: let Django log it and answer 500

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("Invalid input.", "invalid", {"fields": _plain(fields)})
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = error_body(
            str(exc.detail) if not isinstance(exc.detail, dict | list) else "Request failed.",
            codes if isinstance(codes, str) else "error",
        )
    return response


def _plain(value: Any) -> Any:
    """ErrorDetail trees → plain lists/dicts of str, for a stable JSON shape."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def json_server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, called while the exception is being handled: a database that went
    away outside a DRF view (a middleware saving the session, the admin, a plain view) is a
    503 with Retry-After like the API's, not a 500."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable_response(request.path)
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("Something went wrong on our side; nothing was changed.", "server_error"),
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)


def axes_lockout_response(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes lockout: a clear message with the cool-off, JSON for the API."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed login attempts: this account is locked for {minutes} minutes. "
        "Try again later or reset your password."
    )
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(message, "locked_out", {"cooloff_minutes": minutes}), status=429
        )
    return HttpResponse(f"<h1>Account locked</h1><p>{message}</p>", status=429)
