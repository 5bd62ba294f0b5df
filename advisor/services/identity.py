"""Identity over email: account emails, password reset and change, address verification,
sign-in notices from new devices, and signing a user out everywhere.

Emails go through one task (`advisor.identity_email_send`) that takes the user's id and a kind:
links carrying a secret are built in the worker, so no token sits in the broker."""

import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from knox.settings import knox_settings

from config.authentication import client_ip
from config.celery import enqueue_on_commit

from ..exceptions import AuthenticationFailed, IdentityLinkInvalid
from ..models import DeviceToken, KnownDevice, SecurityEvent, User
from ..risk_control import security_event_record
from .notifications import new_device_notify

logger = logging.getLogger(__name__)


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Signed, expiring (PASSWORD_RESET_TIMEOUT) and one-time: the hash covers the address and
    when it was verified, so the link stops working once used or once the address changes."""

    key_salt = "advisor.services.identity.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_token_generator = EmailVerificationTokenGenerator()

EMAIL_KINDS = (
    "email_verify",
    "signup_attempt",
    "password_reset",
    "password_changed",
    "new_device",
    "mfa_enabled",
    "mfa_disabled",
)


# --- Emails ---------------------------------------------------------------------------------


def _link(route: str, user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.FRONTEND_BASE_URL}/{route}?uid={uid}&token={token}"


def _compose(user: User, kind: str, details: dict[str, str]) -> tuple[str, str]:
    hello = f"Hello {user.first_name or 'there'},\n\n"
    ignore = "If this wasn't you, reset your password at once and contact us.\n"
    hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
    if kind == "email_verify":
        link = _link("verify-email", user, email_verification_token_generator.make_token(user))
        return "Confirm your email address", (
            f"{hello}Confirm this address for your Meridian account by opening this link "
            f"(valid for {hours} h):\n\n{link}\n\nIf you did not sign up, ignore this email.\n"
        )
    if kind == "signup_attempt":
        return "Someone tried to sign up with your address", (
            f"{hello}Someone tried to create a Meridian account with this address, which "
            "already has one. If it was you, log in instead, or reset your password from the "
            f"login page:\n\n{settings.FRONTEND_BASE_URL}/forgot-password\n\n"
            "If it wasn't you, no action is needed: no second account was created.\n"
        )
    if kind == "password_reset":
        link = _link("reset-password", user, default_token_generator.make_token(user))
        return "Reset your Meridian password", (
            f"{hello}Open this link to choose a new password (valid for {hours} h, once):\n\n"
            f"{link}\n\nIf you did not ask for this, ignore this email: your password stays "
            "as it is.\n"
        )
    if kind == "password_changed":
        return "Your Meridian password was changed", (
            f"{hello}The password of your Meridian account was just changed, and every other "
            f"device was signed out.\n\n{ignore}"
        )
    if kind == "new_device":
        where = details.get("ip") or "an unknown address"
        agent = details.get("user_agent") or "an unknown browser or app"
        return "New sign-in to your Meridian account", (
            f"{hello}Your account was just signed in to from a device we have not seen before:"
            f"\n\n  {agent}\n  from {where}\n\n{ignore}"
        )
    if kind == "mfa_enabled":
        return "Two-factor authentication is on", (
            f"{hello}Two-factor authentication was turned on for your Meridian account.\n\n{ignore}"
        )
    if kind == "mfa_disabled":
        return "Two-factor authentication is off", (
            f"{hello}Two-factor authentication was turned off for your Meridian account.\n\n"
            f"{ignore}"
        )
    raise ValueError(f"unknown email kind {kind!r}")


def identity_email_send(*, user_id: int, kind: str, details: dict[str, str] | None = None) -> None:
    """Compose and send one account email. The link's token is made here, when it is sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    subject, body = _compose(user, kind, details or {})
    send_mail(subject, body, None, [user.email])
    logger.info("identity email sent", extra={"user_id": user_id, "kind": kind})


def identity_email_enqueue(*, user: User, kind: str, details: dict[str, str] | None = None) -> None:
    """Send after the transaction commits: no email about a change that rolled back. Queued by
    name (advisor.tasks imports the services, not the other way round)."""
    enqueue_on_commit(
        "advisor.identity_email_send", user_id=user.pk, kind=kind, details=details or {}
    )


# --- Signing out everywhere -----------------------------------------------------------------


