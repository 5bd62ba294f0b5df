"""Token authentication for the mobile app: knox device tokens, refused early when malformed."""

import re
from typing import Any

import knox.auth
from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions

HEX_TOKEN = re.compile(rb"[0-9a-f]{16,128}")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for throttles and the lockout: REMOTE_ADDR, or behind NUM_PROXIES
    trusted proxies the address the outermost of them saw (that many from the right of
    X-Forwarded-For). Addresses further left are the client's own claims and never trusted: a
    rotated header must not dodge a limit, nor lock someone else out."""
    proxies = settings.NUM_PROXIES
    remote = request.META.get("REMOTE_ADDR")
    if not proxies:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The login for django-axes: `email` from the API, `username` from the admin form."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    return value.strip().lower() if isinstance(value, str) else None


class TokenAuthentication(knox.auth.TokenAuthentication):
    """knox's token auth, refusing malformed tokens before they reach the database.

    knox tokens are hex strings; anything else (a NUL byte, say, which PostgreSQL rejects in
    text with an error) is simply an invalid token.
    """

    def authenticate_credentials(self, token: bytes) -> Any:
        if not HEX_TOKEN.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """Documents the device token in the OpenAPI schema as `Authorization: Token <token>`."""

    target_class = "config.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A device token from POST /api/v1/auth/token/, as "Token <token>".',
        }
