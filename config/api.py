"""The API kit every app's `api/` package builds on: the error responses for the schema, the
advisor permission, the input serializer that refuses unknown fields, the request type."""

import re
from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers
from rest_framework.request import Request

from .parsers import JSONNumber

if TYPE_CHECKING:  # a type only: config sits below the apps and imports none of them
    from advisor.models import User


class AuthedRequest(Request):
    """A request past IsAuthenticated: its user is a real User (settings.AUTH_USER_MODEL)."""

    user: "User"


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField(
        help_text="`fields` holds per-field errors for validation failures."
    )


ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input, with field errors."),
    401: OpenApiResponse(ApiErrorSerializer, description="Not logged in."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such object for this user."),
}


class IsAdvisor(permissions.BasePermission):
    """Staff users: advisors (their book) and admins (everyone)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class MoneyField(serializers.DecimalField):
    """An amount of money in: plain ASCII digits with an optional point and cents, as a JSON
    string or number. Python's `Decimal` would also take `1_000`, `١٢٣`, `５`, `1e3` and
    ` 12 `; a client that sends those has a bug, and guessing what it meant moves money."""

    PATTERN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
    default_error_messages = {
        "invalid": "Enter an amount in digits, with an optional point and cents, e.g. 1500.00."
    }

    def to_internal_value(self, data: Any) -> Any:
        text = data.text if isinstance(data, JSONNumber) else data
        if isinstance(text, int) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str) or not self.PATTERN.fullmatch(text):
            self.fail("invalid")
        return super().to_internal_value(text)


class InputSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo is a 400 rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {field: ["Unknown field."] for field in sorted(unknown)[:20]}
                )
        return super().to_internal_value(data)
