"""Account types: IRA contribution limits (one limit across a client's IRAs, by calendar year,
with the catch-up from 50), the type fixed once money moved, and the tax note of an IRA
withdrawal.

The limit tests deposit for clients without a risk profile: the money stays in cash (nothing
to invest toward), so no prices are needed on the dates they replay (`day=`)."""

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from advisor.models import Client, Goal, Notification
from portfolios import services
from portfolios.models import RecurringDeposit, Transaction
from portfolios.services.cash_flows import withdrawal_tax_note
from portfolios.services.ira import (
    IraLimitExceeded,
    ira_contributed,
    ira_limit,
    ira_room,
)

from ..factories import ClientFactory, GoalFactory

pytestmark = pytest.mark.django_db

TRADITIONAL = Goal.AccountType.TRADITIONAL_IRA
ROTH = Goal.AccountType.ROTH_IRA


def _account(client: Client, account_type: str = TRADITIONAL, name: str = "IRA"):
    goal = GoalFactory(
        client=client,
        goal_type="retirement",
        name=name,
        account_type=account_type,
        target_date=timezone.localdate() + timedelta(days=20 * 365),
    )
    return goal.account


def _deposit(account, amount: str, day: date):
    return services.deposit_make(account=account, amount=Decimal(amount), day=day)


# --- The limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "age", "limit"),
    [
        (2008, 30, "5000.00"),
        (2012, None, "5000.00"),
        (2013, 49, "5500.00"),
        (2019, 40, "6000.00"),
        (2023, 40, "6500.00"),
        (2024, 40, "7000.00"),
        (2025, 50, "8000.00"),  # 7,000 + the 1,000 catch-up
        (2026, 40, "7500.00"),  # Notice 2025-67
        (2026, 50, "8600.00"),  # 7,500 + the catch-up raised to 1,100
        (2031, 40, "7500.00"),  # after the last known year: its figures
        (2031, 70, "8600.00"),
        (2025, None, "7000.00"),  # age unknown: no catch-up
    ],
)
def test_the_annual_limit_by_year_and_age(year, age, limit):
    assert ira_limit(year=year, age=age) == Decimal(limit)


def test_exactly_the_limit_passes_and_one_cent_over_fails_with_the_room_left():
    ira = _account(ClientFactory(date_of_birth=date(1990, 5, 1)))
    _deposit(ira, "5000.00", date(2025, 3, 3))

    # 5,000 + 2,000.01 = 7,000.01 > 7,000 (2025, age 35): refused, 2,000 of room said.
    with pytest.raises(IraLimitExceeded) as refused:
        _deposit(ira, "2000.01", date(2025, 3, 4))
    assert refused.value.extra["fields"] == {
        "amount": [
            "This would take your 2025 IRA contributions to $7,000.01, above the $7,000.00 "
            "limit; you can add at most $2,000.00 more this year."
        ]
    }
    _deposit(ira, "2000.00", date(2025, 3, 4))  # exactly the limit
    with pytest.raises(IraLimitExceeded, match="you cannot add more this year"):
        _deposit(ira, "0.01", date(2025, 3, 5))

    assert ira_contributed(client=ira.client, year=2025) == Decimal("7000.00")
    assert ira_room(client=ira.client, year=2025) == Decimal("0.00")
    assert ira_room(client=ira.client, year=2025, on=date(2025, 3, 3)) == Decimal("2000.00")
    assert Transaction.objects.filter(account=ira).count() == 2  # the refusals booked nothing


def test_the_2026_message_quotes_the_total_the_limit_and_the_room():
    ira = _account(ClientFactory(date_of_birth=date(1990, 5, 1)))
    _deposit(ira, "6000.00", date(2026, 1, 5))

    with pytest.raises(IraLimitExceeded) as refused:
        _deposit(ira, "2000.00", date(2026, 2, 2))

    assert refused.value.message == (
        "This would take your 2026 IRA contributions to $8,000.00, above the $7,500.00 limit; "
        "you can add at most $1,500.00 more this year."
    )


