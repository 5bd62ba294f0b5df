"""`manage.py synth_book`: a synthetic book whose ledgers reconcile, removed by `--clear`."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from advisor.models import Client, Goal, RiskAssessment, User
from portfolios import services
from portfolios.models import Account, Entry, LedgerBreak, Lot, Position, Transaction
from portfolios.synth import SYNTH_DOMAIN

from .conftest import drifting_prices_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_months(tmp_path, approved_set, market_day):
    """Weekday closes from 1 March to 30 June 2023, each fund drifting by its own daily step
    (VTI up, AGG down, …) so that the book's lots gain and lose."""
    return drifting_prices_load(tmp_path / "months.csv", market_day, step=Decimal("0.0004"))


def _sum(values) -> Decimal:
    return sum(values, Decimal(0))  # summed in Python: SQLite sums decimals as floats


def test_it_writes_a_book_whose_ledgers_reconcile(four_months):
    # when
    call_command("synth_book", accounts=20, seed=7, history_months=3)

    # then: exactly 20 synthetic accounts, every client with a rules assessment
    accounts = Account.objects.filter(client__user__email__endswith=SYNTH_DOMAIN)
    assert accounts.count() == 20
    clients = Client.objects.filter(user__email__endswith=SYNTH_DOMAIN)
    assert (
        RiskAssessment.objects.filter(
            response__client__in=clients, method=RiskAssessment.RULES_METHOD
        ).count()
        == clients.count()
    )
    assert Transaction.objects.filter(account__in=accounts, kind="deposit").count() >= 20
    # the invariants the daily reconciliation checks, summed here independently
    for account in accounts:
        cash = Entry.objects.filter(account=account, asset=None).values_list("quantity", flat=True)
        assert account.cash == _sum(cash) >= 0
        for position in Position.objects.filter(account=account):
            units = Entry.objects.filter(account=account, asset=position.asset)
            lots = Lot.objects.filter(account=account, asset=position.asset, remaining__gt=0)
            assert position.quantity == _sum(units.values_list("quantity", flat=True))
            assert position.quantity == _sum(lots.values_list("remaining", flat=True)) >= 0
    assert services.ledger_reconcile() == 0
    assert not LedgerBreak.objects.exists()
    # IRAs within the year's limit (no catch-up), per client and year
    for client in clients:
        deposits = Transaction.objects.filter(
            account__client=client, account__goal__account_type__in=Goal.IRA_TYPES, kind="deposit"
        )
        assert _sum(deposits.values_list("amount", flat=True)) <= services.ira_limit(
            year=2023, age=None
        )


def test_the_same_seed_writes_the_same_book(four_months):
    call_command("synth_book", accounts=5, seed=3, history_months=3)
    first = sorted(Transaction.objects.values_list("kind", "amount", "market_date"))
    call_command("synth_book", clear=True)
    call_command("synth_book", accounts=5, seed=3, history_months=3)
    assert sorted(Transaction.objects.values_list("kind", "amount", "market_date")) == first


def test_clear_removes_the_book_and_only_it_and_can_run_twice(four_months, account):
    # given: a real account beside the synthetic book
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    call_command("synth_book", accounts=20, seed=1, history_months=3)

    # when
    call_command("synth_book", clear=True)
    call_command("synth_book", clear=True)

    # then
    assert not User.objects.filter(email__endswith=SYNTH_DOMAIN).exists()
    assert list(Account.objects.values_list("pk", flat=True)) == [account.pk]
    assert Entry.objects.exclude(account=account).count() == 0


def test_it_refuses_to_run_where_demo_data_is_not_allowed(settings, four_months):
    settings.DEMO_DATA_ALLOWED = False  # as config.settings.production sets it
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        call_command("synth_book", accounts=1)
    assert not User.objects.filter(email__endswith=SYNTH_DOMAIN).exists()
