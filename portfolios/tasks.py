"""Thin tasks: keyword ids in, one service call."""

from celery import Task, shared_task
from kombu.exceptions import OperationalError as BrokerDown
from redis.exceptions import RedisError

from config.celery import RETRY_TRANSIENT

from . import batch, feeds, projections, services
from .api import idempotency
from .services import holds


@shared_task(
    name="portfolios.allocation_refresh",
    **RETRY_TRANSIENT,
    soft_time_limit=600,
    time_limit=660,
)
def allocation_refresh_task(*, force: bool = False) -> int | None:
    """After new prices (or, `force`, revised ones): re-estimate assumptions and model
    portfolios. Safe to run twice."""
    portfolio_set = services.allocation_refresh(force=force)
    return portfolio_set.version if portfolio_set else None


@shared_task(name="portfolios.idempotency_keys_purge", acks_late=True)
def idempotency_keys_purge_task() -> int:
    """Daily: forget idempotency keys older than their 24 h life."""
    return idempotency.idempotency_keys_purge()


@shared_task(
    name="portfolios.rebalance_proposals_refresh",
    **RETRY_TRANSIENT,
)
def rebalance_proposals_refresh_task() -> int:
    """Daily: propose rebalances for drifted accounts. Safe to run twice (one per market date)."""
    return services.rebalance_proposals_refresh()


@shared_task(
    name="portfolios.recurring_deposits_run",
    **RETRY_TRANSIENT,
)
def recurring_deposits_run_task() -> int:
    """Daily: pay due recurring deposits; each scheduled date is paid once, whatever reruns."""
    return services.recurring_deposits_run()


@shared_task(name="portfolios.prices_import", **RETRY_TRANSIENT)
def prices_import_task() -> str:
    """Daily after the close: import the feed's new trading days (nothing when no feed is
    configured); a day that is missing, partial or malformed raises an alert and stops it there.
    Safe to run twice: an imported day is not imported again."""
    return feeds.prices_import().message


@shared_task(name="portfolios.dividends_pay", **RETRY_TRANSIENT)
def dividends_pay_task() -> int:
    """Daily after the prices: pay distributions due by the market date to their holders, and
    invest the cash. Safe to run twice: one payment per account and distribution."""
    return services.dividends_pay()


@shared_task(
    name="portfolios.fees_bill",
    **RETRY_TRANSIENT,
)
def fees_bill_task() -> int:
    """Daily after the close: bill the advisory fee of the latest complete month; each account
    is billed once per month, whatever reruns."""
    return services.fees_bill()


@shared_task(name="portfolios.goal_plans_project", **RETRY_TRANSIENT)
def goal_plans_project_task(*, goal_ids: list[int] | None = None) -> int:
    """Queue the Monte Carlo of each goal's current plan that has none yet (default: every goal
    in progress; beat runs it after the close). Safe to run twice."""
    return projections.plans_project(goal_ids=goal_ids)


@shared_task(name="portfolios.ledger_reconcile", **RETRY_TRANSIENT)
def ledger_reconcile_task() -> int:
    """Daily: check every balance against its ledger entries and record each break once.
    Safe to run twice (one open break per account and kind)."""
    return services.ledger_reconcile()


@shared_task(name="portfolios.tax_harvests_refresh", **RETRY_TRANSIENT)
def tax_harvests_refresh_task() -> int:
    """Daily after the dividends, before rebalancing: propose (or, where the client opted in,
    execute) tax-loss harvests, then switch-backs, in taxable accounts. Safe to run twice."""
    return services.tax_harvests_refresh()


@shared_task(name="portfolios.statements_generate_month", **RETRY_TRANSIENT)
def statements_generate_month_task(
    *, year: int | None = None, month: int | None = None, only_missing: bool = True
) -> int:
    """Monthly statements of every account open in the month (default: the month before the
    market date's). Beat runs it daily with only_missing, so a month is stated once its last
    close is in, whatever day of the week the 1st falls on. Safe to run twice."""
    return services.statements_generate_month(year=year, month=month, only_missing=only_missing)