def test_the_catch_up_applies_from_the_year_the_client_turns_50():
    # Born 31 Dec 1976: 50 on 31 Dec 2026, so 2026's limit is 7,500 + 1,100 = 8,600.
    fifty = _account(ClientFactory(date_of_birth=date(1976, 12, 31)))
    # Born 1 Jan 1977: 49 at the end of 2026, so 7,500.
    forty_nine = _account(ClientFactory(date_of_birth=date(1977, 1, 1)))

    _deposit(fifty, "8600.00", date(2026, 1, 5))
    with pytest.raises(IraLimitExceeded):
        _deposit(fifty, "0.01", date(2026, 1, 6))
    with pytest.raises(IraLimitExceeded):
        _deposit(forty_nine, "7500.01", date(2026, 1, 5))
    _deposit(forty_nine, "7500.00", date(2026, 1, 5))


def test_a_traditional_and_a_roth_ira_share_one_limit_and_a_taxable_account_has_none():
    client = ClientFactory(date_of_birth=date(1990, 5, 1))
    traditional = _account(client, TRADITIONAL, "Traditional")
    roth = _account(client, ROTH, "Roth")
    taxable = _account(client, Goal.AccountType.TAXABLE, "Taxable")
    _deposit(traditional, "4000.00", date(2025, 3, 3))

    # 4,000 in the traditional IRA leaves 3,000 for the Roth.
    with pytest.raises(IraLimitExceeded, match="at most \\$3,000.00 more"):
        _deposit(roth, "3000.01", date(2025, 3, 4))
    _deposit(roth, "3000.00", date(2025, 3, 4))
    _deposit(taxable, "50000.00", date(2025, 3, 4))

    assert ira_contributed(client=client, year=2025) == Decimal("7000.00")


def test_another_clients_iras_do_not_count():
    mine = _account(ClientFactory())
    theirs = _account(ClientFactory())
    _deposit(theirs, "7000.00", date(2025, 3, 3))

    _deposit(mine, "7000.00", date(2025, 3, 3))


def test_the_tax_year_is_the_calendar_year_of_the_deposit():
    ira = _account(ClientFactory(date_of_birth=date(1990, 5, 1)))
    _deposit(ira, "7000.00", date(2025, 12, 31))

    # 1 January starts 2026's limit (7,500): prior-year contributions are not supported.
    _deposit(ira, "7500.00", date(2026, 1, 1))
    with pytest.raises(IraLimitExceeded, match="your 2026 IRA contributions to \\$7,500.01"):
        _deposit(ira, "0.01", date(2026, 1, 2))
    assert ira_contributed(client=ira.client, year=2025) == Decimal("7000.00")
    assert ira_contributed(client=ira.client, year=2026) == Decimal("7500.00")