def user_sessions_end(*, user: User, keep_request: HttpRequest | None = None) -> None:
    """End every browser session of the user: bumping the epoch changes the session hash that
    each session must match (User._get_session_auth_hash). `keep_request` keeps that one."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    if keep_request is not None:
        update_session_auth_hash(keep_request, user)
    logger.info("sessions ended", extra={"user_id": user.pk})


def _sign_out_everywhere(*, user: User, keep_request: HttpRequest | None = None) -> None:
    DeviceToken.objects.filter(user=user).delete()
    user_sessions_end(user=user, keep_request=keep_request)


# --- Password reset and change --------------------------------------------------------------


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account has this address; silent otherwise, so the
    answer never says whether an address is registered."""
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("password reset requested for no account")
        return
    identity_email_enqueue(user=user, kind="password_reset")
    logger.info("password reset requested", extra={"user_id": user.pk})


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from an emailed link. The link is one-time (its token covers the
    password hash), and the reset signs the user out everywhere and lifts any lockout."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise IdentityLinkInvalid(
            "This password-reset link is invalid, expired or already used. Ask for a new one.",
        )
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        _sign_out_everywhere(user=user)
        identity_email_enqueue(user=user, kind="password_changed")
        # Money leaving soon after a reset is what account takeovers look like (risk control).
        security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_RESET)
    from axes.utils import reset

    reset(username=user.email)
    logger.info("password reset", extra={"user_id": user.pk})
    return user


def password_change(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> None:
    """Change the password of the logged-in user: every other session and every device token
    ends, this browser session stays, and the owner is told by email."""
    if not user.check_password(current_password):
        raise AuthenticationFailed(
            "The current password is incorrect.", code="current_password_incorrect"
        )
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        _sign_out_everywhere(user=user, keep_request=request)
        identity_email_enqueue(user=user, kind="password_changed")
        security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGE)
    logger.info("password changed", extra={"user_id": user.pk})


# --- Email verification ---------------------------------------------------------------------


def email_verification_send(*, user: User) -> None:
    """(Re)send the verification link; nothing to do for a verified address."""
    if user.email_verified:
        return
    identity_email_enqueue(user=user, kind="email_verify")


def email_verify(*, uid: str, token: str) -> User:
    """Mark the address verified from an emailed link (one-time: see the token generator)."""
    user = _user_from_uid(uid)
    if user is None or not email_verification_token_generator.check_token(user, token):
        raise IdentityLinkInvalid(
            "This verification link is invalid, expired or already used. Ask for a new one "
            "from Settings.",
        )
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    logger.info("email verified", extra={"user_id": user.pk})
    return user


# --- New-device notices ---------------------------------------------------------------------


def _device_fingerprint(request: HttpRequest) -> str:
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    return hashlib.sha256(f"{client_ip(request) or ''}|{agent}".encode()).hexdigest()


def known_device_record(*, request: HttpRequest, user: User) -> bool:
    """Remember the device (client IP + user agent) a user signed in from; on a device not
    seen before, email a notice. The first device ever is the sign-up one: no notice.
    Returns whether the device was new."""
    fingerprint = _device_fingerprint(request)
    now = timezone.now()
    if KnownDevice.objects.filter(user=user, fingerprint=fingerprint).update(last_seen=now):
        return False
    first = not KnownDevice.objects.filter(user=user).exists()
    try:
        with transaction.atomic():
            KnownDevice.objects.create(user=user, fingerprint=fingerprint)
    except IntegrityError:  # the same device signing in twice at once: already recorded
        return False
    if not first:
        details = {
            "ip": client_ip(request) or "",
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
        }
        identity_email_enqueue(user=user, kind="new_device", details=details)
        new_device_notify(user=user, fingerprint=fingerprint)
    logger.info("new sign-in device", extra={"user_id": user.pk, "first": first})
    return True


def device_token_create(*, user: User, device_name: str = "") -> tuple[DeviceToken, str]:
    """A new token for a user whose login is complete. It expires after AUTH_TOKEN_TTL_DAYS,
    renewed on use, but never outlives AUTH_TOKEN_MAX_AGE_DAYS from now."""
    ttl = min(knox_settings.TOKEN_TTL, timedelta(days=settings.AUTH_TOKEN_MAX_AGE_DAYS))
    with transaction.atomic():
        live = DeviceToken.objects.select_for_update().filter(user=user, expiry__gt=timezone.now())
        if len(live) >= knox_settings.TOKEN_LIMIT_PER_USER:
            # The oldest device gives way rather than locking the user out of a new phone.
            live.order_by("created").first().delete()
        token, raw = DeviceToken.objects.create(user=user, expiry=ttl, device_name=device_name)
    logger.info("device token issued", extra={"user_id": user.pk})
    return token, raw
