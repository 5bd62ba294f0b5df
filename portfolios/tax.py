"""Tax reads: lots, their terms and bases, realised gains by tax year, wash-sale state, and the
year's tax summary. Standard library and the ORM only (no numpy): web processes import it.

Holding period (IRS Pub. 550, "Holding Period"): counting starts the day after acquisition and
the day of sale counts, so a lot is long-term when sold *after* the first anniversary of its
holding start: acquired 2022-03-01 and sold 2023-03-01 is short-term, sold 2023-03-02 long-term.
A lot bought on 29 February has its anniversary on 28 February. The holding start is
`Lot.holding_from` where a wash sale carried the sold lot's holding period over, else the date
acquired.

Wash sales (IRS Pub. 550, "Wash Sales"; IRC § 1091): a loss on a sale is disallowed when
substantially identical securities are bought within 30 days before or after the sale (a
61-day window centred on the sale date). Here:

- Only losses realised in *taxable* accounts can be washed (sales inside an IRA have no
  reportable gain or loss). The replacement may be in any of the same client's accounts, IRAs
  included: an IRA purchase washes a taxable loss too (Rev. Rul. 2008-5).
- "Substantially identical" is the same fund; a tax-loss-harvesting pair (`targets.ALTERNATES`:
  funds tracking different indices) is identical only when `settings.WASH_SALE_PAIRS_IDENTICAL`
  is True (default False), see `identical_tickers`.
- The match is unit for unit, oldest first: a loss sale of 10 units and a 4-unit replacement
  disallow 4/10 of the loss; the other 6 units stay open for a later purchase in the window.
  Each unit of a sale and each unit of a replacement lot is matched at most once
  (`washed_units` on both sides).
- The disallowed loss is added to a taxable replacement lot's basis, and the replacement's
  holding period starts from the sold lot's holding start when that is earlier (the holding
  period carries over; a simplification of "includes the holding period of the stock sold":
  the earlier start is taken rather than the start shifted by the days the old lot was held).
  In an IRA the disallowed loss is lost for good: nothing is added (Rev. Rul. 2008-5).
- A purchase on day 31 after a loss sale is not a wash sale; day 30 is.

The matching itself is written by the ledger (`services.ledger`), under the account's lock;
this module only reads. The reportable gain of a sale is `gain + wash_disallowed`."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Max, QuerySet

from advisor.models import Client, Goal

from .market import closes_on, market_date_get
from .models import Account, Lot, LotSale, TaxHarvest, Transaction, WashSale
from .money import money, money_down
from .targets import ALTERNATES, PRIMARIES

WASH_WINDOW_DAYS = 30
SHORT = LotSale.Term.SHORT.value
LONG = LotSale.Term.LONG.value
ZERO = Decimal("0.00")


# --- Lots: holding period, basis, term ---------------------------------------------------------


def identical_tickers(ticker: str) -> set[str]:
    """The funds substantially identical to `ticker` for wash sales: itself, plus its
    harvesting pair's partner only when settings.WASH_SALE_PAIRS_IDENTICAL (default False: the
    pairs track different indices, so they are not substantially identical)."""
    found = {ticker}
    if getattr(settings, "WASH_SALE_PAIRS_IDENTICAL", False):
        partner = ALTERNATES.get(ticker) or PRIMARIES.get(ticker)
        if partner:
            found.add(partner)
    return found


def lot_start(lot: Lot) -> date:
    """The day the lot's holding period counts from."""
    return lot.holding_from or lot.acquired_on


def first_anniversary(start: date) -> date:
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February: a year later is 28 February
        return start.replace(year=start.year + 1, day=28)


def lot_term(lot: Lot, on: date) -> str:
    """ "short" or "long" for units of the lot sold on `on`: long when sold after the first
    anniversary of the holding start (held more than one year)."""
    return LONG if on > first_anniversary(lot_start(lot)) else SHORT


