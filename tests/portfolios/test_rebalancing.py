"""Rebalancing proposals, approval and execution, recurring deposits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from portfolios import market, services, valuation
from portfolios.models import RebalanceProposal, RecurringDeposit, Transaction

from ..factories import AdvisorFactory
from .conftest import BASE_PRICES, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifted(account, tmp_path, market_data):
    """An account at target, then a 60% stock rally: well past the 3% threshold."""
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    rally = {**BASE_PRICES, "VTI": "320"}
    market.prices_load(
        path=write_prices(tmp_path / "rally.csv", {market_data + timedelta(days=1): rally})
    )
    return account


def test_no_proposal_while_drift_is_within_the_threshold(account):
    services.deposit_make(account=account, amount=Decimal("10000.00"))

    assert services.rebalance_propose(account=account) is None


def test_drift_past_the_threshold_proposes_trades_with_weights_and_a_reason(drifted):
    proposal = services.rebalance_propose(account=drifted)

    assert proposal.status == RebalanceProposal.Status.PENDING
    assert proposal.drift > Decimal("0.03")
    assert {t["ticker"]: t["side"] for t in proposal.trades}["VTI"] == "sell"
    assert "us equity" in proposal.reason
    assert "over target" in proposal.reason
    assert Decimal(proposal.before_weights["VTI"]) > Decimal(proposal.after_weights["VTI"])


def test_proposing_twice_on_one_market_date_keeps_one_proposal(drifted):
    first = services.rebalance_propose(account=drifted)
    second = services.rebalance_propose(account=drifted)

    assert first == second
    assert RebalanceProposal.objects.count() == 1


def test_an_approved_proposal_trades_back_to_target_and_is_audited(drifted):
    proposal = services.rebalance_propose(account=drifted)
    advisor = AdvisorFactory()

    services.rebalance_decide(proposal=proposal, approve=True, actor=advisor)

    proposal.refresh_from_db()
    weights = valuation.account_value(account=drifted).weights()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert proposal.executed_transaction.kind == Transaction.Kind.TRADE
    assert valuation.class_drift(weights, valuation.target_weights(account=drifted)) < Decimal(
        "0.005"
    )
    decision = LogEntry.objects.get_for_object(proposal).first().changes_dict
    assert decision["status"] == ["pending", "executed"]
    assert decision["decided_by"][1] == str(advisor.pk)
    assert_ledger_consistent(drifted)


def test_a_rejected_proposal_trades_nothing_and_cannot_be_decided_again(drifted):
    proposal = services.rebalance_propose(account=drifted)

    services.rebalance_decide(proposal=proposal, approve=False, actor=AdvisorFactory())

    assert not Transaction.objects.filter(kind="trade").exists()
    with pytest.raises(ValidationError):
        services.rebalance_decide(proposal=proposal, approve=True, actor=None)


def test_auto_execution_is_a_setting(drifted, settings):
    settings.REBALANCE_AUTO_EXECUTE = True

    proposal = services.rebalance_propose(account=drifted)

    assert proposal.status == RebalanceProposal.Status.EXECUTED


def test_a_recurring_deposit_pays_once_per_scheduled_date_whatever_reruns(account):
    recurring = services.recurring_deposit_create(
        account=account, amount=Decimal("250.00"), day_of_month=5
    )
    due = recurring.next_run

    assert services.recurring_deposits_run(today=due - timedelta(days=1)) == 0
    assert services.recurring_deposits_run(today=due) == 1
    assert services.recurring_deposits_run(today=due) == 0
    recurring.refresh_from_db()
    assert recurring.next_run.day == 5
    assert recurring.next_run > due
    assert Transaction.objects.filter(kind="deposit").count() == 1


def test_a_cancelled_recurring_deposit_never_runs(account):
    recurring = services.recurring_deposit_create(
        account=account, amount=Decimal("250.00"), day_of_month=1
    )
    services.recurring_deposit_cancel(recurring=recurring)

    assert services.recurring_deposits_run(today=date(2100, 1, 1)) == 0
    assert RecurringDeposit.objects.get().active is False


def test_a_recurring_day_after_the_28th_is_refused(account):
    with pytest.raises(ValidationError):
        services.recurring_deposit_create(account=account, amount=Decimal("10.00"), day_of_month=31)