def test_withdrawals_do_not_restore_room():
    ira = _account(ClientFactory())
    _deposit(ira, "7000.00", date(2025, 3, 3))
    services.withdrawal_make(account=ira, amount=Decimal("1000.00"), day=date(2025, 3, 4))

    with pytest.raises(IraLimitExceeded):
        _deposit(ira, "1000.00", date(2025, 3, 5))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deposits_into_two_iras_cannot_both_pass():
    # given: 2025's 7,000 limit and two IRAs of one client
    client = ClientFactory(date_of_birth=date(1990, 5, 1))
    accounts = [_account(client, TRADITIONAL, "Traditional"), _account(client, ROTH, "Roth")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            _deposit(accounts[index], "4000.00", date(2025, 3, 3))
            outcomes.append("paid")
        except IraLimitExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    # when: 4,000 into each at once (8,000 together)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then: the client's lock orders them; the second sees the first's 4,000 and is refused
    assert sorted(outcomes) == ["paid", "refused"]
    assert ira_contributed(client=client, year=2025) == Decimal("4000.00")


def test_a_deposit_over_the_limit_through_the_api_is_a_400_on_amount(market_data):
    # The API's deposit is dated at the market date (9 June 2023): 2023's limit is 6,500.
    ira = _account(ClientFactory())
    api = APIClient()
    api.force_authenticate(ira.client.user)

    response = api.post(
        f"/api/v1/accounts/{ira.pk}/deposits/",
        {"amount": "6500.01"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "ira_limit_exceeded"
    assert body["extra"]["fields"]["amount"] == [
        "This would take your 2023 IRA contributions to $6,500.01, above the $6,500.00 limit; "
        "you can add at most $6,500.00 more this year."
    ]


def test_a_recurring_deposit_past_the_limit_is_skipped_and_the_client_told(market_data):
    # given: 6,000 of 2023's 6,500 contributed, and a monthly 1,000 due today
    ira = _account(ClientFactory())
    services.deposit_make(account=ira, amount=Decimal("6000.00"))
    recurring = services.recurring_deposit_create(
        account=ira, amount=Decimal("1000.00"), day_of_month=9
    )
    today = timezone.localdate()
    RecurringDeposit.objects.filter(pk=recurring.pk).update(next_run=today)

    # when
    ran = services.recurring_deposits_run(today=today)

    # then: no deposit, the schedule moved on, the client was told why
    recurring.refresh_from_db()
    notice = Notification.objects.get(user=ira.client.user, key__endswith=":ira_limit")
    assert ran == 0
    assert recurring.next_run > today
    assert Transaction.objects.filter(account=ira, kind="deposit").count() == 1
    assert "you can add at most $500.00 more this year" in notice.body
    assert services.recurring_deposits_run(today=today) == 0  # a rerun pays nothing either


# --- The type is fixed once money moved ---------------------------------------------------------


@pytest.fixture
def api_of():
    def _api_of(client: Client) -> APIClient:
        api = APIClient()
        api.force_authenticate(client.user)
        return api

    return _api_of


def test_a_goal_is_created_with_an_account_type_and_a_suggestion(api_of):
    client = ClientFactory()
    target = (timezone.localdate() + timedelta(days=365 * 30)).isoformat()
    goal = {"name": "Retire", "target_amount": "500000.00", "target_date": target}

    default = api_of(client).post(
        "/api/v1/goals/", {**goal, "goal_type": "retirement"}, format="json"
    )
    roth = api_of(client).post(
        "/api/v1/goals/",
        {**goal, "goal_type": "retirement", "account_type": "roth_ira"},
        format="json",
    )
    house = api_of(client).post(
        "/api/v1/goals/", {**goal, "goal_type": "home_purchase"}, format="json"
    )

    assert default.status_code == roth.status_code == house.status_code == 201, default.json()
    assert default.json()["account_type"] == "taxable"  # the model's default stays
    assert default.json()["suggested_account_type"] == "traditional_ira"
    assert roth.json()["account_type"] == "roth_ira"
    assert Goal.objects.get(pk=roth.json()["id"]).account_type == ROTH
    assert house.json()["suggested_account_type"] == "taxable"


def test_the_account_type_may_change_before_any_money_moved(api_of):
    ira = _account(ClientFactory(), Goal.AccountType.TAXABLE)

    response = api_of(ira.client).patch(
        f"/api/v1/goals/{ira.goal_id}/", {"account_type": "roth_ira"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["account_type"] == "roth_ira"


def test_the_account_type_cannot_change_once_money_moved(api_of):
    ira = _account(ClientFactory(), TRADITIONAL)
    _deposit(ira, "100.00", date(2025, 3, 3))
    services.withdrawal_make(account=ira, amount=Decimal("100.00"), day=date(2025, 3, 4))

    # Empty again, but it has history: deposits counted toward the IRA limit.
    response = api_of(ira.client).patch(
        f"/api/v1/goals/{ira.goal_id}/", {"account_type": "taxable"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["account_type"] == [
        "The account type cannot change once money is in the account; open a new goal instead."
    ]
    assert Goal.objects.get(pk=ira.goal_id).account_type == TRADITIONAL


def test_an_unchanged_account_type_in_an_edit_is_no_change(api_of):
    ira = _account(ClientFactory(), TRADITIONAL)
    _deposit(ira, "100.00", date(2025, 3, 3))

    response = api_of(ira.client).patch(
        f"/api/v1/goals/{ira.goal_id}/",
        {"account_type": "traditional_ira", "name": "Renamed"},
        format="json",
    )

    assert response.status_code == 200, response.json()


# --- Withdrawals say how they are taxed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("account_type", "born", "note"),
    [
        (
            TRADITIONAL,
            None,
            "Taxed as ordinary income; before age 59½ an extra 10% penalty may apply.",
        ),
        # 59½ on 1 Sep 2025 for someone born 1 Mar 1966: the day before still mentions it.
        (
            TRADITIONAL,
            date(1966, 3, 1),
            "Taxed as ordinary income; before age 59½ an extra 10% penalty may apply.",
        ),
        (
            ROTH,
            date(1990, 1, 1),
            "Your contributions come out tax-free; earnings may be taxed and penalised before "
            "age 59½ and five years.",
        ),
        (Goal.AccountType.TAXABLE, None, ""),
    ],
)
def test_a_withdrawal_from_an_ira_carries_its_tax_note(account_type, born, note):
    ira = _account(ClientFactory(date_of_birth=born), account_type)
    _deposit(ira, "1000.00", date(2025, 3, 3))

    result = services.withdrawal_make(account=ira, amount=Decimal("100.00"), day=date(2025, 8, 31))

    assert result.transaction.tax_note == note
    assert result.message == f"Withdrew $100.00. {note}".strip()


def test_the_penalty_is_not_mentioned_from_age_59_and_a_half():
    born = date(1966, 3, 1)  # 59½ on 1 September 2025

    assert withdrawal_tax_note(account_type=TRADITIONAL, born=born, day=date(2025, 9, 1)) == (
        "Taxed as ordinary income."
    )
    assert "penalised" not in withdrawal_tax_note(
        account_type=ROTH, born=born, day=date(2025, 9, 1)
    )
    assert "five years" in withdrawal_tax_note(account_type=ROTH, born=born, day=date(2025, 9, 1))


def test_the_withdrawal_api_answers_with_the_tax_note(market_data, api_of):
    ira = _account(ClientFactory(), TRADITIONAL)
    services.deposit_make(account=ira, amount=Decimal("1000.00"))

    response = api_of(ira.client).post(
        f"/api/v1/accounts/{ira.pk}/withdrawals/",
        {"amount": "100.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    body = response.json()
    assert response.status_code == 201, body
    assert body["message"].endswith(
        "Taxed as ordinary income; before age 59½ an extra 10% penalty may apply."
    )
    assert Transaction.objects.get(pk=body["transaction"]["id"]).tax_note.startswith("Taxed")


@pytest.mark.django_db(transaction=True)
def test_a_type_change_racing_the_first_deposit_never_leaves_an_unchecked_ira_deposit(
    bold_client, approved_set
):
    # A first deposit of 10,000 (over 2023's 6,500 IRA limit), invested at once, and a switch
    # to a traditional IRA, at once, ten times: either the deposit lands first (taxable, and
    # the switch is refused) or the switch does (and the deposit is then checked as an IRA's,
    # and refused). Never both, and neither waits forever on the other's locks.
    client = bold_client
    outcomes = []
    for round_ in range(10):
        account = _account(client, Goal.AccountType.TAXABLE, f"Race {round_}")
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def deposit(account=account, barrier=barrier, results=results) -> None:
            try:
                barrier.wait()
                services.deposit_make(account=account, amount=Decimal("10000.00"))
                results["deposit"] = "paid"
            except IraLimitExceeded:
                results["deposit"] = "refused"
            except Exception as exc:  # noqa: BLE001 - a deadlock, say: reported by the assert
                results["deposit"] = repr(exc)
            finally:
                connection.close()

        def switch(account=account, barrier=barrier, results=results) -> None:
            from django.core.exceptions import ValidationError

            from advisor.services.goals import goal_update

            try:
                barrier.wait()
                goal_update(goal=Goal(pk=account.goal_id), data={"account_type": TRADITIONAL})
                results["switch"] = "done"
            except ValidationError:
                results["switch"] = "refused"
            except Exception as exc:  # noqa: BLE001 - a deadlock, say: reported by the assert
                results["switch"] = repr(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=deposit), threading.Thread(target=switch)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        outcomes.append((results.get("deposit"), results.get("switch")))

    assert set(outcomes) <= {("paid", "refused"), ("refused", "done")}, outcomes
    assert ira_contributed(client=client, year=2023) == Decimal("0.00")
