"""The Celery app: queues `chat`, `ml`, `batch` and `default` (routes in the settings), the
beat schedule, and the web's bounded hand-off to workers (`enqueue`, `result_wait`).

With no CELERY_BROKER_URL the settings make every task run eagerly in-process, so a local
run needs no worker.
"""

import logging
from typing import Any

from celery import Celery, signals
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from celery.schedules import crontab
from django.db import OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerDown
from redis.exceptions import RedisError

from .environment import settings_module_set
from .heap import heap_freeze

# Workers and beat: the local settings by default, production's where DJANGO_ENV says so (and
# never the local ones there).
settings_module_set(default="config.settings.local")

# Every task: retry transient database errors with backoff, acknowledge only when done (a rerun
# is safe because tasks are idempotent). `@shared_task(name=..., **RETRY_TRANSIENT)`.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
    "acks_late": True,
}

logger = logging.getLogger(__name__)

app = Celery("meridian", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(name: str, *, queue: str | None = None, **kwargs: Any) -> AsyncResult:
    """Queue the task registered as `name` with keyword ids (`queue`: another lane than its
    route, e.g. an interactive request for a task the daily batch also runs).

    By name, so a lower floor (portfolios, advisor) can hand work to the ml worker without
    importing it; through the registered task, so the eager mode of a local run still applies.
    Bounded: with Redis down this raises kombu's OperationalError within about twice the
    connect timeout (settings: REDIS_CONNECT_TIMEOUT, CELERY_TASK_PUBLISH_RETRY_POLICY)."""
    if name not in app.tasks:
        # A web process has imported no tasks module yet: autodiscover them, or an eager run
        # would fall through to send_task and wait on a broker that a local run does not have.
        app.loader.import_default_modules()
    options = {"queue": queue} if queue else {}
    try:
        return app.signature(name, kwargs=kwargs, options=options).apply_async()
    except (RedisError, ConnectionError, TimeoutError) as exc:
        # The result backend (subscribing to the reply) failed rather than the broker: one
        # exception for callers to catch whichever half of Redis is away.
        raise BrokerDown(str(exc)) from exc


def result_wait(pending: AsyncResult, *, timeout: float) -> Any:
    """The task's return value, or None when it is not ready within `timeout` seconds, failed,
    or Redis went away meanwhile: the caller answers "pending" or a holding reply, never an
    error, and never waits much past `timeout` (the socket timeouts bound each read)."""
    try:
        value = pending.get(timeout=timeout, propagate=False)
    except (CeleryTimeout, BrokerDown, RedisError, OSError) as exc:
        logger.warning(
            "result not ready in time",
            extra={"task_id": pending.id, "error": type(exc).__name__},
        )
        return None
    return None if isinstance(value, BaseException) else value


def enqueue_on_commit(name: str, **kwargs: Any) -> None:
    """Queue `name` once the current transaction commits. A broker outage is logged, not raised:
    the committed work stands, and the beat jobs or a later request catch up."""

    def send() -> None:
        try:
            enqueue(name, **kwargs)
        except Exception:  # noqa: BLE001 - the commit is done; a lost message must not 500 it
            # With a broker: the message was not sent. In-process (eager, a local run): the task
            # itself failed, and its own retry and failure handling has already run.
            logger.warning(
                "task not queued or failed in-process", extra={"task": name}, exc_info=True
            )

    transaction.on_commit(send)


@signals.worker_init.connect
def _worker_patience(**_: Any) -> None:
    """Workers hold no client: when Redis blinks they may wait for it to come back (the
    backend's own 20 × 1 s) instead of dropping a result the web's short policy would."""
    app.conf.result_backend_transport_options = {
        "retry_policy": {"max_retries": 20, "interval_start": 0, "interval_step": 1}
    }


@signals.worker_process_init.connect
def _worker_heap_freeze(**_: Any) -> None:
    """A pool process starts with the parent's imports, alive until it exits: out of the
    garbage collector's passes (`config.heap`)."""
    heap_freeze()


app.conf.beat_schedule = {
    # Nothing lost: re-queue unanswered questions, stale pending projections, unscored news.
    "nlp.pending_sweep": {
        "task": "nlp.pending_sweep",
        "schedule": 60.0,
    },
    "advisor.kyc_reviews_flag_due": {
        "task": "advisor.kyc_reviews_flag_due",
        "schedule": crontab(hour=5, minute=0),
    },
    "nlp.news_poll_feeds": {
        "task": "nlp.news_poll_feeds",
        "schedule": crontab(minute="*/30"),
    },
    # After the close: the day's prices, then the daily batch (portfolios.batch), every job in
    # order, each fanned out over account-id ranges on the batch queue: recurring deposits (paid
    # at the day's close), dividends due by the new prices, tax-loss harvests, rebalancing
    # proposals, fees, risk figures and stress tests, then the projections of the new plans.
    "portfolios.prices_import": {
        "task": "portfolios.prices_import",
        "schedule": crontab(hour=22, minute=0),  # the US close is 20:00/21:00 UTC
    },
    "portfolios.daily_batch_run": {
        "task": "portfolios.daily_batch_run",
        "schedule": crontab(hour=22, minute=15),
    },
    # Statements once a month's last close is in (only those missing: cheap to run daily), and
    # tax reports for the year before from mid-January (after any late corrections).
    "portfolios.statements_generate_month": {
        "task": "portfolios.statements_generate_month",
        "schedule": crontab(hour=23, minute=0),
    },
    "portfolios.tax_reports_generate_year": {
        "task": "portfolios.tax_reports_generate_year",
        "schedule": crontab(hour=23, minute=10, day_of_month=15, month_of_year=1),
    },
    "portfolios.withdrawal_holds_expire": {
        "task": "portfolios.withdrawal_holds_expire",
        "schedule": crontab(minute=5),
    },
    "nlp.model_monitoring_run": {
        "task": "nlp.model_monitoring_run",
        "schedule": crontab(hour=6, minute=45),
    },
    "portfolios.what_if_projections_purge": {
        "task": "portfolios.what_if_projections_purge",
        "schedule": crontab(hour=3, minute=30),  # quiet hours, after the night's batch
    },
    "portfolios.idempotency_keys_purge": {
        "task": "portfolios.idempotency_keys_purge",
        "schedule": crontab(hour=4, minute=45),
    },
    "advisor.auth_tokens_purge_expired": {
        "task": "advisor.auth_tokens_purge_expired",
        "schedule": crontab(hour=4, minute=30),
    },
    "portfolios.ledger_reconcile": {
        "task": "portfolios.ledger_reconcile",
        "schedule": crontab(hour=23, minute=30),  # after the day's fills, fees and deposits
    },
}
