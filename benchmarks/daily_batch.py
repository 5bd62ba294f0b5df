"""Seconds per 100 accounts and queries per account of every daily job, on a synthetic book
(issue #18), run as the fanned-out daily batch runs it: each job over the book's account ranges
(`portfolios.batch`, `--chunk` accounts each, default BATCH_CHUNK_ACCOUNTS), chunk after chunk
in this one process, as one worker would; `--serial` runs each job over the whole book at once,
as beat ran it before the batch (the "today" figures the 25× aim starts from).

On a scratch database of the benchmark's own (as `benchmarks.portfolio_summary`): a temporary
SQLite file, or, when DATABASE_URL names a PostgreSQL server, a fresh database on that server
(`meridian_bench_<pid>`), created here and dropped on exit. Loads the shipped market data
(and approves its model portfolios), then for each book size writes a synthetic book
(`manage.py synth_book`, 24 months of history, seed 0) and runs each job once, in process and
in beat's order, timing it and counting its SQL queries:

    recurring_deposits_run, dividends_pay, tax_harvests_refresh, rebalance_proposals_refresh,
    fees_bill, risk_figures_compute, plans_project (its Monte Carlo runs in-process: no broker)

The market date is the last shipped day; the book is set up so that the jobs have the work of
a busy day on it: the latest complete month is left unbilled (fees), the distributions paid in
the last 31 days are left unpaid (dividends), no projection or risk figure exists yet, and the
recurring deposits run with `today` = market date + 31 days, so every active schedule is due
once (a month's deposits in one run: the 1st of a month at the worst). Rebalances and harvests
find what the markets' moves made of the book.

`--day ordinary` times a day in the middle of a month instead: the month's fees are billed and
the distributions paid up to the day before, untimed (yesterday's batch), then the batch runs
with `today` = market date + 1 day, so the schedules due that day are paid (those on that day
of the month, about 1/28 of them), the distributions paid on the market date, no fee, and the
daily jobs (harvests, drift, risk figures, every plan's projection) over the whole book.

`--settled` first does, untimed, what a freshly written book has never had and a book the batch
has run on has: the model portfolios' risk figures with the stress cap applied to every client
once (synth_book writes uncapped levels: the first night caps them all), the tax-loss
harvests its 24 months of history left undone (the first run executes that backlog for the
clients who opted in), and the accounts' stored daily values (`AccountDailyValue`, which the
fee job keeps up to each bill: the first build of 24 months is not a day's work).

The projections' engine (torch) is imported before anything is timed, as a worker has it
loaded after its first task.

`--book NAME` (PostgreSQL, one book size) keeps the written book for later runs: where no
database NAME exists, the book is written (and settled, with `--settled`) as usual, then copied to
NAME before anything is timed; where it exists, the scratch database starts as a copy of it and
synth_book is skipped (settling again finds nothing left to do). A book of 100,000 accounts takes
most of an hour to write; a busy and an ordinary day can then run on the same one. NAME stays on
the server: drop it when done (`dropdb NAME`).

Run: .venv/bin/python -m benchmarks.daily_batch [--accounts 1000,10000] [--jobs fees_bill,…]
     [--chunk 500] [--serial] [--day busy|ordinary] [--settled] [--json] [--profile DIR]
     [--book NAME]
On PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (a scratch database is
made on that server). Timings on a shared machine are noisy: rerun on a quiet one.
"""

import argparse
import cProfile
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
os.environ.setdefault("DEMO_DATA_ALLOWED", "True")
os.environ.setdefault("MODEL_PORTFOLIOS_AUTO_APPROVE", "True")
os.environ.pop("CELERY_BROKER_URL", None)  # every task in-process: the jobs' own cost only
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scratch import database_exists, scratch_database, scratch_save  # noqa: E402


