"""Which fund a purchase for a model-portfolio slot buys: the slot's primary fund, or its
tax-loss-harvesting alternate (`targets.ALTERNATES`).

Every purchase goes through `purchase_ticker`: deposits, recurring deposits, reinvested
dividends and rebalances, in every account type. An account that holds the alternate keeps
buying it (it stays there until a switch-back sells it), and a fund whose purchase would wash
a loss the client took in a taxable account within the last 30 days is swapped for its pair
partner when that one would not. A purchase in an IRA washes a taxable loss too (Rev. Rul.
2008-5), and then the loss is lost for good, so IRAs are steered the same way."""

from datetime import date

from .. import targets
from ..models import Account, Position
from ..tax import wash_blocked


def purchase_ticker(*, account: Account, primary: str, day: date) -> str:
    """The fund to buy for the slot of `primary` in `account` on `day`.

    The alternate when the account already holds it, otherwise the primary; if that fund is
    wash-blocked for the client and its pair partner is not, the partner. When both are
    blocked the first choice is bought (the ledger then records the wash sale). A fund
    without a pair is always bought itself."""
    primary = targets.slot(primary)
    alternate = targets.PRIMARIES.get(primary)
    if alternate is None:
        return primary
    holds_alternate = Position.objects.filter(
        account=account, asset__ticker=alternate, quantity__gt=0
    ).exists()
    chosen, other = (alternate, primary) if holds_alternate else (primary, alternate)
    client = account.client
    if wash_blocked(client=client, ticker=chosen, day=day) and not wash_blocked(
        client=client, ticker=other, day=day
    ):
        return other
    return chosen