def lot_unit_basis(lot: Lot) -> Decimal:
    """Basis per unit, unrounded: (quantity × unit cost + wash-sale adjustment) / quantity."""
    return (lot.unit_cost * lot.quantity + lot.basis_adjustment) / lot.quantity


def units_basis(lot: Lot, units: Decimal) -> Decimal:
    """The cost basis of `units` of the lot, to the cent: units × unit cost plus the units'
    share of the wash-sale adjustment (which is for all the lot's units)."""
    return money(units * lot.unit_cost + lot.basis_adjustment * units / lot.quantity)


def lot_basis(lot: Lot) -> Decimal:
    """The cost basis of the lot's remaining units, wash-sale adjustment included."""
    return units_basis(lot, lot.remaining)


def open_lots(*, account: Account, day: date | None = None) -> list[Lot]:
    """The account's lots with units left, oldest first. With `day`: the lots held at that
    day's close, each with `remaining` set (not saved) to what it had then (its sales after the
    day added back)."""
    if day is None:
        return list(
            Lot.objects.filter(account=account, remaining__gt=0)
            .select_related("asset")
            .order_by("acquired_on", "id")
        )
    lots = list(
        Lot.objects.filter(account=account, acquired_on__lte=day)
        .select_related("asset")
        .order_by("acquired_on", "id")
    )
    later: dict[int, Decimal] = {}
    for lot_id, quantity in LotSale.objects.filter(
        lot__in=[lot.pk for lot in lots], sold_on__gt=day
    ).values_list("lot_id", "quantity"):
        later[lot_id] = later.get(lot_id, Decimal(0)) + quantity
    for lot in lots:
        lot.remaining += later.get(lot.pk, Decimal(0))
    return [lot for lot in lots if lot.remaining > 0]


def account_lots(*, account: Account, closed: bool = False) -> list[Lot]:
    """The account's lots with units left (`closed`: every lot), oldest first."""
    if not closed:
        return open_lots(account=account)
    return list(
        Lot.objects.filter(account=account).select_related("asset").order_by("acquired_on", "id")
    )


def client_has_ira(*, client: Client) -> bool:
    return Account.objects.filter(client=client, goal__account_type__in=Goal.IRA_TYPES).exists()


@dataclass(frozen=True)
class UnrealisedLot:
    lot: Lot
    ticker: str
    price: Decimal | None  # None: no close on or before the day
    value: Decimal  # remaining × close, rounded down (a holding in a table)
    cost_basis: Decimal
    gain: Decimal  # value − cost_basis
    term: str  # the term if sold that day
    holding_from: date  # the day its holding period counts from


def unrealised(
    *, account: Account, day: date, lots: Iterable[Lot] | None = None
) -> list[UnrealisedLot]:
    """Each open lot (or each of `lots`) valued at the day's close: value, basis, unrealised
    gain and the term its units would have if sold that day."""
    lots = list(lots) if lots is not None else open_lots(account=account, day=day)
    closes = closes_on(day=day, assets={lot.asset for lot in lots})
    rows = []
    for lot in lots:
        price = closes.get(lot.asset_id)
        value = money_down(lot.remaining * price) if price is not None else ZERO
        basis = lot_basis(lot)
        rows.append(
            UnrealisedLot(
                lot=lot,
                ticker=lot.asset.ticker,
                price=price,
                value=value,
                cost_basis=basis,
                gain=value - basis,
                term=lot_term(lot, day),
                holding_from=lot_start(lot),
            )
        )
    return rows


# --- Realised gains ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermTotals:
    proceeds: Decimal = ZERO
    cost_basis: Decimal = ZERO
    gain: Decimal = ZERO
    wash_disallowed: Decimal = ZERO

    @property
    def reportable(self) -> Decimal:
        """The gain as reported: a washed loss's disallowed part added back."""
        return self.gain + self.wash_disallowed

    def plus(self, sale: LotSale) -> "TermTotals":
        return TermTotals(
            proceeds=self.proceeds + sale.proceeds,
            cost_basis=self.cost_basis + sale.cost_basis,
            gain=self.gain + sale.gain,
            wash_disallowed=self.wash_disallowed + sale.wash_disallowed,
        )

    def __add__(self, other: "TermTotals") -> "TermTotals":
        return TermTotals(
            proceeds=self.proceeds + other.proceeds,
            cost_basis=self.cost_basis + other.cost_basis,
            gain=self.gain + other.gain,
            wash_disallowed=self.wash_disallowed + other.wash_disallowed,
        )


