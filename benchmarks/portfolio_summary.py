"""Requests per second of GET /api/v1/portfolio/summary/ against a bare DRF endpoint.

A client with 5 goals and 2 years of monthly deposits, on a scratch SQLite database (or the
DATABASE_URL you export), served in-process by Django's test client — no network, the same
process and machine for both endpoints. The aim: summary rps / bare rps >= 0.4.

Run: .venv/bin/python -m benchmarks.portfolio_summary [--requests 300]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
if "DATABASE_URL" not in os.environ:
    scratch = Path(tempfile.gettempdir()) / "meridian-bench.sqlite3"
    scratch.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django

django.setup()

from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.test import Client as HttpClient

from advisor import risk
from advisor import services as advisor_services
from advisor.models import User
from portfolios import market, services
from portfolios.models import Price


def setup() -> User:
    call_command("migrate", verbosity=0)
    call_command("load_market_data", "--no-progress", verbosity=0)
    advisor_services.user_register(email="bench@example.test", password="bench-pass-12345")
    user = User.objects.get(email="bench@example.test")
    client = user.client
    question_set = risk.question_set_get()
    advisor_services.questionnaire_submit(
        client=client,
        version=question_set.version,
        answers={q.key: q.choices[-1].value for q in question_set.questions},
    )
    end = market.market_date_get()
    recent = Price.objects.filter(date__gte=end - timedelta(days=730))
    days = sorted(set(recent.values_list("date", flat=True)))
    firsts = sorted({min(d for d in days if (d.year, d.month) == (m.year, m.month)) for m in days})
    for index, goal_type in enumerate(
        ["retirement", "home_purchase", "education", "emergency_fund", "general_wealth"]
    ):
        goal = advisor_services.goal_create(
            client=client,
            goal_type=goal_type,
            name=f"Goal {index}",
            target_amount=Decimal("100000.00"),
            target_date=django.utils.timezone.localdate() + timedelta(days=365 * (5 + index)),
            monthly_contribution=Decimal("500.00"),
        )
        account = services.account_open(goal=goal)
        for day in firsts:
            services.deposit_make(account=account, amount=Decimal("500.00"), day=day)
    return user


def measure(http: HttpClient, url: str, requests: int) -> tuple[float, float]:
    for _ in range(5):
        response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        http.get(url)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return requests / elapsed, statistics.median(latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    user = setup()
    http = HttpClient(SERVER_NAME="localhost")
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    bare_rps, bare_p50 = measure(http, "/api/v1/auth/me/", args.requests)
    summary_rps, summary_p50 = measure(http, "/api/v1/portfolio/summary/", args.requests)
    print(f"database: {django.db.connection.vendor}; requests per endpoint: {args.requests}")
    print(f"bare DRF endpoint (/api/v1/auth/me/): {bare_rps:8.1f} rps, p50 {bare_p50:6.2f} ms")
    print(f"portfolio summary:                   {summary_rps:8.1f} rps, p50 {summary_p50:6.2f} ms")
    print(f"ratio summary/bare: {summary_rps / bare_rps:.2f} (aim >= 0.4)")


if __name__ == "__main__":
    main()
