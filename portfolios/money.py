"""Money: `Decimal` amounts in cents, rounded by one of four named rules, each for a reason.

- `money`: banker's rounding, for amounts derived from amounts (gains, sums, per-fund costs),
  so rounding errors do not drift one way over many rows.
- `money_down`: what must be payable: a sale's proceeds, a budget split into trades, a single
  holding's value in a table. Never a fraction of a cent that is not there.
- `money_value`: a value shown or billed on (an account's, the book's, a day's close): cash plus
  every holding's units × close, summed *unrounded* and rounded down once, here, at presentation.
  Down, because it is what selling everything would pay (a batch sale is settled on its exact
  proceeds rounded down once, `broker.proceeds_pooled`), so a shown total is always withdrawable;
  once, because rounding each fund first would lose up to a cent per fund. Dollar buys get
  `amount / price` units rounded *up* to 8 decimals (worth at most price × 1e-8 more per fill),
  so a deposit of $5,000.00 invested at the close shows $5,000.00, not $4,999.99.
- `money_half_up`: a charge the client is billed (the advisory fee), as a bill is usually rounded.

Nothing else in the code calls `quantize` on currency."""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def money_value(value: Decimal) -> Decimal:
    """An exact value (cash + Σ units × close, never pre-rounded) to the cent shown: down."""
    return value.quantize(CENT, rounding=ROUND_DOWN)


def money_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Decimal, currency: str = "USD") -> str:
    """An amount as a person reads it in a message: $1,234.56 (or 1,234.56 EUR), rounded like
    `money`. Display only: never parse it back into an amount."""
    amount = money(value)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    return f"{sign}${digits}" if currency == "USD" else f"{sign}{digits} {currency}"
