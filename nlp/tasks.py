"""Thin ml-queue tasks (route `nlp.*` → `ml`)."""

from celery import shared_task

from config.celery import RETRY_TRANSIENT

from . import news, services


@shared_task(
    name="nlp.sentiment_score_pending",
    **RETRY_TRANSIENT,
    soft_time_limit=600,
    time_limit=660,
)
def sentiment_score_pending_task() -> int:
    """Score unscored news with the approved model. Safe to run twice."""
    from .inference.registry import ModelUnavailable

    try:
        return services.sentiment_score_pending()
    except ModelUnavailable:
        return 0  # nothing to score with yet: the items wait, the API says "pending"


@shared_task(name="nlp.news_poll_feeds", acks_late=True, soft_time_limit=300, time_limit=330)
def news_poll_feeds_task() -> int:
    """Beat: import new items from NEWS_RSS_FEEDS, then queue their scoring."""
    created = news.feeds_poll()
    if created:
        sentiment_score_pending_task.delay()
    return created


@shared_task(
    name="nlp.risk_profile_assess",
    **RETRY_TRANSIENT,
    soft_time_limit=120,
    time_limit=150,
)
def risk_profile_assess_task(*, response_id: int) -> str | None:
    """The risk model's opinion and the combined level for one response. Safe to run twice."""
    from .inference.registry import ModelUnavailable

    try:
        assessment = services.risk_profile_assess(response_id=response_id)
    except ModelUnavailable:
        return None  # no model yet: the rules' level stands, the API shows the model as pending
    return assessment.method if assessment else None
