"""Account performance through the selectors and the API."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portfolios import market, selectors, services

from ..factories import GoalFactory
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


def test_an_emergency_fund_is_compared_with_its_own_policy_not_the_60_40(
    bold_client, approved_set, tmp_path, market_data
):
    # given an emergency fund (level 2 at most: 12% VTI, 83% AGG, 5% BIL in the test set) and a
    # day on which US stocks rise 10% and nothing else moves
    goal = GoalFactory(client=bold_client, goal_type="emergency_fund")
    account = services.account_open(goal=goal)
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    day_two = market_data + timedelta(days=1)
    market.prices_load(
        path=write_prices(tmp_path / "up.csv", {day_two: {**BASE_PRICES, "VTI": "220"}})
    )
    services.deposit_make(account=account, amount=Decimal("500.00"))

    # when
    performance = selectors.account_performance(account=account)

    # then: the policy made 12% x 10%; the 60/40 reference 6%; the composition is level 2's
    itd = next(p for p in performance.periods if p.period == "ITD")
    assert itd.policy_benchmark == Decimal("0.012")
    assert itd.benchmark == Decimal("0.06")
    assert performance.policy is not None
    assert performance.policy.level == 2
    assert performance.policy.weights == {
        "AGG": Decimal("0.8300"),
        "VTI": Decimal("0.1200"),
        "BIL": Decimal("0.0500"),
    }
    # and the history carries net deposits; the period, its flows and market gain
    assert [p.net_deposits for p in performance.history] == [Decimal("1000.00"), Decimal("1500.00")]
    assert itd.net_flows == Decimal("1500.00")  # since inception: both deposits
    assert itd.market_gain == itd.end_value - itd.start_value - itd.net_flows
    assert itd.mwr_annualised is False


def test_the_summary_blends_the_accounts_policies_by_value(
    bold_client, approved_set, tmp_path, market_data
):
    # given a level-2 emergency fund with 1,000 and a second one with 3,000: both policies are
    # level 2, so the blend is level 2's mix and return
    accounts = [
        services.account_open(goal=GoalFactory(client=bold_client, goal_type="emergency_fund"))
        for _ in range(2)
    ]
    services.deposit_make(account=accounts[0], amount=Decimal("1000.00"))
    services.deposit_make(account=accounts[1], amount=Decimal("3000.00"))
    day_two = market_data + timedelta(days=1)
    market.prices_load(
        path=write_prices(tmp_path / "up.csv", {day_two: {**BASE_PRICES, "VTI": "220"}})
    )

    summary = selectors.portfolio_summary(client=bold_client)

    itd = next(p for p in summary.performance if p.period == "ITD")
    assert itd.policy_benchmark == Decimal("0.012")
    assert summary.performance_policy is not None
    assert summary.performance_policy.level is None
    assert summary.performance_policy.weights["VTI"] == Decimal("0.1200")
