"""Order execution behind one interface. PaperBroker fills at the market date's close; a real
broker adapter implements the same two methods."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Protocol

from .market import closes_on
from .models import Asset
from .money import money_down

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
        price = self._price(asset, day)
        quantity = (amount / price).quantize(UNIT, rounding=ROUND_DOWN)
        return Fill(asset=asset, quantity=quantity, price=price, cash=-amount)

    def sell(self, *, asset: Asset, quantity: Decimal, day: date) -> Fill:
        price = self._price(asset, day)
        # Proceeds round down: a sale never credits a fraction of a cent it did not raise.
        proceeds = money_down(quantity * price)
        return Fill(asset=asset, quantity=-quantity, price=price, cash=proceeds)


def units_for_value(value: Decimal, price: Decimal) -> Decimal:
    """Units to sell to raise `value` (rounded up so the proceeds cover it)."""
    return (value / price).quantize(UNIT, rounding=ROUND_UP)
