"""Two-factor authentication (TOTP, with one-time recovery codes) on django-otp.

Enrolment: `mfa_totp_enrol` makes an unconfirmed device (the secret and otpauth:// URI go to the
user once), `mfa_totp_confirm` activates it with a first code and hands out ten recovery codes.
Login: the password step returns an `MfaChallenge` (a short-lived signed token) instead of a
session or device token; `mfa_login_verify` takes that token and a code and completes the login
the first step asked for. Wrong codes are throttled per device by django-otp and count towards
the same django-axes lockout as wrong passwords."""

import base64
import logging
from dataclasses import dataclass
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.signals import user_login_failed
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..exceptions import AccountLockedOut, MfaCodeInvalid, MfaLoginExpired, MfaStateConflict
from ..models import DeviceToken, User

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
MFA_TOKEN_SALT = "advisor.services.mfa.login"  # noqa: S105 - a signing salt, not a secret
SESSION = "session"
TOKEN = "token"  # noqa: S105 - a login mode, not a secret


@dataclass(frozen=True)
class TotpEnrolment:
    otpauth_uri: str
    secret: str
    qr_svg_data_uri: str


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right; the login finishes at /auth/mfa/verify/ with this token."""

    mfa_token: str
    mfa_required: bool = True


@dataclass(frozen=True)
class MfaLoginResult:
    user: User
    token: DeviceToken | None = None
    raw_token: str | None = None


def mfa_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- Enrolment ------------------------------------------------------------------------------


def _enrolment(device: TOTPDevice) -> TotpEnrolment:
    uri = device.config_url
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return TotpEnrolment(
        otpauth_uri=uri,
        secret=base64.b32encode(device.bin_key).decode(),
        qr_svg_data_uri="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
    )


@transaction.atomic
def mfa_totp_enrol(*, user: User, restart: bool = True) -> TotpEnrolment:
    """Start enrolling an authenticator app: a new unconfirmed TOTP device whose secret is
    shown now. `restart=False` shows the pending one again (the admin's enrol page)."""
    if mfa_enabled(user=user):
        raise MfaStateConflict("Two-factor authentication is already on. Disable it first.")
    pending = TOTPDevice.objects.filter(user=user, confirmed=False)
    device = None if restart else pending.first()
    if device is None:
        pending.delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    logger.info("mfa enrolment started", extra={"user_id": user.pk})
    return _enrolment(device)


def mfa_totp_confirm(*, request: HttpRequest | None, user: User, code: str) -> list[str]:
    """Activate the pending device with a first code; returns ten one-time recovery codes,
    shown once. A session that confirms counts as verified (the admin then lets staff in).
    No transaction around the check: a failed code's throttle record must survive."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise MfaStateConflict("Nothing to confirm: start the enrolment first.")
    if not device.verify_token(_clean(code)):
        raise MfaCodeInvalid("That code is not right. Check the app's clock and try again.")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        from ..models import SecurityEvent
        from ..risk_control import security_event_record
        from .identity import identity_email_enqueue

        identity_email_enqueue(user=user, kind="mfa_enabled")
        security_event_record(user=user, kind=SecurityEvent.Kind.MFA_ENABLED)
    if request is not None and hasattr(request, "session"):
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    logger.info("mfa enabled", extra={"user_id": user.pk})
    return codes


def mfa_disable(*, user: User, code: str) -> None:
    """Turn MFA off, with a current code (TOTP or recovery) as proof."""
    if not mfa_enabled(user=user):
        raise MfaStateConflict("Two-factor authentication is not on.")
    if mfa_code_match(user=user, code=code) is None:
        raise MfaCodeInvalid("That code is not right.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        from ..models import SecurityEvent
        from ..risk_control import security_event_record
        from .identity import identity_email_enqueue

        identity_email_enqueue(user=user, kind="mfa_disabled")
        security_event_record(user=user, kind=SecurityEvent.Kind.MFA_DISABLED)
    logger.info("mfa disabled", extra={"user_id": user.pk})


# --- Codes ----------------------------------------------------------------------------------


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def mfa_code_match(*, user: User, code: str) -> Device | None:
    """The confirmed device (authenticator first, then recovery codes) that accepts the code.
    A recovery code is used up; a TOTP code cannot be replayed (django-otp keeps last_t)."""
    code = _clean(code)
    if not code:
        return None
    devices: list[Any] = [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]
    for device in devices:
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(code):
            return device
    return None


# --- Two-step login -------------------------------------------------------------------------


def mfa_challenge_issue(*, user: User, mode: str, device_name: str = "") -> MfaChallenge:
    """The password step's answer for a user with MFA on. The token is signed, expires after
    MFA_LOGIN_TIMEOUT and is bound to the password (and session epoch): a reset voids it."""
    payload = {
        "u": user.pk,
        "m": mode,
        "d": device_name,
        "h": user.get_session_auth_hash()[:16],
    }
    return MfaChallenge(mfa_token=signing.dumps(payload, salt=MFA_TOKEN_SALT))


def _challenge_user(mfa_token: str) -> tuple[User, dict[str, Any]]:
    try:
        payload = signing.loads(mfa_token, salt=MFA_TOKEN_SALT, max_age=settings.MFA_LOGIN_TIMEOUT)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise MfaLoginExpired("This login has expired. Enter your password again.") from exc
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or user.get_session_auth_hash()[:16] != payload.get("h"):
        raise MfaLoginExpired("This login has expired. Enter your password again.")
    return user, payload


def mfa_login_verify(*, request: HttpRequest, mfa_token: str, code: str) -> MfaLoginResult:
    """The second login step: a code for the user the mfa_token names finishes the login the
    password step asked for (a browser session, or a device token). A locked-out account is
    refused before the code is checked, and a wrong code counts towards the lockout."""
    user, payload = _challenge_user(mfa_token)
    credentials = {"email": user.email}
    if AxesProxyHandler.is_locked(request, credentials):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise AccountLockedOut(
            f"Too many failed login attempts: this account is locked for {minutes} minutes.",
            extra={"cooloff_minutes": minutes},
        )
    device = mfa_code_match(user=user, code=code)
    if device is None:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        raise MfaCodeInvalid("That code is not right. Try the current one from your app.")
    from ..risk_control import login_evaluate
    from .identity import device_token_create, known_device_record

    login_evaluate(user=user, new_device=known_device_record(request=request, user=user))
    if payload.get("m") == TOKEN:
        token, raw = device_token_create(user=user, device_name=payload.get("d") or "")
        logger.info("mfa login (token)", extra={"user_id": user.pk})
        return MfaLoginResult(user=user, token=token, raw_token=raw)
    # django-otp's user_logged_in receiver stores otp_device in the session: verified.
    user.otp_device = device  # type: ignore[attr-defined]
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    logger.info("mfa login (session)", extra={"user_id": user.pk})
    return MfaLoginResult(user=user)
