"""Old projections are purged: what-ifs and superseded plans, never what a surface can show."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolios import projections
from portfolios.models import GoalProjection

from ..factories import GoalFactory

pytestmark = pytest.mark.django_db


def stored(goal, *, market_date, age_days: int, tag: str) -> GoalProjection:
    """A projection asked `age_days` ago for inputs of `market_date` (a what-if or a plan)."""
    inputs = {"market_date": market_date.isoformat(), "monthly_contribution": tag}
    row = GoalProjection.objects.create(
        goal=goal, inputs_hash=projections.inputs_hash(inputs), inputs=inputs
    )
    GoalProjection.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return row


def test_old_what_ifs_and_superseded_plans_go_and_what_can_be_shown_stays(market_data):
    # given: a goal with projections of an old market date (a what-if and a superseded plan,
    # both 40 days old), a recent what-if of that date, one for today's market date asked long
    # ago (the market has not moved since: the current plan, shown everywhere), and its latest
    today, before = market_data, market_data - timedelta(days=45)
    goal = GoalFactory()
    old_what_if = stored(goal, market_date=before, age_days=40, tag="what-if")
    old_plan = stored(goal, market_date=before, age_days=40, tag="plan")
    recent_what_if = stored(goal, market_date=before, age_days=5, tag="recent")
    current_plan = stored(goal, market_date=today, age_days=35, tag="current")
    # a row from before the inputs named their market date
    legacy = GoalProjection.objects.create(goal=goal, inputs_hash="0" * 64, inputs={"v": 1})
    GoalProjection.objects.filter(pk=legacy.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    latest = stored(goal, market_date=before, age_days=31, tag="latest")
    # and another goal whose only projection is old: its latest, kept
    lone = stored(GoalFactory(), market_date=before, age_days=90, tag="lone")

    # when
    deleted = projections.what_if_projections_purge()
    again = projections.what_if_projections_purge()

    # then
    left = set(GoalProjection.objects.values_list("pk", flat=True))
    assert left == {recent_what_if.pk, current_plan.pk, latest.pk, lone.pk}
    assert {old_what_if.pk, old_plan.pk, legacy.pk}.isdisjoint(left)
    assert (deleted, again) == (3, 0)


def test_the_age_is_configurable(market_data):
    goal = GoalFactory()
    week_old = stored(goal, market_date=market_data - timedelta(days=9), age_days=8, tag="a")
    stored(goal, market_date=market_data, age_days=0, tag="b")

    assert projections.what_if_projections_purge(older_than=timedelta(days=30)) == 0
    assert projections.what_if_projections_purge(older_than=timedelta(days=7)) == 1
    assert not GoalProjection.objects.filter(pk=week_old.pk).exists()


def test_without_market_data_nothing_is_purged(db):
    goal = GoalFactory(target_amount=Decimal("1000.00"))
    GoalProjection.objects.create(goal=goal, inputs_hash="1" * 64, inputs={})
    GoalProjection.objects.create(goal=goal, inputs_hash="2" * 64, inputs={})
    GoalProjection.objects.update(created_at=timezone.now() - timedelta(days=90))

    assert projections.what_if_projections_purge() == 0
    assert GoalProjection.objects.count() == 2
