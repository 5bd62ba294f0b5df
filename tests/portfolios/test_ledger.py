"""The ledger: deposits invest to target, withdrawals sell, lots, balances, no overdraft."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolios import market, services, valuation
from portfolios.exceptions import InsufficientFunds
from portfolios.models import Account, Entry, Lot, Position, Transaction

from ..factories import GoalFactory
from .conftest import BASE_PRICES, LEVEL_WEIGHTS, write_prices

pytestmark = pytest.mark.django_db


def _sum(queryset, field: str) -> Decimal:
    # Summed in Python: SQLite would add decimals as floats.
    return sum(queryset.values_list(field, flat=True), Decimal(0))


def assert_ledger_consistent(account: Account) -> None:
    """Every materialised balance equals the sum of its entries; lots match positions."""
    account.refresh_from_db()
    assert account.cash == _sum(Entry.objects.filter(account=account, asset=None), "quantity")
    assert account.cash >= 0
    for position in Position.objects.filter(account=account):
        units = _sum(Entry.objects.filter(account=account, asset=position.asset), "quantity")
        lots = _sum(Lot.objects.filter(account=account, asset=position.asset), "remaining")
        assert position.quantity == units == lots
        assert position.quantity >= 0


def test_a_deposit_is_invested_to_the_goals_target_at_the_close(account):
    result = services.deposit_make(account=account, amount=Decimal("10000.00"))

    weights = valuation.account_value(account=account).weights()
    target = LEVEL_WEIGHTS[valuation.goal_level(goal=account.goal)]
    assert result.transaction.kind == Transaction.Kind.DEPOSIT
    assert {f.asset.ticker for f in result.fills} == set(target)
    for ticker, weight in target.items():
        assert abs(weights[ticker] - weight) < Decimal("0.001")
    assert Decimal("9999.90") <= valuation.account_value(account=account).total <= Decimal("10000")
    assert_ledger_consistent(account)


def test_a_deposit_buys_the_most_underweight_funds_first(account, tmp_path, market_data):
    from datetime import timedelta

    # given: a portfolio at target, then stocks rally 50% so bonds fall below target
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    rally = {**BASE_PRICES, "VTI": "300"}
    market.prices_load(
        path=write_prices(tmp_path / "p2.csv", {market_data + timedelta(days=1): rally})
    )

    # when: a small deposit arrives
    result = services.deposit_make(account=account, amount=Decimal("50.00"))

    # then: it all goes to the underweight funds, none to the overweight stocks
    bought = {f.asset.ticker for f in result.fills}
    assert bought
    assert "VTI" not in bought
    assert_ledger_consistent(account)


def test_without_a_risk_profile_a_deposit_stays_in_cash_and_says_why(approved_set):
    goal = GoalFactory()
    account = services.account_open(goal=goal)

    result = services.deposit_make(account=account, amount=Decimal("250.00"))

    account.refresh_from_db()
    assert account.cash == Decimal("250.00")
    assert result.fills == []
    assert "risk profile" in result.message
    assert_ledger_consistent(account)


def test_a_withdrawal_within_cash_sells_nothing(approved_set):
    account = services.account_open(goal=GoalFactory())
    services.deposit_make(account=account, amount=Decimal("300.00"))

    result = services.withdrawal_make(account=account, amount=Decimal("120.00"))

    account.refresh_from_db()
    assert result.fills == []
    assert account.cash == Decimal("180.00")


def test_a_withdrawal_beyond_cash_sells_holdings_and_says_what_it_sold(account):
    services.deposit_make(account=account, amount=Decimal("10000.00"))

    result = services.withdrawal_make(account=account, amount=Decimal("2500.00"))

    assert result.fills
    assert "Sold" in result.message
    assert valuation.account_value(account=account).total >= Decimal("7490.00")
    assert_ledger_consistent(account)


def test_withdrawing_everything_sells_everything_and_leaves_zero(account):
    services.deposit_make(account=account, amount=Decimal("777.77"))
    total = valuation.account_value(account=account).total

    services.withdrawal_make(account=account, amount=total)

    account.refresh_from_db()
    assert account.cash == 0
    assert not Position.objects.filter(account=account, quantity__gt=0).exists()
    assert_ledger_consistent(account)


def test_a_withdrawal_beyond_the_account_is_refused_and_writes_nothing(account):
    services.deposit_make(account=account, amount=Decimal("100.00"))
    entries = Entry.objects.count()

    with pytest.raises(InsufficientFunds):
        services.withdrawal_make(account=account, amount=Decimal("100.01"))

    assert Entry.objects.count() == entries
    assert Transaction.objects.filter(kind="withdrawal").count() == 0


@pytest.mark.parametrize("amount", ["0", "-5", "0.001", "10000000.01"])
def test_bad_amounts_are_refused(account, amount):
    with pytest.raises(ValidationError):
        services.deposit_make(account=account, amount=Decimal(amount))


def test_sales_consume_lots_first_in_first_out_and_realise_gains(account, tmp_path, market_data):
    from datetime import timedelta

    services.deposit_make(account=account, amount=Decimal("1000.00"))
    later = {t: str(Decimal(p) * Decimal("1.10")) for t, p in BASE_PRICES.items()}
    market.prices_load(
        path=write_prices(tmp_path / "p2.csv", {market_data + timedelta(days=3): later})
    )

    total = valuation.account_value(account=account).total
    services.withdrawal_make(account=account, amount=total)

    gains = _sum(Lot.objects.filter(account=account), "realised_gain")
    assert Decimal("95.00") < gains < Decimal("100.01")  # 10% on what was invested
    assert_ledger_consistent(account)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    flows=st.lists(
        st.tuples(
            st.booleans(),
            st.decimals(min_value="0.01", max_value="5000", places=2, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_sequence_of_cash_flows_keeps_the_ledger_consistent(account, flows):
    for is_deposit, amount in flows:
        try:
            if is_deposit:
                services.deposit_make(account=account, amount=amount)
            else:
                services.withdrawal_make(account=account, amount=amount)
        except InsufficientFunds:
            pass
        assert_ledger_consistent(account)
