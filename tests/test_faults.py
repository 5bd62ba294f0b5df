"""Faults: the database or Redis blinks, and nothing is lost, doubled or answered with a 500.

The database tests make the driver's boundary fail (a cursor raising what psycopg raises when
PostgreSQL restarts): they run everywhere. The Redis tests start their own redis-server with
append-only persistence on a spare port, stop and restart it, and use a real worker: marked
`services` (run by .ci/run; skipped on a machine without CELERY_BROKER_URL)."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client as DjangoClient
from rest_framework.test import APIClient

from advisor.tasks import kyc_reviews_flag_due_task
from config.celery import app
from nlp.chat import services as chat_services
from nlp.models import Message
from nlp.tasks import pending_sweep_task

from .config.test_bounded_waits import celery_pointed_at

# --- The database goes away mid-request ---------------------------------------------------------


def _database_gone(error: type[Exception]):
    def execute(self, *args, **kwargs):
        raise error("server closed the connection unexpectedly")

    return execute


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_request_during_a_database_restart_is_a_503_with_retry_after(
    client_user, monkeypatch, error
):
    api = APIClient()
    api.force_authenticate(client_user)
    monkeypatch.setattr(CursorWrapper, "execute", _database_gone(error))

    response = api.get("/api/v1/goals/")

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "unavailable"


@pytest.mark.django_db
def test_a_page_outside_the_api_during_a_database_restart_is_a_503_not_a_500(
    monkeypatch, advisor_user
):
    # a signed-in browser on the admin: its session is read from the database outside any DRF
    # view, where Django's own 500 handler answers
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(advisor_user)
    monkeypatch.setattr(CursorWrapper, "execute", _database_gone(OperationalError))

    response = browser.get("/admin/login/")

    assert response.status_code == 503
    assert response["Retry-After"] == "2"


# --- Redis goes away and comes back --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of our own, append-only as in production, that a test may stop."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        """A clean shutdown: the append-only file is flushed, as on a restart."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_question_asked_while_redis_is_down_is_answered_once_after_it_recovers(
    own_redis, settings, client_user
):
    # given: Redis down when the client asks
    settings.CHAT_WAIT_SECONDS = 1.0
    settings.SWEEP_CHAT_AFTER_SECONDS = 0
    api = APIClient()
    api.force_authenticate(client_user)
    with celery_pointed_at(settings, own_redis.url):
        body = api.post("/api/v1/chat/messages/", {"text": "what is my balance"}).json()
        assert body["fallback"] is True
        question = Message.objects.get(pk=body["message_id"]).reply_to
        assert question is not None

        # when: Redis is back, the chat and default workers run, and beat's sweep comes round
        own_redis.start()
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["chat", "default"]):
            swept = pending_sweep_task.delay().get(timeout=60)
            _wait_for(lambda: question.replies.filter(fallback=False).exists(), 60, "the answer")
            again = pending_sweep_task.delay().get(timeout=60)

    # then: one real answer (no model approved here: the assistant's "not available" answer),
    # and a second sweep queues nothing
    assert swept["questions"] == 1
    assert again["questions"] == 0
    assert question.replies.filter(fallback=False).count() == 1
    assert question.replies.get(fallback=False).text == chat_services.NOT_READY


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_task_queued_before_a_redis_restart_runs_after_it(own_redis, settings):
    # given: a task queued while no worker consumes
    own_redis.start()
    with celery_pointed_at(settings, own_redis.url):
        sent = kyc_reviews_flag_due_task.delay()
        assert redis.Redis(port=own_redis.port).llen("default") == 1

        # when: Redis restarts (append-only: the queue is on disk) and a worker starts
        own_redis.stop()
        own_redis.start()
        assert redis.Redis(port=own_redis.port).llen("default") == 1
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"]):
            result = sent.get(timeout=60)

    # then: it ran, once
    assert result == 0
    assert redis.Redis(port=own_redis.port).llen("default") == 0
