"""Nothing lost: re-queue the work whose message went missing.

A message can vanish between the database and a worker: the broker was down when the web
request queued it (the client got a holding reply), Redis restarted without its data, or the
whole worker died and its message waits out the visibility timeout. The rows are still there,
so the beat job `nlp.pending_sweep` (every minute) finds them and queues them again:

- client questions without a real answer (a holding reply does not count),
- goal projections still pending after SWEEP_PROJECTION_AFTER_MINUTES (in batches of
  PROJECTION_BATCH_GOALS per `nlp.projections_compute_batch`, one vectorised Monte Carlo each),
- news the approved sentiment model has not read (the scoring task then continues on its own
  until nothing is pending).

Each item is claimed for SWEEP_CLAIM_SECONDS by an atomic add in the shared cache (a
compare-and-set: only the first sweep to add the key queues it), so a worker that is merely
slow is not flooded with copies. The tasks themselves stay the guarantee against doubles: one
real answer per question (a unique constraint), one result per projection, one score per item
and model version."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from config.celery import enqueue
from portfolios.models import GoalProjection

from .models import Message, ModelVersion, NewsItem

logger = logging.getLogger(__name__)

CLAIM_PREFIX = "sweep"


@dataclass(frozen=True)
class SweepResult:
    """How many items one sweep queued again, by kind."""

    questions: int = 0
    projections: int = 0
    news: int = 0


def _claim(kind: str, key: object) -> bool:
    """True for the first sweep to claim this item in the window (cache.add is atomic)."""
    return bool(cache.add(f"{CLAIM_PREFIX}:{kind}:{key}", 1, timeout=settings.SWEEP_CLAIM_SECONDS))


def _release(kind: str, key: object) -> None:
    cache.delete(f"{CLAIM_PREFIX}:{kind}:{key}")


def unanswered_question_ids(*, now: datetime | None = None) -> list[int]:
    """Client questions asked between the lookback and SWEEP_CHAT_AFTER_SECONDS ago that have no
    real answer (a holding reply, `fallback`, does not count), oldest first."""
    now = now or timezone.now()
    answered = Message.objects.filter(reply_to=OuterRef("pk"), fallback=False)
    return list(
        Message.objects.filter(
            role=Message.Role.CLIENT,
            created_at__lte=now - timedelta(seconds=settings.SWEEP_CHAT_AFTER_SECONDS),
            created_at__gte=now - timedelta(hours=settings.SWEEP_CHAT_LOOKBACK_HOURS),
        )
        .exclude(Exists(answered))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[: settings.SWEEP_BATCH]
    )


def stale_projection_ids(*, now: datetime | None = None) -> list[int]:
    """Goal projections still pending SWEEP_PROJECTION_AFTER_MINUTES after they were asked."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SWEEP_PROJECTION_AFTER_MINUTES)
    return list(
        GoalProjection.objects.filter(status=GoalProjection.Status.PENDING, created_at__lte=cutoff)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[: settings.SWEEP_BATCH]
    )


def news_unscored() -> bool:
    """Whether the approved sentiment model has news left to read (False without a model)."""
    version = ModelVersion.objects.filter(
        name="sentiment", status=ModelVersion.Status.APPROVED
    ).first()
    if version is None:
        return False
    return NewsItem.objects.exclude(scores__model_version=version).exists()


def _requeue(kind: str, key: object, task: str, **kwargs: Any) -> bool:
    if not _claim(kind, key):
        return False
    try:
        enqueue(task, **kwargs)
    except BrokerDown:
        _release(kind, key)  # the next sweep tries again
        raise
    return True


def _requeue_projections(projection_ids: list[int]) -> int:
    """Queue the stale projections this sweep claims, a batch task per PROJECTION_BATCH_GOALS."""
    claimed = [pk for pk in projection_ids if _claim("projection", pk)]
    size = max(1, getattr(settings, "PROJECTION_BATCH_GOALS", 500))
    queued = 0
    for start in range(0, len(claimed), size):
        batch = claimed[start : start + size]
        try:
            enqueue("nlp.projections_compute_batch", projection_ids=batch)
        except BrokerDown:
            for pk in claimed[start:]:  # the next sweep tries these again
                _release("projection", pk)
            raise
        queued += len(batch)
    return queued


def pending_sweep() -> SweepResult:
    """Queue again what was asked for and never done; safe to run twice (claims, idempotent
    tasks). A broker outage stops the sweep: the next one, a minute later, resumes it."""
    questions = projections = news = 0
    try:
        for message_id in unanswered_question_ids():
            questions += _requeue("chat", message_id, "nlp.chat_answer", message_id=message_id)
        projections = _requeue_projections(stale_projection_ids())
        if news_unscored():
            news += _requeue("news", "pending", "nlp.sentiment_score_pending")
    except BrokerDown:
        logger.warning("sweep stopped: broker unavailable", exc_info=True)
    result = SweepResult(questions=questions, projections=projections, news=news)
    if questions or projections or news:
        logger.info(
            "sweep re-queued work",
            extra={"questions": questions, "projections": projections, "news": news},
        )
    return result
