"""The daily ledger reconciliation: a clean book finds nothing, a corrupted balance is found and
alerted once, and the break closes when the account adds up again."""

import logging
from decimal import Decimal

import pytest

from portfolios import services, tasks
from portfolios.models import Account, LedgerBreak, Position

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(account):
    services.deposit_make(account=account, amount=Decimal("5000.00"))
    services.withdrawal_make(account=account, amount=Decimal("1234.56"))
    return account


def test_a_clean_book_finds_nothing(funded):
    assert tasks.ledger_reconcile_task() == 0
    assert not LedgerBreak.objects.exists()


def test_a_corrupted_cash_balance_is_found_and_alerted_once(funded, caplog):
    # given: cash changed behind the ledger's back
    cash = Account.objects.get(pk=funded.pk).cash
    Account.objects.filter(pk=funded.pk).update(cash=cash + Decimal("0.01"))

    # when: the job runs twice
    with caplog.at_level(logging.ERROR, logger="portfolios.services.reconciliation"):
        first = services.ledger_reconcile()
        second = services.ledger_reconcile()

    # then: one break, one error log (ids only, no balances)
    assert (first, second) == (1, 0)
    found = LedgerBreak.objects.get()
    assert (found.account_id, found.kind) == (funded.pk, LedgerBreak.Kind.CASH)
    assert (found.expected, found.found) == (cash, cash + Decimal("0.01"))
    assert found.resolved_at is None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].account_id == funded.pk
    assert str(cash) not in errors[0].getMessage()


def test_a_corrupted_position_is_found_against_entries_and_lots(funded):
    position = Position.objects.filter(account=funded, quantity__gt=0).order_by("pk")[0]
    Position.objects.filter(pk=position.pk).update(quantity=position.quantity + Decimal("1"))

    assert services.ledger_reconcile() == 2

    kinds = set(LedgerBreak.objects.values_list("kind", flat=True))
    assert kinds == {LedgerBreak.Kind.UNITS, LedgerBreak.Kind.LOTS}
    assert {b.asset_id for b in LedgerBreak.objects.all()} == {position.asset_id}


def test_a_break_closes_when_the_account_adds_up_again(funded):
    cash = Account.objects.get(pk=funded.pk).cash
    Account.objects.filter(pk=funded.pk).update(cash=cash + Decimal("5"))
    services.ledger_reconcile()

    Account.objects.filter(pk=funded.pk).update(cash=cash)
    services.ledger_reconcile()

    assert LedgerBreak.objects.get().resolved_at is not None


def test_the_workspace_home_counts_open_breaks(funded, rf):
    from advisor.models import User
    from workspace.selectors import workspace_home

    admin = User.objects.create_superuser(email="ops@example.test", password=None)
    Account.objects.filter(pk=funded.pk).update(cash=Decimal("1.00"))
    services.ledger_reconcile()

    assert workspace_home(user=admin).ledger_breaks == 1


def test_the_job_is_on_the_beat_schedule():
    from config.celery import app

    entry = app.conf.beat_schedule["portfolios.ledger_reconcile"]
    assert entry["task"] == "portfolios.ledger_reconcile"
