"""Fixtures for the portfolio tests: a small price history, funded accounts."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from advisor import risk
from advisor import services as advisor_services
from portfolios import market, services
from portfolios.models import ModelPortfolio, ModelPortfolioSet

from ..factories import ClientFactory, GoalFactory

TICKERS = (
    *("VTI", "EFA", "EEM", "AGG", "SHY", "IEF", "TIP", "LQD", "VNQ", "GLD", "BIL"),
    *("SPY", "VEU", "BND", "IYR"),  # the tax-loss-harvesting alternates
)
BASE_PRICES = {
    "VTI": "200",
    "EFA": "70",
    "EEM": "40",
    "AGG": "100",
    "SHY": "82",
    "IEF": "95",
    "TIP": "108",
    "LQD": "105",
    "VNQ": "85",
    "GLD": "180",
    "BIL": "91.5",
    "SPY": "430",
    "VEU": "55",
    "BND": "72",
    "IYR": "86",
}
# One simple, hand-checkable target per level: more equity as the level rises.
LEVEL_WEIGHTS = {
    level: {
        "VTI": Decimal(level) * Decimal("0.06"),
        "AGG": Decimal("0.95") - Decimal(level) * Decimal("0.06"),
        "BIL": Decimal("0.05"),
    }
    for level in range(1, 11)
}


def write_prices(path: Path, days: dict[date, dict[str, str]]) -> Path:
    lines = ["date," + ",".join(TICKERS)]
    for day, prices in sorted(days.items()):
        lines.append(day.isoformat() + "," + ",".join(prices.get(t, "") for t in TICKERS))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def market_day() -> date:
    return date(2023, 6, 9)


@pytest.fixture
def market_data(db, tmp_path, market_day):
    market.assets_sync()
    market.prices_load(path=write_prices(tmp_path / "p.csv", {market_day: BASE_PRICES}))
    return market_day


@pytest.fixture
def approved_set(market_data):
    from portfolios.models import MarketAssumptions

    assumptions = MarketAssumptions.objects.create(
        version=1, prices_through=market_data, method="test", data={}
    )
    portfolio_set = ModelPortfolioSet.objects.create(
        version=1, assumptions=assumptions, status=ModelPortfolioSet.Status.APPROVED
    )
    for level, weights in LEVEL_WEIGHTS.items():
        ModelPortfolio.objects.create(
            portfolio_set=portfolio_set,
            level=level,
            weights={t: str(w) for t, w in weights.items()},
            expected_return=0.02 + level * 0.005,
            volatility=0.02 + level * 0.015,
        )
    return portfolio_set


@pytest.fixture
def bold_client(db, bold_answers):
    client = ClientFactory()
    advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    return client


@pytest.fixture
def account(bold_client, approved_set):
    goal = GoalFactory(
        client=bold_client,
        goal_type="retirement",
        target_date=timezone.localdate() + timedelta(days=25 * 365),
    )
    return services.account_open(goal=goal)
