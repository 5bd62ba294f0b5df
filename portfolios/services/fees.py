"""The advisory fee: accrued daily on each day's closing value, billed monthly, once per account
and complete month, paid from cash (selling a little of the most overweight fund if short).

Accrual (actual/actual, "calculated daily on the end-of-day balance"): each calendar day accrues
the annual rate / 365 (366 in a leap year) of the account's value at the latest close on or
before it, so weekends and holidays accrue at the previous close and days before the account
was funded accrue nothing: a partial month is prorated by itself. A month's bill is the sum of
its daily accruals rounded once, half up, to the cent; a bill under a cent is not made. The maths
is `valuation.fee_accrual`; this module books it.

Billing: the daily job bills every complete month not yet billed, oldest first (a missed day or
week of the job catches up). A month counts as billed when a fee transaction names it or it is
recorded as owed (`FeeOwed`: the account could not pay; collected from its next inflow).
The fee is dated at the month's last close, so the ledger rebuilt at a close
(`account_value_on`) and the next month's accrual both see it in that month.

Bounded work for dormant accounts: the job looks only at months after the account's latest
billed or owed month, at most `FEE_CATCH_UP_MONTHS` back, and skips a month in which the
account held nothing throughout (nothing in it from ten days before the month, no entry in
it). So an account up to date costs nothing, and an emptied one is not read again."""

import logging
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min

from ..broker import Broker, PaperBroker
from ..exceptions import InsufficientFunds
from ..market import market_date_get
from ..models import Account, Entry, FeeOwed, Position, Transaction
from ..money import CENT, money_half_up
from ..valuation import (
    FEE_PRICES_LOOKBACK,
    FeePrices,
    LedgerLine,
    advisory_fee_annual,
    fee_accrual,
    fee_ledger,
    fee_month_bill,
    fee_months_complete,
    fee_prices,
    month_last_day,
)
from .cash_flows import cash_out
from .fees_owed import fee_billed, fee_owed_record

logger = logging.getLogger(__name__)

# The daily job bills no further back than this many complete months (an explicit
# `fees_bill(month_end=...)` still can): a bound on its work for accounts whose fees stay under
# a cent, which are never marked billed.
FEE_CATCH_UP_MONTHS = 12


