"""The monthly advisory fee: billed once per account and complete month, on the value at that
month's last close, paid from cash (selling a little of the most overweight fund if short)."""

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from ..broker import Broker, PaperBroker
from ..exceptions import InsufficientFunds
from ..models import Account, Entry, Transaction
from ..money import CENT
from ..valuation import (
    account_value_on,
    advisory_fee_annual,
    advisory_fee_monthly,
    fee_months_complete,
)
from .cash_flows import cash_out

logger = logging.getLogger(__name__)


@transaction.atomic
def fee_charge(
    *, account: Account, period: date, day: date, broker: Broker | None = None
) -> Transaction | None:
    """Charge one account the advisory fee for the month `period` on its value at close `day`.

    None when that month is already billed or the fee is under a cent. Cash pays it; if cash is
    short, a little of the most overweight fund is sold at that close."""
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=account.pk)
    billed = Transaction.objects.filter(account=account, kind=Transaction.Kind.FEE)
    if billed.filter(fee_period=period).exists():
        return None  # billed already, perhaps by another worker that held the lock first
    fee = advisory_fee_monthly(value=account_value_on(account=account, day=day))
    if fee < CENT:
        return None
    rate = format((advisory_fee_annual() * 100).normalize(), "f")
    txn = Transaction(
        account=account,
        kind=Transaction.Kind.FEE,
        amount=-fee,
        market_date=day,
        fee_period=period,
        description=f"Advisory fee for {period:%B %Y} ({rate}% a year, billed monthly)",
    )
    txn.full_clean()
    txn.save()
    cash_out(txn=txn, account=account, amount=fee, broker=broker, one_fund=True)
    logger.info("advisory fee", extra={"account_id": account.pk, "transaction_id": txn.pk})
    return txn


def fees_bill(*, month_end: date | None = None) -> int:
    """Bill the monthly advisory fee for a complete month (default: the latest one) to every
    account with value at its last close; one transaction per account. Idempotent: a unique
    constraint allows one fee per account and month. Returns the accounts billed."""
    complete = fee_months_complete()
    if month_end is None:
        if not complete:
            return 0
        period = max(complete)
    else:
        period = month_end.replace(day=1)
        if period not in complete:
            raise ValidationError(
                {"month_end": ["Only a month with prices after it (a complete one) is billed."]}
            )
    day = complete[period]
    already = Transaction.objects.filter(kind=Transaction.Kind.FEE, fee_period=period)
    funded = Entry.objects.filter(transaction__market_date__lte=day)
    accounts = (
        Account.objects.filter(pk__in=funded.values("account_id"))
        .exclude(pk__in=already.values("account_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    billed = 0
    for account_id in accounts:
        try:
            charged = fee_charge(account=Account(pk=account_id), period=period, day=day)
        except InsufficientFunds:
            # Emptied since the month ended: the other accounts are still billed; the next
            # run tries this one again.
            logger.warning(
                "advisory fee not collected", exc_info=True, extra={"account_id": account_id}
            )
            continue
        billed += charged is not None
    logger.info("advisory fees billed", extra={"period": period.isoformat(), "count": billed})
    return billed
