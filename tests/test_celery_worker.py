"""Tasks through a real Celery worker on the real broker (Redis) and database (PostgreSQL)."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from advisor.models import Client
from advisor.tasks import kyc_reviews_flag_due_task
from config.celery import app

from .factories import ClientFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    """A worker thread consuming the `default` queue of the configured broker."""
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
            yield w
    finally:
        app.conf.task_always_eager = True


def test_a_real_worker_runs_the_kyc_review_task_once_and_a_rerun_changes_nothing(worker):
    # given: one client whose KYC review is overdue and one whose review is next year
    today = timezone.localdate()
    overdue = ClientFactory(kyc_review_due=today - timedelta(days=1))
    current = ClientFactory(kyc_review_due=today + timedelta(days=365))

    # when: the beat job's task goes through the broker to the worker, twice
    first = kyc_reviews_flag_due_task.delay().get(timeout=60)
    second = kyc_reviews_flag_due_task.delay().get(timeout=60)

    # then
    assert (first, second) == (1, 0)
    assert Client.objects.get(pk=overdue.pk).kyc_review_overdue is True
    assert Client.objects.get(pk=current.pk).kyc_review_overdue is False


def test_tasks_are_routed_to_the_queues_the_workers_consume():
    routes = app.amqp.router
    assert routes.route({}, "advisor.kyc_reviews_flag_due")["queue"].name == "default"
    assert routes.route({}, "nlp.sentiment_score")["queue"].name == "ml"
