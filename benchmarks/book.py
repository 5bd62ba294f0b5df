"""The synthetic book both batch benchmarks run on (`benchmarks.daily_batch` in one process,
`benchmarks.daily_batch_workers` through Celery workers): the day the batch runs, what a book
the batch has run on before has and a freshly written one has not (`settle`), and an ordinary
day's yesterday. Imported after django.setup()."""

import io
from datetime import date, timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection

from portfolios import batch, market, services
from portfolios.models import Account, ModelPortfolioSet
from portfolios.services import fees
from portfolios.synth import SYNTH_DOMAIN

DAYS = ("busy", "ordinary")


def _quiet() -> dict[str, Any]:
    return {"verbosity": 0, "stdout": io.StringIO()}


def market_setup() -> None:
    """The schema, the shipped market data and approved model portfolios, which every book
    needs."""
    call_command("migrate", **_quiet())
    call_command("load_market_data", "--no-progress", "--no-refresh", **_quiet())
    if not ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED).exists():
        services.allocation_refresh(approve=True)


def book_write(accounts: int) -> None:
    """A freshly written synthetic book of `accounts` accounts (seed 0: the same every time), in
    place of any synthetic book the database holds."""
    call_command("synth_book", clear=True, **_quiet())
    call_command("synth_book", accounts=accounts, seed=0, **_quiet())  # analyses what it wrote


def statistics_gather() -> None:
    """The planner's statistics and the visibility map of a database that has been up a while
    (autovacuum's work), so that the timed jobs' plans are those of a running book, not of
    tables bulk-written a moment before (the stored daily values had none: their latest-row
    read took 4× as long at 10,000 accounts), and no autovacuum starts in a timing."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def book_check(accounts: int, name: str) -> None:
    """Stop unless the saved book `name`, copied into the database, has `accounts` accounts."""
    written = Account.objects.filter(client__user__email__endswith=SYNTH_DOMAIN).count()
    if written != accounts:
        raise SystemExit(f"The book {name} has {written} accounts, not {accounts}.")


def batch_today(day: str) -> date:
    """The batch's `today`: a month on from the market date (busy: every schedule due), or the
    day after it (ordinary)."""
    return market.market_date_get() + timedelta(days=31 if day == "busy" else 1)


def yesterday_run() -> None:
    """An ordinary day's yesterday, untimed: the month's fees billed and the distributions
    paid through the day before the market date."""
    services.fees_bill()
    services.dividends_pay(through=market.market_date_get() - timedelta(days=1))


def settle() -> None:
    """What a freshly written book has never had, untimed, as on a book the batch has run on
    before: the model portfolios' risk figures and the stress cap applied once (synth_book
    writes uncapped levels), the tax-loss harvests its history left undone, and the accounts'
    stored daily values (the fee job keeps them; on a book it has billed before, they stand
    at its last bill, here at the book's last entry: the month the busy day bills is stored
    already, and only what the day itself books is added); then the statistics and visibility
    map autovacuum keeps (`statistics_gather`)."""
    services.risk_figures_compute(account_ids=[], models=True)
    services.tax_harvests_refresh()
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch.chunk_size()):
        fees.daily_values_store(account_ids=ids[start : start + batch.chunk_size()])
