"""Held withdrawals: the rules hold instead of paying, the client is told, an advisor releases
(exactly once, four eyes from $25,000) or rejects, and no path loses or doubles money."""

import os
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from advisor import risk_control
from advisor.models import KnownDevice, Notification, RiskEvent, SecurityEvent, WithdrawalHold
from portfolios import services
from portfolios.models import Account, Transaction
from portfolios.services import holds
from portfolios.services.cash_flows import withdrawal_release
from portfolios.services.holds import WithdrawalHoldConflict

from ..factories import AdvisorFactory
from .test_ledger_invariants import assert_entries_sum_to_balances

pytestmark = pytest.mark.django_db
POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
# The API test's routes: portfolios.api.holds before the project's own, so it runs whether or
# not portfolios/api/urls.py includes the module yet.
urlpatterns = [
    path("api/v1/", include("portfolios.api.holds")),
    path("", include("config.urls")),
]


@pytest.fixture
def advisor(account):
    advisor = AdvisorFactory()
    account.client.advisor = advisor
    account.client.save(update_fields=["advisor"])
    return advisor


@pytest.fixture
def funded(account):
    services.deposit_make(account=account, amount=Decimal("40000.00"))
    return account


def _password_changed(account) -> None:
    """The after-credential-reset rule (72 h, any amount) holds every withdrawal from now."""
    risk_control.security_event_record(
        user=account.client.user, kind=SecurityEvent.Kind.PASSWORD_CHANGE
    )


def _withdrawals(account) -> list[Decimal]:
    return list(
        Transaction.objects.filter(account=account, kind="withdrawal").values_list(
            "amount", flat=True
        )
    )


def _held(account, amount: str) -> WithdrawalHold:
    result = services.withdrawal_make(account=account, amount=Decimal(amount))
    assert result.hold is not None
    return result.hold


def test_an_ordinary_withdrawal_is_paid_and_its_evaluation_recorded(funded):
    result = services.withdrawal_make(account=funded, amount=Decimal("250.00"))

    assert result.hold is None
    assert result.transaction.amount == Decimal("-250.00")
    event = RiskEvent.objects.get(event="withdrawal")
    assert (event.decision, event.fired, event.amount) == ("allow", [], Decimal("250.00"))
    assert event.context["account_value"] == "40000.00"


def test_a_withdrawal_after_a_password_change_is_held_not_paid_and_the_client_told(funded):
    # given
    _password_changed(funded)
    cash_before = Account.objects.get(pk=funded.pk).cash

    # when
    result = services.withdrawal_make(
        account=funded, amount=Decimal("500.00"), idempotency_key="key-1"
    )

    # then: nothing moved; a pending hold names the rule version that fired
    assert result.transaction is None
    assert result.message.startswith("Your withdrawal of $500.00 is held for review")
    hold = WithdrawalHold.objects.get()
    assert (hold.status, hold.amount, hold.account_id) == ("pending", Decimal("500.00"), funded.pk)
    assert (hold.idempotency_key, hold.approvals_needed) == ("key-1", 1)
    assert hold.risk_event.decision == "hold"
    assert hold.risk_event.fired[0]["code"] == "after-credential-reset"
    assert hold.risk_event.fired[0]["version"] == 1
    assert _withdrawals(funded) == []
    assert Account.objects.get(pk=funded.pk).cash == cash_before
    notice = Notification.objects.get(kind=Notification.Kind.WITHDRAWAL_HOLD)
    assert notice.user == funded.client.user
    assert "held for review" in notice.body


def test_release_pays_the_held_withdrawal_once_and_a_second_decision_is_a_409(funded, advisor):
    _password_changed(funded)
    hold = _held(funded, "1200.00")

    released = withdrawal_release(hold=hold, actor=advisor)

    assert released.status == "released"
    assert released.decided_by == advisor
    assert _withdrawals(funded) == [Decimal("-1200.00")]
    assert Transaction.objects.get(pk=released.transaction_id).amount == Decimal("-1200.00")
    for decide in (
        lambda: withdrawal_release(hold=hold, actor=advisor),
        lambda: holds.withdrawal_hold_reject(hold=hold, actor=advisor),
    ):
        with pytest.raises(WithdrawalHoldConflict) as error:
            decide()
        assert error.value.code == "withdrawal_hold_decided"
    assert _withdrawals(funded) == [Decimal("-1200.00")]
    assert_entries_sum_to_balances(funded)
    assert Notification.objects.filter(key=f"withdrawal_hold:{hold.pk}:released").exists()


