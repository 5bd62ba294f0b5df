"""Thin tasks: take ids, call one service."""

import logging
from smtplib import SMTPException
from typing import Any

from celery import shared_task

from config.celery import RETRY_TRANSIENT

from . import services
from .services import notifications

logger = logging.getLogger(__name__)

# Emails: an SMTP hiccup (or the server unreachable) retries with backoff; acknowledged once sent.
RETRY_SMTP: dict[str, Any] = {
    "autoretry_for": (OSError, SMTPException),
    "retry_backoff": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(
    name="advisor.kyc_reviews_flag_due",
    **RETRY_TRANSIENT,
)
def kyc_reviews_flag_due_task() -> int:
    """Daily: flag clients whose KYC review date has passed. Safe to run twice."""
    flagged = services.kyc_reviews_flag_due()
    notified = notifications.kyc_reviews_notify_due()
    logger.info("kyc reviews flagged", extra={"count": flagged, "notified": notified})
    return flagged


@shared_task(
    name="advisor.auth_tokens_purge_expired",
    **RETRY_TRANSIENT,
)
def auth_tokens_purge_expired_task() -> int:
    """Daily: delete expired device tokens. Safe to run twice."""
    return services.device_tokens_purge_expired()


@shared_task(
    name="advisor.identity_email_send",
    **RETRY_SMTP,
)
def identity_email_send_task(*, user_id: int, kind: str, details: dict[str, str]) -> None:
    """Send one account email (reset link, verification, notices); SMTP hiccups retry. A
    rerun may send the email twice, which beats never sending a reset link."""
    services.identity_email_send(user_id=user_id, kind=kind, details=details)


@shared_task(
    name="advisor.notification_emails_send",
    **RETRY_SMTP,
)
def notification_emails_send_task(*, notification_ids: list[int]) -> int:
    """Email these notifications where their kind's preference is on, over one connection;
    each sent at most once (claimed on its row), SMTP hiccups retry the ones not sent."""
    return notifications.notification_emails_send(notification_ids=notification_ids)


@shared_task(
    name="advisor.notification_email_send",
    **RETRY_SMTP,
)
def notification_email_send_task(*, notification_id: int) -> bool:
    """One notification's email: what the release before queued (it still drains after an
    upgrade); now `advisor.notification_emails_send`."""
    return notifications.notification_email_send(notification_id=notification_id)
