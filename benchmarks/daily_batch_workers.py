"""The fanned-out daily batch through real Celery workers: wall time per 100 accounts with one
worker process, then two (`--concurrency`), and the speed-up (issue #18: "near-linear speed-up
when a second worker process is added").

On a scratch PostgreSQL database of its own (`benchmarks.scratch`; SQLite cannot take two
writing processes) and a Redis database number of its own (default 13, flushed before each
run). For each worker count: a freshly written synthetic book (`synth_book`, seed 0: the same
work each time) or a fresh copy of the saved one (`--book`), one `celery worker -Q
batch,default,ml --concurrency N` started here and stopped after, and the whole batch
(`portfolios.batch.batch_canvas`, chunks of `--chunk` accounts) sent to it.
Timed until the last job's chord is done ("batch"), and until the goal projections the batch
queued are computed too ("with projections").

The worker runs at `nice` WORKER_NICE (default 10), as `make worker` starts it.
`--running-file PATH`: the file exists while a batch is running (created when its canvas is
sent, removed when its last job is done), for `benchmarks.chat_latency --during PATH` to time
chat answers while the batch runs (`make bench-chat-batch`).

`--settled` first gives the book, untimed, what a book the batch has run on has and a freshly
written one has not (`benchmarks.book.settle`: the stress cap applied once, the harvest backlog
of its 24 months executed, the stored daily values built), so the timed batch is a day's work
on a book in steady state, as `benchmarks.daily_batch --settled` times it in one process.
Without it, each run is the first night of a freshly written book. `--day ordinary`: a day in
the middle of a month (`benchmarks.daily_batch`'s docstring), yesterday's batch run untimed.
`--book NAME` (as `benchmarks.daily_batch --book`): the book is written (and settled) once and
kept as database NAME, or taken from NAME where it exists; each worker count starts from a
fresh copy of it (`CREATE DATABASE … TEMPLATE`), so both counts do the same work.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
     .venv/bin/python -m benchmarks.daily_batch_workers [--accounts 1000] [--chunk 100]
     [--workers 1,2] [--settled] [--day busy|ordinary] [--book NAME]
     [--broker redis://127.0.0.1:6379/13] [--running-file PATH] [--json]
The machine's cores bound the speed-up: on 2 cores shared with other work the figures are
noisy; rerun on a quiet machine.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
os.environ.setdefault("DEMO_DATA_ALLOWED", "True")
os.environ.setdefault("MODEL_PORTFOLIOS_AUTO_APPROVE", "True")
sys.path.insert(0, str(ROOT))


def _broker_from_argv() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--broker" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--broker="):
            return arg.split("=", 1)[1]
    return "redis://127.0.0.1:6379/13"


BROKER = _broker_from_argv()
os.environ["CELERY_BROKER_URL"] = BROKER  # before the settings: no eager tasks here
os.environ["CELERY_RESULT_BACKEND"] = BROKER

from benchmarks.scratch import (  # noqa: E402
    POSTGRES_SCHEMES,
    database_exists,
    scratch_database,
    scratch_restore,
    scratch_save,
)

if not os.environ.get("DATABASE_URL", "").startswith(POSTGRES_SCHEMES):
    raise SystemExit("daily_batch_workers needs DATABASE_URL naming a PostgreSQL server")
SCRATCH_URL = scratch_database()

import django  # noqa: E402

django.setup()

import redis  # noqa: E402

from advisor.models import Goal  # noqa: E402
from benchmarks.book import (  # noqa: E402
    DAYS,
    batch_today,
    book_check,
    book_write,
    market_setup,
    settle,
    yesterday_run,
)
from config.celery import app  # noqa: E402
from portfolios import batch  # noqa: E402
from portfolios.models import GoalProjection  # noqa: E402
from portfolios.synth import SYNTH_DOMAIN  # noqa: E402

WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))


def worker_start(concurrency: int) -> subprocess.Popen[bytes]:
    """One worker process pool of `concurrency` processes on the batch (and default) queues."""
    env = {**os.environ, "DATABASE_URL": SCRATCH_URL, "CELERY_BROKER_URL": BROKER}
    command = [
        "nice",
        "-n",
        str(WORKER_NICE),  # as `make worker` starts it
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "batch,default,ml",
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--prefetch-multiplier",
        "1",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "WARNING",
        "-n",
        f"bench{concurrency}-{os.getpid()}@%h",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own command
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return process
        if process.poll() is not None:
            raise SystemExit(f"the worker exited with {process.returncode}")
    process.send_signal(signal.SIGTERM)
    raise SystemExit("the worker did not answer a ping within 120 s")


def worker_stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)  # warm shutdown: our own child, by its pid
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def summaries(result: Any, timeout: float) -> list[dict[str, Any]]:
    """The jobs' summaries (`batch.job_done`), first job first: each names the next job's."""
    found = []
    while result is not None:
        summary = result.get(timeout=timeout)
        found.append(summary)
        result = app.AsyncResult(summary["next"]) if summary.get("next") else None
    return found


def book_start(accounts: int, *, settled: bool, book: str | None) -> None:
    """The book a run starts from, in the scratch database: a copy of the saved `book`, or a
    freshly written one (settled with `settled`, then saved as `book` when one is named)."""
    if book and database_exists(book):
        scratch_restore(book)
        book_check(accounts, book)
        return
    book_write(accounts)
    if settled:
        settle()
    if book:
        scratch_save(book)


def run(
    accounts: int,
    concurrency: int,
    chunk: int,
    timeout: float,
    running: Path | None = None,
    *,
    settled: bool = False,
    day: str = "busy",
    book: str | None = None,
) -> dict[str, Any]:
    book_start(accounts, settled=settled, book=book)
    if day == "ordinary":
        yesterday_run()
    redis.Redis.from_url(BROKER).flushdb()
    goals = Goal.objects.filter(client__user__email__endswith=SYNTH_DOMAIN)
    GoalProjection.objects.filter(goal__in=goals).delete()
    today = batch_today(day).isoformat()
    process = worker_start(concurrency)
    try:
        canvas, chunks = batch.batch_canvas(size=chunk, today=today)
        started = time.perf_counter()
        result = canvas.apply_async()
        if running is not None:
            running.touch()
        try:
            jobs = summaries(result, timeout)
        finally:
            if running is not None:
                running.unlink(missing_ok=True)
        batch_s = time.perf_counter() - started
        pending = GoalProjection.objects.filter(
            goal__in=goals, status=GoalProjection.Status.PENDING
        )
        while pending.exists() and time.perf_counter() - started < timeout:
            time.sleep(0.5)
        all_s = time.perf_counter() - started
    finally:
        worker_stop(process)
    return {
        "accounts": accounts,
        "workers": concurrency,
        "chunk": chunk,
        "chunks": chunks,
        "day": day + (", settled" if settled else ""),
        "batch_seconds": round(batch_s, 2),
        "batch_seconds_per_100_accounts": round(batch_s * 100 / accounts, 3),
        "with_projections_seconds": round(all_s, 2),
        "with_projections_per_100_accounts": round(all_s * 100 / accounts, 3),
        "failed_chunks": sum(len(j["failed"]) for j in jobs),
        "projections_left_pending": pending.count(),
    }


def table(rows: list[dict[str, Any]]) -> str:
    base = rows[0]
    lines = [
        f"{base['accounts']} accounts, {base['day']} day, chunks of {base['chunk']} "
        f"({base['chunks']} chunk tasks)",
        f"{'workers':>8}{'batch s':>10}{'s/100 acc':>11}{'speed-up':>10}"
        f"{'+proj s':>10}{'s/100 acc':>11}{'speed-up':>10}{'failed':>8}",
    ]
    for r in rows:
        lines.append(
            f"{r['workers']:>8}{r['batch_seconds']:>10.2f}"
            f"{r['batch_seconds_per_100_accounts']:>11.3f}"
            f"{base['batch_seconds'] / r['batch_seconds']:>10.2f}"
            f"{r['with_projections_seconds']:>10.2f}"
            f"{r['with_projections_per_100_accounts']:>11.3f}"
            f"{base['with_projections_seconds'] / r['with_projections_seconds']:>10.2f}"
            f"{r['failed_chunks']:>8}"
        )
    return "\n".join(lines)


def main() -> None:
    # Stopped from outside: unwind, so the worker is stopped and the scratch database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=100, help="accounts per chunk")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--broker", default=BROKER, help="Redis URL (a database of its own)")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--running-file", type=Path, help="a file that exists while a batch runs")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--settled",
        action="store_true",
        help="first what a book the batch has run on has (untimed): stress cap, harvests, values",
    )
    parser.add_argument("--day", choices=DAYS, default="busy")
    parser.add_argument(
        "--book", help="keep the written book as this PostgreSQL database, or start from it"
    )
    args = parser.parse_args()
    market_setup()
    rows = [
        run(
            args.accounts,
            int(n),
            args.chunk,
            args.timeout,
            args.running_file,
            settled=args.settled,
            day=args.day,
            book=args.book,
        )
        for n in args.workers.split(",")
        if n
    ]
    print(json.dumps(rows, indent=2) if args.json else table(rows), flush=True)


if __name__ == "__main__":
    main()
