"""Held withdrawals in the advisor workspace (its admin pages): they wait in the queue, and an
advisor releases or rejects them on the hold's page (the same services as the API), within their
reach only."""

from decimal import Decimal

import pytest

from advisor import risk_control
from advisor.models import SecurityEvent, WithdrawalHold
from portfolios import services
from portfolios.models import Transaction

from ..factories import AdvisorFactory, admin_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(account):
    """A $1,000 withdrawal held: the client changed their password just before (rule d)."""
    advisor = AdvisorFactory()
    account.client.advisor = advisor
    account.client.save(update_fields=["advisor"])
    services.deposit_make(account=account, amount=Decimal("20000.00"))
    risk_control.security_event_record(
        user=account.client.user, kind=SecurityEvent.Kind.PASSWORD_CHANGE
    )
    result = services.withdrawal_make(account=account, amount=Decimal("1000.00"))
    assert result.hold is not None
    assert result.transaction is None
    return advisor, result.hold


def test_a_held_withdrawal_waits_in_the_queue_and_a_release_pays_it_once(held):
    advisor, hold = held
    browser = admin_login(advisor)

    home = browser.get("/admin/").content.decode()
    page = browser.get(f"/admin/advisor/withdrawalhold/{hold.pk}/change/").content.decode()
    released = browser.post(
        f"/admin/advisor/withdrawalhold/{hold.pk}/decide/",
        {"decision": "release", "note": "called the client"},
        follow=True,
    ).content.decode()
    again = browser.post(
        f"/admin/advisor/withdrawalhold/{hold.pk}/decide/", {"decision": "release"}, follow=True
    ).content.decode()

    assert "Held withdrawal to decide" in home
    assert 'id="hold-decide"' in page
    assert "Released: $1,000.00 paid" in released
    hold.refresh_from_db()
    assert (hold.status, hold.decided_by, hold.decision_note) == (
        WithdrawalHold.Status.RELEASED,
        advisor,
        "called the client",
    )
    paid = Transaction.objects.filter(account_id=hold.account_id, kind="withdrawal")
    assert [t.amount for t in paid] == [Decimal("-1000.00")]  # once, whatever the second POST
    assert 'id="hold-decide"' not in again


def test_another_advisor_cannot_see_or_decide_the_hold(held):
    _, hold = held
    stranger = admin_login(AdvisorFactory())

    page = stranger.get(f"/admin/advisor/withdrawalhold/{hold.pk}/change/")
    decided = stranger.post(
        f"/admin/advisor/withdrawalhold/{hold.pk}/decide/", {"decision": "reject"}
    )

    assert page.status_code in (302, 404)  # not in their reach: never the hold's page
    assert decided.status_code == 404
    hold.refresh_from_db()
    assert hold.status == WithdrawalHold.Status.PENDING
