"""The daily batch, fanned out: the book split into account-id ranges, each daily job run as a
Celery group of per-range chunks, the jobs one after another in beat's order.

    recurring deposits → dividends → harvests → rebalancing → fees → risk figures → projections

A job starts once every chunk of the one before is done: each job is a chord, its chunks the
header and `daily_batch_job_done` the body, which sends the next job's chord (its ranges read
then). Not one chain of chords: Celery puts the rest of a chain into every header task's message,
each chord's header tasks into it again, so a message grew as ranges ** jobs (4.2 GB for the
seven jobs over 11 ranges, which Redis refused by resetting the connection); one chord per
message keeps a message the size of one chunk's. A chunk is idempotent (the jobs are, per
account), acknowledged late, retried alone on a transient database error, and a chunk that
fails for good is logged with its job and range and reported in its job's summary, without
stopping the other chunks or the jobs after it. With no broker (a local run, the tests) every
task is eager and the same canvas runs in order in-process."""

import logging
from collections.abc import Callable
from datetime import date
from itertools import accumulate
from typing import Any, TypedDict

from celery import chord, group
from celery.canvas import Signature
from django.conf import settings
from django.db import OperationalError

from config.celery import app

from . import projections
from .exceptions import MarketDataMissing
from .models import Account
from .services import distributions, fees, harvesting, rebalancing, recurring, risk

logger = logging.getLogger(__name__)

# Half-open [lo, hi) on Account.pk, as every chunked job takes it.
AccountRange = tuple[int, int]


class ChunkOutcome(TypedDict):
    job: str
    lo: int
    hi: int
    ok: bool
    result: Any
    error: str


def chunk_size() -> int:
    return int(getattr(settings, "BATCH_CHUNK_ACCOUNTS", 500))


