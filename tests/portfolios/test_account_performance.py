"""Account performance through the selectors and the API."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portfolios import market, selectors, services

from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db


def test_a_ten_percent_market_day_is_a_ten_percent_time_weighted_return(
    account, tmp_path, market_data
):
    # given: 1,000 invested on day one; every price 10% higher on day two; 500 more deposited
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    up = {t: str(Decimal(p) * Decimal("1.1")) for t, p in BASE_PRICES.items()}
    day_two = market_data + timedelta(days=1)
    market.prices_load(path=write_prices(tmp_path / "up.csv", {day_two: up}))
    services.deposit_make(account=account, amount=Decimal("500.00"))

    # when
    performance = selectors.account_performance(account=account)

    # then: the deposit is not return; the market's 10% is, for the account and the benchmark
    itd = next(p for p in performance.periods if p.period == "ITD")
    assert [p.value for p in performance.history][0] <= Decimal("1000.00")
    assert abs(itd.twr - Decimal("0.10")) < Decimal("0.0005")
    assert abs(itd.benchmark - Decimal("0.10")) < Decimal("0.000001")
    assert abs(performance.unrealised_gain - Decimal("100.00")) < Decimal("0.10")
    assert performance.realised_gain == 0


def test_a_fresh_account_has_no_performance_yet(account):
    performance = selectors.account_performance(account=account)

    assert performance.periods == []
    assert performance.history == []
