"""Requests per second of GET /api/v1/portfolio/summary/ and /api/v1/accounts/ against a bare DRF
endpoint, with the queries each request makes.

A client with 5 goals and 2 years of monthly deposits, on a scratch database of the
benchmark's own: a temporary SQLite file, or, when DATABASE_URL names a PostgreSQL server, a
fresh database on that server (`meridian_bench_<pid>`), created here and dropped on exit. The
exported database itself is never written, so the benchmark can rerun. Served in-process by
Django's test client (host `localhost`) — no network, the same process and machine for every
endpoint. The aim: summary rps / bare rps >= 0.4.

Warm: the summary's cache already holds the body (the fingerprint query only). Cold: the cache
is cleared before every request, so each one computes the summary.

Run: .venv/bin/python -m benchmarks.portfolio_summary [--requests 300]
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
# Speed, not the rate limit, is measured: one user sends thousands of requests a minute.
os.environ.setdefault("API_THROTTLE_USER", "1000000/min")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scratch import scratch_database  # noqa: E402

SCRATCH_URL = scratch_database()

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from advisor import risk  # noqa: E402
from advisor import services as advisor_services  # noqa: E402
from advisor.models import User  # noqa: E402
from portfolios import market, services  # noqa: E402
from portfolios.models import Price  # noqa: E402

GOAL_TYPES = ["retirement", "home_purchase", "education", "emergency_fund", "general_wealth"]


def setup(*, goals: int = 5) -> User:
    """A client with `goals` goals (one account each) and 2 years of $500 monthly deposits."""
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
    for index in range(goals):
        goal = advisor_services.goal_create(
            client=client,
            goal_type=GOAL_TYPES[index % len(GOAL_TYPES)],
            name=f"Goal {index}",
            target_amount=Decimal("100000.00"),
            target_date=django.utils.timezone.localdate() + timedelta(days=365 * (5 + index)),
            monthly_contribution=Decimal("500.00"),
        )
        account = services.account_open(goal=goal)
        for day in firsts:
            services.deposit_make(account=account, amount=Decimal("500.00"), day=day)
    return user


def logged_in(user: User) -> HttpClient:
    http = HttpClient(SERVER_NAME="localhost")
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


def measure(
    http: HttpClient, url: str, requests: int, *, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    """(requests per second, p50 ms) over `requests` GETs after 5 warm-up ones; `before` runs
    ahead of each request (e.g. clearing the cache), inside the timing."""
    for _ in range(5):
        response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        if before is not None:
            before()
        http.get(url)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return requests / elapsed, statistics.median(latencies) * 1000


def queries(http: HttpClient, url: str, *, cold: bool) -> int:
    """The SQL queries one GET makes (session and user included), cold or warm cache."""
    http.get(url)
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
    return len(captured.captured_queries)


def report(label: str, rps: float, p50: float, bare_rps: float) -> None:
    print(f"{label:<38}{rps:8.1f} rps, p50 {p50:7.2f} ms, {rps / bare_rps:5.2f}x bare")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    user = setup()
    http = logged_in(user)
    summary = "/api/v1/portfolio/summary/"
    accounts = "/api/v1/accounts/"
    cold_requests = max(args.requests // 10, 10)
    bare_rps, bare_p50 = measure(http, "/api/v1/auth/me/", args.requests)
    warm = measure(http, summary, args.requests)
    cold = measure(http, summary, cold_requests, before=cache.clear)
    listed = measure(http, accounts, cold_requests)
    print(
        f"database: {connection.vendor} (scratch: {connection.settings_dict['NAME']}); "
        f"requests: {args.requests} warm, {cold_requests} cold and /accounts/"
    )
    report("bare DRF endpoint (/api/v1/auth/me/):", bare_rps, bare_p50, bare_rps)
    report("portfolio summary, warm:", *warm, bare_rps)
    report("portfolio summary, cold:", *cold, bare_rps)
    report("accounts list (5 accounts):", *listed, bare_rps)
    print(
        f"queries per request: bare {queries(http, '/api/v1/auth/me/', cold=False)}, "
        f"summary warm {queries(http, summary, cold=False)}, "
        f"summary cold {queries(http, summary, cold=True)}, "
        f"accounts {queries(http, accounts, cold=False)}"
    )
    print(f"ratio summary (warm)/bare: {warm[0] / bare_rps:.2f} (aim >= 0.4)")


if __name__ == "__main__":
    main()
