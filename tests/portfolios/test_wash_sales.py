"""Wash sales (IRS Pub. 550; the rule is written out in portfolios/tax.py): a loss in a taxable
account is disallowed, unit for unit, by purchases of the same fund within 30 days before or
after, in any of the client's accounts; the disallowed loss moves into a taxable replacement's
basis (with the holding period) and is lost in an IRA.

The running example: 10 VTI bought 2023-01-03 at 200 (lot L1) and sold 2023-03-01 at 180 in a
taxable account: proceeds 1,800.00, basis 2,000.00, a short-term loss of 200.00 (20 a unit)."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from advisor.models import Goal
from portfolios import market
from portfolios.models import Distribution, Lot, LotSale, WashSale
from portfolios.services.distributions import dividend_pay
from portfolios.tax import identical_tickers, realised_gains, wash_blocked

from .conftest import BASE_PRICES, write_prices
from .test_tax_lots import assert_lots_consistent, buy, open_account, sell

pytestmark = pytest.mark.django_db

BOUGHT, SOLD = date(2023, 1, 3), date(2023, 3, 1)


@pytest.fixture
def taxable():
    return open_account()


def loss_sale(account) -> LotSale:
    buy(account, "VTI", "10", "200", BOUGHT)
    (sale,) = sell(account, "VTI", "10", "180", SOLD)
    assert sale.gain == Decimal("-200.00")
    return sale


def test_a_purchase_in_the_30_days_before_a_loss_sale_washes_part_of_it(taxable):
    # given: L1, then 4 more VTI at 185 on 2023-02-15, 14 days before the sale
    l1 = buy(taxable, "VTI", "10", "200", BOUGHT)
    l2 = buy(taxable, "VTI", "4", "185", date(2023, 2, 15))

    # when: L1 is sold at a loss (tax_min: its −20 a unit is the bigger loss than L2's −5)
    (sale,) = sell(taxable, "VTI", "10", "180", SOLD)

    # then: L2's 4 units replace 4 of the 10 sold: 4/10 of the 200.00 loss = 80.00 disallowed,
    # added to L2's basis (4 × 185 + 80 = 820.00), and L2's holding period counts from L1's
    # purchase. The other 6 units' loss (120.00) stands.
    assert sale.lot_id == l1.pk
    sale.refresh_from_db()
    l2.refresh_from_db()
    wash = WashSale.objects.get()
    assert (wash.sale_id, wash.replacement_id, wash.units) == (sale.pk, l2.pk, Decimal("4"))
    assert (wash.disallowed, wash.basis_added) == (Decimal("80.00"), Decimal("80.00"))
    assert (sale.washed_units, sale.wash_disallowed) == (Decimal("4"), Decimal("80.00"))
    assert (l2.washed_units, l2.basis_adjustment) == (Decimal("4"), Decimal("80.00"))
    assert l2.holding_from == BOUGHT
    gains = realised_gains(client=taxable.client, year=2023)
    assert gains.short_term.gain == Decimal("-200.00")
    assert gains.short_term.reportable == Decimal("-120.00")
    assert_lots_consistent(taxable.client_id, {sale.transaction_id: Decimal("1800.00")})


def test_selling_the_replacement_later_realises_the_deferred_loss(taxable):
    buy(taxable, "VTI", "10", "200", BOUGHT)
    l2 = buy(taxable, "VTI", "4", "185", date(2023, 2, 15))
    sell(taxable, "VTI", "10", "180", SOLD)

    # L2 sold at 190 on 2023-06-01: proceeds 760.00, basis 820.00 (740 + the 80.00 deferred):
    # a loss of 60.00 rather than a gain of 20.00. Its holding period runs from 2023-01-03.
    (later,) = sell(taxable, "VTI", "4", "190", date(2023, 6, 1))

    assert (later.lot_id, later.proceeds, later.cost_basis, later.gain, later.term) == (
        l2.pk,
        Decimal("760.00"),
        Decimal("820.00"),
        Decimal("-60.00"),
        "short",
    )


def test_a_purchase_30_days_after_a_loss_sale_washes_it(taxable):
    sale = loss_sale(taxable)

    # 2023-03-31 is 30 days after 2023-03-01: inside the window. 10 units at 170 replace all
    # 10: the whole 200.00 is disallowed and the replacement's basis is 1,700 + 200 = 1,900.
    replacement = buy(taxable, "VTI", "10", "170", date(2023, 3, 31))

    sale.refresh_from_db()
    replacement.refresh_from_db()
    assert (sale.washed_units, sale.wash_disallowed) == (Decimal("10"), Decimal("200.00"))
    assert replacement.basis_adjustment == Decimal("200.00")
    assert replacement.holding_from == BOUGHT
    assert realised_gains(client=taxable.client, year=2023).total.reportable == 0


def test_a_purchase_on_day_31_is_not_a_wash_sale(taxable):
    sale = loss_sale(taxable)

    # 2023-04-01 is the 31st day after the sale: outside the window.
    replacement = buy(taxable, "VTI", "10", "170", date(2023, 4, 1))

    sale.refresh_from_db()
    replacement.refresh_from_db()
    assert not WashSale.objects.exists()
    assert (sale.washed_units, sale.wash_disallowed) == (0, 0)
    assert replacement.basis_adjustment == 0
    assert replacement.holding_from is None


def test_a_purchase_in_an_ira_washes_the_loss_and_the_loss_is_lost(taxable):
    ira = open_account(client=taxable.client, account_type=Goal.AccountType.TRADITIONAL_IRA)
    sale = loss_sale(taxable)

    # 3 units bought in the IRA 9 days later: 3/10 of 200.00 = 60.00 disallowed, and nothing
    # added to the IRA lot's basis (Rev. Rul. 2008-5): that part of the loss is gone.
    replacement = buy(ira, "VTI", "3", "175", date(2023, 3, 10))

    sale.refresh_from_db()
    replacement.refresh_from_db()
    wash = WashSale.objects.get()
    assert (wash.units, wash.disallowed, wash.basis_added) == (
        Decimal("3"),
        Decimal("60.00"),
        Decimal("0.00"),
    )
    assert (sale.washed_units, sale.wash_disallowed) == (Decimal("3"), Decimal("60.00"))
    assert (replacement.washed_units, replacement.basis_adjustment) == (Decimal("3"), 0)
    assert replacement.holding_from is None


def test_partial_replacements_match_oldest_first_until_the_sale_is_used_up(taxable):
    sale = loss_sale(taxable)
    other = open_account(client=taxable.client)

    # 4 units on 2023-03-05 (another taxable account of the client), then 9 on 2023-03-06:
    # the first takes 4 of the 10 units (80.00), the second the last 6 (the remaining 120.00);
    # 3 of the second lot's 9 units are left unmatched for any later loss.
    first = buy(other, "VTI", "4", "176", date(2023, 3, 5))
    second = buy(taxable, "VTI", "9", "178", date(2023, 3, 6))

    sale.refresh_from_db()
    assert [(w.replacement_id, w.units, w.disallowed) for w in WashSale.objects.all()] == [
        (first.pk, Decimal("4"), Decimal("80.00")),
        (second.pk, Decimal("6"), Decimal("120.00")),
    ]
    assert (sale.washed_units, sale.wash_disallowed) == (Decimal("10"), Decimal("200.00"))
    second.refresh_from_db()
    assert second.washed_units == Decimal("6")
    # A further purchase in the window washes nothing: the loss is fully matched.
    buy(taxable, "VTI", "1", "179", date(2023, 3, 7))
    assert WashSale.objects.count() == 2


def test_an_uneven_split_disallows_exactly_the_loss_in_cents(taxable):
    # A loss of 100.00 on 3 units (33.333… a unit) matched 1 unit at a time: 33.33, 33.33 and,
    # for the last unit, the rest, 33.34: the three add up to the loss exactly.
    buy(taxable, "AGG", "3", "100", BOUGHT)
    (sale,) = sell(taxable, "AGG", "3", "66.6667", SOLD)  # 200.0001 → 200.00: a loss of 100.00
    assert sale.gain == Decimal("-100.00")

    for day in (date(2023, 3, 2), date(2023, 3, 3), date(2023, 3, 4)):
        buy(taxable, "AGG", "1", "66", day)

    assert [w.disallowed for w in WashSale.objects.all()] == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    sale.refresh_from_db()
    assert sale.wash_disallowed == Decimal("100.00")


def test_a_loss_in_an_ira_is_never_washed(taxable):
    ira = open_account(client=taxable.client, account_type=Goal.AccountType.ROTH_IRA)
    buy(ira, "VTI", "10", "200", BOUGHT)
    sell(ira, "VTI", "10", "180", SOLD)

    buy(taxable, "VTI", "10", "170", date(2023, 3, 2))

    assert not WashSale.objects.exists()


def test_another_clients_purchase_does_not_wash_the_loss(taxable):
    loss_sale(taxable)

    buy(open_account(), "VTI", "10", "170", date(2023, 3, 2))

    assert not WashSale.objects.exists()


def test_a_gain_is_never_washed(taxable):
    buy(taxable, "VTI", "10", "200", BOUGHT)
    sell(taxable, "VTI", "10", "220", SOLD)

    buy(taxable, "VTI", "10", "221", date(2023, 3, 2))

    assert not WashSale.objects.exists()


def test_a_harvesting_pair_is_not_identical_unless_configured(taxable):
    loss_sale(taxable)

    # SPY tracks another index than VTI: by default buying it washes nothing.
    buy(taxable, "SPY", "1", "400", date(2023, 3, 2))
    assert not WashSale.objects.exists()
    assert identical_tickers("VTI") == {"VTI"}

    with override_settings(WASH_SALE_PAIRS_IDENTICAL=True):
        assert identical_tickers("VTI") == {"VTI", "SPY"}
        assert identical_tickers("SPY") == {"VTI", "SPY"}
        assert identical_tickers("GLD") == {"GLD"}
        buy(taxable, "SPY", "1", "400", date(2023, 3, 3))
        assert WashSale.objects.get().units == Decimal("1")


def test_wash_blocked_while_a_loss_is_open_in_the_window(taxable):
    ira = open_account(client=taxable.client, account_type=Goal.AccountType.TRADITIONAL_IRA)
    loss_sale(taxable)
    client = taxable.client

    assert wash_blocked(client=client, ticker="VTI", day=SOLD)
    assert wash_blocked(client=client, ticker="VTI", day=date(2023, 3, 31))  # day 30
    assert not wash_blocked(client=client, ticker="VTI", day=date(2023, 4, 1))  # day 31
    assert not wash_blocked(client=client, ticker="SPY", day=SOLD)
    assert not wash_blocked(client=open_account().client, ticker="VTI", day=SOLD)
    # Once the whole loss is matched (here by an IRA purchase), buying more washes nothing.
    buy(ira, "VTI", "10", "175", date(2023, 3, 2))
    assert not wash_blocked(client=client, ticker="VTI", day=date(2023, 3, 3))


def test_the_sold_lots_own_remaining_units_do_not_replace_its_loss(taxable):
    # The lots a sale consumes are gone before matching: selling the recent lot itself at a
    # loss does not make the lot its own replacement.
    buy(taxable, "VTI", "10", "200", date(2023, 2, 20))
    (sale,) = sell(taxable, "VTI", "4", "180", SOLD)

    assert sale.gain == Decimal("-80.00")
    assert not WashSale.objects.exists()


def test_a_dividend_reinvested_within_30_days_washes_the_loss(account, tmp_path, market_data):
    # given: the bold client's taxable account holds BIL (a fund without a harvesting pair, so
    # nothing redirects its purchase) and AGG; BIL is sold at a loss on 2023-05-15.
    assert account.goal.account_type == Goal.AccountType.TAXABLE
    buy(account, "BIL", "10", "95", date(2023, 5, 1))
    buy(account, "AGG", "100", "100", date(2023, 5, 1))
    (sale,) = sell(account, "BIL", "10", "91.5", date(2023, 5, 15))
    assert sale.gain == Decimal("-35.00")  # 915.00 − 950.00
    agg = account.positions.get(asset__ticker="AGG").asset
    distribution = Distribution.objects.create(
        asset=agg, ex_date=date(2023, 6, 1), pay_date=market_data, amount=Decimal("0.5")
    )
    market.prices_load(path=write_prices(tmp_path / "p.csv", {market_data: BASE_PRICES}))

    # when: the AGG dividend (100 × 0.50 = 50.00) is paid on 2023-06-09 and reinvested with the
    # account's cash, 25 days after the loss: some of it buys BIL
    txn = dividend_pay(account=account, distribution=distribution)

    # then: the BIL units it bought replace that many of the 10 sold: disallowed = 35.00 × the
    # units / 10, added to the new lot's basis
    bil_lot = Lot.objects.get(opened_by=txn, asset__ticker="BIL")
    units = min(bil_lot.quantity, Decimal(10))
    wash = WashSale.objects.get()
    assert (wash.sale_id, wash.replacement_id, wash.units) == (sale.pk, bil_lot.pk, units)
    assert wash.disallowed == (Decimal("35.00") * units / 10).quantize(Decimal("0.01"))
    assert bil_lot.basis_adjustment == wash.disallowed
