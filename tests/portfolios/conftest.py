"""Fixtures for the portfolio tests: a small price history, funded accounts."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from advisor import risk
from advisor import services as advisor_services
from portfolios import market, services
from portfolios.models import Account, Asset, Distribution, ModelPortfolio, ModelPortfolioSet

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


def drifting_prices_load(
    path: Path,
    market_day: date,
    *,
    step: Decimal,
    rising: bool = False,
    until: date = date(2023, 6, 30),
) -> date:
    """Load weekday closes from 1 March to 30 June 2023 (the market day's are loaded already),
    each fund drifting by its own daily step from BASE_PRICES: fund i by (i - 7) x `step` a
    day, so that VTI rises, AGG falls, … and lots gain and lose; `rising`: fund i by (i + 1) x
    `step` a day up to `until`, flat after it (no lot loses at it). Returns the last day."""
    days: dict[date, dict[str, str]] = {}
    day, n = date(2023, 3, 1), 0
    while day <= date(2023, 6, 30):
        if day.weekday() < 5 and day != market_day:
            days[day] = {
                t: str(
                    (Decimal(p) * (1 + Decimal(i + 1 if rising else i - 7) * step * n)).quantize(
                        Decimal("0.0001")
                    )
                )
                for i, (t, p) in enumerate(BASE_PRICES.items())
            }
            if not rising or day < until:
                n += 1
        day += timedelta(days=1)
    market.prices_load(path=write_prices(path, days))
    return max(days)


# A dividend of three funds, ex and paid after the closes' market day (2023-06-09).
EX_DATE = date(2023, 6, 20)
PAY_DATE = date(2023, 6, 27)


def dividend_book(accounts: int) -> list[int]:
    """`accounts` synthetic accounts (3 months of history, seed 7) and a distribution of VTI,
    AGG and SPY ex on EX_DATE, paid on PAY_DATE; the accounts' ids."""
    call_command("synth_book", accounts=accounts, seed=7, history_months=3)
    for ticker, per_unit in (("VTI", "0.5912"), ("AGG", "0.2400"), ("SPY", "1.5000")):
        Distribution.objects.create(
            asset=Asset.objects.get(ticker=ticker),
            ex_date=EX_DATE,
            pay_date=PAY_DATE,
            amount=Decimal(per_unit),
        )
    return list(Account.objects.order_by("pk").values_list("pk", flat=True))


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