@dataclass(frozen=True)
class RealisedGains:
    year: int
    short_term: TermTotals
    long_term: TermTotals
    sales: list[LotSale] = field(default_factory=list)

    @property
    def total(self) -> TermTotals:
        return self.short_term + self.long_term


def taxable_sales(
    *, client: Client, year: int, account: Account | None = None
) -> QuerySet[LotSale]:
    """The lot sales of the client's taxable accounts (or of one of them) sold in `year`."""
    sales = LotSale.objects.filter(
        account__client=client,
        account__goal__account_type=Goal.AccountType.TAXABLE,
        sold_on__year=year,
    )
    if account is not None:
        sales = sales.filter(account=account)
    return sales.select_related("asset", "lot").order_by("sold_on", "id")


def realised_gains(*, client: Client, year: int, account: Account | None = None) -> RealisedGains:
    """Gains and losses realised in `year` in the client's taxable accounts (or in `account`,
    when it is taxable; an IRA's sales are not reportable: none), by term, with the sales.
    Summed in Python: SQLite would add decimals as floats."""
    sales = list(taxable_sales(client=client, year=year, account=account))
    short, long_ = TermTotals(), TermTotals()
    for sale in sales:
        if sale.term == LONG:
            long_ = long_.plus(sale)
        else:
            short = short.plus(sale)
    return RealisedGains(year=year, short_term=short, long_term=long_, sales=sales)


# --- Wash-sale state -----------------------------------------------------------------------------


def wash_window(day: date) -> tuple[date, date]:
    """The sale dates a purchase on `day` can wash: the 30 days before it, and the day itself."""
    return day - timedelta(days=WASH_WINDOW_DAYS), day


def open_loss_sales(*, client_id: int, tickers: Iterable[str], day: date) -> QuerySet[LotSale]:
    """Loss sales of the client's taxable accounts in the funds `tickers`, sold in the wash
    window of a purchase on `day`, with units not yet matched to a replacement; oldest first."""
    since, until = wash_window(day)
    return (
        LotSale.objects.filter(
            account__client_id=client_id,
            account__goal__account_type=Goal.AccountType.TAXABLE,
            asset__ticker__in=list(tickers),
            gain__lt=0,
            sold_on__gte=since,
            sold_on__lte=until,
        )
        .exclude(washed_units__gte=F("quantity"))
        .order_by("sold_on", "id")
    )


def wash_blocked(*, client: Client, ticker: str, day: date) -> bool:
    """True when buying `ticker` on `day` would wash a loss: a fund identical to it was sold at
    a loss in one of the client's taxable accounts within the 30 days before (or on) `day`, and
    some of that loss's units are not yet matched to a replacement."""
    return open_loss_sales(client_id=client.pk, tickers=identical_tickers(ticker), day=day).exists()


# --- The same reads for many clients at once (the daily batch's chunks) -------------------------


def open_loss_funds(*, client_ids: Iterable[int], day: date) -> set[tuple[int, str]]:
    """(client id, ticker) of the clients' open loss sales a purchase on `day` would wash, in one
    query: `wash_blocked(client, ticker)` is whether any fund identical to `ticker` is in it."""
    since, until = wash_window(day)
    return set(
        LotSale.objects.filter(
            account__client_id__in=list(client_ids),
            account__goal__account_type=Goal.AccountType.TAXABLE,
            gain__lt=0,
            sold_on__gte=since,
            sold_on__lte=until,
        )
        .exclude(washed_units__gte=F("quantity"))
        .order_by()
        .values_list("account__client_id", "asset__ticker")
        .distinct()
    )


