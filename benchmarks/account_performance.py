"""Requests per second of GET /api/v1/accounts/{id}/performance/ against a bare DRF endpoint,
with the queries each request makes.

The same client, scratch database and in-process test client as benchmarks.portfolio_summary
(5 goals, 2 years of monthly deposits; a temporary SQLite file or a PostgreSQL database of its
own, dropped on exit). The account measured is the first goal's (retirement). Warm: the body is
cached under the account's fingerprint; cold: the cache is cleared before every request. The
aim: warm rps / bare rps >= 0.4.

Stored: the body's cache is emptied before every request but the account's stored daily values
are kept (as after a new price day): the body is recomputed without replaying the ledger.

Run: .venv/bin/python -m benchmarks.account_performance [--requests 300]
"""

import argparse

from benchmarks.portfolio_summary import (
    cache,
    connection,
    logged_in,
    measure,
    queries,
    report,
    setup,
)
from portfolios import selectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    user = setup()
    account = user.client.accounts.order_by("pk").first()
    assert account is not None  # noqa: S101 - setup() opened five
    http = logged_in(user)
    url = f"/api/v1/accounts/{account.pk}/performance/"
    cold_requests = max(args.requests // 10, 10)
    bare_rps, bare_p50 = measure(http, "/api/v1/auth/me/", args.requests)
    warm = measure(http, url, args.requests)
    cold = measure(http, url, cold_requests, before=cache.clear)
    body_key = f"account-performance:{account.pk}:"

    def forget_body() -> None:
        cache.delete(body_key + selectors.account_performance_fingerprint(account=account))

    stored = measure(http, url, cold_requests, before=forget_body)
    print(
        f"database: {connection.vendor} (scratch: {connection.settings_dict['NAME']}); "
        f"requests: {args.requests} warm, {cold_requests} cold; history "
        f"{len(http.get(url).json()['history'])} days"
    )
    report("bare DRF endpoint (/api/v1/auth/me/):", bare_rps, bare_p50, bare_rps)
    report("account performance, warm:", *warm, bare_rps)
    report("account performance, cold:", *cold, bare_rps)
    report("account performance, stored values:", *stored, bare_rps)
    print(
        f"queries per request: bare {queries(http, '/api/v1/auth/me/', cold=False)}, "
        f"performance warm {queries(http, url, cold=False)}, "
        f"cold {queries(http, url, cold=True)}"
    )
    print(f"ratio performance (warm)/bare: {warm[0] / bare_rps:.2f} (aim >= 0.4)")


if __name__ == "__main__":
    main()
