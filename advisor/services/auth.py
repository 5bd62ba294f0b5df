"""Auth: registration, session login and logout with lockout, device tokens for the app.
Each completed login runs the login risk rules (advisor.risk_control: recorded, flagged only)."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ..exceptions import (
    AccountLockedOut,
    AuthenticationFailed,
)
from ..models import (
    Client,
    DeviceToken,
    User,
)
from ..risk_control import login_evaluate
from .clients import client_advisor_auto_assign
from .identity import (
    device_token_create,
    identity_email_enqueue,
    known_device_record,
    user_sessions_end,
)
from .mfa import SESSION, TOKEN, MfaChallenge, mfa_challenge_issue, mfa_enabled

logger = logging.getLogger(__name__)

# --- Auth -----------------------------------------------------------------------------------


def user_register(
    *, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User | None:
    """Self-registration: a client login and an empty client profile to fill in, and a link to
    verify the address. An address that already has an account gets the same answer (nothing
    says it is registered) and its owner an email instead. The password is validated and hashed
    either way, before any transaction: the same work, and no write lock held while hashing.
    Returns the new user, or None for a taken address (the API answers the same for both)."""
    email = User.objects.normalize_email(email).strip().lower()
    user = User(email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_active:
            identity_email_enqueue(user=existing, kind="signup_attempt")
        logger.info("registration for a taken address", extra={"user_id": existing.pk})
        return None
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        client = Client(user=user, first_name=first_name, last_name=last_name)
        client.full_clean()
        client.save()
        client = client_advisor_auto_assign(client=client)  # or the firm queue: see the rule
        identity_email_enqueue(user=user, kind="email_verify")
    logger.info("user registered", extra={"user_id": user.pk, "client_id": client.pk})
    return user


def _credentials_check(*, request: HttpRequest, email: str, password: str) -> User:
    # django-axes watches authenticate(): failures count towards the lockout, and a locked
    # email+IP pair is refused before the password is even checked.
    user = authenticate(request, email=email.strip().lower(), password=password)
    if getattr(request, "axes_locked_out", False):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise AccountLockedOut(
            f"Too many failed login attempts: this account is locked for {minutes} minutes. "
            "Try again later or reset your password.",
            extra={"cooloff_minutes": minutes},
        )
    if user is None or not isinstance(user, User):
        raise AuthenticationFailed("Email or password is incorrect.")
    return user


def session_login(*, request: HttpRequest, email: str, password: str) -> User | MfaChallenge:
    """Browser login: checks the credentials and starts a session (new CSRF token too). With
    MFA on, no session yet: a challenge that /auth/mfa/verify/ completes with a code."""
    user = _credentials_check(request=request, email=email, password=password)
    if mfa_enabled(user=user):
        return mfa_challenge_issue(user=user, mode=SESSION)
    login_evaluate(user=user, new_device=known_device_record(request=request, user=user))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    logger.info("session login", extra={"user_id": user.pk})
    return user


def session_logout(*, request: HttpRequest) -> None:
    logout(request)


def device_token_issue(
    *, request: HttpRequest, email: str, password: str, device_name: str = ""
) -> tuple[DeviceToken, str] | MfaChallenge:
    """Mobile login: a new expiring token for one device. The raw token is shown once. With
    MFA on, a challenge instead, which /auth/mfa/verify/ turns into the token.

    The credentials are checked outside the transaction: a failure that axes records must
    survive the refusal (inside, it rolled back with it and the token path never locked), and
    hashing a password holds no database lock."""
    user = _credentials_check(request=request, email=email, password=password)
    if mfa_enabled(user=user):
        return mfa_challenge_issue(user=user, mode=TOKEN, device_name=device_name)
    login_evaluate(user=user, new_device=known_device_record(request=request, user=user))
    return device_token_create(user=user, device_name=device_name)


def device_token_revoke(
    *, user: User, token_key: str | None = None, current: DeviceToken | None = None
) -> int:
    """Revoke one device's token (by key, or the one making the call). Returns how many went."""
    tokens = DeviceToken.objects.filter(user=user)
    if token_key is not None:
        deleted, _ = tokens.filter(token_key=token_key).delete()
    elif current is not None:
        deleted, _ = tokens.filter(pk=current.pk).delete()
    else:
        deleted = 0
    return deleted


def device_token_revoke_all(*, user: User) -> int:
    """Sign out everywhere: every device token, and every browser session too."""
    deleted, _ = DeviceToken.objects.filter(user=user).delete()
    user_sessions_end(user=user)
    logger.info("all device tokens revoked", extra={"user_id": user.pk, "count": deleted})
    return deleted


def device_tokens_purge_expired() -> int:
    """Delete expired tokens (knox only deletes one when it is presented)."""
    deleted, _ = DeviceToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
