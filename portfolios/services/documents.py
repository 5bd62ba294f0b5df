"""Client documents, generated and stored: monthly statements of accounts and annual tax reports
of clients (built by `portfolios.documents`). One document per account and month, or per client
and year (the `Document` constraints); regenerating replaces its files in place, and a new
document tells its client once (a DOCUMENT_READY notice, emailed as their preferences say)."""

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction

from advisor.models import Client, Notification, User
from advisor.services.notifications import notify
from config.errors import NotFound

from ..documents import (
    month_bounds,
    statement_build,
    statement_period,
    tax_report_build,
    tax_year_period,
)
from ..market import market_date_get
from ..models import Account, Document, Transaction
from ..valuation import account_value_on

logger = logging.getLogger(__name__)


@transaction.atomic
def _document_store(
    *,
    client: Client,
    account: Account | None,
    kind: str,
    start: date,
    end: date,
    built: tuple[bytes, str, str],
) -> Document:
    pdf, csv_text, title = built
    keys: dict[str, Any] = {"account": account, "kind": kind, "period_start": start}
    if account is None:
        keys["client"] = client
    defaults: dict[str, Any] = {
        "client": client,
        "period_end": end,
        "title": title[:200],
        "pdf": pdf,
        "csv": csv_text,
    }
    try:
        with (
            transaction.atomic()
        ):  # a savepoint: a concurrent twin's insert is retried as an update
            document, created = Document.objects.update_or_create(**keys, defaults=defaults)
    except IntegrityError:
        document, created = Document.objects.update_or_create(**keys, defaults=defaults)
    if created:
        document_ready_notify(document=document)
    logger.info(
        "document generated",
        extra={"document_id": document.pk, "kind": kind, "new": created},
    )
    return document


def document_ready_notify(*, document: Document) -> Notification | None:
    """Tell the client a new document is ready: once per document (its id is the event)."""
    if document.kind == Document.Kind.STATEMENT:
        what = f"Your {document.period_start:%B %Y} statement"
    else:
        what = f"Your {document.period_start:%Y} tax report"
    return notify(
        user=User.objects.get(client__pk=document.client_id),
        kind=Notification.Kind.DOCUMENT_READY,
        key=f"document:{document.pk}",
        title=f"{what} is ready",
        body=f"{what} is ready to download as a PDF or a CSV file.",
        link="/documents",
    )


def _had_activity(*, account: Account, start: date, end: date) -> bool:
    """Whether the account was open in the month: a transaction in it, or value at its start."""
    if Transaction.objects.filter(account=account, market_date__range=(start, end)).exists():
        return True
    before = start - timedelta(days=1)
    if not Transaction.objects.filter(account=account, market_date__lte=before).exists():
        return False
    return account_value_on(account=account, day=before) > Decimal("0.00")


def statement_generate(*, account: Account, year: int, month: int) -> Document:
    """Build and store the account's statement for a month that is over (replacing an earlier
    one); a ValidationError on `month` for a month not over or before the account had money.
    Built from reads first, then stored in one short transaction."""
    start, end = statement_period(year=year, month=month)
    if not _had_activity(account=account, start=start, end=end):
        raise ValidationError({"month": ["This account had no money or activity in that month."]})
    return _document_store(
        client=account.client,
        account=account,
        kind=Document.Kind.STATEMENT,
        start=start,
        end=end,
        built=statement_build(account=account, year=year, month=month),
    )


def tax_report_generate(*, client: Client, year: int) -> Document:
    """Build and store the client's tax report for a year that is over (replacing an earlier
    one); a ValidationError on `year` for a year not over."""
    start, end = tax_year_period(year=year)
    return _document_store(
        client=client,
        account=None,
        kind=Document.Kind.TAX_REPORT,
        start=start,
        end=end,
        built=tax_report_build(client=client, year=year),
    )


def document_generate(
    *,
    client: Client,
    kind: str,
    year: int,
    month: int | None = None,
    account_id: int | None = None,
) -> Document:
    """Generate one of the client's documents on demand: a statement of one of their accounts,
    or their tax report. 404 (with a field error) for an account that is not theirs."""
    if kind == Document.Kind.TAX_REPORT:
        return tax_report_generate(client=client, year=year)
    account = Account.objects.filter(client=client, pk=account_id).first() if account_id else None
    if account is None:
        raise NotFound(extra={"fields": {"account": ["No such account."]}})
    if month is None:
        raise ValidationError({"month": ["Required for a statement."]})
    return statement_generate(account=account, year=year, month=month)


def _previous_month(day: date) -> tuple[int, int]:
    first = day.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def statements_generate_month(
    *, year: int | None = None, month: int | None = None, only_missing: bool = False
) -> int:
    """Generate the month's statement of every account open in it (default: the month before
    the market date's month). Each account in its own transaction: one that fails is logged
    and the rest are done. `only_missing` skips accounts whose statement exists, so a daily
    run is cheap and a rerun changes nothing. Returns the statements generated."""
    if year is None or month is None:
        year, month = _previous_month(market_date_get())
    start, end = month_bounds(year=year, month=month)
    accounts = (
        Account.objects.filter(transactions__market_date__lte=end)
        .distinct()
        .select_related("client", "goal")
        .order_by("pk")
    )
    if only_missing:
        accounts = accounts.exclude(
            documents__kind=Document.Kind.STATEMENT, documents__period_start=start
        )
    made = 0
    for account in accounts:
        if not _had_activity(account=account, start=start, end=end):
            continue
        try:
            statement_generate(account=account, year=year, month=month)
        except OperationalError:
            raise  # transient: the task retries, and what was made stays made
        except Exception:
            logger.exception("statement not generated", extra={"account_id": account.pk})
            continue
        made += 1
    logger.info("statements generated", extra={"month": start.isoformat(), "count": made})
    return made


def tax_reports_generate_year(*, year: int | None = None, only_missing: bool = False) -> int:
    """Generate the year's tax report of every client with a transaction in it (default: the
    year before the market date's). Each client in its own transaction, as for statements.
    Returns the reports generated."""
    year = year if year is not None else market_date_get().year - 1
    start = date(year, 1, 1)
    clients = (
        Client.objects.filter(accounts__transactions__market_date__year=year)
        .distinct()
        .order_by("pk")
    )
    if only_missing:
        clients = clients.exclude(
            documents__kind=Document.Kind.TAX_REPORT, documents__period_start=start
        )
    made = 0
    for client in clients:
        try:
            tax_report_generate(client=client, year=year)
        except OperationalError:
            raise
        except Exception:
            logger.exception("tax report not generated", extra={"client_id": client.pk})
            continue
        made += 1
    logger.info("tax reports generated", extra={"year": year, "count": made})
    return made
