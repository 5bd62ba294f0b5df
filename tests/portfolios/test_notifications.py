"""Notifications (#14) raised by the portfolios floor: deposits and withdrawals, executed
rebalances, goals moving off track; one notice per event, whatever reruns."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from advisor.models import GoalTrack, Notification
from nlp.projections import projections_compute_batch
from portfolios import market, projections, services
from portfolios.models import GoalProjection, MarketAssumptions, RebalanceProposal
from portfolios.notices import cash_flow_notify, goal_track_check, rebalance_notify

from ..factories import AdvisorFactory
from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def notices(user, kind=None) -> list[Notification]:
    rows = Notification.objects.filter(user=user)
    return list(rows.filter(kind=kind) if kind else rows)


def test_a_deposit_and_a_withdrawal_notify_once_each(account, django_capture_on_commit_callbacks):
    user = account.client.user
    with django_capture_on_commit_callbacks(execute=True):
        deposit = services.deposit_make(account=account, amount=Decimal("1000.00"))
        withdrawal = services.withdrawal_make(account=account, amount=Decimal("100.00"))
    cash_flow_notify(txn=deposit.transaction)  # the hook run again
    cash_flow_notify(txn=withdrawal.transaction)
    titles = sorted(n.title for n in notices(user, Kind.CASH_FLOW))
    assert titles == ["Deposit of 1,000.00 USD done", "Withdrawal of 100.00 USD done"]
    assert sorted(m.subject for m in mail.outbox) == titles


def test_a_replayed_deposit_of_the_demo_history_notifies_nothing(account, market_day):
    services.deposit_make(account=account, amount=Decimal("1000.00"), day=market_day)
    assert notices(account.client.user) == []


def test_an_executed_rebalance_notifies_once(account, tmp_path, market_data):
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    rally = {**BASE_PRICES, "VTI": "320"}
    market.prices_load(
        path=write_prices(tmp_path / "rally.csv", {market_data + timedelta(days=1): rally})
    )
    proposal = services.rebalance_propose(account=account)
    assert proposal is not None
    services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())
    rebalance_notify(proposal=RebalanceProposal.objects.get(pk=proposal.pk))
    [notice] = notices(account.client.user, Kind.REBALANCE)
    assert notice.link == f"/goals/{account.goal_id}"


def test_a_rejected_rebalance_notifies_nothing(account, tmp_path, market_data):
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    rally = {**BASE_PRICES, "VTI": "320"}
    market.prices_load(
        path=write_prices(tmp_path / "rally.csv", {market_data + timedelta(days=1): rally})
    )
    proposal = services.rebalance_propose(account=account)
    services.rebalance_decide(proposal=proposal, approve=False, actor=AdvisorFactory())
    assert notices(account.client.user, Kind.REBALANCE) == []


@pytest.fixture
def plan_goal(account, approved_set):
    MarketAssumptions.objects.filter(pk=approved_set.assumptions_id).update(
        data={
            "tickers": ["VTI", "AGG", "BIL"],
            "expected_returns": [0.07, 0.035, 0.02],
            "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
        }
    )
    goal = account.goal
    goal.priority = "need"
    goal.save()
    return goal


def ready(goal, probability: float, **what_if) -> GoalProjection:
    inputs = projections.projection_inputs(goal=goal, **what_if)
    return GoalProjection.objects.create(
        goal=goal,
        inputs_hash=projections.inputs_hash(inputs),
        inputs=inputs,
        status=GoalProjection.Status.READY,
        result={"probability": probability},
    )


def test_a_plans_projection_below_the_band_notifies_once_and_a_what_if_never(plan_goal):
    user = plan_goal.client.user
    GoalTrack.objects.create(goal=plan_goal, on_track=True, probability=0.9)
    what_if = ready(plan_goal, 0.1, monthly_contribution=Decimal("1.00"))
    assert goal_track_check(projection_id=what_if.pk) is None
    plan = ready(plan_goal, 0.3)
    goal_track_check(projection_id=plan.pk)
    goal_track_check(projection_id=plan.pk)
    [notice] = notices(user, Kind.GOAL_OFF_TRACK)
    assert notice.link == f"/goals/{plan_goal.pk}"
    assert "30%" in notice.body


def pending(goal, **what_if) -> GoalProjection:
    inputs = projections.projection_inputs(goal=goal, **what_if)
    return GoalProjection.objects.create(
        goal=goal, inputs_hash=projections.inputs_hash(inputs), inputs=inputs
    )


def test_the_batch_records_a_goals_plan_but_neither_a_what_if_nor_a_plan_replaced_since(
    plan_goal, settings
):
    # given: the goal seen on track, a plan replaced since by a deposit, and a gloomy what-if
    settings.PROJECTION_PATHS = 500
    GoalTrack.objects.create(goal=plan_goal, on_track=True, probability=0.99)
    replaced = pending(plan_goal)
    services.deposit_make(account=plan_goal.account, amount=Decimal("5000.00"))
    what_if = pending(plan_goal, monthly_contribution=Decimal("1.00"))

    # when: the daily batch's task computes them
    assert projections_compute_batch(projection_ids=[replaced.pk, what_if.pk]) == 2

    # then: neither says anything about the goal
    assert GoalTrack.objects.get(goal=plan_goal).probability == 0.99

    # when: the current plan is computed
    plan = pending(plan_goal)
    projections_compute_batch(projection_ids=[plan.pk])

    # then: its chance is the goal's
    plan.refresh_from_db()
    assert GoalTrack.objects.get(goal=plan_goal).probability == plan.result["probability"]
