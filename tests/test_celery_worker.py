"""Tasks through a real Celery worker on the real broker (Redis) and database (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.conf import settings
from django.utils import timezone

from advisor.models import Client
from advisor.tasks import kyc_reviews_flag_due_task
from config.celery import app

from .factories import ClientFactory

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(through_broker):
    """A worker thread consuming the `default` queue of the configured broker."""
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=["default"]
    ) as w:
        yield w


def test_a_real_worker_runs_the_kyc_review_task_once_and_a_rerun_changes_nothing(worker):
    # given: one client whose KYC review is overdue and one whose review is next year
    today = timezone.localdate()
    overdue = ClientFactory(kyc_review_due=today - timedelta(days=1))
    current = ClientFactory(kyc_review_due=today + timedelta(days=365))

    # when: the beat job's task goes through the broker to the worker, twice
    sent = kyc_reviews_flag_due_task.delay()
    first = sent.get(timeout=60)
    second = kyc_reviews_flag_due_task.delay().get(timeout=60)

    # then
    assert not isinstance(sent, EagerResult)
    assert (first, second) == (1, 0)
    assert Client.objects.get(pk=overdue.pk).kyc_review_overdue is True
    assert Client.objects.get(pk=current.pk).kyc_review_overdue is False


def test_tasks_are_routed_to_the_queues_the_workers_consume():
    routes = app.amqp.router
    assert routes.route({}, "advisor.kyc_reviews_flag_due")["queue"].name == "default"
    assert routes.route({}, "nlp.sentiment_score")["queue"].name == "ml"


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.services
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # sent for real
def test_a_worker_killed_mid_task_hands_the_task_back_and_it_runs_to_completion(tmp_path):
    # given: a real prefork worker process on its own queue
    queue, key = f"probe-{uuid.uuid4().hex[:8]}", f"meridian-test:{uuid.uuid4().hex}"
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    worker_process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-P",
            "prefork",
            "-c",
            "1",
            "-I",
            "tests.celery_probe",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        app.send_task("tests.probe_hold", kwargs={"key": key, "hold_seconds": 120}, queue=queue)

        # when: the process running the task is killed mid-task
        pid = int(_wait_for(lambda: store.get(f"{key}:pid:1"), 60, "the first attempt"))
        os.kill(pid, signal.SIGKILL)

        # then: the task comes back and completes exactly once
        _wait_for(lambda: store.get(f"{key}:done"), 60, "the retried attempt")
        assert int(store.get(f"{key}:attempts")) == 2
        assert int(store.get(f"{key}:done")) == 1
    finally:
        worker_process.terminate()
        worker_process.wait(timeout=30)
        store.delete(*store.keys(f"{key}:*") or [key])
