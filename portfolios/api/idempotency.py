"""HTTP idempotency for money-moving requests (Stripe semantics): one stored response per
(user, Idempotency-Key); the same key with the same body replays it, with another body is
refused. An API concern: the domain's own duplicate protection is its locks and constraints."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from advisor.models import User

from ..exceptions import IdempotencyKeyReused
from ..models import IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@transaction.atomic
def idempotent(
    *,
    user: User,
    key: str,
    scope: str,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `operation` once per (user, key): the same key and body replays the first response;
    the same key with another body is refused. Returns (status, body, replayed)."""
    fingerprint = request_fingerprint({"scope": scope, "payload": payload})
    # Concurrent requests with one key queue on this row's lock (or its unique index) until the
    # first commits; they then see its stored response.
    record, created = IdempotencyKey.objects.select_for_update().get_or_create(
        user=user, key=key, defaults={"scope": scope, "request_hash": fingerprint}
    )
    if not created and record.created_at < timezone.now() - IDEMPOTENCY_TTL:
        record.delete()
        record = IdempotencyKey.objects.create(
            user=user, key=key, scope=scope, request_hash=fingerprint
        )
        created = True
    if not created:
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request.",
                extra={"key": key},
            )
        return record.response_status or 200, record.response_body, True
    status, body = operation()
    record.response_status, record.response_body = status, body
    record.save(update_fields=["response_status", "response_body"])
    return status, body, False


def idempotency_keys_purge() -> int:
    """Delete keys past their 24 h life. Idempotent."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL * 2
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
