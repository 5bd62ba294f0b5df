"""Order execution behind one interface. PaperBroker fills at the market date's close; a real
broker adapter implements the same two methods. `proceeds_pooled` settles a sale of whole
holdings as one batch, so selling everything pays exactly the value shown (`money.money_value`)."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_UP, Decimal
from typing import Protocol

from .market import closes_on
from .models import Asset
from .money import CENT, money_down, money_value

UNIT = Decimal("0.00000001")  # fractional shares to 8 decimals


class PriceUnavailable(LookupError):
    pass


@dataclass(frozen=True)
class Fill:
    asset: Asset
    quantity: Decimal  # units, positive for a buy, negative for a sale
    price: Decimal
    cash: Decimal  # cash out (negative) for a buy, in (positive) for a sale


class Broker(Protocol):
    def buy(self, *, asset: Asset, amount: Decimal, day: date) -> Fill: ...

    def sell(self, *, asset: Asset, quantity: Decimal, day: date) -> Fill: ...


class PaperBroker:
    """Simulated fills at the close: dollar-amount buys of fractional units, unit sales."""

    def _price(self, asset: Asset, day: date) -> Decimal:
        price = closes_on(day=day, assets=[asset]).get(asset.pk)
        if price is None:
            raise PriceUnavailable(f"No price for {asset.ticker} on or before {day}.")
        return price

    def buy(self, *, asset: Asset, amount: Decimal, day: date) -> Fill:
        # `amount` (whole cents) is charged exactly; the units round up to 8 decimals, so they are
        # worth `amount` plus under price × 1e-8 (a thousandth of a cent at a $1,000 price), and
        # the value shown right after a deposit (rounded down once) is the deposit.
        price = self._price(asset, day)
        quantity = units_for_amount(amount, price)
        return Fill(asset=asset, quantity=quantity, price=price, cash=-amount)

    def sell(self, *, asset: Asset, quantity: Decimal, day: date) -> Fill:
        price = self._price(asset, day)
        # Proceeds round down: a sale never credits a fraction of a cent it did not raise.
        proceeds = money_down(quantity * price)
        return Fill(asset=asset, quantity=-quantity, price=price, cash=proceeds)


def proceeds_pooled(fills: list[Fill]) -> list[Fill]:
    """Settle sales of whole holdings as one batch: the batch pays its exact proceeds
    (Σ units × price) rounded down once, split so that each fill gets its own exact proceeds
    rounded down or, for the largest remainders, up a cent. Rounding each sale down instead
    would pay up to a cent per fund less than the total shown (and withdrawn)."""
    if not fills:
        return fills
    exact = [-f.quantity * f.price for f in fills]
    floors = [money_down(x) for x in exact]
    spare = int((money_value(sum(exact, Decimal(0))) - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(fills)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[:spare]:
        floors[i] += CENT
    return [replace(f, cash=cash) for f, cash in zip(fills, floors, strict=True)]


def units_for_amount(amount: Decimal, price: Decimal) -> Decimal:
    """Units a dollar buy of `amount` gets: rounded up to 8 decimals (see PaperBroker.buy)."""
    return (amount / price).quantize(UNIT, rounding=ROUND_UP)


def units_for_value(value: Decimal, price: Decimal) -> Decimal:
    """Units to sell to raise `value` (rounded up so the proceeds cover it)."""
    return (value / price).quantize(UNIT, rounding=ROUND_UP)
