"""Fund slots: a holding of a tax-loss-harvesting alternate (SPY for VTI) counts toward its
primary's target, and every purchase buys `purchase_ticker`'s choice: the alternate where the
account holds it, and the other fund of the pair where buying the first would wash a loss the
client took in a taxable account within 30 days, in any of the client's accounts.

The story the tests share: on 9 June 2023 (the fixture's close) the bold client's taxable
account A is funded with 10,000, buying VTI at 200. On 12 June VTI closes at 180 and A is
emptied, selling its VTI at a loss of 20 a unit: for 30 days a VTI purchase by this client
would wash that loss.

A second account B that already holds VTI is funded on 1 May, more than 30 days before the
loss: a VTI purchase within the 30 days before it would be its replacement (the ledger washes
the loss against it), and then nothing is left to block."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from advisor.models import Goal
from portfolios import market, services, valuation
from portfolios.exceptions import RebalanceStale
from portfolios.models import LotSale, Position, RebalanceProposal, WashSale
from portfolios.services.purchases import purchase_ticker

from ..factories import AdvisorFactory, GoalFactory
from .conftest import BASE_PRICES, write_prices
from .test_ledger import assert_ledger_consistent
from .test_rebalance_integrity import ledger_lines, proposed_lines

pytestmark = pytest.mark.django_db

DAY0 = date(2023, 5, 1)
DAY1 = date(2023, 6, 9)
DAY2 = date(2023, 6, 12)


def _prices(tmp_path, day: date, **closes: str) -> None:
    market.prices_load(path=write_prices(tmp_path / f"{day}.csv", {day: {**BASE_PRICES, **closes}}))


def _other_account(client, account_type: str = Goal.AccountType.TAXABLE):
    goal = GoalFactory(
        client=client,
        goal_type="retirement",
        name=f"Another {account_type}",
        account_type=account_type,
        target_date=timezone.localdate() + timedelta(days=25 * 365),
    )
    return goal.account


def _held(account) -> set[str]:
    return set(
        Position.objects.filter(account=account, quantity__gt=0).values_list(
            "asset__ticker", flat=True
        )
    )


def _empty(account) -> None:
    total = valuation.account_value(account=account).total
    services.withdrawal_make(account=account, amount=total)


def _funded_on_1_may(client, tmp_path):
    _prices(tmp_path, DAY0)
    b = _other_account(client)
    services.deposit_make(account=b, amount=Decimal("10000.00"), day=DAY0)
    return b


@pytest.fixture
def vti_loss(account, tmp_path, market_data):
    """Account A funded on 9 June, emptied on 12 June with VTI down from 200 to 180."""
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    _prices(tmp_path, DAY2, VTI="180")
    _empty(account)
    assert LotSale.objects.filter(account=account, asset__ticker="VTI", gain__lt=0).exists()
    return account


def test_a_fund_without_a_pair_is_bought_itself(account, market_data):
    assert purchase_ticker(account=account, primary="BIL", day=DAY1) == "BIL"
    assert purchase_ticker(account=account, primary="VTI", day=DAY1) == "VTI"


def test_after_a_vti_loss_a_deposit_in_another_account_buys_spy_and_shows_no_drift(vti_loss):
    other = _other_account(vti_loss.client)

    result = services.deposit_make(account=other, amount=Decimal("10000.00"))

    # VTI is wash-blocked on 12 June, SPY (another index) is not: the VTI slot buys SPY.
    assert {f.asset.ticker for f in result.fills} == {"SPY", "AGG", "BIL"}
    assert _held(other) == {"SPY", "AGG", "BIL"}
    value = valuation.account_value(account=other)
    targets = valuation.target_weights(account=other)
    # SPY holds VTI's place: drift by asset class is nil, and no rebalance is proposed.
    assert valuation.class_drift(value.weights(), targets) < Decimal("0.001")
    assert services.rebalance_propose(account=other) is None
    assert not WashSale.objects.exists()
    assert_ledger_consistent(other)


def test_an_ira_purchase_is_steered_away_from_a_taxable_loss_too(vti_loss):
    ira = _other_account(vti_loss.client, Goal.AccountType.TRADITIONAL_IRA)

    result = services.deposit_make(account=ira, amount=Decimal("5000.00"))

    # A VTI purchase in the IRA would wash A's loss for good (Rev. Rul. 2008-5): SPY instead.
    assert "SPY" in {f.asset.ticker for f in result.fills}
    assert "VTI" not in _held(ira)
    assert not WashSale.objects.exists()


def test_an_account_holding_the_alternate_keeps_buying_it_after_the_window(vti_loss, tmp_path):
    other = _other_account(vti_loss.client)
    services.deposit_make(account=other, amount=Decimal("10000.00"))  # buys SPY on 12 June
    later = DAY2 + timedelta(days=40)  # the wash window has closed
    _prices(tmp_path, later, VTI="180")

    into_other = services.deposit_make(account=other, amount=Decimal("3000.00"))
    into_a = services.deposit_make(account=vti_loss, amount=Decimal("3000.00"))

    # The other account holds SPY: SPY stays until a switch-back. A holds none: VTI again.
    assert "SPY" in {f.asset.ticker for f in into_other.fills}
    assert "VTI" not in _held(other)
    assert "VTI" in {f.asset.ticker for f in into_a.fills}
    assert "SPY" not in _held(vti_loss)


def test_a_rebalance_of_an_account_with_both_funds_sells_the_alternate_first(
    bold_client, account, tmp_path, market_data
):
    # given: B funded on 1 May (VTI); A's VTI loss on 12 June; B's 2,000 on 12 June buys SPY
    b = _funded_on_1_may(bold_client, tmp_path)
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    _prices(tmp_path, DAY2, VTI="180")
    _empty(account)
    services.deposit_make(account=b, amount=Decimal("2000.00"))
    assert {"VTI", "SPY"} <= _held(b)
    # when: US equity rallies 50% on 13 June, well over target
    _prices(tmp_path, DAY2 + timedelta(days=1), VTI="270", SPY="645")
    proposal = services.rebalance_propose(account=b)

    # then: by hand. 1 May: 6,000 VTI (30 units at 200), 3,500 AGG, 500 BIL. 12 June: VTI at
    # 180 makes 9,400; the 2,000 fills the gaps to 60/35/5 of 11,400 exactly: 1,440 of SPY
    # (VTI's slot), 490 AGG, 70 BIL. 13 June: 30 × 270 + 1,440 × 645/430 = 8,100 + 2,160 =
    # 10,260 of US equity in 14,820, against 0.6 × 14,820 = 8,892: 1,368 over, all of it from
    # SPY (the alternate, 2,160 held); VTI is not touched
    sells = [(t["ticker"], t["value"]) for t in proposal.trades if t["side"] == "sell"]
    assert sells == [("SPY", "1368.00")]
    services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())
    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert ledger_lines(proposal.executed_transaction) == proposed_lines(proposal)
    assert_ledger_consistent(b)


def test_a_rebalance_buys_the_alternate_held_and_executes_exactly_as_shown(vti_loss, tmp_path):
    # given: the other account holds SPY in VTI's slot; bonds rally 60% on 13 June
    other = _other_account(vti_loss.client)
    services.deposit_make(account=other, amount=Decimal("10000.00"))
    _prices(tmp_path, DAY2 + timedelta(days=1), VTI="180", AGG="160")

    proposal = services.rebalance_propose(account=other)

    # then: AGG is sold and VTI's slot is topped up with SPY, never VTI
    sides = {(t["ticker"], t["side"]) for t in proposal.trades}
    assert ("AGG", "sell") in sides
    assert ("SPY", "buy") in sides
    assert "VTI" not in {t["ticker"] for t in proposal.trades}
    assert proposal.state["purchases"] == {"VTI": "SPY"}
    services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())
    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert ledger_lines(proposal.executed_transaction) == proposed_lines(proposal)
    assert_ledger_consistent(other)


def test_a_proposal_is_stale_when_a_loss_elsewhere_switches_the_fund_it_would_buy(
    bold_client, account, tmp_path, market_data
):
    # given: B funded on 1 May, A on 9 June; on 12 June VTI falls and bonds rally, so B's
    # proposal buys VTI (nothing blocks it yet)
    b = _funded_on_1_may(bold_client, tmp_path)
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    _prices(tmp_path, DAY2, VTI="180", AGG="160")
    proposal = services.rebalance_propose(account=b)
    assert ("VTI", "buy") in {(t["ticker"], t["side"]) for t in proposal.trades}

    # when: A sells its VTI at a loss, and then B's proposal is approved
    _empty(account)
    with pytest.raises(RebalanceStale) as stale:
        services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())

    # then: nothing executed; the fresh proposal buys SPY in VTI's slot
    assert "the fund a purchase buys changed (VTI → SPY)" in stale.value.message
    assert "were corrected" not in stale.value.message
    fresh = RebalanceProposal.objects.get(pk=stale.value.extra["new_proposal"])
    assert ("SPY", "buy") in {(t["ticker"], t["side"]) for t in fresh.trades}
    assert "VTI" not in {t["ticker"] for t in fresh.trades if t["side"] == "buy"}


def test_a_withdrawal_sells_the_alternate_of_an_overweight_slot_first(
    bold_client, account, tmp_path, market_data
):
    # given: as above, B holds 30 VTI and 3.35 SPY, and US equity rallies 50% on 13 June
    b = _funded_on_1_may(bold_client, tmp_path)
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    _prices(tmp_path, DAY2, VTI="180")
    _empty(account)
    services.deposit_make(account=b, amount=Decimal("2000.00"))
    _prices(tmp_path, DAY2 + timedelta(days=1), VTI="270", SPY="645")

    result = services.withdrawal_make(account=b, amount=Decimal("1000.00"))

    # then: after the outflow 13,820 remains, US equity (10,260) is 1,968 over its 8,292
    # target, the only slot over: the 1,000 comes from it, and from SPY (2,160 held)
    assert [f.asset.ticker for f in result.fills] == ["SPY"]
    assert_ledger_consistent(b)
