"""A worker killed in the middle of a daily-batch chunk loses and doubles nothing (issue #18's
fault tests): a real prefork worker process, on the real broker (Redis) and database
(PostgreSQL), runs one chunk of recurring deposits; its pool process is SIGKILLed after the
first deposits have committed; the chunk comes back (acks_late + reject_on_worker_lost) and the
rerun pays exactly the schedules still due. Marked `services`: .ci/run runs it."""

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
from django.conf import settings
from django.db import connection

from config.celery import app
from portfolios import market
from portfolios.models import Account, RecurringDeposit, Transaction

from .conftest import dividend_book
from .test_batch_ledger_jobs import four_months  # noqa: F401 - a fixture, used below
from .test_ledger import assert_ledger_consistent

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test database only on PostgreSQL")
    host = db["HOST"] or "127.0.0.1"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _pool_children(pid: int) -> list[int]:
    out = subprocess.run(  # noqa: S603
        ["ps", "-o", "pid=", "--ppid", str(pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(p) for p in out.split()]


@pytest.mark.usefixtures("four_months")
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # sent for real
def test_a_worker_killed_mid_chunk_pays_each_due_deposit_exactly_once(tmp_path):
    # given: a book whose every active schedule is due (a month after the market date)
    ids = dividend_book(60)
    today = market.market_date_get() + timedelta(days=31)
    lo, hi = ids[0], ids[-1] + 1
    due = RecurringDeposit.objects.filter(
        active=True, cancelled_at=None, next_run__lte=today, account_id__in=ids
    )
    due_ids = set(due.values_list("pk", flat=True))
    assert len(due_ids) >= 20, "too few schedules for a kill in the middle"
    # an IRA's schedule may be skipped at the year's limit (and move on unpaid): count the
    # taxable ones exactly, the IRAs' as at most once
    taxable = set(
        due.filter(account__goal__account_type="taxable").values_list("account_id", flat=True)
    )
    before = Transaction.objects.filter(kind="deposit").count()
    before_taxable = Transaction.objects.filter(kind="deposit", account_id__in=taxable).count()

    queue = f"chunk-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(  # noqa: S603
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
        app.send_task(
            "portfolios.daily_batch_chunk",
            kwargs={"job": "recurring_deposits_run", "lo": lo, "hi": hi, "today": str(today)},
            queue=queue,
        )

        # when: the pool process is killed once some deposits, not all, have committed
        def paid() -> int:
            return Transaction.objects.filter(kind="deposit").count() - before

        _wait_for(paid, 120, "the chunk's first deposit")
        children = _wait_for(lambda: _pool_children(worker.pid), 10, "the pool process")
        for child in children:
            os.kill(child, signal.SIGKILL)
        at_kill = paid()
        assert at_kill < len(due_ids), "the chunk finished before the kill: nothing was tested"

        # then: the chunk comes back and every schedule is paid once, none twice
        _wait_for(
            lambda: not RecurringDeposit.objects.filter(
                pk__in=due_ids, next_run__lte=today
            ).exists(),
            180,
            "every due schedule to move on",
        )
        time.sleep(2)  # a doubled payment, if any, would land now
        assert paid() <= len(due_ids)
        paid_taxable = (
            Transaction.objects.filter(kind="deposit", account_id__in=taxable).count()
            - before_taxable
        )
        assert paid_taxable == len(taxable)
        for account in Account.objects.filter(pk__in=ids):
            assert_ledger_consistent(account)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        # the deposits queued their goals' projections on the shared broker: drop them
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("batch", queue)
