"""Exact cash: a deposit shows as deposited, a total is summed unrounded and rounded once
(money.money_value), and the total shown can be withdrawn in full."""

from decimal import Decimal

import pytest

from portfolios import services, valuation
from portfolios.broker import Fill, PaperBroker, proceeds_pooled
from portfolios.history import account_history
from portfolios.models import Account, Asset, Position
from portfolios.money import money_value

pytestmark = pytest.mark.django_db


def test_a_deposit_of_five_thousand_shows_five_thousand_at_once(account):
    services.deposit_make(account=account, amount=Decimal("5000.00"))

    value = valuation.account_value(account=account)
    assert value.total == Decimal("5000.00")
    assert value.cash + value.invested == value.total
    assert account_history(account=account)[-1].value == Decimal("5000.00")


@pytest.mark.parametrize("amount", ["0.50", "1.00", "99.99", "1234.56", "5000.00", "77777.77"])
def test_any_first_deposit_shows_exactly_its_amount(account, amount):
    services.deposit_make(account=account, amount=Decimal(amount))

    assert valuation.account_value(account=account).total == Decimal(amount)


def test_a_dollar_buy_charges_the_amount_exactly_and_its_units_are_worth_it(market_data):
    vti = Asset.objects.get(ticker="VTI")

    fill = PaperBroker().buy(asset=vti, amount=Decimal("1000.01"), day=market_data)

    assert fill.cash == Decimal("-1000.01")
    exact = fill.quantity * fill.price
    assert Decimal("1000.01") <= exact < Decimal("1000.01") + fill.price * Decimal("1e-8")


def test_the_total_is_the_exact_sum_rounded_once_not_the_rounded_rows(market_data):
    # given: three funds each worth a third of a cent over a whole cent
    assets = list(Asset.objects.filter(ticker__in=["VTI", "AGG", "BIL"]))
    holdings = tuple(
        valuation.Holding(asset=a, quantity=Decimal("1"), price=Decimal("10.0034")) for a in assets
    )
    v = valuation.Valuation(day=market_data, cash=Decimal("1.00"), holdings=holdings)

    # then: rows round down to 10.00 each, the total keeps the cent the three thirds make
    assert [h.value for h in holdings] == [Decimal("10.00")] * 3
    assert v.total == money_value(Decimal("1.00") + 3 * Decimal("10.0034")) == Decimal("31.01")


def test_a_batch_sale_pays_its_exact_proceeds_rounded_once(market_data):
    assets = list(Asset.objects.filter(ticker__in=["VTI", "AGG", "BIL"]))
    fills = [
        Fill(asset=a, quantity=Decimal("-1"), price=Decimal("10.0034"), cash=Decimal("10.00"))
        for a in assets
    ]

    pooled = proceeds_pooled(fills)

    assert sum(f.cash for f in pooled) == Decimal("30.01")
    assert sorted(f.cash for f in pooled) == [Decimal("10.00"), Decimal("10.00"), Decimal("10.01")]


def test_the_whole_total_shown_can_be_withdrawn(account):
    # given: an invested account with an odd amount of cash left over
    services.deposit_make(account=account, amount=Decimal("4321.09"))
    services.withdrawal_make(account=account, amount=Decimal("17.13"))
    total = valuation.account_value(account=account).total

    # when: the client withdraws exactly what is shown
    services.withdrawal_make(account=account, amount=total)

    # then: everything is sold, nothing is left and nothing was overdrawn
    account.refresh_from_db()
    assert account.cash == Decimal("0.00")
    assert not Position.objects.filter(account=account, quantity__gt=0).exists()
    assert valuation.account_value(account=Account.objects.get(pk=account.pk)).total == 0


def test_the_fee_is_billed_on_the_value_rounded_once(account, market_data):
    services.deposit_make(account=account, amount=Decimal("5000.00"), day=market_data)

    assert valuation.account_value_on(account=account, day=market_data) == Decimal("5000.00")
