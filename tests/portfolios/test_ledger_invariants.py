"""Entries sum to balances on every ledger path: deposits, withdrawals, approved rebalances,
advisory fees and recurring deposits, in any order and at moving prices; and under concurrent
deposits and withdrawals on PostgreSQL. The daily reconciliation agrees after each run."""

import contextlib
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolios import market, services
from portfolios.exceptions import InsufficientFunds, RebalanceStale
from portfolios.market import market_date_get
from portfolios.models import Account, Entry, LedgerBreak, Lot, Position, RecurringDeposit

from .conftest import BASE_PRICES, write_prices


def _sum(queryset, field: str) -> Decimal:
    return sum(queryset.values_list(field, flat=True), Decimal(0))  # SQLite sums floats


def assert_entries_sum_to_balances(account: Account) -> None:
    account.refresh_from_db()
    assert account.cash == _sum(Entry.objects.filter(account=account, asset=None), "quantity")
    assert account.cash >= 0
    booked = set(
        Entry.objects.filter(account=account, asset__isnull=False).values_list("asset", flat=True)
    )
    assert booked <= set(Position.objects.filter(account=account).values_list("asset", flat=True))
    for position in Position.objects.filter(account=account):
        units = _sum(Entry.objects.filter(account=account, asset=position.asset), "quantity")
        lots = Lot.objects.filter(account=account, asset=position.asset, remaining__gt=0)
        assert position.quantity == units == _sum(lots, "remaining") >= 0
    assert services.ledger_reconcile() == 0
    assert not LedgerBreak.objects.exists()


amounts = st.decimals(min_value="0.01", max_value="20000", places=2)
operations = st.one_of(
    st.tuples(st.just("deposit"), amounts),
    st.tuples(st.just("withdrawal"), amounts),
    st.tuples(st.just("withdraw_all"), st.just(Decimal(0))),
    st.tuples(st.just("recurring"), amounts),
    st.tuples(st.just("fee"), st.just(Decimal(0))),
    st.tuples(st.just("rebalance"), st.just(Decimal(0))),
    st.tuples(st.just("prices"), st.decimals(min_value="0.5", max_value="2", places=3)),
)


def _apply(account: Account, kind: str, amount: Decimal, step: int, tmp_path) -> None:
    today = market_date_get()
    if kind == "deposit":
        services.deposit_make(account=account, amount=amount)
    elif kind == "withdrawal":
        services.withdrawal_make(account=account, amount=amount)
    elif kind == "withdraw_all":
        from portfolios.valuation import account_value

        total = account_value(account=account).total
        if total > 0:
            services.withdrawal_make(account=account, amount=total)
    elif kind == "recurring":
        due = date(2001, 1, 1)
        recurring = RecurringDeposit.objects.create(
            account=account, amount=amount, day_of_month=1, next_run=due
        )
        assert services.recurring_deposits_run(today=due) == 1
        RecurringDeposit.objects.filter(pk=recurring.pk).update(active=False)
    elif kind == "fee":
        # One fee per period: each step bills a month of its own, at a fixed bill (a month of
        # 1990 accrued nothing: there were no closes then).
        period = date(1990 + step // 12, step % 12 + 1, 1)
        services.fee_charge(account=account, period=period, day=today, amount=Decimal("2.50"))
    elif kind == "rebalance":
        proposal = services.rebalance_propose(account=account)
        if proposal is not None:
            services.rebalance_decide(proposal=proposal, approve=True, actor=None)
    elif kind == "prices":
        moved = {**BASE_PRICES, "VTI": str(Decimal(BASE_PRICES["VTI"]) * amount)}
        later = today + timedelta(days=1)
        # Hypothesis examples share the database: a later run may move an already-loaded day.
        market.prices_load(
            path=write_prices(tmp_path / f"p{later}.csv", {later: moved}), allow_revisions=True
        )


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(operations, min_size=1, max_size=10))
def test_every_ledger_path_keeps_entries_summing_to_balances(account, tmp_path, ops):
    for step, (kind, amount) in enumerate(ops):
        with contextlib.suppress(InsufficientFunds, RebalanceStale):  # refused: booked nothing
            _apply(account, kind, amount, step, tmp_path)
        assert_entries_sum_to_balances(account)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deposits_and_withdrawals_keep_entries_summing_to_balances(account):
    # given: an invested account
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                if (n + i) % 2:
                    services.deposit_make(account=account, amount=Decimal("123.45"))
                else:
                    with contextlib.suppress(InsufficientFunds):
                        services.withdrawal_make(account=account, amount=Decimal("321.09"))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    # when: eight threads move money at once
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then: every balance still equals its entries
    assert errors == []
    assert_entries_sum_to_balances(account)