@shared_task(name="portfolios.tax_reports_generate_year", **RETRY_TRANSIENT)
def tax_reports_generate_year_task(*, year: int | None = None, only_missing: bool = True) -> int:
    """Annual tax reports of every client with accounts (default: the year before the market
    date's). Safe to run twice."""
    return services.tax_reports_generate_year(year=year, only_missing=only_missing)


@shared_task(
    name="portfolios.risk_figures_compute", **RETRY_TRANSIENT, soft_time_limit=600, time_limit=660
)
def risk_figures_compute_task(*, account_ids: list[int] | None = None) -> int:
    """Nightly after the prices: risk figures and stress tests of every funded account and each
    approved model portfolio at the market date. Safe to run twice (one row per subject and
    date)."""
    return services.risk_figures_compute(account_ids=account_ids)


@shared_task(
    name="portfolios.governance_report_build",
    **RETRY_TRANSIENT,
    soft_time_limit=300,
    time_limit=360,
)
def governance_report_build_task(*, portfolio_set_id: int) -> int:
    """After a model-portfolio set is built: its walk-forward governance report, the evidence
    the investment committee approves on. Safe to run twice (one report per set)."""
    return services.governance_report_build_for(portfolio_set_id=portfolio_set_id).pk


@shared_task(name="portfolios.withdrawal_holds_expire", **RETRY_TRANSIENT)
def withdrawal_holds_expire_task() -> int:
    """Hourly: withdrawals held for review past their expiry are expired (nothing paid, the
    client told). Safe to run twice."""
    return holds.withdrawal_holds_expire()


# The batch's launch and each job's body send chords to the broker: a connection reset there
# retries the task (every chunk is idempotent) rather than losing the rest of the night's batch.
RETRY_BROKER: dict = {
    "acks_late": True,
    "autoretry_for": (BrokerDown, RedisError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="portfolios.daily_batch_run", **RETRY_BROKER)
def daily_batch_run_task(
    *, jobs: list[str] | None = None, size: int | None = None, today: str | None = None
) -> int:
    """Daily after the prices: the whole daily batch, each job fanned out over account ranges,
    the jobs in beat's order (`batch`). Safe to run twice: every chunk is idempotent."""
    return batch.daily_batch_run(jobs=jobs, size=size, today=today)


@shared_task(name="portfolios.daily_batch_chunk", bind=True, **RETRY_TRANSIENT)
def daily_batch_chunk_task(
    self: Task, *, job: str, lo: int | None, hi: int | None, today: str | None = None
) -> batch.ChunkOutcome:
    """One job over the accounts lo <= id < hi; retried alone on a transient error, a failure
    recorded in its outcome. Safe to run twice."""
    final_try = self.request.retries >= (self.max_retries or 0)
    return batch.chunk_run(job=job, lo=lo, hi=hi, today=today, final_try=final_try)


@shared_task(name="portfolios.daily_batch_job_done", **RETRY_BROKER)
def daily_batch_job_done_task(
    outcomes: list[batch.ChunkOutcome],
    *,
    job: str,
    then: list[str] | None = None,
    size: int | None = None,
    today: str | None = None,
) -> dict:
    """A daily batch job's chunks are all done (its chord's body): log its summary, send the
    next job (`then`), and return the summary."""
    return batch.job_done(job=job, outcomes=outcomes, then=then, size=size, today=today)


@shared_task(name="portfolios.stress_caps_apply", **RETRY_TRANSIENT)
def stress_caps_apply_task(*, client_ids: list[int] | None = None) -> int:
    """After a questionnaire (and after the nightly figures): re-decide the clients' levels
    with the suitability policy's stress cap. Safe to run twice (an unchanged decision writes
    nothing)."""
    return services.stress_caps_apply(client_ids=client_ids)


@shared_task(name="portfolios.what_if_projections_purge", **RETRY_TRANSIENT)
def what_if_projections_purge_task() -> int:
    """Daily: delete what-ifs and superseded plans older than 30 days that no surface can show
    (portfolios.projections). Safe to run twice."""
    return projections.what_if_projections_purge()
