"""Fast reads (issue 18): the account list and the dashboard make the same number of queries
whatever the number of accounts, their batched reads agree with the per-account ones, and the
performance endpoint is cached under a fingerprint that changes with everything it shows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from advisor import risk
from advisor import services as advisor_services
from advisor.models import Client
from portfolios import benchmarks, history, market, selectors, services

from ..factories import AdvisorFactory, ClientFactory, GoalFactory
from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db

GOAL_TYPES = ("retirement", "emergency_fund", "home_purchase", "education", "general_wealth")


@pytest.fixture
def price_days(approved_set, tmp_path, market_data) -> tuple[date, date, date]:
    """Three market dates: the fixture's (a Friday) and the next two, US stocks 10% up on the
    second, everything 1% down on the third."""
    day_two, day_three = date(2023, 6, 12), date(2023, 6, 13)
    up = {**BASE_PRICES, "VTI": "220"}
    down = {t: str(Decimal(p) * Decimal("0.99")) for t, p in up.items()}
    market.prices_load(path=write_prices(tmp_path / "more.csv", {day_two: up, day_three: down}))
    return market_data, day_two, day_three


def _book(accounts: int, days: tuple[date, date, date], bold_answers: dict[str, str]) -> Client:
    """A client with `accounts` goals, each account funded on the first two days."""
    client = ClientFactory()
    advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    for index in range(accounts):
        goal = GoalFactory(
            client=client,
            goal_type=GOAL_TYPES[index % len(GOAL_TYPES)],
            name=f"Goal {index}",
            target_date=timezone.localdate() + timedelta(days=365 * (3 + 4 * index)),
        )
        account = services.account_open(goal=goal)
        services.deposit_make(account=account, amount=Decimal("1000.00"), day=days[0])
        services.deposit_make(account=account, amount=Decimal("250.00"), day=days[1])
    return client


def _api(client: Client) -> APIClient:
    api = APIClient()
    api.force_authenticate(client.user)
    return api


def _queries(api: APIClient, path: str) -> int:
    """The queries one cold GET makes (the summary's cache cleared first)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ["/api/v1/accounts/", "/api/v1/portfolio/summary/"])
def test_the_account_list_and_the_summary_make_as_many_queries_for_8_accounts_as_for_1(
    path, price_days, bold_answers
):
    # given three clients with 1, 3 and 8 funded accounts, each read once (a first request may
    # fill per-process caches: content types, the question set)
    books = {n: _book(n, price_days, bold_answers) for n in (1, 3, 8)}
    apis = {n: _api(client) for n, client in books.items()}
    for api in apis.values():
        api.get(path)

    # when each reads the endpoint again, cold
    counts = {n: _queries(api, path) for n, api in apis.items()}

    # then the count does not grow with the accounts
    assert counts[1] == counts[3] == counts[8], counts
    body = apis[8].get(path).json()
    assert len(body if path.endswith("accounts/") else body["accounts"]) == 8


def test_the_batched_reads_agree_with_the_per_account_ones(price_days, bold_answers):
    client = _book(5, price_days, bold_answers)
    accounts = list(selectors.account_list(client=client))

    summaries = selectors.account_summaries(accounts=accounts)
    histories = history.account_histories(accounts=accounts)
    spans = {pk: (points[0].day, points[-1].day) for pk, points in histories.items()}
    policies = history.policy_benchmarks(accounts=accounts, spans=spans)

    assert summaries == [selectors.account_summary(account=a) for a in accounts]
    assert histories == {a.pk: history.account_history(account=a) for a in accounts}
    for account in accounts:
        start, end = spans[account.pk]
        single = benchmarks.policy_benchmark(account=account, start=start, end=end)
        assert policies[account.pk] == single
        assert single is not None  # a real comparison, not None == None
        assert single.levels


def test_a_policy_is_computed_over_each_accounts_own_span(price_days, bold_answers):
    # given an emergency fund (level 2 at most: 12% VTI, 83% AGG, 5% BIL in the test set) funded
    # on day one, and a retirement account first funded on day two
    client = _book(0, price_days, bold_answers)
    emergency = services.account_open(goal=GoalFactory(client=client, goal_type="emergency_fund"))
    services.deposit_make(account=emergency, amount=Decimal("1000.00"), day=price_days[0])
    later = services.account_open(goal=GoalFactory(client=client, goal_type="retirement"))
    services.deposit_make(account=later, amount=Decimal("1000.00"), day=price_days[1])

    # when both policies are computed at once
    policies = history.policy_benchmarks(
        accounts=[emergency, later],
        spans={emergency.pk: (price_days[0], price_days[1]), later.pk: price_days[1:]},
    )

    # then the emergency fund's made 12% x 10% = 1.2% on day two (VTI +10%, nothing else moved);
    # the later account's starts at 100 on its own first day
    emergency_levels = policies[emergency.pk].levels
    assert emergency_levels[price_days[1]] / emergency_levels[price_days[0]] == Decimal("1.012")
    assert min(policies[later.pk].levels) == price_days[1]
    assert policies[later.pk].levels[price_days[1]] == Decimal(100)


@pytest.fixture
def emergency(price_days, bold_answers):
    """An emergency fund (level 2: 12% VTI, 83% AGG, 5% BIL) funded with 1,000 on day one."""
    client = _book(0, price_days, bold_answers)
    account = services.account_open(goal=GoalFactory(client=client, goal_type="emergency_fund"))
    services.deposit_make(account=account, amount=Decimal("1000.00"), day=price_days[0])
    return account


def _itd(body: dict) -> dict:
    return next(p for p in body["periods"] if p["period"] == "ITD")


def test_the_performance_is_served_from_its_cache_until_a_deposit(emergency):
    api = _api(emergency.client)
    url = f"/api/v1/accounts/{emergency.pk}/performance/"
    first = api.get(url).json()

    # when read again, nothing changed: the cached body, without replaying the ledger
    with CaptureQueriesContext(connection) as warm:
        again = api.get(url)
    assert again.json() == first
    assert not any("portfolios_entry" in q["sql"] for q in warm.captured_queries)

    # when 500 more is deposited (at the market date, day three)
    services.deposit_make(account=emergency, amount=Decimal("500.00"))
    after = api.get(url).json()

    # then the new deposit shows at once: 1,000 + 500 deposited
    assert [p["net_deposits"] for p in after["history"]][-1] == "1500.00"
    assert _itd(after)["net_flows"] == "1500.00"
    assert after != first


def test_new_prices_a_goal_edit_and_a_risk_override_each_change_the_performance_key(
    emergency, tmp_path
):
    keys = [selectors.account_performance_fingerprint(account=emergency)]

    # a new price day
    market.prices_load(path=write_prices(tmp_path / "d4.csv", {date(2023, 6, 14): BASE_PRICES}))
    keys.append(selectors.account_performance_fingerprint(account=emergency))

    # a revised close on a day already loaded
    market.prices_load(
        path=write_prices(tmp_path / "rev.csv", {date(2023, 6, 14): {**BASE_PRICES, "VTI": "201"}}),
        allow_revisions=True,
    )
    keys.append(selectors.account_performance_fingerprint(account=emergency))

    # the goal's date moved (its glide path, so its policy)
    goal = emergency.goal
    advisor_services.goal_update(
        goal=goal, data={"target_date": goal.target_date + timedelta(days=400)}
    )
    keys.append(selectors.account_performance_fingerprint(account=emergency))

    # an advisor's override of the client's level
    client = emergency.client
    client.advisor = AdvisorFactory()
    client.save(update_fields=["advisor"])
    advisor_services.risk_level_override(
        client=client, level=3, reason="Talked it through", actor=client.advisor,
        flags_reviewed=True,
    )  # fmt: skip
    keys.append(selectors.account_performance_fingerprint(account=emergency))

    assert len(set(keys)) == len(keys)


def test_the_performance_shows_a_new_price_day_at_once(emergency, tmp_path):
    api = _api(emergency.client)
    url = f"/api/v1/accounts/{emergency.pk}/performance/"
    before = api.get(url).json()  # cached through day three

    # when a fourth day arrives on which VTI is 10% higher than on day three and nothing else moves
    day_three = {
        t: str(Decimal(p) * Decimal("0.99")) for t, p in {**BASE_PRICES, "VTI": "220"}.items()
    }
    day_four = {**day_three, "VTI": str(Decimal(day_three["VTI"]) * Decimal("1.1"))}
    market.prices_load(path=write_prices(tmp_path / "d4.csv", {date(2023, 6, 14): day_four}))
    after = api.get(url).json()

    # then the history has the new day, and the level-2 policy, held since day one within the
    # month (rebalanced monthly), made 12% x 239.58/200 + 88% x 0.99 - 1 = 1.4948% since inception
    assert len(after["history"]) == len(before["history"]) + 1 == 4
    assert after["history"][-1]["day"] == "2023-06-14"
    assert _itd(after)["policy_benchmark"] == "0.014948"


def _ledger_reads(captured: CaptureQueriesContext) -> list[str]:
    """The queries that read ledger entries themselves (not the marks' latest-id subquery)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if '"portfolios_entry"' in q["sql"] and 'FROM "portfolios_account"' not in q["sql"]
    ]


def test_the_stored_daily_values_add_only_the_new_days_and_agree_with_a_full_replay(
    emergency, tmp_path
):
    # given the account's three days valued and stored
    cache.clear()
    assert history.account_history_stored(account=emergency) == history.account_history(
        account=emergency
    )

    # when a fourth day arrives and 500 is deposited on it
    market.prices_load(path=write_prices(tmp_path / "d4.csv", {date(2023, 6, 14): BASE_PRICES}))
    services.deposit_make(account=emergency, amount=Decimal("500.00"))
    with CaptureQueriesContext(connection) as captured:
        stored = history.account_history_stored(account=emergency)

    # then the stored days gained the fourth, as a full replay of the ledger has it
    assert stored == history.account_history(account=emergency)
    assert [p.day for p in stored][-1] == date(2023, 6, 14)
    assert stored[-1].flow == Decimal("500.00")
    reads = _ledger_reads(captured)
    assert reads
    assert all('"portfolios_entry"."id" >' in sql for sql in reads)  # only the new entries


def test_the_stored_daily_values_are_rebuilt_when_the_past_changes(emergency, price_days, tmp_path):
    cache.clear()
    history.account_history_stored(account=emergency)

    # a deposit dated on day two, already valued
    services.deposit_make(account=emergency, amount=Decimal("300.00"), day=price_days[1])
    backdated = history.account_history_stored(account=emergency)
    assert backdated == history.account_history(account=emergency)
    assert backdated[1].flow == Decimal("300.00")

    # a revised close on day three
    revised = {
        t: str(Decimal(p) * Decimal("0.99")) for t, p in {**BASE_PRICES, "VTI": "220"}.items()
    }
    market.prices_load(
        path=write_prices(tmp_path / "rev.csv", {price_days[2]: {**revised, "VTI": "210"}}),
        allow_revisions=True,
    )
    after = history.account_history_stored(account=emergency)
    assert after == history.account_history(account=emergency)
    assert after[2].value != backdated[2].value


def test_the_stored_daily_values_are_rebuilt_when_a_close_is_filled_in_for_a_past_day(
    emergency, tmp_path
):
    cache.clear()
    before = history.account_history_stored(account=emergency)

    # when closes arrive for Saturday 10 June, between two days already valued
    market.prices_load(path=write_prices(tmp_path / "sat.csv", {date(2023, 6, 10): BASE_PRICES}))
    after = history.account_history_stored(account=emergency)

    # then the day is in, as in a full replay
    assert after == history.account_history(account=emergency)
    assert len(after) == len(before) + 1
    assert after[1].day == date(2023, 6, 10)
