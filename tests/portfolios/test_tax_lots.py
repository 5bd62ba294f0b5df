"""Tax lots: the three lot methods, lot sales (proceeds, basis, gain, term), the one-year
boundary, explicit lots, and the ledger's invariants over random sequences of trades.

Trades are booked straight through the ledger (`ledger_fill`) with hand-made fills, so every
figure below can be worked out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.models import Goal
from portfolios import market, services
from portfolios.broker import Fill
from portfolios.models import Account, Asset, Lot, LotMethod, LotSale, Position, Transaction
from portfolios.money import money, money_down
from portfolios.services.ledger import (
    ledger_cash,
    ledger_fill,
    lots_order,
    lots_ordered,
    proceeds_split,
)
from portfolios.tax import lot_basis, lot_term, open_lots, realised_gains, unrealised

from ..factories import ClientFactory, GoalFactory
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db


# --- Helpers: book cash and trades by hand -------------------------------------------------------


def open_account(
    client=None, account_type: str = Goal.AccountType.TAXABLE, lot_method: str | None = None
) -> Account:
    if not Asset.objects.exists():
        market.assets_sync()
    goal = GoalFactory(client=client or ClientFactory(), account_type=account_type)
    account = services.account_open(goal=goal)
    if lot_method:
        account.lot_method = lot_method
        account.save(update_fields=["lot_method"])
    return Account.objects.select_related("goal").get(pk=account.pk)


def fund(account: Account, amount: str, day: date) -> None:
    txn = Transaction.objects.create(
        account=account, kind=Transaction.Kind.DEPOSIT, amount=Decimal(amount), market_date=day
    )
    ledger_cash(txn=txn, account=account, amount=Decimal(amount))


def trade(
    account: Account,
    ticker: str,
    units: str,
    price: str,
    day: date,
    *,
    lot_ids: list[int] | None = None,
) -> Transaction:
    """Buy (units > 0) or sell (units < 0) at `price`; the cash is units × price to the cent
    (rounded down on a sale, as the broker does). Cash for a buy is deposited first."""
    quantity, unit_price = Decimal(units), Decimal(price)
    cash = -money(quantity * unit_price) if quantity > 0 else money_down(-quantity * unit_price)
    if quantity > 0:
        fund(account, str(-cash), day)
    txn = Transaction.objects.create(
        account=account, kind=Transaction.Kind.TRADE, amount=Decimal("0.00"), market_date=day
    )
    fill = Fill(
        asset=Asset.objects.get(ticker=ticker), quantity=quantity, price=unit_price, cash=cash
    )
    account.refresh_from_db(fields=["cash"])
    ledger_fill(txn=txn, account=account, fill=fill, lot_ids=lot_ids)
    return txn


def buy(account: Account, ticker: str, units: str, price: str, day: date) -> Lot:
    txn = trade(account, ticker, units, price, day)
    return Lot.objects.get(opened_by=txn)


def sell(account: Account, ticker: str, units: str, price: str, day: date, **kw) -> list[LotSale]:
    txn = trade(account, ticker, f"-{units}", price, day, **kw)
    return list(LotSale.objects.filter(transaction=txn).order_by("id"))


def sold(sales: list[LotSale]) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal, str]]:
    return [(s.lot_id, s.quantity, s.proceeds, s.cost_basis, s.gain, s.term) for s in sales]


# --- The three-lot example -----------------------------------------------------------------------
#
# Ten VTI units in each of three lots:
#   A bought 2022-03-01 at 100   B bought 2022-06-01 at 125   C bought 2023-01-03 at 105
# Fifteen units are sold at 110 (cash 1,650.00). On 2023-03-02 lot A has been held more than a
# year (its first anniversary, 2023-03-01, is past): a sale of A is long-term; B and C are short.
# Per unit at 110: A +10 (long gain), B −15 (short loss), C +5 (short gain).

A_DAY, B_DAY, C_DAY = date(2022, 3, 1), date(2022, 6, 1), date(2023, 1, 3)
SALE_DAY = date(2023, 3, 2)


@pytest.fixture
def three_lots():
    def make(method: str) -> tuple[Account, Lot, Lot, Lot]:
        account = open_account(lot_method=method)
        a = buy(account, "VTI", "10", "100", A_DAY)
        b = buy(account, "VTI", "10", "125", B_DAY)
        c = buy(account, "VTI", "10", "105", C_DAY)
        return account, a, b, c

    return make


def test_fifo_sells_the_oldest_lots_first(three_lots):
    account, a, b, c = three_lots(LotMethod.FIFO)

    sales = sell(account, "VTI", "15", "110", SALE_DAY)

    # A whole: 10 × 110 = 1,100.00 for a basis of 1,000.00, long-term (+100).
    # Then 5 of B: 550.00 for 5 × 125 = 625.00, short-term (−75).
    assert sold(sales) == [
        (a.pk, Decimal("10"), Decimal("1100.00"), Decimal("1000.00"), Decimal("100.00"), "long"),
        (b.pk, Decimal("5"), Decimal("550.00"), Decimal("625.00"), Decimal("-75.00"), "short"),
    ]
    assert_ledger_consistent(account)


def test_hifo_sells_the_highest_cost_lots_first(three_lots):
    account, a, b, c = three_lots(LotMethod.HIFO)

    sales = sell(account, "VTI", "15", "110", SALE_DAY)

    # B (125) whole: 1,100.00 − 1,250.00 = −150 short; then C (105) for 5: 550 − 525 = +25 short.
    assert sold(sales) == [
        (b.pk, Decimal("10"), Decimal("1100.00"), Decimal("1250.00"), Decimal("-150.00"), "short"),
        (c.pk, Decimal("5"), Decimal("550.00"), Decimal("525.00"), Decimal("25.00"), "short"),
    ]
    a.refresh_from_db()
    assert a.remaining == 10


def test_tax_min_sells_losses_then_long_term_gains_before_short_term_ones(three_lots):
    account, a, b, c = three_lots(LotMethod.TAX_MIN)

    sales = sell(account, "VTI", "15", "110", SALE_DAY)

    # The short-term loss B first (−150), then the long-term gain A (+10/unit, taxed at the
    # lower rate) rather than C's smaller short-term gain (+5/unit): 5 of A, 550 − 500 = +50.
    assert sold(sales) == [
        (b.pk, Decimal("10"), Decimal("1100.00"), Decimal("1250.00"), Decimal("-150.00"), "short"),
        (a.pk, Decimal("5"), Decimal("550.00"), Decimal("500.00"), Decimal("50.00"), "long"),
    ]
    # Each lot's realised gain is the sum of its sales' gains.
    for lot, gain in ((a, "50.00"), (b, "-150.00"), (c, "0.00")):
        lot.refresh_from_db()
        assert lot.realised_gain == Decimal(gain)
    assert_ledger_consistent(account)


def test_tax_min_on_the_anniversary_itself_treats_the_old_lot_as_short_term(three_lots):
    account, a, b, c = three_lots(LotMethod.TAX_MIN)

    # On 2023-03-01 lot A has been held exactly one year, not more: its gain is short-term,
    # so after the loss B the smallest short-term gain per unit goes next: C (+5 < +10).
    sales = sell(account, "VTI", "15", "110", date(2023, 3, 1))

    assert [(s.lot_id, s.quantity, s.gain, s.term) for s in sales] == [
        (b.pk, Decimal("10"), Decimal("-150.00"), "short"),
        (c.pk, Decimal("5"), Decimal("25.00"), "short"),
    ]


def test_the_one_year_boundary_short_on_the_anniversary_long_the_day_after():
    lot = Lot(acquired_on=date(2022, 3, 1))

    assert lot_term(lot, date(2023, 3, 1)) == "short"
    assert lot_term(lot, date(2023, 3, 2)) == "long"
    # Bought on 29 February: the anniversary is 28 February.
    leap = Lot(acquired_on=date(2020, 2, 29))
    assert lot_term(leap, date(2021, 2, 28)) == "short"
    assert lot_term(leap, date(2021, 3, 1)) == "long"
    # A holding period carried over by a wash sale counts from `holding_from`.
    carried = Lot(acquired_on=date(2023, 2, 15), holding_from=date(2022, 1, 3))
    assert lot_term(carried, date(2023, 1, 4)) == "long"


def test_tax_min_orders_short_losses_long_losses_long_gains_short_gains():
    day, price = date(2023, 6, 1), Decimal("100")
    old, recent = date(2021, 1, 4), date(2023, 1, 3)

    def lot(pk: int, acquired: date, cost: str) -> Lot:
        return Lot(pk=pk, acquired_on=acquired, quantity=Decimal(1), unit_cost=Decimal(cost))

    lots = [
        lot(1, recent, "95"),  # short gain +5
        lot(2, recent, "99"),  # short gain +1
        lot(3, old, "90"),  # long gain +10
        lot(4, old, "104"),  # long loss −4
        lot(5, recent, "103"),  # short loss −3
        lot(6, recent, "108"),  # short loss −8
        lot(7, old, "97"),  # long gain +3
    ]

    ordered = lots_order(lots, method=LotMethod.TAX_MIN, price=price, day=day)

    # short losses, largest first (6, 5); long losses (4); long gains, smallest first (7, 3);
    # short gains, smallest first (2, 1).
    assert [x.pk for x in ordered] == [6, 5, 4, 7, 3, 2, 1]


def test_hifo_counts_a_wash_sale_adjustment_in_the_basis():
    # 10 units at 100 with 150.00 of disallowed losses added: 115 a unit, above 110.
    adjusted = Lot(
        pk=1,
        acquired_on=date(2023, 1, 3),
        quantity=Decimal(10),
        remaining=Decimal(10),
        unit_cost=Decimal(100),
        basis_adjustment=Decimal("150.00"),
    )
    plain = Lot(pk=2, acquired_on=date(2023, 1, 2), quantity=Decimal(10), unit_cost=Decimal(110))

    ordered = lots_order([plain, adjusted], method=LotMethod.HIFO, price=Decimal(1), day=SALE_DAY)

    assert [x.pk for x in ordered] == [1, 2]
    assert lot_basis(adjusted) == Decimal("1150.00")


def test_lots_ordered_reads_the_accounts_method(three_lots):
    account, a, b, c = three_lots(LotMethod.HIFO)
    vti = Asset.objects.get(ticker="VTI")

    order = lots_ordered(account=account, asset=vti, price=Decimal(110), day=SALE_DAY)

    assert [lot.pk for lot in order] == [b.pk, c.pk, a.pk]


def test_explicit_lots_are_sold_first_then_the_method_order(three_lots):
    account, a, b, c = three_lots(LotMethod.TAX_MIN)

    # C named first: all 10 of it (+50 short), then tax_min's first pick, B, for the other 5.
    sales = sell(account, "VTI", "15", "110", SALE_DAY, lot_ids=[c.pk])

    assert [(s.lot_id, s.quantity, s.gain) for s in sales] == [
        (c.pk, Decimal("10"), Decimal("50.00")),
        (b.pk, Decimal("5"), Decimal("-75.00")),
    ]


def test_a_lot_that_is_not_open_in_the_account_cannot_be_named(three_lots):
    account, a, b, c = three_lots(LotMethod.FIFO)
    other = open_account()
    stranger = buy(other, "VTI", "1", "100", A_DAY)

    with pytest.raises(ValueError, match="not an open lot"):
        sell(account, "VTI", "1", "110", SALE_DAY, lot_ids=[stranger.pk])


# --- Proceeds split ----------------------------------------------------------------------------


def test_proceeds_split_pro_rata_to_units_and_sums_exactly():
    # 100.00 over three equal parts: 33.33 each is 99.99; the spare cent goes to the first of
    # the equal remainders.
    assert proceeds_split(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    # 10.00 over 1 : 2 units = 3.333… and 6.666…: floors 3.33 + 6.66 = 9.99, and the spare
    # cent goes to the larger remainder (0.00666… vs 0.00333…): 3.33 and 6.67.
    assert proceeds_split(Decimal("10.00"), [Decimal(1), Decimal(2)]) == [
        Decimal("3.33"),
        Decimal("6.67"),
    ]


def test_a_sale_over_three_lots_allocates_the_fills_cash_to_the_cent():
    account = open_account(lot_method=LotMethod.FIFO)
    for day in (date(2023, 1, 3), date(2023, 1, 4), date(2023, 1, 5)):
        buy(account, "AGG", "1", "100", day)

    # 3 units at 33.3333 pay 99.99 (99.9999 rounded down): 33.33 each is 99.99 already.
    # With a price of 33.3334: 100.0002 → 100.00; 33.33 × 3 = 99.99, the spare cent to lot 1.
    sales = sell(account, "AGG", "3", "33.3334", date(2023, 2, 1))

    assert [s.proceeds for s in sales] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert sum(s.proceeds for s in sales) == Decimal("100.00")


# --- Reads -------------------------------------------------------------------------------------


def test_open_lots_as_of_a_past_day_adds_back_later_sales(three_lots):
    account, a, b, c = three_lots(LotMethod.FIFO)
    sell(account, "VTI", "15", "110", SALE_DAY)

    now = {lot.pk: lot.remaining for lot in open_lots(account=account)}
    before = {lot.pk: lot.remaining for lot in open_lots(account=account, day=date(2023, 3, 1))}

    assert now == {b.pk: Decimal("5"), c.pk: Decimal("10")}
    assert before == {a.pk: Decimal("10"), b.pk: Decimal("10"), c.pk: Decimal("10")}


def test_unrealised_values_each_lot_at_the_close(db, tmp_path):
    account = open_account()
    day = date(2023, 6, 9)
    market.prices_load(path=_prices(tmp_path, {day: {"VTI": "210"}}))
    lot = buy(account, "VTI", "2.5", "200", date(2022, 6, 8))

    (row,) = unrealised(account=account, day=day)

    # 2.5 × 210 = 525.00 against 2.5 × 200 = 500.00: +25.00; held a year and a day: long.
    assert (row.lot.pk, row.price, row.value, row.cost_basis, row.gain, row.term) == (
        lot.pk,
        Decimal("210.0000"),
        Decimal("525.00"),
        Decimal("500.00"),
        Decimal("25.00"),
        "long",
    )


def test_realised_gains_report_only_taxable_accounts_by_term(three_lots):
    account, a, b, c = three_lots(LotMethod.FIFO)
    sell(account, "VTI", "15", "110", SALE_DAY)  # +100 long (A), −75 short (B)
    ira = open_account(client=account.client, account_type=Goal.AccountType.ROTH_IRA)
    buy(ira, "VTI", "1", "100", A_DAY)
    sell(ira, "VTI", "1", "150", SALE_DAY)  # not reportable

    gains = realised_gains(client=account.client, year=2023)

    assert (gains.long_term.proceeds, gains.long_term.cost_basis, gains.long_term.gain) == (
        Decimal("1100.00"),
        Decimal("1000.00"),
        Decimal("100.00"),
    )
    assert (gains.short_term.proceeds, gains.short_term.gain) == (
        Decimal("550.00"),
        Decimal("-75.00"),
    )
    assert gains.total.gain == Decimal("25.00")
    assert len(gains.sales) == 2
    assert realised_gains(client=account.client, year=2022).sales == []
    assert realised_gains(client=account.client, year=2023, account=ira).sales == []


def _prices(tmp_path, days: dict[date, dict[str, str]]):
    from .conftest import BASE_PRICES, write_prices

    return write_prices(
        tmp_path / f"p{len(list(tmp_path.iterdir()))}.csv",
        {day: {**BASE_PRICES, **prices} for day, prices in days.items()},
    )


# --- Invariants over random sequences ------------------------------------------------------------


def _total(values) -> Decimal:
    return sum(values, Decimal(0))


def assert_lots_consistent(client_id: int, sale_cash: dict[int, Decimal]) -> None:
    """Σ open lot units = the position; Σ a sale's lot proceeds = the fill's cash; each lot's
    realised gain = Σ its sales' gains; wash sales within each sale's loss and units."""
    from portfolios.models import WashSale

    for position in Position.objects.filter(account__client_id=client_id):
        lots = Lot.objects.filter(account=position.account, asset=position.asset)
        assert _total(lots.values_list("remaining", flat=True)) == position.quantity
    for txn_id, cash in sale_cash.items():
        proceeds = LotSale.objects.filter(transaction_id=txn_id).values_list("proceeds", flat=True)
        assert _total(proceeds) == cash
    for lot in Lot.objects.filter(account__client_id=client_id):
        sales = lot.sales.all()
        assert lot.realised_gain == _total(s.gain for s in sales)
        assert _total(s.quantity for s in sales) == lot.quantity - lot.remaining
        washes = WashSale.objects.filter(replacement=lot)
        assert lot.washed_units == _total(w.units for w in washes) <= lot.quantity
        assert lot.basis_adjustment == _total(w.basis_added for w in washes)
    for sale in LotSale.objects.filter(account__client_id=client_id):
        washes = WashSale.objects.filter(sale=sale)
        assert sale.wash_disallowed == _total(w.disallowed for w in washes)
        assert sale.washed_units == _total(w.units for w in washes) <= sale.quantity
        if washes:
            assert sale.gain < 0
            assert sale.wash_disallowed <= -sale.gain
            assert sale.account.goal.account_type == Goal.AccountType.TAXABLE


STEP = st.tuples(
    st.integers(min_value=0, max_value=1),  # account: taxable or IRA
    st.sampled_from(["VTI", "AGG"]),
    st.booleans(),  # buy or sell
    st.decimals(min_value="0.001", max_value="20", places=3),  # units (a sale: a fraction held)
    st.decimals(min_value="50", max_value="150", places=2),  # price
    st.integers(min_value=0, max_value=20),  # days since the previous step
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=14), method=st.sampled_from(LotMethod.values))
def test_lots_stay_consistent_over_random_trades(db, steps, method):
    client = ClientFactory()
    accounts = [
        open_account(client=client, lot_method=method),
        open_account(client=client, account_type=Goal.AccountType.TRADITIONAL_IRA),
    ]
    day = date(2022, 1, 3)
    sale_cash: dict[int, Decimal] = {}
    for which, ticker, is_buy, units, price, gap in steps:
        account, day = accounts[which], day + timedelta(days=gap)
        if is_buy:
            trade(account, ticker, str(units), str(price), day)
            continue
        held = Position.objects.filter(account=account, asset__ticker=ticker).first()
        if held is None or held.quantity <= 0:
            continue
        quantity = min(held.quantity, (held.quantity * units / 20).quantize(Decimal("0.00000001")))
        if quantity <= 0:
            continue
        txn = trade(account, ticker, str(-quantity), str(price), day)
        sale_cash[txn.pk] = money_down(quantity * price)

    assert_lots_consistent(client.pk, sale_cash)
    for account in accounts:
        assert_ledger_consistent(account)
