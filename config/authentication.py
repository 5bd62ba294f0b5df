"""Token authentication for the mobile app: knox device tokens, refused early when malformed."""

import re
from datetime import timedelta
from typing import Any

import knox.auth
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

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


# What a staff user who must enrol in MFA may still call: enrolment itself, who am I, logout.
MFA_ENROLMENT_ROUTES = frozenset(
    {"auth-me", "auth-logout", "auth-csrf", "auth-mfa-totp", "auth-mfa-totp-confirm"}
)


class MfaEnrolmentRequired(exceptions.PermissionDenied):
    default_detail = (
        "Staff accounts need two-factor authentication: enrol an authenticator app first."
    )
    default_code = "mfa_enrolment_required"


def mfa_enrolment_pending(user: Any) -> bool:
    """A staff user without a confirmed TOTP device, where MFA_REQUIRED_FOR_STAFF is on."""
    if not (settings.MFA_REQUIRED_FOR_STAFF and getattr(user, "is_staff", False)):
        return False
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _mfa_gate(request: Request, user: Any) -> None:
    # Every API call by such a user is refused, whatever its view's permissions, except the
    # calls that let them enrol: a gate in authentication covers both login paths at once.
    match = getattr(request._request, "resolver_match", None)
    if match is not None and match.url_name in MFA_ENROLMENT_ROUTES:
        return
    if mfa_enrolment_pending(user):
        raise MfaEnrolmentRequired()


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session auth, with the staff MFA-enrolment gate."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            _mfa_gate(request, result[0])
        return result


class TokenAuthentication(knox.auth.TokenAuthentication):
    """knox's token auth, refusing malformed tokens before they reach the database, tokens
    past their absolute lifetime, and staff who still have to enrol in MFA.

    knox tokens are hex strings; anything else (a NUL byte, say, which PostgreSQL rejects in
    text with an error) is simply an invalid token. knox renews a token's expiry on use (capped
    by AUTO_REFRESH_MAX_TTL); the age check here holds even for a token whose expiry was set
    before AUTH_TOKEN_MAX_AGE_DAYS was lowered.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            _mfa_gate(request, result[0])
        return result

    def authenticate_credentials(self, token: bytes) -> Any:
        if not HEX_TOKEN.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, auth_token = super().authenticate_credentials(token)
        max_age = timedelta(days=settings.AUTH_TOKEN_MAX_AGE_DAYS)
        if auth_token.created < timezone.now() - max_age:
            auth_token.delete()
            raise exceptions.AuthenticationFailed("Token has expired: sign in again.")
        return user, auth_token


class SessionScheme(OpenApiAuthenticationExtension):
    """Documents the session cookie, as DRF's own SessionAuthentication is documented."""

    target_class = "config.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


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