def test_from_25000_a_release_needs_two_different_staff_members(funded, advisor):
    _password_changed(funded)
    hold = _held(funded, "25000.00")
    assert hold.approvals_needed == 2
    compliance = AdvisorFactory()
    compliance.groups.add(risk_control.compliance_group_ensure())

    # the first approval records itself; nothing is paid
    first = withdrawal_release(hold=hold, actor=advisor)
    assert (first.status, first.first_approved_by) == ("pending", advisor)
    assert _withdrawals(funded) == []
    # the same person again: refused
    with pytest.raises(WithdrawalHoldConflict) as error:
        withdrawal_release(hold=hold, actor=advisor)
    assert error.value.code == "withdrawal_hold_four_eyes"
    # a second person (compliance may decide any client's hold) releases it
    second = withdrawal_release(hold=hold, actor=compliance)
    assert (second.status, second.decided_by) == ("released", compliance)
    assert _withdrawals(funded) == [Decimal("-25000.00")]


def test_a_release_after_the_money_left_another_way_moves_nothing(funded, advisor):
    # given: two holds of 30,000 on a 40,000 account; the first is paid
    _password_changed(funded)
    first, second = _held(funded, "24000.00"), _held(funded, "24000.00")
    withdrawal_release(hold=first, actor=advisor)

    # when / then: the second cannot be paid; it stays pending for a rejection
    with pytest.raises(WithdrawalHoldConflict) as error:
        withdrawal_release(hold=second, actor=advisor)
    assert error.value.code == "withdrawal_hold_insufficient_funds"
    second.refresh_from_db()
    assert (second.status, second.transaction_id) == ("pending", None)
    assert _withdrawals(funded) == [Decimal("-24000.00")]
    assert_entries_sum_to_balances(funded)
    assert holds.withdrawal_hold_reject(hold=second, actor=advisor).status == "rejected"


def test_a_rejected_or_expired_hold_moves_nothing_and_cannot_be_released(funded, advisor):
    _password_changed(funded)
    rejected, expiring = _held(funded, "300.00"), _held(funded, "400.00")

    holds.withdrawal_hold_reject(hold=rejected, actor=advisor, note="Client did not ask.")
    assert holds.withdrawal_holds_expire(now=timezone.now() + timedelta(days=8)) == 1
    assert holds.withdrawal_holds_expire(now=timezone.now() + timedelta(days=8)) == 0

    for hold in (rejected, expiring):
        with pytest.raises(WithdrawalHoldConflict):
            withdrawal_release(hold=hold, actor=advisor)
    assert _withdrawals(funded) == []
    assert set(WithdrawalHold.objects.values_list("status", flat=True)) == {"rejected", "expired"}
    assert Notification.objects.filter(key=f"withdrawal_hold:{expiring.pk}:expired").exists()


def test_only_staff_who_reach_the_client_may_decide(funded, advisor):
    _password_changed(funded)
    hold = _held(funded, "300.00")
    with pytest.raises(Exception) as error:  # noqa: PT011 - PermissionDenied or NotFound
        withdrawal_release(hold=hold, actor=AdvisorFactory())
    assert type(error.value).__name__ == "PermissionDenied"
    assert _withdrawals(funded) == []


