"""Accounts per second of the risk figures and stress tests (issue #16): every account of a
market date in one vectorised pass.

Two measurements on the shipped 2008–2023 total-return history (3,918 days × 15 funds):

1. **The pass itself** (`portfolios.risk.risk_measures` + `portfolios.stress.stress_tests`):
   N accounts with random weights (Dirichlet over the 15 holdable funds, 1% cash), no database.
2. **End to end** (`portfolios.services.risk.risk_figures_compute`): M funded accounts on a
   scratch database — a temporary SQLite file, or, when DATABASE_URL names a PostgreSQL server,
   a database of the benchmark's own on it, created here and dropped on exit (as
   `benchmarks.portfolio_summary` does) — reading the prices and holdings, computing, and
   upserting one row per account (and the ten model portfolios). The accounts' positions are
   bulk-created with random units: the benchmark measures the risk pass, not deposits.

Run: .venv/bin/python -m benchmarks.risk_figures [--accounts 10000] [--stored 2000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.portfolio_summary import scratch_database  # noqa: E402

SCRATCH_URL = scratch_database()

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from advisor.models import Client, Goal, User  # noqa: E402
from portfolios import market, risk, stress  # noqa: E402
from portfolios.models import (  # noqa: E402
    Account,
    Asset,
    MarketAssumptions,
    ModelPortfolio,
    ModelPortfolioSet,
    Position,
    RiskFigures,
)
from portfolios.services import risk as risk_services  # noqa: E402
from portfolios.targets import HOLDABLE  # noqa: E402

SEED = 16


def random_weights(count: int, tickers: tuple[str, ...]) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    holdable = np.array([t in HOLDABLE for t in tickers], dtype=float)
    weights = rng.dirichlet(np.ones(len(tickers)), size=count) * holdable
    return 0.99 * weights / weights.sum(axis=1, keepdims=True)


def pure_pass(history: risk.MarketHistory, count: int) -> float:
    weights = random_weights(count, history.tickers)
    started = time.perf_counter()
    returns = risk.daily_returns(history)
    risk.risk_measures(returns, weights)
    stress.stress_tests(history, weights, risk.fund_betas(returns))
    return time.perf_counter() - started


def setup(accounts: int) -> None:
    """Migrate, load the shipped prices, approve ten simple model portfolios and fund
    `accounts` accounts of one client with random holdings worth about $10,000 each."""
    call_command("migrate", verbosity=0)
    call_command("load_market_data", "--no-progress", "--no-refresh", verbosity=0)
    day = market.market_date_get()
    assumptions = MarketAssumptions.objects.create(
        version=1, prices_through=day, method="benchmark", data={}
    )
    portfolio_set = ModelPortfolioSet.objects.create(
        version=1, assumptions=assumptions, status=ModelPortfolioSet.Status.APPROVED
    )
    for level in range(1, 11):
        equity = Decimal(level) * Decimal("0.06")
        ModelPortfolio.objects.create(
            portfolio_set=portfolio_set,
            level=level,
            weights={"VTI": str(equity), "AGG": str(Decimal("0.95") - equity), "BIL": "0.05"},
            expected_return=0.0,
            volatility=0.0,
        )
    user = User.objects.create_user(email="risk-bench@example.test", password=None)
    client = Client.objects.create(user=user, first_name="Risk", last_name="Bench")
    target = timezone.localdate() + timedelta(days=3650)
    goals = Goal.objects.bulk_create(
        Goal(
            client=client,
            goal_type="general_wealth",
            name=f"Goal {i}",
            target_amount=Decimal("100000.00"),
            target_date=target,
        )
        for i in range(accounts)
    )
    opened = Account.objects.bulk_create(
        Account(client=client, goal=goal, cash=Decimal("100.00")) for goal in goals
    )
    assets = {a.ticker: a for a in Asset.objects.all()}
    closes = market.closes_on(day=day)
    tickers = tuple(sorted(t for t in assets if t in HOLDABLE))
    weights = random_weights(accounts, tickers)
    Position.objects.bulk_create(
        (
            Position(
                account=account,
                asset=assets[ticker],
                quantity=(
                    Decimal(str(round(weights[row, col] * 9900, 2))) / closes[assets[ticker].pk]
                ).quantize(Decimal("0.00000001")),
            )
            for row, account in enumerate(opened)
            for col, ticker in enumerate(tickers)
            if weights[row, col] > 0.001
        ),
        batch_size=5000,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000, help="pure pass, no database")
    parser.add_argument("--stored", type=int, default=2_000, help="end to end, stored")
    args = parser.parse_args()

    setup(args.stored)
    day = market.market_date_get()
    history = risk_services.market_history_read(through=day)
    seconds = pure_pass(history, args.accounts)
    print(
        f"history: {history.dates[0]} .. {history.dates[-1]}, {len(history.dates)} days × "
        f"{len(history.tickers)} funds"
    )
    print(
        f"vectorised pass (figures + 7 scenarios), {args.accounts} accounts: {seconds:.2f} s, "
        f"{args.accounts / seconds:,.0f} accounts/s"
    )

    started = time.perf_counter()
    written = risk_services.risk_figures_compute()
    first = time.perf_counter() - started
    started = time.perf_counter()
    risk_services.risk_figures_compute()  # a rerun: the same rows upserted
    rerun = time.perf_counter() - started
    stored = RiskFigures.objects.filter(account__isnull=False).count()
    print(
        f"risk_figures_compute on {connection.vendor}, {stored} accounts + 10 model portfolios "
        f"({written} rows): {first:.2f} s, {stored / first:,.0f} accounts/s; rerun {rerun:.2f} s"
    )


if __name__ == "__main__":
    main()
