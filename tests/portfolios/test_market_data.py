"""Market data loading, model portfolios built on it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from portfolios import market, services
from portfolios.models import MarketAssumptions, ModelPortfolioSet, Price

from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db


def test_the_shipped_prices_load_build_assumptions_and_ten_approved_model_portfolios():
    call_command("load_market_data", "--no-progress")

    portfolio_set = ModelPortfolioSet.objects.get()
    levels = list(portfolio_set.portfolios.order_by("level"))
    assert market.market_date_get() == date(2023, 6, 9)
    assert Price.objects.count() == 3918 * 11
    assert portfolio_set.status == ModelPortfolioSet.Status.APPROVED
    assert [p.level for p in levels] == list(range(1, 11))
    assert all(
        abs(sum(Decimal(w) for w in p.weights.values()) - 1) < Decimal("1e-6") for p in levels
    )
    assert levels[0].volatility < levels[-1].volatility
    assert levels[0].expected_return < levels[-1].expected_return


def test_loading_again_is_idempotent_and_a_newer_file_adds_days(tmp_path):
    call_command("load_market_data", "--no-progress")
    call_command("load_market_data", "--no-progress")
    newer = write_prices(tmp_path / "newer.csv", {date(2023, 6, 12): BASE_PRICES})

    call_command("load_market_data", str(newer), "--no-progress")

    assert Price.objects.count() == 3918 * 11 + 11
    assert market.market_date_get() == date(2023, 6, 12)
    assert MarketAssumptions.objects.count() == 2  # prices moved on: re-estimated once
    assert ModelPortfolioSet.objects.filter(status="approved").count() == 1
    assert services.allocation_refresh() is None  # nothing new to estimate


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,VTI\n2023-01-01,1\n", "header"),
        ("date,VTI\n2023-13-01,1\n", "line 2"),
        ("date,VTI\n2023-01-02,-5\n", "prices must be > 0"),
        ("date,VTI\n2023-01-02,abc\n", "line 2"),
        ("date,XYZ\n2023-01-02,5\n", "unknown tickers XYZ"),
        ("date,VTI\n2023-01-02,5,6\n", "wrong number of cells"),
    ],
)
def test_a_bad_price_file_is_refused_with_the_line_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("load_market_data", str(path), "--no-progress")

    assert not Price.objects.exists()
