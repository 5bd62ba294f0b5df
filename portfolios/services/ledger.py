"""The ledger: accounts, cash and unit entries, positions and FIFO lots. Every money-moving
service (cash flows, fees, rebalancing) books through these, inside its own transaction and
under its lock on the account."""

from decimal import Decimal

from django.db import transaction

from advisor.models import Goal

from ..broker import Fill
from ..models import Account, Entry, Lot, Position, Transaction
from ..money import money


@transaction.atomic
def account_open(*, goal: Goal) -> Account:
    """The goal's investment account; opened with the goal, idempotent (one account per goal)."""
    account, _ = Account.objects.get_or_create(
        goal=goal, defaults={"client": goal.client, "currency": goal.currency}
    )
    return account


def ledger_cash(*, txn: Transaction, account: Account, amount: Decimal) -> None:
    Entry.objects.create(transaction=txn, account=account, quantity=amount)
    account.cash += amount
    account.full_clean(exclude=["client", "goal"])
    account.save(update_fields=["cash"])


def ledger_fill(*, txn: Transaction, account: Account, fill: Fill) -> None:
    """Record a fill: units and cash entries, the position, and its lots (FIFO on sales)."""
    Entry.objects.create(
        transaction=txn, account=account, asset=fill.asset, quantity=fill.quantity, price=fill.price
    )
    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, asset=fill.asset
    )
    position.quantity += fill.quantity
    position.save(update_fields=["quantity"])
    if fill.quantity > 0:
        Lot.objects.create(
            account=account,
            asset=fill.asset,
            opened_by=txn,
            acquired_on=txn.market_date,
            quantity=fill.quantity,
            remaining=fill.quantity,
            unit_cost=fill.price,
        )
    else:
        lots_consume(account=account, fill=fill)
    ledger_cash(txn=txn, account=account, amount=fill.cash)


def lots_consume(*, account: Account, fill: Fill) -> None:
    to_sell = -fill.quantity
    lots = Lot.objects.select_for_update().filter(
        account=account, asset=fill.asset, remaining__gt=0
    )
    for lot in lots.order_by("acquired_on", "id"):
        if to_sell <= 0:
            break
        taken = min(lot.remaining, to_sell)
        lot.remaining -= taken
        lot.realised_gain += money(taken * (fill.price - lot.unit_cost))
        lot.save(update_fields=["remaining", "realised_gain"])
        to_sell -= taken
