"""Which fund a purchase for a model-portfolio slot buys: the slot's primary fund, or its
tax-loss-harvesting alternate (`targets.ALTERNATES`).

Every purchase goes through `purchase_ticker` (or `purchase_choice`, its database-free core,
for the daily jobs that read a chunk's state once): deposits, recurring deposits, reinvested
dividends and rebalances, in every account type. An account that holds the alternate keeps
buying it (it stays there until a switch-back sells it), and a fund whose purchase would wash
a loss the client took in a taxable account within the last 30 days is swapped for its pair
partner when that one would not. A purchase in an IRA washes a taxable loss too (Rev. Rul.
2008-5), and then the loss is lost for good, so IRAs are steered the same way."""

from collections.abc import Callable, Collection
from datetime import date

from django.db.models import F

from advisor.models import Goal

from .. import targets
from ..models import Account, LotSale, Position
from ..tax import identical_tickers, open_loss_sales, wash_blocked, wash_window


def purchase_choice(*, primary: str, held: Collection[str], blocked: Callable[[str], bool]) -> str:
    """`purchase_ticker`'s rule on plain data: `held`, the tickers the account holds units of;
    `blocked(ticker)`, whether buying it now would wash one of the client's losses."""
    primary = targets.slot(primary)
    alternate = targets.PRIMARIES.get(primary)
    if alternate is None:
        return primary
    chosen, other = (alternate, primary) if alternate in held else (primary, alternate)
    if blocked(chosen) and not blocked(other):
        return other
    return chosen


def purchase_ticker(*, account: Account, primary: str, day: date) -> str:
    """The fund to buy for the slot of `primary` in `account` on `day`.

    The alternate when the account already holds it, otherwise the primary; if that fund is
    wash-blocked for the client and its pair partner is not, the partner. When both are
    blocked the first choice is bought (the ledger then records the wash sale). A fund
    without a pair is always bought itself."""
    alternate = targets.PRIMARIES.get(targets.slot(primary))
    held: set[str] = set()
    if alternate is not None and (
        Position.objects.filter(account=account, asset__ticker=alternate, quantity__gt=0).exists()
    ):
        held.add(alternate)
    client = account.client
    return purchase_choice(
        primary=primary,
        held=held,
        blocked=lambda ticker: wash_blocked(client=client, ticker=ticker, day=day),
    )


def loss_tickers(*, client_id: int, day: date) -> set[str]:
    """The funds in which the client has a loss a purchase on `day` would wash (`wash_blocked`
    for every fund at once): one query, for a job that buys several funds for the client."""
    return set(
        open_loss_sales(client_id=client_id, tickers=targets.HOLDABLE, day=day)
        .order_by()
        .values_list("asset__ticker", flat=True)
        .distinct()
    )


def loss_tickers_many(
    *, client_ids: Collection[int], days: Collection[date]
) -> dict[tuple[int, date], set[str]]:
    """(client id, day) → `loss_tickers(client_id, day)`, for a chunk of clients buying on
    several days (dividends' pay dates), in one query: `open_loss_sales`' rows over the union
    of the days' wash windows, each kept for the days whose window holds its sale date. Pairs
    without a loss are left out."""
    if not client_ids or not days:
        return {}
    since, until = wash_window(min(days))[0], wash_window(max(days))[1]
    rows = (
        LotSale.objects.filter(
            account__client_id__in=list(client_ids),
            account__goal__account_type=Goal.AccountType.TAXABLE,
            asset__ticker__in=list(targets.HOLDABLE),
            gain__lt=0,
            sold_on__gte=since,
            sold_on__lte=until,
        )
        .exclude(washed_units__gte=F("quantity"))
        .order_by()
        .values_list("account__client_id", "asset__ticker", "sold_on")
        .distinct()
    )
    found: dict[tuple[int, date], set[str]] = {}
    for client_id, ticker, sold_on in rows:
        for day in days:
            start, end = wash_window(day)
            if start <= sold_on <= end:
                found.setdefault((client_id, day), set()).add(ticker)
    return found


def washes(*, ticker: str, losses: Collection[str]) -> bool:
    """Whether buying `ticker` would wash one of `losses` (`loss_tickers`' answer)."""
    return not identical_tickers(ticker).isdisjoint(losses)
