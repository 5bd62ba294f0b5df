"""A test-only task for the killed-worker test; the worker subprocess imports it with -I."""

import os
import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="tests.probe_hold", acks_late=True)
def probe_hold(*, key: str, hold_seconds: float) -> None:
    """Counts attempts in Redis; the first attempt holds on so the test can kill it."""
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    attempt = store.incr(f"{key}:attempts")
    store.set(f"{key}:pid:{attempt}", os.getpid())
    if attempt == 1:
        time.sleep(hold_seconds)
    store.incr(f"{key}:done")