@transaction.atomic
def fee_charge(
    *,
    account: Account,
    period: date,
    day: date,
    amount: Decimal | None = None,
    broker: Broker | None = None,
) -> Transaction | None:
    """Charge one account the advisory fee for the month `period`, dated at its last close `day`.

    `amount`: the bill, when the caller priced it (fees_bill does, one price read for every
    account); by default the month's daily accruals rounded once. None when the month is
    already billed or owed, or the fee is under a cent. Cash pays it; if cash is short, a
    little of the most overweight fund is sold at that close. InsufficientFunds when the
    account is worth less than the fee (nothing is booked)."""
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    if fee_billed(account=account, period=period):
        return None  # billed already, perhaps by another worker that held the lock first
    fee = fee_month_bill(account=account, period=period) if amount is None else amount
    if fee < CENT:
        return None
    rate = format((advisory_fee_annual() * 100).normalize(), "f")
    txn = Transaction(
        account=account,
        kind=Transaction.Kind.FEE,
        amount=-fee,
        market_date=day,
        fee_period=period,
        description=(
            f"Advisory fee for {period:%B %Y} ({rate}% a year, accrued daily, billed monthly)"
        ),
    )
    txn.full_clean()
    txn.save()
    cash_out(txn=txn, account=account, amount=fee, broker=broker, one_fund=True)
    logger.info("advisory fee", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return txn


def _months_to_bill(
    *, periods: list[date], complete: dict[date, date], explicit: bool
) -> dict[int, list[date]]:
    """Account id → the months to price for it, oldest first (see the module's docstring)."""
    last_day = complete[periods[-1]]
    spans = {
        account_id: (first, last)
        for account_id, first, last in Entry.objects.filter(transaction__market_date__lte=last_day)
        .order_by()
        .values("account_id")
        .annotate(first=Min("transaction__market_date"), last=Max("transaction__market_date"))
        .values_list("account_id", "first", "last")
    }
    settled: set[tuple[int, date | None]] = set()  # (account, month) billed or owed
    latest_billed: dict[int, date] = {}
    if explicit:
        settled.update(
            Transaction.objects.filter(
                kind=Transaction.Kind.FEE, fee_period__in=periods
            ).values_list("account_id", "fee_period")
        )
        settled.update(
            FeeOwed.objects.filter(period__in=periods).values_list("account_id", "period")
        )
    else:
        for rows in (
            Transaction.objects.filter(kind=Transaction.Kind.FEE)
            .order_by()
            .values("account_id")
            .annotate(latest=Max("fee_period"))
            .values_list("account_id", "latest"),
            FeeOwed.objects.order_by()
            .values("account_id")
            .annotate(latest=Max("period"))
            .values_list("account_id", "latest"),
        ):
            for account_id, latest in rows:
                latest_billed[account_id] = max(latest, latest_billed.get(account_id, latest))
    held_now = set(Account.objects.filter(cash__gt=0).values_list("pk", flat=True)) | set(
        Position.objects.filter(quantity__gt=0).values_list("account_id", flat=True)
    )
    months: dict[int, list[date]] = {}
    for account_id, (first, last) in sorted(spans.items()):
        wanted = []
        for period in periods:
            if (account_id, period) in settled:
                continue
            if period <= latest_billed.get(account_id, date.min):
                continue
            if month_last_day(period) < first:
                continue  # before the account's first entry
            if account_id not in held_now and last < period - FEE_PRICES_LOOKBACK:
                continue  # emptied before this month and nothing since
            wanted.append(period)
        if wanted:
            months[account_id] = wanted
    return months


def _empty_throughout(ledger: list[LedgerLine], period: date) -> bool:
    """The account held nothing in the month: empty from ten days before it, no entry in it."""
    since = period - FEE_PRICES_LOOKBACK
    end = month_last_day(period)
    if any(since <= day <= end for day, _, _ in ledger):
        return False
    balances: defaultdict[int | None, Decimal] = defaultdict(Decimal)
    for day, asset_id, quantity in ledger:
        if day < since:
            balances[asset_id] += quantity
    return all(quantity == 0 for quantity in balances.values())


def fees_bill(*, month_end: date | None = None) -> int:
    """Bill the advisory fee of every complete month not yet billed (or of one given month), to
    every account that accrued one, oldest month first. Idempotent: a unique constraint allows
    one fee per account and month, and a month owed is not billed again. An account worth less
    than its fee owes it (`FeeOwed`). Returns the fee transactions made."""
    complete = fee_months_complete()
    if month_end is None:
        periods = sorted(complete)[-FEE_CATCH_UP_MONTHS:]
        if not periods:
            return 0
    else:
        period = month_end.replace(day=1)
        if period not in complete:
            raise ValidationError(
                {"month_end": ["Only a month with prices after it (a complete one) is billed."]}
            )
        periods = [period]
    rate = advisory_fee_annual()
    months = _months_to_bill(periods=periods, complete=complete, explicit=month_end is not None)
    prices: dict[date, FeePrices] = {}  # one read per month, for every account
    billed = owed = 0
    for account_id, wanted in months.items():
        account = Account(pk=account_id)
        ledger = fee_ledger(account=account, through=complete[wanted[-1]])
        for period in wanted:
            if _empty_throughout(ledger, period):
                continue
            if period not in prices:
                prices[period] = fee_prices(start=period, end=month_last_day(period))
            fee = money_half_up(
                fee_accrual(
                    ledger=ledger,
                    prices=prices[period],
                    start=period,
                    end=month_last_day(period),
                    rate=rate,
                )
            )
            if fee < CENT:
                continue
            day = complete[period]
            try:
                charged = fee_charge(account=account, period=period, day=day, amount=fee)
            except InsufficientFunds:
                # Worth less than the fee (emptied since the month ended): owed, and collected
                # from the next deposit or dividend; the other accounts are still billed.
                owed += (
                    fee_owed_record(
                        account=account, period=period, amount=fee, day=market_date_get()
                    )
                    is not None
                )
                continue
            if charged is not None:
                billed += 1
                # The next month's accrual sees this fee, as a later run would.
                ledger = fee_ledger(account=account, through=complete[wanted[-1]])
    logger.info(
        "advisory fees billed",
        extra={
            "periods": [p.isoformat() for p in periods[:1] + periods[-1:]],
            "count": billed,
            "owed": owed,
        },
    )
    return billed