def recent_purchases(
    *, client_ids: Iterable[int], tickers: Iterable[str], day: date
) -> set[tuple[int, int, str]]:
    """(client id, account id, ticker) of the lots of `tickers` the clients bought in the 30 days
    up to `day`, in any of their accounts (IRAs included), with units still held: the purchases
    that would wash a loss sold on `day`. One query."""
    return set(
        Lot.objects.filter(
            account__client_id__in=list(client_ids),
            asset__ticker__in=list(tickers),
            acquired_on__gte=day - timedelta(days=WASH_WINDOW_DAYS),
            acquired_on__lte=day,
            remaining__gt=0,
        )
        .order_by()
        .values_list("account__client_id", "account_id", "asset__ticker")
        .distinct()
    )


def last_loss_sales(*, client_ids: Iterable[int]) -> dict[tuple[int, str], date]:
    """(client id, ticker) → the day of the latest sale at a loss of that fund in the client's
    taxable accounts, in one query."""
    rows = (
        LotSale.objects.filter(
            account__client_id__in=list(client_ids),
            account__goal__account_type=Goal.AccountType.TAXABLE,
            gain__lt=0,
        )
        .order_by()
        .values_list("account__client_id", "asset__ticker")
        .annotate(last=Max("sold_on"))
    )
    return {(client, ticker): last for client, ticker, last in rows}


# --- The tax year --------------------------------------------------------------------------------


def tax_year_default() -> int:
    """The tax year a report shows when none is asked for: the market date's year (today's
    when no market data is loaded yet)."""
    from .exceptions import MarketDataMissing

    try:
        return market_date_get().year
    except MarketDataMissing:
        from django.utils import timezone

        return timezone.localdate().year


@dataclass(frozen=True)
class WashSaleTotals:
    count: int
    disallowed: Decimal


@dataclass(frozen=True)
class TaxYearSummary:
    year: int
    realized: RealisedGains
    wash_sales: WashSaleTotals
    dividends: Decimal  # received in taxable accounts
    fees: Decimal  # advisory fees paid, all accounts (positive)
    harvested_losses: Decimal  # losses realised by executed tax-loss harvests (positive)
    estimated_tax_saved: Decimal  # executed harvests' estimates, switch-backs' cost netted


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def tax_year_summary(*, client: Client, year: int) -> TaxYearSummary:
    """The client's tax year in one computation (the API, the tax centre and the annual tax
    report all read it): realised gains by term in taxable accounts, wash-sale adjustments of
    the year's sales, dividends received in taxable accounts, advisory fees paid, and what
    tax-loss harvesting realised and is estimated to save."""
    realized = realised_gains(client=client, year=year)
    washes = WashSale.objects.filter(sale__in=[sale.pk for sale in realized.sales])
    disallowed = list(washes.values_list("disallowed", flat=True))
    in_year = Transaction.objects.filter(account__client=client, market_date__year=year)
    dividends = _total(
        in_year.filter(
            kind=Transaction.Kind.DIVIDEND, account__goal__account_type=Goal.AccountType.TAXABLE
        ).values_list("amount", flat=True)
    )
    fees = -_total(in_year.filter(kind=Transaction.Kind.FEE).values_list("amount", flat=True))
    executed = TaxHarvest.objects.filter(
        account__client=client,
        status=TaxHarvest.Status.EXECUTED,
        market_date__year=year,
        executed_transaction__isnull=False,
    )
    harvest_txns = executed.filter(kind=TaxHarvest.Kind.HARVEST).values_list(
        "executed_transaction_id", flat=True
    )
    harvested = -_total(
        sale.gain for sale in realized.sales if sale.transaction_id in set(harvest_txns)
    )
    saved = _total(executed.values_list("tax_saved", flat=True))
    return TaxYearSummary(
        year=year,
        realized=realized,
        wash_sales=WashSaleTotals(count=len(disallowed), disallowed=_total(disallowed)),
        dividends=dividends,
        fees=fees,
        harvested_losses=harvested,
        estimated_tax_saved=saved,
    )
