"""Fund distributions paid to holders as cash, then invested like a deposit.

Closes are actual prices, so a fund's close drops by its distribution on the ex-date; the holder
is made whole by the cash, paid on the pay date to whoever held units at the close before the
ex-date (as a fund pays its record holders)."""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Sum

from ..broker import Broker, PaperBroker
from ..market import market_date_get
from ..models import Account, Distribution, Entry, Transaction
from ..money import CENT, money_down
from .cash_flows import cash_invest
from .fees_owed import fees_owed_collect
from .ledger import ledger_cash

logger = logging.getLogger(__name__)

# Without `since`, a run looks back this far for pay dates: a daily job that missed a few days
# catches up, and the work stays bounded instead of scanning every distribution ever paid.
LOOKBACK = timedelta(days=31)


def _units_before(*, account_id: int, distribution: Distribution) -> Decimal:
    """Units held at the close before the ex-date: every unit entry booked before it (summed
    here, exactly: SQLite sums decimals as floats)."""
    quantities = Entry.objects.filter(
        account_id=account_id,
        asset_id=distribution.asset_id,
        transaction__market_date__lt=distribution.ex_date,
    ).values_list("quantity", flat=True)
    return sum(quantities, Decimal(0))


def _holders(distribution: Distribution) -> list[int]:
    """Accounts with units of the fund at the close before the ex-date, not yet paid (a
    candidate list: each payment recounts the units exactly, under the account's lock)."""
    rows = (
        Entry.objects.filter(
            asset_id=distribution.asset_id, transaction__market_date__lt=distribution.ex_date
        )
        .exclude(account__transactions__distribution=distribution)
        .values("account_id")
        .annotate(units=Sum("quantity"))
        .order_by("account_id")
    )
    return [row["account_id"] for row in rows if Decimal(row["units"] or 0) > 0]


@transaction.atomic
def dividend_pay(
    *, account: Account, distribution: Distribution, broker: Broker | None = None
) -> Transaction | None:
    """Pay one account its cash for one distribution, once, and invest it at the pay date's
    close. None when already paid, or when its holding was worth under a cent."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    # Re-checked under the lock: a concurrent run that got here first has paid it.
    if Transaction.objects.filter(account=account, distribution=distribution).exists():
        return None
    units = _units_before(account_id=account.pk, distribution=distribution)
    amount = money_down(units * distribution.amount)
    if amount < CENT:
        return None
    ticker = distribution.asset.ticker
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.DIVIDEND,
        amount=amount,
        market_date=distribution.pay_date,
        distribution=distribution,
        description=(
            f"{ticker} dividend, ${distribution.amount.normalize():f} per unit on "
            f"{units.normalize():f} units (ex {distribution.ex_date.isoformat()})"
        )[:255],
    )
    ledger_cash(txn=txn, account=account, amount=amount)
    # An inflow, like a deposit: advisory fees the account owes are paid from it first, and the
    # rest is invested the way a deposit's cash is, the most underweight funds first.
    broker = broker or PaperBroker()
    fees_owed_collect(account=account, day=txn.market_date, broker=broker)
    cash_invest(txn=txn, account=account, broker=broker)
    logger.info(
        "dividend paid",
        extra={"account_id": account.pk, "transaction_id": txn.pk, "distribution": distribution.pk},
    )
    return txn


def dividends_pay(
    *, through: date | None = None, since: date | None = None, broker: Broker | None = None
) -> int:
    """Pay every distribution with a pay date in (since, through] (default: the market date,
    and 31 days before it) to each account that held the fund at the close before its ex-date.

    Idempotent: one payment per account and distribution (a unique constraint, re-checked under
    the account's lock), so reruns and concurrent workers pay once. Each account is paid in its
    own transaction: one that fails is logged and retried by the next run, the others are paid.
    Returns the payments made."""
    through = through or market_date_get()
    since = since if since is not None else through - LOOKBACK
    due = (
        Distribution.objects.filter(pay_date__gt=since, pay_date__lte=through)
        .select_related("asset")
        .order_by("pay_date", "asset__ticker")
    )
    paid = 0
    for distribution in due:
        for account_id in _holders(distribution):
            try:
                txn = dividend_pay(
                    account=Account(pk=account_id), distribution=distribution, broker=broker
                )
            except IntegrityError:
                continue  # paid by a concurrent run between the check and the insert
            except OperationalError:
                raise  # transient: the task retries, and what was paid stays paid
            except Exception:
                logger.exception(
                    "dividend not paid",
                    extra={"account_id": account_id, "distribution": distribution.pk},
                )
                continue
            paid += txn is not None
    logger.info("dividends paid", extra={"through": through.isoformat(), "count": paid})
    return paid
