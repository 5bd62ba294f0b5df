"""A client's marginal US federal tax rates on realised capital gains, for the estimates that
tax-loss harvesting shows (what a harvested loss may save, what a switch back may cost).

The figures are the 2026 federal tables of IRS Rev. Proc. 2025-32 (sections 4.01, ordinary
income brackets, and 4.03, maximum capital-gains rate thresholds), with the net investment income
tax of IRC §1411 (3.8% above a modified adjusted gross income of $200,000 single or head of
household, $250,000 married filing jointly or qualifying surviving spouse, $125,000 married
filing separately; not inflation-indexed). The same 2026 table serves every year: the estimates
are for a decision taken now, and older or later tables would move a bracket edge by a few
percent at most.

Simplifications, said once here and in every `TaxRates.source`:
- `Client.annual_income` is treated as taxable income (no deductions, no credits), and also as
  the MAGI the investment income tax looks at;
- a short-term gain is taxed at the ordinary marginal rate of that income, a long-term gain at
  the 0/15/20% rate whose band that income falls in (the gain itself is not added first);
- state and local taxes are ignored; the alternative minimum tax too.
Unknown income: 24% short-term and 15% long-term, a typical investor, marked as assumed. A known
income with an unknown filing status is read as single."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from .models import Client

FilingStatus = Client.TaxFilingStatus

TABLE_YEAR = 2026
SOURCE = "IRS Rev. Proc. 2025-32 (2026 tables)"

# (upper bound of the band, rate) in ascending order; None: no upper bound.
Bands = tuple[tuple[Decimal | None, Decimal], ...]


def _bands(*edges: str, rates: tuple[str, ...]) -> Bands:
    bounds: list[Decimal | None] = [Decimal(edge) for edge in edges]
    bounds.append(None)
    return tuple((bound, Decimal(rate)) for bound, rate in zip(bounds, rates, strict=True))


ORDINARY_RATES = ("0.10", "0.12", "0.22", "0.24", "0.32", "0.35", "0.37")
# Rev. Proc. 2025-32 §4.01, tables 1 to 4 (taxable income thresholds, 2026).
ORDINARY: dict[str, Bands] = {
    FilingStatus.SINGLE: _bands(
        "12400", "50400", "105700", "201775", "256225", "640600", rates=ORDINARY_RATES
    ),
    FilingStatus.MARRIED_JOINT: _bands(
        "24800", "100800", "211400", "403550", "512450", "768700", rates=ORDINARY_RATES
    ),
    FilingStatus.HEAD_OF_HOUSEHOLD: _bands(
        "17700", "67450", "105700", "201750", "256200", "640600", rates=ORDINARY_RATES
    ),
    FilingStatus.MARRIED_SEPARATE: _bands(
        "12400", "50400", "105700", "201775", "256225", "384350", rates=ORDINARY_RATES
    ),
}
ORDINARY[FilingStatus.QUALIFYING_SURVIVING_SPOUSE] = ORDINARY[FilingStatus.MARRIED_JOINT]

LONG_TERM_RATES = ("0.00", "0.15", "0.20")
# Rev. Proc. 2025-32 §4.03: the 0% band's and the 15% band's upper thresholds (2026).
LONG_TERM: dict[str, Bands] = {
    FilingStatus.SINGLE: _bands("49450", "545500", rates=LONG_TERM_RATES),
    FilingStatus.MARRIED_JOINT: _bands("98900", "613700", rates=LONG_TERM_RATES),
    FilingStatus.HEAD_OF_HOUSEHOLD: _bands("66200", "579600", rates=LONG_TERM_RATES),
    FilingStatus.MARRIED_SEPARATE: _bands("49450", "306850", rates=LONG_TERM_RATES),
}
LONG_TERM[FilingStatus.QUALIFYING_SURVIVING_SPOUSE] = LONG_TERM[FilingStatus.MARRIED_JOINT]

NIIT_RATE = Decimal("0.038")
# IRC §1411(b): the threshold amounts (fixed in the statute, not indexed).
NIIT_THRESHOLD: dict[str, Decimal] = {
    FilingStatus.SINGLE: Decimal("200000"),
    FilingStatus.HEAD_OF_HOUSEHOLD: Decimal("200000"),
    FilingStatus.MARRIED_JOINT: Decimal("250000"),
    FilingStatus.QUALIFYING_SURVIVING_SPOUSE: Decimal("250000"),
    FilingStatus.MARRIED_SEPARATE: Decimal("125000"),
}

DEFAULT_SHORT = Decimal("0.24")
DEFAULT_LONG = Decimal("0.15")
SIMPLIFIED = "annual income read as taxable income; state taxes ignored"


@dataclass(frozen=True)
class TaxRates:
    """Marginal federal rates on a further dollar of gain: `short` (held a year or less) and
    `long`, both fractions (0.24 is 24%), and how they were found."""

    short: Decimal
    long: Decimal
    source: str


def band_rate(bands: Bands, income: Decimal) -> Decimal:
    """The rate of the band `income` falls in: a band includes its upper threshold."""
    for bound, rate in bands:
        if bound is None or income <= bound:
            return rate
    raise AssertionError("the last band has no upper bound")  # pragma: no cover


def rates_for(*, income: Decimal | None, filing_status: str = "") -> TaxRates:
    """The marginal rates for a taxable income and filing status (pure; see the module)."""
    if income is None:
        return TaxRates(
            DEFAULT_SHORT,
            DEFAULT_LONG,
            "assumed: income unknown, so a typical 24% short-term and 15% long-term federal "
            "rate; state taxes ignored",
        )
    status = filing_status if filing_status in ORDINARY else FilingStatus.SINGLE
    read_as = "" if filing_status in ORDINARY else " (filing status unknown: read as single)"
    niit = NIIT_RATE if income > NIIT_THRESHOLD[status] else Decimal(0)
    short = band_rate(ORDINARY[status], income) + niit
    long = band_rate(LONG_TERM[status], income) + niit
    label = FilingStatus(status).label.lower()
    surtax = " incl. the 3.8% net investment income tax" if niit else ""
    return TaxRates(
        short,
        long,
        f"federal brackets for {label}{read_as}{surtax}, {SOURCE}; {SIMPLIFIED}",
    )


def marginal_rates(*, client: Client, year: int | None = None) -> TaxRates:
    """The client's marginal federal rates on short- and long-term gains, from their annual
    income and filing status. `year` is accepted for the caller's record: every year uses the
    2026 table (see the module docstring), and a source naming another year says so."""
    rates = rates_for(income=client.annual_income, filing_status=client.tax_filing_status)
    year = year or timezone.localdate().year
    if year != TABLE_YEAR and client.annual_income is not None:
        rates = TaxRates(
            rates.short, rates.long, rates.source + f"; the {TABLE_YEAR} table used for {year}"
        )
    return rates
