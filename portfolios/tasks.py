"""Thin tasks: keyword ids in, one service call."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="portfolios.allocation_refresh",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
)
def allocation_refresh_task() -> int | None:
    """After new prices: re-estimate assumptions and model portfolios. Safe to run twice."""
    portfolio_set = services.allocation_refresh()
    return portfolio_set.version if portfolio_set else None


@shared_task(name="portfolios.idempotency_keys_purge", acks_late=True)
def idempotency_keys_purge_task() -> int:
    """Daily: forget idempotency keys older than their 24 h life."""
    return services.idempotency_keys_purge()