# --- Through the API -------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.urls(__name__)
def test_the_api_answers_a_held_withdrawal_with_its_message_and_the_advisor_releases_it(
    funded, advisor
):
    _password_changed(funded)
    client_api, key = _api(funded.client.user), str(uuid.uuid4())

    def withdraw():
        return client_api.post(
            f"/api/v1/accounts/{funded.pk}/withdrawals/",
            {"amount": "700.00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    response, replay = withdraw(), withdraw()

    # 201 until WithdrawalApi answers a hold with 202 (the change asked for in the report)
    assert response.status_code in (201, 202), response.content
    assert response.json()["transaction"] is None
    assert "held for review" in response.json()["message"]
    assert replay.json() == response.json()
    hold = WithdrawalHold.objects.get()  # the replay held nothing more
    mine = client_api.get("/api/v1/withdrawal-holds/?status=pending").json()
    assert [(h["id"], h["amount"], h["status"]) for h in mine] == [(hold.pk, "700.00", "pending")]

    queue = _api(advisor).get("/api/v1/advisor/withdrawal-holds/?status=pending").json()
    assert [h["id"] for h in queue] == [hold.pk]
    assert queue[0]["fired"][0]["code"] == "after-credential-reset"
    assert (
        _api(AdvisorFactory())
        .post(f"/api/v1/advisor/withdrawal-holds/{hold.pk}/release/")
        .status_code
        == 404
    )

    released = _api(advisor).post(f"/api/v1/advisor/withdrawal-holds/{hold.pk}/release/")
    again = _api(advisor).post(f"/api/v1/advisor/withdrawal-holds/{hold.pk}/reject/")

    assert released.status_code == 200, released.content
    assert released.json()["status"] == "released"
    assert again.status_code == 409
    assert again.json()["code"] == "withdrawal_hold_decided"
    assert _withdrawals(funded) == [Decimal("-700.00")]


# --- Concurrency -----------------------------------------------------------------------------


def _race(count: int, work) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the outcome is the result
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.skipif(not POSTGRES, reason="threads need PostgreSQL (DATABASE_URL=postgres://…)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_releases_and_rejections_decide_a_hold_once(funded):
    # given: a held withdrawal and eight staff members who may all decide it
    _password_changed(funded)
    hold = _held(funded, "5000.00")
    staff = [AdvisorFactory(is_superuser=True) for _ in range(8)]

    # when: four release it and four reject it at once
    def decide(index: int):
        if index % 2:
            return withdrawal_release(hold=hold, actor=staff[index]).status
        return holds.withdrawal_hold_reject(hold=hold, actor=staff[index]).status

    results = _race(8, decide)

    # then: exactly one decision won; the rest were told it was decided; money moved at most once
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert all(isinstance(r, WithdrawalHoldConflict) for r in results if not isinstance(r, str))
    hold.refresh_from_db()
    assert hold.status == won[0]
    expected = [Decimal("-5000.00")] if won[0] == "released" else []
    assert _withdrawals(funded) == expected
    assert_entries_sum_to_balances(funded)


@pytest.mark.skipif(not POSTGRES, reason="threads need PostgreSQL (DATABASE_URL=postgres://…)")
@pytest.mark.django_db(transaction=True)
def test_releasing_two_holds_at_once_never_overdraws(funded):
    # given: two holds that the account can pay one of, not both
    _password_changed(funded)
    first, second = _held(funded, "24000.00"), _held(funded, "24000.00")
    staff = [AdvisorFactory(is_superuser=True) for _ in range(2)]

    results = _race(2, lambda i: withdrawal_release(hold=(first, second)[i], actor=staff[i]))

    codes = sorted(getattr(r, "code", "ok") for r in results)
    assert codes == ["ok", "withdrawal_hold_insufficient_funds"], results
    assert _withdrawals(funded) == [Decimal("-24000.00")]
    assert_entries_sum_to_balances(funded)


def test_sequential_double_release_and_release_after_reject_on_any_database(funded, advisor):
    # The SQLite stand-in of the races above: the same decisions one after another.
    _password_changed(funded)
    a, b = _held(funded, "1000.00"), _held(funded, "2000.00")
    holds.withdrawal_hold_reject(hold=b, actor=advisor)
    outcomes = []
    for hold in (a, a, b):
        try:
            outcomes.append(withdrawal_release(hold=hold, actor=advisor).status)
        except WithdrawalHoldConflict as exc:
            outcomes.append(exc.code)
    assert outcomes == ["released", "withdrawal_hold_decided", "withdrawal_hold_decided"]
    assert _withdrawals(funded) == [Decimal("-1000.00")]
    assert_entries_sum_to_balances(funded)


def test_recurring_deposit_changes_are_evaluated_and_flagged_never_stopped(account):
    # given: a new device an hour ago (not the first: that one is the sign-up)
    user = account.client.user
    KnownDevice.objects.create(
        user=user, fingerprint="a", first_seen=timezone.now() - timedelta(days=90)
    )
    KnownDevice.objects.create(
        user=user, fingerprint="b", first_seen=timezone.now() - timedelta(hours=1)
    )

    # when: a large recurring deposit is made, then paused
    recurring = services.recurring_deposit_create(
        account=account, amount=Decimal("10000.01"), day_of_month=3
    )
    services.recurring_deposit_pause(recurring=recurring, paused=True)

    # then: both recorded; the rules fired flag them, the changes stand
    events = RiskEvent.objects.filter(event="recurring_change").order_by("id")
    assert [e.context["change"] for e in events] == ["create", "pause"]
    assert [sorted(f["code"] for f in e.fired) for e in events] == [
        ["recurring-after-identity-change", "recurring-large"],
        ["recurring-after-identity-change"],
    ]
    assert {e.decision for e in events} == {"flag"}
    recurring.refresh_from_db()
    assert recurring.active is False
