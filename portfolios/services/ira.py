"""IRA contribution limits: the IRS's annual limit on what one person may contribute to all of
their IRAs together (traditional and Roth share one limit, IRC §219(b)(5) and §408A(c)(2)).

A contribution's tax year here is the calendar year of the deposit's market date. The IRS also
lets a contribution made from January 1 to the April 15 filing deadline count toward the prior
year; that choice is not supported: every deposit counts toward the year it is made in.

The limits, by year (IRS cost-of-living adjustments): $5,000 for 2008–2012, $5,500 for
2013–2018, $6,000 for 2019–2022, $6,500 for 2023 (Notice 2022-55), $7,000 for 2024 (Notice
2023-75) and 2025 (Notice 2024-80), $7,500 for 2026 (Notice 2025-67). Someone aged 50 or more by
the end of the year may add a catch-up contribution: $1,000 through 2025, $1,100 from 2026 (the
SECURE 2.0 Act indexes it from 2024; Notice 2025-67 raises it for 2026). Years after the last
known one use its figures until a new notice is added here; years before 2008 use 2008's."""

from datetime import date
from decimal import Decimal

from advisor.models import Client, Goal, age_on

from ..exceptions import IraLimitExceeded
from ..models import Account, Transaction
from ..money import money_text

IRA_LIMITS: dict[int, Decimal] = {
    **dict.fromkeys(range(2008, 2013), Decimal("5000.00")),
    **dict.fromkeys(range(2013, 2019), Decimal("5500.00")),
    **dict.fromkeys(range(2019, 2023), Decimal("6000.00")),
    2023: Decimal("6500.00"),
    2024: Decimal("7000.00"),
    2025: Decimal("7000.00"),
    2026: Decimal("7500.00"),
}
CATCH_UP_AGE = 50
IRA_CATCH_UP: dict[int, Decimal] = {
    **dict.fromkeys(range(2008, 2026), Decimal("1000.00")),
    2026: Decimal("1100.00"),
}


def _known(table: dict[int, Decimal], year: int) -> Decimal:
    return table[min(max(year, min(table)), max(table))]


def ira_limit(*, year: int, age: int | None) -> Decimal:
    """The year's limit for someone of `age` at the year's end (None: unknown, no catch-up)."""
    limit = _known(IRA_LIMITS, year)
    if age is not None and age >= CATCH_UP_AGE:
        limit += _known(IRA_CATCH_UP, year)
    return limit


def ira_age(*, client: Client, year: int) -> int | None:
    """The client's age on December 31 of `year`, which decides the catch-up; None if unknown."""
    if client.date_of_birth is None:
        return None
    return age_on(client.date_of_birth, date(year, 12, 31))


def ira_contributed(*, client: Client, year: int, through: date | None = None) -> Decimal:
    """Deposits into all of the client's IRAs (traditional and Roth) with a market date in
    `year` (and on or before `through`, when given). Summed here, exactly: SQLite sums decimals
    as floats."""
    deposits = Transaction.objects.filter(
        account__client=client,
        account__goal__account_type__in=Goal.IRA_TYPES,
        kind=Transaction.Kind.DEPOSIT,
        market_date__year=year,
    )
    if through is not None:
        deposits = deposits.filter(market_date__lte=through)
    return sum(deposits.values_list("amount", flat=True), Decimal("0.00"))


def ira_room(*, client: Client, year: int, on: date | None = None) -> Decimal:
    """How much more the client may contribute to their IRAs in `year` (never negative).
    `on`: count only the contributions made on or before that day (default: all of the year's)."""
    limit = ira_limit(year=year, age=ira_age(client=client, year=year))
    return max(limit - ira_contributed(client=client, year=year, through=on), Decimal("0.00"))


def ira_refusal(
    *, year: int, limit: Decimal, contributed: Decimal, amount: Decimal, currency: str
) -> str:
    """Why a deposit of `amount` into an IRA is refused: it takes the client's contributions for
    `year` (`contributed` before it) past `limit`; and the room left."""
    room = max(limit - contributed, Decimal("0.00"))
    return (
        f"This would take your {year} IRA contributions to "
        f"{money_text(contributed + amount, currency)}, above the {money_text(limit, currency)} "
        "limit; "
        + (
            f"you can add at most {money_text(room, currency)} more this year."
            if room > 0
            else "you cannot add more this year."
        )
    )


def ira_contribution_check(*, account: Account, amount: Decimal, day: date) -> None:
    """Refuse a deposit of `amount` on `day` into an IRA account when it would take the
    client's contributions for that year past the limit; a taxable account passes.

    Call it under a lock on the client's row (taken before the account's), so that two
    deposits into two of the client's IRAs cannot both pass on the same room."""
    goal = Goal.objects.only("account_type").get(pk=account.goal_id)
    if goal.account_type not in Goal.IRA_TYPES:
        return
    client = Client.objects.only("date_of_birth").get(pk=account.client_id)
    year = day.year
    limit = ira_limit(year=year, age=ira_age(client=client, year=year))
    contributed = ira_contributed(client=client, year=year)
    after = contributed + amount
    if after <= limit:
        return
    room = max(limit - contributed, Decimal("0.00"))
    message = ira_refusal(
        year=year, limit=limit, contributed=contributed, amount=amount, currency=account.currency
    )
    raise IraLimitExceeded(
        message,
        extra={
            "fields": {"amount": [message]},
            "year": year,
            "limit": str(limit),
            "contributed": str(contributed),
            "room": str(room),
        },
    )
