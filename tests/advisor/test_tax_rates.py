"""Marginal federal rates from the 2026 tables (IRS Rev. Proc. 2025-32) and the 3.8% NIIT."""

from decimal import Decimal

import pytest

from advisor.models import Client
from advisor.tax import marginal_rates, rates_for

from ..factories import ClientFactory

Status = Client.TaxFilingStatus


@pytest.mark.parametrize(
    ("income", "status", "short", "long"),
    [
        # Single: a band includes its upper threshold.
        ("12400", Status.SINGLE, "0.10", "0.00"),
        ("12400.01", Status.SINGLE, "0.12", "0.00"),
        ("49450", Status.SINGLE, "0.12", "0.00"),  # the 0% long-term band ends at 49,450
        ("49451", Status.SINGLE, "0.12", "0.15"),
        ("105700", Status.SINGLE, "0.22", "0.15"),
        ("145000", Status.SINGLE, "0.24", "0.15"),
        ("200000", Status.SINGLE, "0.24", "0.15"),  # NIIT only above $200,000
        ("200001", Status.SINGLE, "0.278", "0.188"),  # 24% + 3.8%, 15% + 3.8%
        ("256226", Status.SINGLE, "0.388", "0.188"),  # 35% + 3.8%
        ("545501", Status.SINGLE, "0.388", "0.238"),  # 20% long-term + 3.8%
        ("640601", Status.SINGLE, "0.408", "0.238"),  # 37% + 3.8%
        # Married filing jointly: double the single edges, except 35% up to 768,700.
        ("98900", Status.MARRIED_JOINT, "0.12", "0.00"),
        ("118000", Status.MARRIED_JOINT, "0.22", "0.15"),
        ("250000", Status.MARRIED_JOINT, "0.24", "0.15"),
        ("700000", Status.MARRIED_JOINT, "0.388", "0.238"),
        ("768701", Status.MARRIED_JOINT, "0.408", "0.238"),
        ("613701", Status.QUALIFYING_SURVIVING_SPOUSE, "0.388", "0.238"),
        # Head of household.
        ("17700", Status.HEAD_OF_HOUSEHOLD, "0.10", "0.00"),
        ("66201", Status.HEAD_OF_HOUSEHOLD, "0.12", "0.15"),
        ("201751", Status.HEAD_OF_HOUSEHOLD, "0.358", "0.188"),
        # Married filing separately: the 35% band ends at 384,350; NIIT above 125,000.
        ("125001", Status.MARRIED_SEPARATE, "0.278", "0.188"),
        ("384351", Status.MARRIED_SEPARATE, "0.408", "0.238"),
    ],
)
def test_the_2026_brackets(income, status, short, long):
    rates = rates_for(income=Decimal(income), filing_status=status)

    assert (rates.short, rates.long) == (Decimal(short), Decimal(long))
    assert "Rev. Proc. 2025-32" in rates.source
    assert "state taxes ignored" in rates.source


def test_unknown_income_assumes_24_and_15_percent():
    rates = rates_for(income=None, filing_status=Status.SINGLE)

    assert (rates.short, rates.long) == (Decimal("0.24"), Decimal("0.15"))
    assert rates.source.startswith("assumed")


def test_an_unknown_filing_status_is_read_as_single():
    rates = rates_for(income=Decimal("60000"), filing_status="")

    assert (rates.short, rates.long) == (Decimal("0.22"), Decimal("0.15"))
    assert "read as single" in rates.source


@pytest.mark.django_db
def test_a_clients_rates_come_from_their_profile_and_name_the_table_year():
    client = ClientFactory(annual_income=Decimal("72000.00"), tax_filing_status=Status.SINGLE)

    this_year = marginal_rates(client=client, year=2026)
    earlier = marginal_rates(client=client, year=2022)

    assert (this_year.short, this_year.long) == (Decimal("0.22"), Decimal("0.15"))
    assert (earlier.short, earlier.long) == (this_year.short, this_year.long)
    assert "the 2026 table used for 2022" in earlier.source
    assert "used for" not in this_year.source
