"""Money: `Decimal` amounts in cents, rounded by one of three named rules, each for a reason.

- `money`: banker's rounding, for amounts derived from amounts (gains, sums, per-fund costs),
  so rounding errors do not drift one way over many rows.
- `money_down`: what must be payable: a holding's value, a sale's proceeds, a budget split into
  trades. Never a fraction of a cent that is not there, so a shown total is always withdrawable.
- `money_half_up`: a charge the client is billed (the advisory fee), as a bill is usually rounded.

Nothing else in the code calls `quantize` on currency. (Which rule each figure should use is the
accounting issue's to decide; this module only gives them one home.)"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def money_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
