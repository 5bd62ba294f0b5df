"""Thin tasks: keyword ids in, one service call. Lanes (CELERY_TASK_ROUTES): `nlp.chat_answer`
on `chat`, projections and news scoring on `batch`, the sweeper on `default`, the rest on `ml`."""

from celery import Task, shared_task
from django.db import OperationalError

from advisor import services as advisor_services
from advisor.models import QuestionnaireResponse
from config.celery import RETRY_TRANSIENT

from . import news, projections, services, sweeper
from .chat import services as chat_services
from .exceptions import ModelUnavailable

Opinion = QuestionnaireResponse.ModelOpinion


@shared_task(
    name="nlp.sentiment_score_pending",
    **RETRY_TRANSIENT,
    soft_time_limit=600,
    time_limit=660,
)
def sentiment_score_pending_task() -> int:
    """Score unscored news with the approved model, a batch of SENTIMENT_CHUNK at a time, and
    queue the next batch while a full one was scored: scoring continues until nothing is
    pending, in tasks short enough for their time limit. Safe to run twice."""
    try:
        scored = services.sentiment_score_pending(limit=services.SENTIMENT_CHUNK)
    except ModelUnavailable:
        return 0  # nothing to score with yet: the items wait, the API says "pending"
    if scored >= services.SENTIMENT_CHUNK:
        sentiment_score_pending_task.delay()
    return scored


@shared_task(name="nlp.news_poll_feeds", acks_late=True, soft_time_limit=300, time_limit=330)
def news_poll_feeds_task() -> int:
    """Beat: import new items from NEWS_RSS_FEEDS, then queue their scoring."""
    created = news.feeds_poll()
    if created:
        sentiment_score_pending_task.delay()
    return created


@shared_task(
    name="nlp.risk_profile_assess",
    bind=True,
    **RETRY_TRANSIENT,
    soft_time_limit=120,
    time_limit=150,
)
def risk_profile_assess_task(self: Task, *, response_id: int) -> str | None:
    """The risk model's opinion and the combined level for one response. Safe to run twice.

    Transient database errors retry; anything else, or the last retry, marks the response
    `failed` so the client and advisor see it rather than a forever-pending opinion."""
    try:
        assessment = services.risk_profile_assess(response_id=response_id)
    except ModelUnavailable:
        return None  # no model yet: the rules' level stands; approval catches up
    except OperationalError:
        if self.request.retries >= (self.max_retries or 0):
            advisor_services.model_opinion_mark(
                response_id=response_id, status=Opinion.FAILED, detail="database unavailable"
            )
        raise
    except Exception as exc:
        advisor_services.model_opinion_mark(
            response_id=response_id, status=Opinion.FAILED, detail=type(exc).__name__
        )
        raise
    return assessment.method if assessment else None


@shared_task(name="nlp.chat_answer", **RETRY_TRANSIENT, soft_time_limit=30, time_limit=40)
def chat_answer_task(*, message_id: int) -> int:
    """Answer one client question; returns the reply's id. Safe to run twice."""
    return chat_services.answer(message_id=message_id)


@shared_task(
    name="nlp.projection_compute",
    **RETRY_TRANSIENT,
    soft_time_limit=120,
    time_limit=150,
)
def projection_compute_task(*, projection_id: int) -> None:
    """Monte Carlo for one goal projection (torch). Safe to run twice."""
    projections.projection_compute(projection_id=projection_id)


@shared_task(
    name="nlp.projections_compute_batch",
    **RETRY_TRANSIENT,
    # PROJECTION_BATCH_GOALS (500) plans at 10,000 paths take a few minutes on 2 CPU cores and
    # seconds on a GPU; well inside the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT).
    soft_time_limit=600,
    time_limit=660,
)
def projections_compute_batch_task(*, projection_ids: list[int]) -> int:
    """One vectorised Monte Carlo over a chunk of pending projections (the daily batch), each
    result stored once. Safe to run twice, and alongside itself."""
    return projections.projections_compute_batch(projection_ids=projection_ids)


@shared_task(
    name="portfolios.projection_compute",
    **RETRY_TRANSIENT,
    soft_time_limit=120,
    time_limit=150,
)
def projection_compute_old_name_task(*, projection_id: int) -> None:
    """`nlp.projection_compute` under its old name, for one release: web processes of the
    previous release, and messages they left on the ml queue, still use it. Delete this alias
    and its route in CELERY_TASK_ROUTES in the next release."""
    projections.projection_compute(projection_id=projection_id)


@shared_task(name="nlp.pending_sweep", acks_late=True, soft_time_limit=50, time_limit=55)
def pending_sweep_task() -> dict[str, int]:
    """Beat, every minute: queue again unanswered questions, stale pending projections and
    unscored news (nlp/sweeper.py). Safe to run twice: items are claimed, tasks idempotent."""
    result = sweeper.pending_sweep()
    return {"questions": result.questions, "projections": result.projections, "news": result.news}


@shared_task(name="nlp.model_monitoring_run", **RETRY_TRANSIENT)
def model_monitoring_run_task() -> int:
    """Daily: a drift report of every approved model version (input drift of the risk model,
    label shares of sentiment, confidence and escalations of chat). Safe to run twice a day."""
    from .monitoring import model_monitoring_run

    return len(model_monitoring_run())
