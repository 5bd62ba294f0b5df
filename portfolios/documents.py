"""Client documents: the monthly statement of an account and the annual tax report of a client.

Each is gathered once into plain data (`Statement`, `TaxReport`), laid out once as titled tables
(`Report`), and rendered from those same tables to CSV and to PDF, so the two files of a document
always show the same figures. Reads only: `portfolios.services.documents` stores the files and
tells the client.

Figures come from the computations every other surface uses:
- values at a close are the ledger rebuilt at that close (cash + Σ units × close, rounded down
  once, as `valuation.account_value_on` and the performance history), so a statement of a past
  month shows what the account held then, not what it holds now;
- returns are `performance.period_returns` over `history.account_history`, the computation behind
  `GET accounts/{id}/performance/`, cut at the month's end;
- a month's summary reconciles to the cent: opening + deposits − withdrawals + dividends − fees +
  change in value = closing, the change in value being the market's move (and trading rounding).
"""

from __future__ import annotations

import calendar
import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from advisor.models import Client, Goal, User
from advisor.selectors import clients_in_reach
from config.errors import NotFound

from . import history, tax
from .benchmarks import policy_benchmark
from .market import closes_on, market_date_get
from .models import Account, Asset, Document, Entry, Lot, LotSale, Price, Transaction, WashSale
from .money import money, money_text
from .performance import DailyPoint, PeriodReturn, period_returns
from .valuation import Holding, Valuation

BRAND = "Meridian"
PAPER_DISCLOSURE = "Paper trading: simulated, no real securities."
NOT_A_1099 = (
    "This report is for your information only. It is not a Form 1099-B or any other tax form, "
    "and it is not tax advice: report from the forms your broker files, and ask a tax adviser. "
    "Sales in IRAs are not taxable events and are not listed."
)
UNITS_PLACES = Decimal("0.00000001")
WEIGHT_PLACES = Decimal("0.0001")


# --- Periods --------------------------------------------------------------------------------


