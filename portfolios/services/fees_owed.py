"""Advisory fees an account could not pay when billed: recorded as owed (`FeeOwed`), never
dropped, and collected from the account's next inflow (a deposit or a dividend) before that
money is invested. Apart from `fees.py` so the inflow paths can call it without importing the
billing (which imports the cash flows)."""

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from ..broker import Broker
from ..models import Account, FeeOwed, Transaction
from .ledger import ledger_cash

logger = logging.getLogger(__name__)


def fee_billed(*, account: Account, period: date) -> bool:
    """The month is settled for billing: a fee transaction names it, or it is owed."""
    charged = Transaction.objects.filter(
        account=account, kind=Transaction.Kind.FEE, fee_period=period
    )
    return charged.exists() or FeeOwed.objects.filter(account=account, period=period).exists()


def fee_owed_record(
    *, account: Account, period: date, amount: Decimal, day: date
) -> FeeOwed | None:
    """Record the month's fee as owed: the account could not pay it at the billing on `day`.

    Its own transaction, under the account's lock and after a re-check, so a worker that
    billed the month meanwhile (or recorded it owed) wins and the month is owed at most once."""
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            if fee_billed(account=locked, period=period):
                return None
            owed = FeeOwed(account=locked, period=period, amount=amount, billed_on=day)
            owed.full_clean()
            owed.save()
    except IntegrityError:  # the unique (account, period) constraint: another worker recorded it
        return None
    logger.info("advisory fee owed", extra={"account_id": account.pk, "period": period.isoformat()})
    return owed


@transaction.atomic
def fees_owed_collect(
    *, account: Account, day: date, broker: Broker | None = None
) -> list[Transaction]:
    """Collect the account's owed fees from its cash, oldest first, while the cash covers them.

    Called by an inflow after it credits the account's cash and before that cash is invested,
    so a deposit of 100 with 2 owed invests 98. Only cash pays: selling to pay an old fee is
    what failed when it was billed. `broker` is accepted for the inflow paths' symmetry.
    Each fee is a FEE transaction of its month (one per account and month, a constraint)."""
    del broker  # cash only: nothing is sold
    locked = Account.objects.select_for_update().get(pk=account.pk)
    collected = []
    owed_rows = FeeOwed.objects.select_for_update().filter(
        account=locked, collected_by__isnull=True
    )
    for owed in owed_rows.order_by("period"):
        if owed.amount > locked.cash:
            break  # oldest first: a later, smaller fee does not jump the queue
        txn = Transaction(
            account=locked,
            kind=Transaction.Kind.FEE,
            amount=-owed.amount,
            market_date=day,
            fee_period=owed.period,
            description=(
                f"Advisory fee for {owed.period:%B %Y}, owed since "
                f"{owed.billed_on.day} {owed.billed_on:%B %Y}, collected from this inflow"
            ),
        )
        txn.full_clean()
        txn.save()
        ledger_cash(txn=txn, account=locked, amount=-owed.amount)
        owed.collected_by = txn
        owed.save(update_fields=["collected_by"])
        collected.append(txn)
        logger.info(
            "advisory fee owed collected",
            extra={"account_id": locked.pk, "transaction_id": txn.pk},
        )
    if collected:
        account.cash = locked.cash  # the caller's instance goes on to invest what is left
    return collected