def _book_arg() -> str | None:
    """`--book NAME`, read before Django is set up (the scratch database depends on it)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--book")
    return early.parse_known_args()[0].book


BOOK = _book_arg()
if BOOK and "postgres" not in os.environ.get("DATABASE_URL", ""):
    raise SystemExit("--book keeps the book in a PostgreSQL database: set DATABASE_URL.")
BOOK_SAVED = BOOK is not None and database_exists(BOOK)
SCRATCH_URL = scratch_database(copy_of=BOOK if BOOK_SAVED else None)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from benchmarks.book import (  # noqa: E402
    DAYS,
    batch_today,
    book_check,
    book_write,
    market_setup,
    settle,
    yesterday_run,
)
from config.heap import heap_freeze  # noqa: E402
from portfolios import batch, projections, services  # noqa: E402


def chunked_jobs(size: int, day: str) -> dict[str, Callable[[], Any]]:
    """The batch's jobs in its order, each as its chunks over the book's ranges of `size`
    accounts, one after another (what one worker does with the job's group)."""
    today = batch_today(day).isoformat()
    ranges: list[tuple[int | None, int | None]] = list(batch.account_ranges(size=size))

    def job_run(job: str) -> Callable[[], Any]:
        def run() -> int:
            outcomes = [batch.chunk_run(job=job, lo=lo, hi=hi, today=today) for lo, hi in ranges]
            if extra := batch.EXTRA_CHUNKS.get(job):
                outcomes.append(batch.chunk_run(job=extra, lo=None, hi=None, today=today))
            failed = [o for o in outcomes if not o["ok"]]
            if failed:
                raise RuntimeError(f"{job}: {len(failed)} chunks failed: {failed[0]['error']}")
            return sum(o["result"] for o in outcomes)

        return run

    return {job: job_run(job) for job in batch.JOBS}


def jobs(day: str) -> dict[str, Callable[[], Any]]:
    """Beat's daily jobs in beat's order, each called as its task calls it."""
    return {
        "recurring_deposits_run": lambda: services.recurring_deposits_run(today=batch_today(day)),
        "dividends_pay": services.dividends_pay,
        "tax_harvests_refresh": services.tax_harvests_refresh,
        "rebalance_proposals_refresh": services.rebalance_proposals_refresh,
        "fees_bill": services.fees_bill,
        "risk_figures_compute": services.risk_figures_compute,
        "plans_project": projections.plans_project,
    }


class QueryCounter:
    """Counts the SQL statements run through the connection (no query log: no cap, no DEBUG
    needed); eager tasks run on the same connection, so a job's projections are counted."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def setup() -> None:
    market_setup()
    # A worker has the Monte Carlo's torch loaded after its first task; not timed in a job.
    import nlp.inference.projection  # noqa: F401


def run(
    accounts: int,
    wanted: list[str],
    *,
    chunk: int | None,
    day: str,
    settled: bool,
    profile: Path | None = None,
) -> dict[str, Any]:
    """`chunk`: the accounts per chunk of the fanned-out batch; None: beat's serial jobs."""
    started = time.perf_counter()
    if BOOK and BOOK_SAVED:
        book_check(accounts, BOOK)
    else:
        book_write(accounts)
    synth_s = time.perf_counter() - started
    started = time.perf_counter()
    if settled:
        settle()
    if BOOK and not BOOK_SAVED:
        scratch_save(BOOK)
    if day == "ordinary":
        yesterday_run()
    before_s = time.perf_counter() - started
    heap_freeze()  # as a worker's pool process starts, and its first projection after torch
    rows = []
    for name, job in (jobs(day) if chunk is None else chunked_jobs(chunk, day)).items():
        if wanted and name not in wanted:
            continue
        counter = QueryCounter()
        profiler = cProfile.Profile() if profile else None
        with connection.execute_wrapper(counter):
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            result = job()
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - t0
        # As each job ends (a book of 100,000 accounts takes about an hour): on stderr.
        print(f"{name}: {seconds:.1f} s, {counter.count} queries", file=sys.stderr, flush=True)
        if profiler and profile:
            profile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(profile / f"{name}-{accounts}.prof")
        rows.append(
            {
                "job": name,
                "result": result,
                "seconds": round(seconds, 3),
                "seconds_per_100_accounts": round(seconds * 100 / accounts, 3),
                "queries": counter.count,
                "queries_per_account": round(counter.count / accounts, 2),
            }
        )
    total = sum(r["seconds"] for r in rows)
    return {
        "accounts": accounts,
        "database": connection.vendor,
        "mode": "serial" if chunk is None else f"chunks of {chunk}",
        "day": day + (", settled" if settled else ""),
        "synth_book_seconds": round(synth_s, 1),  # with --book and a saved book: its check
        "book": BOOK and (f"copy of {BOOK}" if BOOK_SAVED else f"saved as {BOOK}"),
        "untimed_before_seconds": round(before_s, 1),  # --settled, the ordinary day's yesterday
        "jobs": rows,
        "total_seconds_per_100_accounts": round(total * 100 / accounts, 3),
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{report['accounts']} accounts on {report['database']}, {report['mode']}, "
        f"{report['day']} day "
        f"(synth_book {report['synth_book_seconds']} s, "
        f"settled/yesterday {report['untimed_before_seconds']} s"
        + (f"; book {report['book']})" if report["book"] else ")"),
        f"{'job':<30}{'result':>8}{'s':>10}{'s/100 acc':>11}{'queries':>10}{'q/acc':>8}",
    ]
    for r in report["jobs"]:
        lines.append(
            f"{r['job']:<30}{r['result']!s:>8}{r['seconds']:>10.2f}"
            f"{r['seconds_per_100_accounts']:>11.3f}{r['queries']:>10}"
            f"{r['queries_per_account']:>8.1f}"
        )
    lines.append(
        f"{'whole batch':<30}{'':>8}{'':>10}{report['total_seconds_per_100_accounts']:>11.3f}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", default="1000", help="book sizes, comma-separated")
    parser.add_argument("--jobs", default="", help="only these jobs, comma-separated")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--chunk", type=int, default=0, help="accounts per chunk")
    parser.add_argument("--serial", action="store_true", help="beat's whole-book jobs instead")
    parser.add_argument(
        "--settled",
        action="store_true",
        help="first the stress cap and the harvests a new synthetic book never had (untimed)",
    )
    parser.add_argument(
        "--day",
        choices=DAYS,
        default="busy",
        help="a month's start (default) or a day in the middle of a month",
    )
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile file per job into this folder"
    )
    parser.add_argument(
        "--book", help="PostgreSQL: keep the written book as this database, or start from it"
    )
    args = parser.parse_args()
    chunk = None if args.serial else (args.chunk or batch.chunk_size())
    sizes = [int(n) for n in args.accounts.split(",") if n]
    if args.book and len(sizes) != 1:
        raise SystemExit("--book keeps one book: give one size in --accounts.")
    wanted = [j for j in args.jobs.split(",") if j]
    unknown = set(wanted) - set(batch.JOBS)
    if unknown:
        raise SystemExit(f"unknown jobs: {', '.join(sorted(unknown))}")
    setup()
    reports = []
    for size in sizes:
        report = run(
            size, wanted, chunk=chunk, day=args.day, settled=args.settled, profile=args.profile
        )
        reports.append(report)
        if not args.json:
            print(table(report), flush=True)
    if args.json:
        print(json.dumps(reports, indent=2, default=str))


if __name__ == "__main__":
    main()