def month_bounds(*, year: int, month: int) -> tuple[date, date]:
    """The first and the last calendar day of the month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def statement_period(*, year: int, month: int) -> tuple[date, date]:
    """The month's bounds, when it is over: a month before the market date's month (a later
    month has prices, so no close of it can still arrive). A ValidationError on `month` (or
    `year`) otherwise."""
    if not 1 <= month <= 12:
        raise ValidationError({"month": ["Enter a month from 1 to 12."]})
    if not 1900 <= year <= 9999:
        raise ValidationError({"year": ["Enter a year from 1900."]})
    today = market_date_get()
    if (year, month) >= (today.year, today.month):
        raise ValidationError(
            {"month": [f"{date(year, month, 1):%B %Y} is not over yet: choose an earlier month."]}
        )
    return month_bounds(year=year, month=month)


def tax_year_period(*, year: int) -> tuple[date, date]:
    """1 January to 31 December of `year`, when it is over (before the market date's year)."""
    if not 1900 <= year <= 9999:
        raise ValidationError({"year": ["Enter a year from 1900."]})
    if year >= market_date_get().year:
        raise ValidationError({"year": [f"{year} is not over yet: choose an earlier year."]})
    return date(year, 1, 1), date(year, 12, 31)


def last_market_date(*, on_or_before: date) -> date | None:
    """The last day with prices on or before the day: the close a value at that day is at."""
    return (
        Price.objects.filter(date__lte=on_or_before)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )


# --- The layout both renderers read ---------------------------------------------------------

Cell = str | Decimal | date | None

TEXT, MONEY, UNITS, PRICE, PERCENT, RETURN, DATE = (
    "text",
    "money",
    "units",
    "price",
    "percent",
    "return",
    "date",
)
NUMERIC = frozenset({MONEY, UNITS, PRICE, PERCENT, RETURN})


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT
    weight: float = 1.0  # its share of the page width, against the other columns'


@dataclass(frozen=True)
class Table:
    """One section of a document: a CSV section and a PDF table."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None
    empty: str = "None in this period."
    note: str = ""


@dataclass(frozen=True)
class Report:
    title: str  # e.g. "Monthly statement, May 2023: Retirement (account 12)"
    heading: str  # the big line on the first page, e.g. "Monthly statement"
    header: tuple[tuple[str, str], ...]  # the facts under the heading: (label, value)
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    disclosure: str = PAPER_DISCLOSURE  # boxed under the heading, and a CSV header row


# --- Monthly statement ----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementSummary:
    opening_day: date | None  # the close the opening value is at (None: nothing before)
    closing_day: date
    opening_value: Decimal
    deposits: Decimal
    withdrawals: Decimal  # positive: money paid out
    dividends: Decimal
    fees: Decimal  # positive: fees paid
    change: Decimal  # the market's move: closing − opening − the flows above
    closing_value: Decimal


@dataclass(frozen=True)
class StatementHolding:
    ticker: str
    name: str
    units: Decimal
    close: Decimal
    value: Decimal
    weight: Decimal  # a fraction of the account's value, 4 dp
    cost_basis: Decimal
    unrealised_gain: Decimal


@dataclass(frozen=True)
class StatementLine:
    day: date
    kind: str
    description: str
    amount: Decimal  # cash in (+) or out (−) of the account


@dataclass(frozen=True)
class StatementTrade:
    day: date
    ticker: str
    side: str  # "Buy" or "Sell"
    units: Decimal
    price: Decimal
    amount: Decimal  # cash in (+, a sale) or out (−, a buy)
    reason: str  # the transaction it was part of


@dataclass(frozen=True)
class StatementFee:
    day: date
    period: date | None  # the month billed
    amount: Decimal  # positive: paid


@dataclass(frozen=True)
class StatementDistribution:
    pay_date: date
    ex_date: date
    ticker: str
    per_unit: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    account: Account
    year: int
    month: int
    period_start: date
    period_end: date
    summary: StatementSummary
    cash: Decimal  # at the closing day
    holdings: tuple[StatementHolding, ...]
    transactions: tuple[StatementLine, ...]
    trades: tuple[StatementTrade, ...]
    fees: tuple[StatementFee, ...]
    distributions: tuple[StatementDistribution, ...]
    performance: tuple[PeriodReturn, ...]  # the month, then the year to date


def _valuation_at(*, account: Account, day: date, close: date) -> Valuation:
    """What the account held after every entry dated on or before `day`, at `close`'s prices:
    the ledger rebuilt, as `valuation.account_value_on` and the performance history do.
    (`valuation.account_value` reads today's positions, so it cannot value a past month.)"""
    cash = Decimal("0.00")
    units: defaultdict[int, Decimal] = defaultdict(Decimal)
    entries = Entry.objects.filter(account=account, transaction__market_date__lte=day)
    for asset_id, quantity in entries.values_list("asset_id", "quantity"):
        if asset_id is None:
            cash += quantity  # summed here: SQLite would add decimals as floats
        else:
            units[asset_id] += quantity
    held = {asset_id: quantity for asset_id, quantity in units.items() if quantity > 0}
    assets = {a.pk: a for a in Asset.objects.filter(pk__in=held)}
    closes = closes_on(day=close, assets=assets.values())
    holdings = tuple(
        Holding(asset=assets[asset_id], quantity=quantity, price=closes[asset_id])
        for asset_id, quantity in sorted(held.items(), key=lambda item: assets[item[0]].ticker)
    )
    return Valuation(day=close, cash=cash, holdings=holdings)


def _lot_units_on(lots: Sequence[Lot], day: date) -> dict[int, Decimal]:
    """Lot id → the units it still held at the end of `day`: what remains now plus what was
    sold from it after that day (LotSale rows)."""
    sold_after: defaultdict[int, Decimal] = defaultdict(Decimal)
    later = LotSale.objects.filter(lot__in=[lot.pk for lot in lots], sold_on__gt=day)
    for lot_id, quantity in later.values_list("lot_id", "quantity"):
        sold_after[lot_id] += quantity
    return {lot.pk: lot.remaining + sold_after[lot.pk] for lot in lots}


def _lot_basis(lot: Lot, units: Decimal) -> Decimal:
    """The cost basis of `units` of the lot: their cost plus their share of the wash-sale
    adjustment (which is for all of the lot's units). Unrounded."""
    if not lot.quantity:
        return Decimal(0)
    return units * lot.unit_cost + lot.basis_adjustment * units / lot.quantity


def _cost_basis_on(*, account: Account, day: date) -> dict[int, Decimal]:
    """Asset id → the cost basis of the units held at the end of `day`, from the open lots."""
    lots = list(Lot.objects.filter(account=account, acquired_on__lte=day))
    units = _lot_units_on(lots, day)
    basis: defaultdict[int, Decimal] = defaultdict(Decimal)
    for lot in lots:
        if units[lot.pk] > 0:
            basis[lot.asset_id] += _lot_basis(lot, units[lot.pk])
    return {asset_id: money(total) for asset_id, total in basis.items()}


def _month_performance(
    *, account: Account, start: date, end: date
) -> tuple[PeriodReturn, PeriodReturn] | None:
    """The month's and the year-to-date's returns, from the computation behind the account's
    performance API (`performance.period_returns` over `history.account_history`), cut at the
    month's end. The month is that computation's since-inception row over the history from the
    previous month's last close (whose own flow is before the month); the year to date is its
    YTD row. None with fewer than two closes."""
    points = history.account_history(account=account, end=end)
    if len(points) < 2:
        return None
    base = max((i for i, p in enumerate(points) if p.day < start), default=0)
    window = list(points[base:])
    if window[0].day < start:
        window[0] = DailyPoint(day=window[0].day, value=window[0].value, flow=Decimal(0))
    if len(window) < 2:
        return None  # no close in the month after the base: nothing to link
    first, last = points[0].day, points[-1].day
    levels = history.benchmark_levels(start=first, end=last)
    policy = policy_benchmark(account=account, start=first, end=last)
    policy_levels = policy.levels if policy else None
    rows = period_returns(window, benchmark_levels=levels, policy_levels=policy_levels)
    month = replace(next(r for r in rows if r.period == "ITD"), period="Month")
    rows = period_returns(points, benchmark_levels=levels, policy_levels=policy_levels)
    ytd = next(r for r in rows if r.period == "YTD")
    return month, ytd


def _trades(transactions: Sequence[Transaction]) -> list[StatementTrade]:
    """Each fill of the month: its unit entry and the cash entry booked right after it in the
    same transaction (`ledger_fill` books them in that order)."""
    by_id = {txn.pk: txn for txn in transactions}
    entries = (
        Entry.objects.filter(transaction__in=list(by_id))
        .select_related("asset")
        .order_by("transaction__market_date", "transaction_id", "id")
    )
    rows: list[StatementTrade] = []
    pending: Entry | None = None
    for entry in entries:
        if entry.asset is not None:
            pending = entry
            continue
        if pending is None or pending.transaction_id != entry.transaction_id:
            continue  # a plain cash movement (the deposit, the withdrawal, the fee itself)
        txn = by_id[entry.transaction_id]
        assert pending.asset is not None  # noqa: S101 - set above
        rows.append(
            StatementTrade(
                day=txn.market_date,
                ticker=pending.asset.ticker,
                side="Buy" if pending.quantity > 0 else "Sell",
                units=abs(pending.quantity),
                price=pending.price or Decimal(0),
                amount=entry.quantity,
                reason=txn.description or txn.get_kind_display(),
            )
        )
        pending = None
    return rows


def statement_data(*, account: Account, year: int, month: int) -> Statement:
    """Everything the month's statement of the account shows, read once."""
    account = Account.objects.select_related("goal", "client").get(pk=account.pk)
    start, end = month_bounds(year=year, month=month)
    closing_day = last_market_date(on_or_before=end) or end
    opening_day = last_market_date(on_or_before=start - timedelta(days=1))
    opening = (
        _valuation_at(account=account, day=start - timedelta(days=1), close=opening_day).total
        if opening_day
        else Decimal("0.00")
    )
    closing = _valuation_at(account=account, day=end, close=closing_day)

    transactions = list(
        Transaction.objects.filter(account=account, market_date__range=(start, end))
        .select_related("distribution__asset")
        .order_by("market_date", "id")
    )
    kind = Transaction.Kind
    sums: defaultdict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for txn in transactions:
        sums[txn.kind] += txn.amount
    deposits, dividends = sums[kind.DEPOSIT], sums[kind.DIVIDEND]
    withdrawals, fees = -sums[kind.WITHDRAWAL], -sums[kind.FEE]
    # Trades move nothing in or out (their amount is 0), so what is left is the market's move.
    summary = StatementSummary(
        opening_day=opening_day,
        closing_day=closing_day,
        opening_value=opening,
        deposits=deposits,
        withdrawals=withdrawals,
        dividends=dividends,
        fees=fees,
        change=closing.total - opening - deposits + withdrawals - dividends + fees,
        closing_value=closing.total,
    )

    basis = _cost_basis_on(account=account, day=end)
    weights = closing.weights()
    holdings = tuple(
        StatementHolding(
            ticker=h.asset.ticker,
            name=h.asset.name,
            units=h.quantity,
            close=h.price,
            value=h.value,
            weight=weights.get(h.asset.ticker, Decimal(0)).quantize(WEIGHT_PLACES),
            cost_basis=basis.get(h.asset.pk, Decimal("0.00")),
            unrealised_gain=h.value - basis.get(h.asset.pk, Decimal("0.00")),
        )
        for h in closing.holdings
    )
    performance = _month_performance(account=account, start=start, end=end)
    return Statement(
        account=account,
        year=year,
        month=month,
        period_start=start,
        period_end=end,
        summary=summary,
        cash=closing.cash,
        holdings=holdings,
        transactions=tuple(
            StatementLine(
                day=txn.market_date,
                kind=txn.get_kind_display(),
                description=(txn.description or txn.get_kind_display())
                + (f" ({txn.tax_note})" if txn.tax_note else ""),
                amount=txn.amount,
            )
            for txn in transactions
        ),
        trades=tuple(_trades(transactions)),
        fees=tuple(
            StatementFee(day=t.market_date, period=t.fee_period, amount=-t.amount)
            for t in transactions
            if t.kind == kind.FEE
        ),
        distributions=tuple(
            StatementDistribution(
                pay_date=t.market_date,
                ex_date=t.distribution.ex_date,
                ticker=t.distribution.asset.ticker,
                per_unit=t.distribution.amount,
                amount=t.amount,
            )
            for t in transactions
            if t.kind == kind.DIVIDEND and t.distribution is not None
        ),
        performance=performance or (),
    )


def _day(day: date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "-"


def statement_title(*, account: Account, year: int, month: int) -> str:
    return f"Statement {date(year, month, 1):%B %Y}: {account.goal.name} (account {account.pk})"


def statement_report(statement: Statement) -> Report:
    """The statement laid out as titled tables."""
    account, s = statement.account, statement.summary
    client = account.client
    goal: Goal = account.goal
    period = f"{_day(statement.period_start)} to {_day(statement.period_end)}"
    opening_label = (
        f"Opening value ({_day(s.opening_day)} close)" if s.opening_day else "Opening value"
    )
    summary = Table(
        title="Summary",
        columns=(Column("Item", TEXT, 3), Column("Amount", MONEY, 1)),
        rows=(
            (opening_label, s.opening_value),
            ("Deposits", s.deposits),
            ("Withdrawals", -s.withdrawals),
            ("Dividends", s.dividends),
            ("Advisory fees", -s.fees),
            ("Change in value (market)", s.change),
        ),
        total=(f"Closing value ({_day(s.closing_day)} close)", s.closing_value),
    )
    holdings = Table(
        title=f"Holdings at the {_day(s.closing_day)} close",
        columns=(
            Column("Fund", TEXT, 0.7),
            Column("Name", TEXT, 2.4),
            Column("Units", UNITS, 1.1),
            Column("Close", PRICE, 0.9),
            Column("Value", MONEY, 1.1),
            Column("Weight", PERCENT, 0.8),
            Column("Cost basis", MONEY, 1.1),
            Column("Unrealised gain", MONEY, 1.1),
        ),
        rows=tuple(
            (h.ticker, h.name, h.units, h.close, h.value, h.weight, h.cost_basis, h.unrealised_gain)
            for h in statement.holdings
        )
        + (
            (
                "Cash",
                "Uninvested cash",
                None,
                None,
                statement.cash,
                (statement.cash / s.closing_value).quantize(WEIGHT_PLACES)
                if s.closing_value
                else Decimal(0),
                None,
                None,
            ),
        ),
        total=(
            "Total",
            "",
            None,
            None,
            s.closing_value,
            Decimal(1) if s.closing_value else Decimal(0),
            sum((h.cost_basis for h in statement.holdings), Decimal("0.00")),
            sum((h.unrealised_gain for h in statement.holdings), Decimal("0.00")),
        ),
        note="Holding values are units × close rounded down; the total is rounded once.",
    )
    transactions = Table(
        title="Transactions",
        columns=(
            Column("Date", DATE, 1),
            Column("Kind", TEXT, 1.2),
            Column("Description", TEXT, 4.2),
            Column("Amount", MONEY, 1.2),
        ),
        rows=tuple((t.day, t.kind, t.description, t.amount) for t in statement.transactions),
        note="Amount: cash into (+) or out of (-) the account.",
    )
    trades = Table(
        title="Trades (filled at the close)",
        columns=(
            Column("Date", DATE, 1),
            Column("Fund", TEXT, 0.7),
            Column("Side", TEXT, 0.6),
            Column("Units", UNITS, 1.1),
            Column("Price", PRICE, 0.9),
            Column("Amount", MONEY, 1.1),
            Column("Part of", TEXT, 2.4),
        ),
        rows=tuple(
            (t.day, t.ticker, t.side, t.units, t.price, t.amount, t.reason)
            for t in statement.trades
        ),
    )
    fees = Table(
        title="Advisory fees",
        columns=(Column("Date", DATE, 1), Column("Month billed", TEXT, 2), Column("Fee", MONEY)),
        rows=tuple(
            (f.day, f"{f.period:%B %Y}" if f.period else "", f.amount) for f in statement.fees
        ),
        total=("Total", "", s.fees) if statement.fees else None,
    )
    distributions = Table(
        title="Distributions (dividends paid in cash)",
        columns=(
            Column("Paid", DATE),
            Column("Ex-date", DATE),
            Column("Fund", TEXT, 0.7),
            Column("Per unit", PRICE),
            Column("Amount", MONEY),
        ),
        rows=tuple(
            (d.pay_date, d.ex_date, d.ticker, d.per_unit, d.amount) for d in statement.distributions
        ),
        total=("Total", None, "", None, s.dividends) if statement.distributions else None,
    )
    performance = Table(
        title="Performance",
        columns=(
            Column("Period", TEXT, 1.2),
            Column("From close", DATE),
            Column("To close", DATE),
            Column("Time-weighted", RETURN),
            Column("Money-weighted", RETURN),
            Column("Policy benchmark", RETURN),
            Column("60/40 reference", RETURN),
        ),
        rows=tuple(
            (
                "This month" if p.period == "Month" else "Year to date",
                p.start,
                p.end,
                p.twr,
                p.mwr,
                p.policy_benchmark,
                p.benchmark,
            )
            for p in statement.performance
        ),
        empty="Not enough history for returns yet.",
        note="Net of advisory fees; not annualised (GIPS). Time-weighted: the investments' "
        "return, deposits and withdrawals taken out; money-weighted: your own return, with "
        "their timing.",
    )
    return Report(
        title=statement_title(account=account, year=statement.year, month=statement.month),
        heading="Monthly statement",
        header=(
            ("Client", client.full_name or f"Client {client.pk}"),
            ("Account", f"{goal.name} (account {account.pk})"),
            ("Account type", goal.get_account_type_display()),
            ("Period", period),
            ("Currency", account.currency),
        ),
        tables=(summary, holdings, transactions, trades, fees, distributions, performance),
        notes=(
            PAPER_DISCLOSURE,
            "Values are at each day's close. Opening value + deposits - withdrawals + dividends "
            "- advisory fees + change in value = closing value.",
        ),
    )


def statement_build(*, account: Account, year: int, month: int) -> tuple[bytes, str, str]:
    """The month's statement of the account: (PDF, CSV, title)."""
    report = statement_report(statement_data(account=account, year=year, month=month))
    return pdf_render(report), csv_render(report), report.title


# --- Annual tax report ----------------------------------------------------------------------


@dataclass(frozen=True)
class TaxSale:
    sale_id: int
    account_id: int
    ticker: str
    acquired_on: date  # the holding period's start (a wash sale may carry an earlier one over)
    sold_on: date
    units: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal  # proceeds − cost basis, before any wash sale
    wash_disallowed: Decimal
    term: str

    @property
    def reportable(self) -> Decimal:
        """The gain or loss to report: a loss a wash sale disallowed is not a loss this year."""
        return self.gain + self.wash_disallowed


@dataclass(frozen=True)
class TermTotals:
    term: str
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal
    wash_disallowed: Decimal
    reportable: Decimal
    sales: tuple[TaxSale, ...]


@dataclass(frozen=True)
class TaxWash:
    sold_on: date
    ticker: str
    units: Decimal
    disallowed: Decimal
    replacement_account: int
    replacement_ticker: str
    replacement_acquired: date
    basis_added: Decimal
    replacement_in_ira: bool


@dataclass(frozen=True)
class TaxLine:
    day: date
    account_id: int
    account_type: str
    description: str
    amount: Decimal  # positive


@dataclass(frozen=True)
class TaxReport:
    client: Client
    year: int
    period_start: date
    period_end: date
    terms: tuple[TermTotals, ...]  # short, then long
    washes: tuple[TaxWash, ...]
    dividends: tuple[TaxLine, ...]
    fees: tuple[TaxLine, ...]
    ira_contributions: tuple[TaxLine, ...]
    accounts: tuple[Account, ...]


TAXABLE = Goal.AccountType.TAXABLE


def _realised_gains(*, client: Client, year: int) -> tuple[TermTotals, ...]:
    """The year's lot sales in the client's taxable accounts, by term, with totals: read from
    `portfolios.tax.realised_gains`, the one computation the API and the tax centre show."""
    realised = tax.realised_gains(client=client, year=year)
    rows: dict[str, list[TaxSale]] = {LotSale.Term.SHORT: [], LotSale.Term.LONG: []}
    for sale in realised.sales:
        rows[sale.term].append(
            TaxSale(
                sale_id=sale.pk,
                account_id=sale.account_id,
                ticker=sale.asset.ticker,
                acquired_on=tax.lot_start(sale.lot),
                sold_on=sale.sold_on,
                units=sale.quantity,
                proceeds=sale.proceeds,
                cost_basis=sale.cost_basis,
                gain=sale.gain,
                wash_disallowed=sale.wash_disallowed,
                term=sale.term,
            )
        )
    totals: dict[str, tax.TermTotals] = {
        LotSale.Term.SHORT: realised.short_term,
        LotSale.Term.LONG: realised.long_term,
    }
    return tuple(
        TermTotals(
            term=term,
            proceeds=totals[term].proceeds,
            cost_basis=totals[term].cost_basis,
            gain=totals[term].gain,
            wash_disallowed=totals[term].wash_disallowed,
            reportable=totals[term].reportable,
            sales=tuple(sales),
        )
        for term, sales in rows.items()
    )


def _lines(transactions: QuerySet[Transaction], sign: int = 1) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(
            day=t.market_date,
            account_id=t.account_id,
            account_type=t.account.goal.get_account_type_display(),
            description=t.description or t.get_kind_display(),
            amount=sign * t.amount,
        )
        for t in transactions.select_related("account__goal").order_by("market_date", "id")
    )


def tax_report_data(*, client: Client, year: int) -> TaxReport:
    """Everything the client's tax report for the year shows, read once."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    txns = Transaction.objects.filter(account__client=client, market_date__range=(start, end))
    washes = (
        WashSale.objects.filter(
            sale__account__client=client,
            sale__account__goal__account_type=TAXABLE,
            sale__sold_on__year=year,
        )
        .select_related("sale__asset", "replacement__asset", "replacement__account__goal")
        .order_by("sale__sold_on", "id")
    )
    return TaxReport(
        client=client,
        year=year,
        period_start=start,
        period_end=end,
        terms=_realised_gains(client=client, year=year),
        washes=tuple(
            TaxWash(
                sold_on=w.sale.sold_on,
                ticker=w.sale.asset.ticker,
                units=w.units,
                disallowed=w.disallowed,
                replacement_account=w.replacement.account_id,
                replacement_ticker=w.replacement.asset.ticker,
                replacement_acquired=w.replacement.acquired_on,
                basis_added=w.basis_added,
                replacement_in_ira=w.replacement.account.goal.account_type in Goal.IRA_TYPES,
            )
            for w in washes
        ),
        dividends=_lines(
            txns.filter(kind=Transaction.Kind.DIVIDEND, account__goal__account_type=TAXABLE)
        ),
        fees=_lines(txns.filter(kind=Transaction.Kind.FEE), sign=-1),
        # Deposits into IRAs in the calendar year: what portfolios.services.ira counts against
        # the limit (ira_contributed), line by line.
        ira_contributions=_lines(
            txns.filter(
                kind=Transaction.Kind.DEPOSIT, account__goal__account_type__in=Goal.IRA_TYPES
            )
        ),
        accounts=tuple(Account.objects.filter(client=client).select_related("goal")),
    )


def tax_report_title(*, client: Client, year: int) -> str:
    return f"Tax report {year}: {client.full_name or f'Client {client.pk}'}"


def _total(lines: Sequence[TaxLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def tax_report_report(report: TaxReport) -> Report:
    """The tax report laid out as titled tables."""
    term_names = {"short": "Short-term", "long": "Long-term"}
    sale_columns = (
        Column("Acquired", DATE, 1),
        Column("Sold", DATE, 1),
        Column("Acct", TEXT, 0.5),
        Column("Fund", TEXT, 0.6),
        Column("Units", UNITS, 1.05),
        Column("Proceeds", MONEY, 1.05),
        Column("Cost basis", MONEY, 1.05),
        Column("Gain/loss", MONEY, 1),
        Column("Wash disallowed", MONEY, 1),
        Column("Reportable", MONEY, 1.05),
    )
    tables = []
    for totals in report.terms:
        name = term_names.get(totals.term, totals.term)
        tables.append(
            Table(
                title=f"{name} gains and losses",
                columns=sale_columns,
                rows=tuple(
                    (
                        s.acquired_on,
                        s.sold_on,
                        str(s.account_id),
                        s.ticker,
                        s.units,
                        s.proceeds,
                        s.cost_basis,
                        s.gain,
                        s.wash_disallowed,
                        s.reportable,
                    )
                    for s in totals.sales
                ),
                total=(
                    "Total",
                    None,
                    "",
                    "",
                    None,
                    totals.proceeds,
                    totals.cost_basis,
                    totals.gain,
                    totals.wash_disallowed,
                    totals.reportable,
                ),
                empty="No sales in taxable accounts this year.",
                note=("Held one year or less." if totals.term == "short" else "Held over a year.")
                + " Reportable = proceeds - cost basis + wash-sale loss disallowed.",
            )
        )
    zero = Decimal("0.00")
    tables.append(
        Table(
            title="Realised gains: totals",
            columns=(
                Column("Term", TEXT, 1.4),
                Column("Proceeds", MONEY),
                Column("Cost basis", MONEY),
                Column("Gain/loss", MONEY),
                Column("Wash disallowed", MONEY),
                Column("Reportable", MONEY),
            ),
            rows=tuple(
                (
                    term_names.get(t.term, t.term),
                    t.proceeds,
                    t.cost_basis,
                    t.gain,
                    t.wash_disallowed,
                    t.reportable,
                )
                for t in report.terms
            ),
            total=(
                "Total",
                sum((t.proceeds for t in report.terms), zero),
                sum((t.cost_basis for t in report.terms), zero),
                sum((t.gain for t in report.terms), zero),
                sum((t.wash_disallowed for t in report.terms), zero),
                sum((t.reportable for t in report.terms), zero),
            ),
        )
    )
    tables.append(
        Table(
            title="Wash-sale adjustments",
            columns=(
                Column("Sold", DATE),
                Column("Fund", TEXT, 0.6),
                Column("Units", UNITS),
                Column("Loss disallowed", MONEY),
                Column("Replacement", TEXT, 1.9),
                Column("Basis added", MONEY),
            ),
            rows=tuple(
                (
                    w.sold_on,
                    w.ticker,
                    w.units,
                    w.disallowed,
                    f"{w.replacement_ticker} bought {w.replacement_acquired.isoformat()}, "
                    f"account {w.replacement_account}"
                    + (" (IRA: loss not added to basis)" if w.replacement_in_ira else ""),
                    w.basis_added,
                )
                for w in report.washes
            ),
            total=(
                "Total",
                "",
                None,
                sum((w.disallowed for w in report.washes), zero),
                "",
                sum((w.basis_added for w in report.washes), zero),
            )
            if report.washes
            else None,
            empty="No wash sales this year.",
            note="A loss is disallowed when substantially identical units were bought within "
            "30 days before or after the sale; it is added to the replacement's basis (not "
            "when the replacement is in an IRA).",
        )
    )
    line_columns = (
        Column("Date", DATE),
        Column("Account", TEXT, 0.7),
        Column("Type", TEXT, 1.1),
        Column("Description", TEXT, 3.4),
        Column("Amount", MONEY, 1.1),
    )

    def lines_table(title: str, lines: Sequence[TaxLine], empty: str, note: str = "") -> Table:
        return Table(
            title=title,
            columns=line_columns,
            rows=tuple(
                (x.day, str(x.account_id), x.account_type, x.description, x.amount) for x in lines
            ),
            total=("Total", "", "", "", _total(lines)) if lines else None,
            empty=empty,
            note=note,
        )

    tables.append(
        lines_table(
            "Dividends received in taxable accounts",
            report.dividends,
            "No dividends in taxable accounts this year.",
        )
    )
    tables.append(
        lines_table(
            "Advisory fees paid",
            report.fees,
            "No advisory fees this year.",
            note="Fees paid from each account's cash, all account types.",
        )
    )
    tables.append(
        lines_table(
            "IRA contributions",
            report.ira_contributions,
            "No IRA contributions this year.",
            note="Deposits into IRAs dated in the calendar year.",
        )
    )
    client = report.client
    return Report(
        title=tax_report_title(client=client, year=report.year),
        heading=f"Annual tax report {report.year}",
        header=(
            ("Client", client.full_name or f"Client {client.pk}"),
            ("Tax year", f"1 Jan {report.year} to 31 Dec {report.year}"),
            (
                "Accounts",
                "; ".join(
                    f"{a.pk}: {a.goal.name} ({a.goal.get_account_type_display()})"
                    for a in report.accounts
                )
                or "None",
            ),
        ),
        tables=tuple(tables),
        notes=(NOT_A_1099, PAPER_DISCLOSURE),
        disclosure=f"{PAPER_DISCLOSURE} Not a Form 1099-B: for your information only.",
    )


def tax_report_build(*, client: Client, year: int) -> tuple[bytes, str, str]:
    """The client's tax report for the year: (PDF, CSV, title)."""
    report = tax_report_report(tax_report_data(client=client, year=year))
    return pdf_render(report), csv_render(report), report.title


# --- CSV ------------------------------------------------------------------------------------


def _csv_cell(value: Cell, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if kind == MONEY:
            return f"{money(value):.2f}"
        if kind == UNITS:
            return f"{value.quantize(UNITS_PLACES):f}"
        if kind == PERCENT:
            return f"{(value * 100).quantize(Decimal('0.01')):f}"
        if kind == RETURN:
            return f"{(value * 100).quantize(Decimal('0.0001')):f}"
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return str(value)


def _csv_header(column: Column) -> str:
    return f"{column.title} (%)" if column.kind in (PERCENT, RETURN) else column.title


def csv_render(report: Report) -> str:
    """One section per table: its title, a header row, its rows, its total; a blank row between
    sections. Money with two decimals and no symbol, percentages as numbers, ISO dates."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"{BRAND}: {report.title}"])
    writer.writerow(["Field", "Value"])
    for label, value in report.header:
        writer.writerow([label, value])
    writer.writerow(["Disclosure", report.disclosure])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([_csv_header(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        if table.total is not None:
            writer.writerow(
                [_csv_cell(v, c.kind) for v, c in zip(table.total, table.columns, strict=True)]
            )
    writer.writerow([])
    writer.writerow(["Notes"])
    for note in report.notes:
        writer.writerow([note])
    return out.getvalue()


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    """A document's CSV read back: section title → its rows (header row first)."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


# --- PDF ------------------------------------------------------------------------------------


def _pdf_text(value: Cell, kind: str) -> str:
    if value is None:
        return "" if kind != RETURN else "-"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if kind == MONEY:
            return money_text(value)
        if kind == PRICE:
            shown = value.quantize(Decimal("0.01"))
            return f"${value:,.4f}" if shown != value else f"${shown:,.2f}"
        if kind == UNITS:
            return f"{value.quantize(Decimal('0.0001')):,.4f}"
        if kind == PERCENT:
            return f"{value * 100:.2f}%"
        if kind == RETURN:
            return f"{value * 100:+.2f}%"
        return f"{value:f}"
    return str(value)


def _latin(text: str) -> str:
    """The built-in PDF fonts' character set (cp1252): anything else becomes '?'."""
    return text.replace("\u2212", "-").encode("cp1252", "replace").decode("cp1252")


def pdf_render(report: Report) -> bytes:
    """The report as a PDF: Letter, built-in Helvetica, numbers right-aligned, a footer with
    the title and "Page n of N" on every page. No external fonts, images or network."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import Table as PdfTable

    ink = colors.HexColor("#1f2937")
    accent = colors.HexColor("#0f766e")
    rule = colors.HexColor("#cbd5e1")
    shade = colors.HexColor("#f1f5f9")
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["Normal"], fontSize=8, leading=10, textColor=ink)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName="Helvetica-Bold")
    cell_right = ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold", textColor=colors.white)
    head_right = ParagraphStyle("head_right", parent=head, alignment=TA_RIGHT)
    h2 = ParagraphStyle(
        "h2",
        parent=body,
        fontName="Helvetica-Bold",
        fontSize=11,
        leading=14,
        textColor=accent,
        spaceAfter=3,
        keepWithNext=1,  # never a heading alone at the foot of a page
    )
    brand = ParagraphStyle(
        "brand", parent=body, fontName="Helvetica-Bold", fontSize=20, leading=24, textColor=accent
    )
    title = ParagraphStyle(
        "title", parent=body, fontName="Helvetica-Bold", fontSize=13, leading=16, alignment=TA_RIGHT
    )
    note = ParagraphStyle("note", parent=body, fontSize=7, leading=9, textColor=colors.grey)
    disclosure = ParagraphStyle(
        "disclosure", parent=body, fontName="Helvetica-Bold", textColor=colors.HexColor("#92400e")
    )

    def p(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(_latin(text)), style)

    margin = 0.6 * inch
    width = LETTER[0] - 2 * margin - 12  # the frame's width inside its 6 pt padding
    story: list[Any] = []

    top = PdfTable(
        [[p(BRAND, brand), p(report.heading, title)]], colWidths=[width * 0.45, width * 0.55]
    )
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.5, accent),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [top, Spacer(1, 8)]
    facts = PdfTable(
        [[p(label, cell_bold), p(value, cell)] for label, value in report.header],
        colWidths=[1.2 * inch, width - 1.2 * inch],
    )
    facts.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    story += [facts, Spacer(1, 6)]
    box = PdfTable([[p(report.disclosure, disclosure)]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fef3c7")),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#f59e0b")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [box, Spacer(1, 10)]

    cell_right_bold = ParagraphStyle(
        "cell_right_bold", parent=cell_right, fontName="Helvetica-Bold"
    )

    def row_cells(
        row: tuple[Cell, ...], columns: tuple[Column, ...], bold: bool = False
    ) -> list[Any]:
        cells = []
        for value, column in zip(row, columns, strict=True):
            if column.kind in NUMERIC:
                style = cell_right_bold if bold else cell_right
            else:
                style = cell_bold if bold else cell
            cells.append(p(_pdf_text(value, column.kind), style))
        return cells

    for table in report.tables:
        total_weight = sum(c.weight for c in table.columns)
        widths = [width * c.weight / total_weight for c in table.columns]
        header = [p(c.title, head_right if c.kind in NUMERIC else head) for c in table.columns]
        data: list[list[Any]] = [header]

        for row in table.rows:
            data.append(row_cells(row, table.columns))
        if not table.rows:
            data.append([p(table.empty, cell)] + [""] * (len(table.columns) - 1))
        if table.total is not None:
            data.append(row_cells(table.total, table.columns, bold=True))
        styles: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), accent),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        for index in range(1, len(data)):
            if index % 2 == 0:
                styles.append(("BACKGROUND", (0, index), (-1, index), shade))
        if not table.rows:
            styles.append(("SPAN", (0, 1), (-1, 1)))
        if table.total is not None:
            styles += [
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ink),
                ("BACKGROUND", (0, -1), (-1, -1), colors.white),
            ]
        grid = PdfTable(data, colWidths=widths, repeatRows=1)
        grid.setStyle(TableStyle(styles))
        if len(data) <= 8:  # a short table is not split across pages
            story.append(KeepTogether([p(table.title, h2), grid]))
        else:
            story += [p(table.title, h2), grid]
        if table.note:
            story += [Spacer(1, 2), p(table.note, note)]
        story.append(Spacer(1, 10))

    for line in report.notes:
        story += [p(line, note), Spacer(1, 2)]

    footer = _latin(f"{BRAND} - {report.title}")

    class NumberedCanvas(Canvas):
        """Draws "Page n of N" once the page count is known (pages are kept, then finished)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 7)
                self.setFillColor(colors.grey)
                self.drawString(margin + 6, 0.4 * inch, footer)
                self.drawRightString(
                    LETTER[0] - margin - 6, 0.4 * inch, f"Page {self._pageNumber} of {count}"
                )
                super().showPage()
            super().save()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=LETTER,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=0.75 * inch,
        title=_latin(report.title),
        author=BRAND,
        subject=report.heading,
        creator=BRAND,
        invariant=1,  # the same document bytes for the same report (no timestamp, fixed id)
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return out.getvalue()


# --- Reads for the API ----------------------------------------------------------------------


def document_list(*, client: Client, kind: str | None = None) -> QuerySet[Document]:
    """The client's documents, newest period first, without their files."""
    documents = Document.objects.filter(client=client).defer("pdf", "csv")
    if kind:
        documents = documents.filter(kind=kind)
    return documents


def document_get(*, client: Client, document_id: int) -> Document:
    """One of the client's documents with its files; 404 for anyone else's."""
    try:
        return Document.objects.get(client=client, pk=document_id)
    except Document.DoesNotExist as exc:
        raise NotFound from exc


def client_for_staff(*, user: User, client_id: int) -> Client:
    """A client the staff member works on (advisor.selectors.clients_in_reach); 404 otherwise."""
    try:
        return clients_in_reach(user).get(pk=client_id)
    except Client.DoesNotExist as exc:
        raise NotFound from exc


def document_filename(document: Document, extension: str) -> str:
    """e.g. meridian-statement-2023-05-account-12.pdf, meridian-tax-report-2023-client-7.csv"""
    if document.kind == Document.Kind.STATEMENT:
        stem = f"statement-{document.period_start:%Y-%m}-account-{document.account_id}"
    else:
        stem = f"tax-report-{document.period_start:%Y}-client-{document.client_id}"
    return f"meridian-{stem}.{extension}"


__all__ = [
    "Column",
    "Report",
    "Statement",
    "Table",
    "TaxReport",
    "csv_render",
    "csv_sections",
    "document_filename",
    "document_get",
    "document_list",
    "pdf_render",
    "statement_build",
    "statement_data",
    "statement_period",
    "statement_report",
    "tax_report_build",
    "tax_report_data",
    "tax_report_report",
    "tax_year_period",
]
