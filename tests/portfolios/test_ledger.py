"""The ledger: deposits invest to target, withdrawals sell, lots, balances, no overdraft."""

from decimal import Decimal

import pytest
from auditlog.diff import model_instance_diff
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolios import market, services, valuation
from portfolios.exceptions import InsufficientFunds
from portfolios.models import Account, Entry, Lot, Position, Transaction
from portfolios.services import ledger

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


@pytest.mark.parametrize("lot_method", ["fifo", "hifo", "tax_min"])
def test_a_sale_in_a_ledger_batch_writes_the_rows_ledger_fill_writes(
    account, tmp_path, market_data, lot_method
):
    from datetime import timedelta

    from portfolios.broker import PaperBroker
    from portfolios.models import Asset, LotSale
    from portfolios.services.ledger import (
        LedgerBatch,
        account_lot_method_set,
        ledger_batches_flush,
        ledger_batches_lots_read,
        ledger_fill,
    )

    # given: two accounts alike, each with VTI lots bought at 200, 240 and 180
    other = services.account_open(
        goal=GoalFactory(
            client=account.client, goal_type="retirement", target_date=account.goal.target_date
        )
    )
    days = [market_data + timedelta(days=n) for n in (1, 2, 3)]
    prices = {days[0]: "240", days[1]: "180", days[2]: "210"}
    market.prices_load(
        path=write_prices(
            tmp_path / "vti.csv", {day: {**BASE_PRICES, "VTI": p} for day, p in prices.items()}
        )
    )
    for a in (account, other):
        account_lot_method_set(account=a, lot_method=lot_method)
        for day in (market_data, days[0], days[1]):
            services.deposit_make(account=a, amount=Decimal("1000.00"), day=day)
    vti = Asset.objects.get(ticker="VTI")
    fill = PaperBroker().sell(asset=vti, quantity=Decimal("3.5"), day=days[2])

    def sale_txn(a: Account) -> Transaction:
        return Transaction(
            account=a,
            kind=Transaction.Kind.WITHDRAWAL,
            amount=-fill.cash,
            market_date=days[2],
            description="Sale",
        )

    # when: one sells in a batch (which matches no wash sale), then the other row by row
    batched = Account.objects.select_related("goal").get(pk=other.pk)
    batches = LedgerBatch.read_many(accounts=[batched])
    batch = batches[batched.pk]
    batch.transactions.append(sale_txn(batched))
    ledger_batches_lots_read(batches=batches, assets={batched.pk: {vti.pk}})
    sales = batch.sell(txn=batch.transactions[0], fill=fill)
    ledger_batches_flush([batch])
    alone = Account.objects.select_related("goal").get(pk=account.pk)
    txn = sale_txn(alone)
    txn.save()
    ledger_fill(txn=txn, account=alone, fill=fill)

    # then: the same entries, position, lots and sales
    def rows(a: Account) -> dict[str, list]:
        return {
            "cash": [Account.objects.get(pk=a.pk).cash],
            "entries": sorted(
                Entry.objects.filter(account=a).values_list("asset_id", "quantity", "price"),
                key=repr,
            ),
            "positions": list(Position.objects.filter(account=a).values_list("asset", "quantity")),
            "lots": list(
                Lot.objects.filter(account=a)
                .order_by("acquired_on", "asset")
                .values_list("asset", "acquired_on", "remaining", "realised_gain")
            ),
            "sales": list(
                LotSale.objects.filter(account=a)
                .order_by("pk")
                .values_list(
                    "lot__acquired_on", "quantity", "proceeds", "cost_basis", "gain", "term"
                )
            ),
        }

    assert rows(batched) == rows(account)
    assert len(sales) >= 2  # the sale spans lots
    assert_ledger_consistent(account)
    assert_ledger_consistent(other)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_created_rows_audit_changes_are_auditlogs_own(account, as_json):
    # given: transactions as the ledger writes them, of several kinds (blank and null fields)
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    services.withdrawal_make(account=account, amount=Decimal("150.00"))
    made = list(Transaction.objects.filter(account=account))
    assert len({t.kind for t in made}) > 1

    # then: the bulk writer's changes for a created row are what auditlog computes itself
    created = ledger._Created.of(Transaction)
    for txn in made:
        assert ledger._created_diff(
            txn, created=created, use_json_for_changes=as_json
        ) == model_instance_diff(None, txn, use_json_for_changes=as_json)