def account_ranges(*, size: int | None = None) -> list[AccountRange]:
    """The book's account ids split into half-open ranges of at most `size` accounts, in id
    order: every account in exactly one range. One query (ids and their clients').

    Each range ends within the last quarter of its `size` accounts, where the fewest clients
    have accounts on both sides of the cut (the nearest to `size` on a tie). A client's
    accounts, mostly opened together, so fall in one range: the money-moving jobs lock a
    chunk's clients before its accounts (`ledger.accounts_lock`), so two chunks sharing a
    client would run their transactions one after the other."""
    size = size or chunk_size()
    if size < 1:
        raise ValueError("a chunk holds at least one account")
    rows = list(Account.objects.order_by("pk").values_list("pk", "client_id"))
    ids = [pk for pk, _ in rows]
    # straddling[i]: the clients with an account before ids[i] and one at or after it.
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, (_, client_id) in enumerate(rows):
        first.setdefault(client_id, i)
        last[client_id] = i
    delta = [0] * (len(ids) + 2)
    for client_id, i in first.items():
        delta[i + 1] += 1
        delta[last[client_id] + 1] -= 1
    straddling = list(accumulate(delta))
    cuts = [0]
    while cuts[-1] + size < len(ids):
        target = cuts[-1] + size
        window = range(max(cuts[-1] + 1, target - size // 4), target + 1)
        cuts.append(min(window, key=lambda i: (straddling[i], target - i)))
    bounds = [*(ids[i] for i in cuts), ids[-1] + 1] if ids else []
    return list(zip(bounds, bounds[1:], strict=False))


def _recurring(account_range: AccountRange | None, today: date | None) -> int:
    # No projection per chunk: the batch's last job projects every plan once the day's
    # dividends, harvests and fees have moved the money too.
    kwargs: dict[str, Any] = {"today": today, "replan": False}
    if account_range is not None:
        kwargs["account_range"] = account_range
    return recurring.recurring_deposits_run(**kwargs)


def _ranged(service: Callable[..., int]) -> Callable[[AccountRange | None, date | None], int]:
    def run(account_range: AccountRange | None, today: date | None) -> int:
        if account_range is None:
            return service()
        return service(account_range=account_range)

    return run


def _risk_figures(account_range: AccountRange | None, today: date | None) -> int:
    if account_range is None:
        return risk.risk_figures_compute()
    lo, hi = account_range
    ids = Account.objects.filter(pk__gte=lo, pk__lt=hi).values_list("pk", flat=True)
    return risk.risk_figures_compute(account_ids=list(ids))


def _risk_figures_models(account_range: AccountRange | None, today: date | None) -> int:
    """The approved model portfolios' figures (and the stress cap that follows them), which
    `risk_figures_compute` adds only to a whole-book run: the risk job's chunks name their
    accounts, so the model portfolios are a chunk of their own."""
    try:
        return risk.risk_figures_compute(account_ids=[], models=True)
    except MarketDataMissing:
        return 0


# The daily jobs in beat's order: deposits and dividends before the harvests, harvests before
# drift is measured, fees on the day's holdings, then the risk figures and the new plans'
# projections. Each runs one chunk: (account range or None for the whole book, today) → count.
JOBS: dict[str, Callable[[AccountRange | None, date | None], int]] = {
    "recurring_deposits_run": _recurring,
    "dividends_pay": _ranged(distributions.dividends_pay),
    "tax_harvests_refresh": _ranged(harvesting.tax_harvests_refresh),
    "rebalance_proposals_refresh": _ranged(rebalancing.rebalance_proposals_refresh),
    "fees_bill": _ranged(fees.fees_bill),
    "risk_figures_compute": _risk_figures,
    "plans_project": _ranged(projections.plans_project),
}
# A job's extra chunk, beside its ranges: the model portfolios' risk figures.
EXTRA_CHUNKS = {"risk_figures_compute": "risk_figures_models"}
HELPERS = {"risk_figures_models": _risk_figures_models}


def chunk_run(
    *, job: str, lo: int | None, hi: int | None, today: str | None = None, final_try: bool = True
) -> ChunkOutcome:
    """Run one chunk of one job: the accounts lo <= id < hi (both None: the whole book).

    A transient database error is raised while retries are left (the task retries this chunk
    alone); any other failure, or a transient one on the last try, is logged with the job and
    range and returned as a failed outcome, so the other chunks and the next jobs go on."""
    run = JOBS.get(job) or HELPERS[job]
    account_range = (lo, hi) if lo is not None and hi is not None else None
    day = date.fromisoformat(today) if today else None
    outcome = ChunkOutcome(job=job, lo=lo or 0, hi=hi or 0, ok=True, result=None, error="")
    try:
        outcome["result"] = run(account_range, day)
    except OperationalError:
        if not final_try:
            raise
        logger.exception(
            "daily batch chunk failed", extra={"job": job, "lo": lo, "hi": hi, "transient": True}
        )
        outcome["ok"], outcome["error"] = False, "OperationalError"
    except Exception as exc:  # noqa: BLE001 - recorded; one bad chunk must not stop the batch
        logger.exception("daily batch chunk failed", extra={"job": job, "lo": lo, "hi": hi})
        outcome["ok"], outcome["error"] = False, type(exc).__name__
    return outcome


def job_done(
    *,
    job: str,
    outcomes: list[ChunkOutcome],
    then: list[str] | None = None,
    size: int | None = None,
    today: str | None = None,
) -> dict[str, Any]:
    """A job's summary once all its chunks are done: chunks, failed ranges, the total count;
    then the next of the jobs `then` is sent (`job_chord`), and its body's task id is the
    summary's `next` (None after the last job): a caller follows the batch from job to job.
    A redelivered body may send the next job twice: its chunks are idempotent."""
    failed = [[o["lo"], o["hi"]] for o in outcomes if not o["ok"]]
    total = sum(o["result"] for o in outcomes if o["ok"] and isinstance(o["result"], int))
    summary: dict[str, Any] = {
        "job": job,
        "chunks": len(outcomes),
        "failed": failed,
        "total": total,
    }
    log = logger.warning if failed else logger.info
    log("daily batch job done", extra=summary)
    summary["next"] = None
    if then:
        signature, _ = job_chord(job=then[0], then=then[1:], size=size, today=today)
        summary["next"] = signature.apply_async().id
    return summary


def job_chord(
    *,
    job: str,
    then: list[str],
    size: int | None = None,
    today: str | None = None,
    ranges: list[AccountRange] | None = None,
) -> tuple[Signature, int]:
    """One job over the book's ranges of `size` accounts (default: settings.BATCH_CHUNK_ACCOUNTS;
    read now, unless given): a chord of its chunks, whose body (`daily_batch_job_done`) sends
    the jobs `then` one after another. Returns it and its chunk count."""
    ranges = account_ranges(size=size) if ranges is None else ranges
    chunks = [
        app.signature(
            "portfolios.daily_batch_chunk",
            kwargs={"job": job, "lo": lo, "hi": hi, "today": today},
        ).set(immutable=True)
        for lo, hi in ranges
    ]
    if job in EXTRA_CHUNKS:
        chunks.append(
            app.signature(
                "portfolios.daily_batch_chunk",
                kwargs={"job": EXTRA_CHUNKS[job], "lo": None, "hi": None, "today": today},
            ).set(immutable=True)
        )
    done = app.signature(
        "portfolios.daily_batch_job_done",
        kwargs={"job": job, "then": then, "size": size, "today": today},
    )
    return chord(group(chunks), done), len(chunks)


def batch_canvas(
    *,
    jobs: list[str] | None = None,
    size: int | None = None,
    today: str | None = None,
) -> tuple[Signature, int]:
    """The chord of the first of `jobs` (default: all, in beat's order), whose body sends the
    next job's, over the book's ranges of `size` accounts (default:
    settings.BATCH_CHUNK_ACCOUNTS); and the batch's chunk count, as the book stands now."""
    wanted = [job for job in JOBS if jobs is None or job in jobs]
    unknown = set(jobs or ()) - set(JOBS)
    if unknown:
        raise ValueError(f"unknown daily batch jobs: {', '.join(sorted(unknown))}")
    if not wanted:
        raise ValueError("no daily batch jobs to run")
    ranges = account_ranges(size=size)
    first, _ = job_chord(job=wanted[0], then=wanted[1:], size=size, today=today, ranges=ranges)
    count = len(ranges) * len(wanted) + sum(job in EXTRA_CHUNKS for job in wanted)
    return first, count


def daily_batch_run(
    *, jobs: list[str] | None = None, size: int | None = None, today: str | None = None
) -> int:
    """Start the fanned-out daily batch (eager: run it here). Returns the chunks queued."""
    canvas, chunks = batch_canvas(jobs=jobs, size=size, today=today)
    canvas.apply_async()
    logger.info("daily batch started", extra={"chunks": chunks, "size": size or chunk_size()})
    return chunks
