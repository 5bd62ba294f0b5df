"""A goal's chance of success: one figure, its current plan's, on every surface; and the
inputs a professional would sign: money in the account, the glide path, costs, the market date."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from advisor import services as advisor_services
from nlp.chat import answers
from portfolios import projections, selectors, services, targets, valuation
from portfolios.models import GoalProjection, MarketAssumptions
from workspace import selectors as workspace

from ..factories import GoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assumptions(approved_set):
    """Three funds' assumptions matching the test model portfolios (VTI, AGG, BIL)."""
    MarketAssumptions.objects.filter(pk=approved_set.assumptions_id).update(
        data={
            "tickers": ["VTI", "AGG", "BIL"],
            "expected_returns": [0.07, 0.035, 0.02],
            "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
        }
    )


@pytest.fixture
def goal(account, assumptions):
    """A funded retirement goal of a client in an advisor's book, with a stretching target."""
    goal = account.goal
    goal.target_amount = Decimal("400000.00")
    goal.save()
    services.deposit_make(account=account, amount=Decimal("40000.00"))
    client = goal.client
    client.advisor = advisor_services.advisor_create(
        email="ada@example.test", password=None, first_name="Ada"
    )
    client.save()
    return goal


@pytest.fixture
def owner_api(goal) -> APIClient:
    api = APIClient()
    api.force_authenticate(goal.client.user)
    return api


def projection_url(goal) -> str:
    return f"/api/v1/goals/{goal.pk}/projection/"


def summary_goal(api: APIClient, goal) -> dict:
    summary = api.get("/api/v1/portfolio/summary/").json()
    return next(g for g in summary["goals"] if g["id"] == goal.pk)


def every_surface(api: APIClient, goal) -> dict[str, float | None]:
    """The goal's chance of success as each surface shows it."""
    advisor = goal.client.advisor
    off_track = {row.goal.pk: row.probability for row in workspace.off_track_goals(user=advisor)}
    client_page = {row.goal.pk: row for row in workspace.client_goals(client=goal.client)}
    chat = answers._projection(goal)
    return {
        "summary": summary_goal(api, goal)["probability"],
        "selector": selectors.goal_plan_projection(goal=goal).probability,
        "goal page": api.get(projection_url(goal)).json()["probability"],
        "workspace client page": client_page[goal.pk].probability,
        "workspace off-track list": off_track.get(goal.pk),
        "chat": chat.probability if chat else None,
    }


# --- One chance of success per goal -----------------------------------------------------------


def test_a_what_if_never_replaces_the_goals_chance_of_success(goal, owner_api):
    # given: the plan's projection, then a what-if at the same contribution but a later date
    plan = owner_api.get(projection_url(goal)).json()
    later = goal.target_date + timedelta(days=8 * 365)
    what_if = owner_api.get(projection_url(goal), {"target_date": later.isoformat()}).json()
    assert what_if["probability"] != plan["probability"]
    assert (plan["is_plan"], what_if["is_plan"]) == (True, False)

    # when / then: every surface shows the plan's chance
    surfaces = every_surface(owner_api, goal)
    assert set(surfaces.values()) == {plan["probability"]}, surfaces


def test_after_a_withdrawal_no_surface_shows_the_chance_from_before_it(goal, owner_api):
    # given: the plan projected, then a withdrawal that changes the money in the account
    before = owner_api.get(projection_url(goal)).json()["probability"]
    services.withdrawal_make(account=goal.account, amount=Decimal("30000.00"))

    # when: nothing has asked for the new plan's projection yet
    pending = selectors.goal_plan_projection(goal=goal)

    # then: the old chance is not reported as the goal's
    assert (pending.status, pending.probability) == ("pending", None)
    assert summary_goal(owner_api, goal)["probability"] is None
    assert summary_goal(owner_api, goal)["projection_status"] == "pending"

    # and once the plan is projected again, every surface shows its chance, and they agree
    after = owner_api.get(projection_url(goal)).json()["probability"]
    assert after < before
    surfaces = every_surface(owner_api, goal)
    assert set(surfaces.values()) == {after}, surfaces


def test_the_median_is_one_figure_on_the_api_the_workspace_and_the_chat(goal, owner_api):
    body = owner_api.get(projection_url(goal)).json()

    summary = summary_goal(owner_api, goal)
    client_page = workspace.client_goals(client=goal.client)[0]
    chat = answers._projection(goal)

    assert body["median_final_value"] == body["percentiles"]["p50"][-1]
    assert summary["median_final_value"] == body["median_final_value"]
    assert client_page.median_final_value == Decimal(body["median_final_value"])
    assert chat is not None
    assert chat.median_final_value == Decimal(body["median_final_value"])


FIGURES = {
    "probability": 0.5,
    "expected_final_value": 1800.0,
    "required_monthly_contribution": 10.0,
    "required_contribution_capped": False,
    "reachable_target": 1500.0,
}


def outcome_of(goal, result: dict) -> projections.ProjectionOutcome:
    """What a ready projection of the goal's plan holding `result` says, with its paths."""
    row = GoalProjection(goal=goal, status=GoalProjection.Status.READY, result=result)
    inputs = projections.projection_inputs(goal=goal)
    return projections.projection_outcome(
        goal_id=goal.pk, inputs=inputs, projection=row, is_plan=True, paths=True
    )


def test_a_result_stored_at_its_knots_is_drawn_month_by_month(goal):
    # given: a 24-month result as the worker stores it, the percentiles at months 0, 12 and 24
    knots = {name: [1000.0, 1600.0, 1900.0] for name in ("p10", "p50", "p90")}
    result = {**FIGURES, "months": 24, "knots": [0, 12, 24], "percentiles": knots}

    # when
    outcome = outcome_of(goal, result)

    # then: every month 0..24, each knot's value at its month, straight lines between them
    path = outcome.percentiles["p50"]
    assert len(path) == 25
    assert [path[m] for m in (0, 6, 12, 18, 24)] == [
        Decimal(v) for v in ("1000.00", "1300.00", "1600.00", "1750.00", "1900.00")
    ]
    assert outcome.median_final_value == Decimal("1900.00")


def test_a_result_stored_month_by_month_reads_as_it_was_stored(goal):
    # given: a result of the release before, its percentiles stored for every month
    monthly = [1000.0 + 12.5 * month for month in range(25)]
    result = {**FIGURES, "months": 24, "percentiles": {n: monthly for n in ("p10", "p50", "p90")}}

    outcome = outcome_of(goal, result)

    assert outcome.percentiles["p90"] == [
        Decimal(repr(v)).quantize(Decimal("0.01")) for v in monthly
    ]
    assert outcome.median_final_value == Decimal("1300.00")


def test_a_projection_stored_before_the_goal_changed_is_not_the_plans(goal, owner_api):
    owner_api.get(projection_url(goal))
    goal.target_amount = Decimal("500000.00")  # an old target's projection stays in the table
    goal.save()

    assert selectors.goal_plan_projection(goal=goal).status == "pending"
    assert GoalProjection.objects.filter(goal=goal, status="ready").count() == 1


# --- Inputs a professional would sign ---------------------------------------------------------


def test_an_unfunded_goal_starts_from_the_money_in_its_account_not_its_initial_amount(
    bold_client, assumptions
):
    goal = GoalFactory(client=bold_client, initial_amount=Decimal("25000.00"))
    services.account_open(goal=goal)

    inputs = projections.projection_inputs(goal=goal)

    assert inputs["initial_value"] == "0.00"


def test_the_start_is_the_accounts_value_at_the_market_date(goal):
    inputs = projections.projection_inputs(goal=goal)

    assert inputs["initial_value"] == str(valuation.account_value(account=goal.account).total)


def test_the_horizon_counts_from_the_market_date(goal, market_day):
    inputs = projections.projection_inputs(goal=goal)

    target = goal.target_date
    months = (target.year - market_day.year) * 12 + target.month - market_day.month
    months -= target.day < market_day.day
    assert inputs["market_date"] == market_day.isoformat()
    assert inputs["months"] == months


def test_the_projection_follows_the_glide_path_by_months_remaining(goal, market_day):
    # given: a retirement goal 15 years after the market date, for a bold client
    goal.target_date = date(market_day.year + 15, market_day.month, market_day.day)
    goal.save()

    inputs = projections.projection_inputs(goal=goal)

    # then: today's level for the first five years, then steps down to the floor
    levels = [level for _, level in inputs["levels"]]
    assert inputs["levels"][0] == [0, valuation.goal_level(goal=goal, today=market_day)]
    assert levels == sorted(levels, reverse=True)
    assert len(levels) > 2
    assert levels[-1] == min(levels[0], 3)
    # each step on the month whose months remaining first give its level (targets.glide_level)
    months = inputs["months"]

    def level_at(month: int) -> int:
        return targets.glide_level(
            risk_level=levels[0], goal_type=goal.goal_type, years_to_goal=(months - month) / 12
        )

    for month, level in inputs["levels"][1:]:
        assert (level_at(month - 1), level_at(month)) == (levels[levels.index(level) - 1], level)
    assert [step[0] for step in inputs["glide"]] == [month for month, _ in inputs["levels"][1:]]
    vti = inputs["tickers"].index("VTI")
    equity = [inputs["weights"][vti]] + [weights[vti] for _, weights in inputs["glide"]]
    assert equity == sorted(equity, reverse=True)  # less in stocks as the date nears


def test_goals_of_one_level_and_type_glide_alike_by_months_remaining():
    # given: two horizons a month apart: 10 years and 10 months, 10 years and 11 months
    shorter = projections.glide_steps(risk_level=8, goal_type="retirement", months=130)
    longer = projections.glide_steps(risk_level=8, goal_type="retirement", months=131)

    # then: the same levels at the same months remaining, so steps fall on any month
    assert shorter[0] == longer[0] == (0, 8)
    assert [(month + 1, level) for month, level in shorter[1:]] == longer[1:]
    assert shorter[1] == (11, 7)  # under 10 years (119 months) remaining, the glide begins


def test_every_plan_and_what_if_uses_the_projection_seed(goal, settings):
    assert projections.projection_inputs(goal=goal)["seed"] == 0

    settings.PROJECTION_SEED = 7
    later = goal.target_date + timedelta(days=400)

    assert projections.projection_inputs(goal=goal)["seed"] == 7
    assert projections.projection_inputs(goal=goal, target_date=later)["seed"] == 7


def test_the_advisory_fee_and_the_funds_expense_ratios_are_deducted(goal, settings):
    settings.ADVISORY_FEE_ANNUAL = Decimal("0.0025")

    inputs = projections.projection_inputs(goal=goal)

    assert inputs["monthly_fee"] == pytest.approx(0.0025 / 12)
    by_ticker = dict(zip(inputs["tickers"], inputs["monthly_expense"], strict=True))
    assert by_ticker["VTI"] == pytest.approx(0.0003 / 12)  # assets.csv


def test_scheduled_recurring_deposits_count_when_they_exceed_the_plan(goal):
    services.recurring_deposit_create(
        account=goal.account, amount=Decimal("900.00"), day_of_month=3
    )

    inputs = projections.projection_inputs(goal=goal)

    assert goal.monthly_contribution < Decimal("900.00")
    assert inputs["monthly_contribution"] == "900.00"


def test_the_plans_inputs_are_the_same_one_goal_at_a_time_or_many(goal, bold_client):
    other = GoalFactory(client=bold_client, name="Sabbatical")

    many = projections.plan_inputs(goals=[goal, other])

    assert many[goal.pk] == projections.projection_inputs(goal=goal)
    assert many[other.pk] == projections.projection_inputs(goal=other)


def test_the_plans_of_a_book_take_a_fixed_number_of_queries_whatever_its_clients(
    goal, bold_answers, django_assert_max_num_queries
):
    # given: three clients with two funded goals each (the workspace's off-track list reads all)
    goals = [goal, GoalFactory(client=goal.client, name="Sabbatical")]
    for _ in range(2):
        client = GoalFactory().client
        advisor_services.questionnaire_submit(
            client=client,
            version=goal.client.questionnaire_responses.get().version,
            answers=bold_answers,
        )
        goals += [GoalFactory(client=client), GoalFactory(client=client, name="Car")]
    for each in goals[1:]:
        services.deposit_make(account=services.account_open(goal=each), amount=Decimal("900.00"))
    goals = [type(goal).objects.select_related("client").get(pk=g.pk) for g in goals]

    # then: the market (3), the accounts' values and deposits (4), the clients' risk levels (2:
    # their latest responses, those responses' assessments), the stored rows (1)
    with django_assert_max_num_queries(10):
        plans = selectors.goal_plan_projections(goals=goals)

    assert {plan.status for plan in plans.values()} == {"pending"}
    assert len(plans) == 6


def funded_goals(client, count: int) -> list:
    goals = [GoalFactory(client=client, name=f"Goal {n}") for n in range(count)]
    for each in goals:
        services.deposit_make(account=services.account_open(goal=each), amount=Decimal("900.00"))
    return goals


def test_the_plans_are_queued_in_batches_and_each_stored_once(
    goal, settings, django_capture_on_commit_callbacks
):
    # given: five goals in progress and batches of two goals per task
    settings.PROJECTION_BATCH_GOALS = 2
    goals = [goal, *funded_goals(goal.client, 4)]

    # when: the daily job runs, then runs again before the worker got to its tasks
    with django_capture_on_commit_callbacks() as callbacks:
        queued = projections.plans_project()
        again = projections.plans_project()

    # then: one pending row per goal, queued as 3 + 3 batch tasks (the second run re-queues
    # the still pending ones: a lost message is not fatal)
    assert (queued, again) == (5, 5)
    assert len(callbacks) == 6
    assert GoalProjection.objects.filter(status=GoalProjection.Status.PENDING).count() == 5
    # when: the tasks run (eager), each computing its batch
    for callback in callbacks:
        callback()
    # then: every goal's plan ready, once; nothing left to queue
    assert GoalProjection.objects.filter(status=GoalProjection.Status.READY).count() == 5
    assert projections.plans_project() == 0
    for each in goals:
        assert selectors.goal_plan_projection(goal=each).status == "ready"


def test_the_plans_of_an_account_id_range_only(goal, django_capture_on_commit_callbacks):
    # given: goals with accounts, and a goal without one
    goals = [goal, *funded_goals(goal.client, 3)]
    unfunded = GoalFactory(client=goal.client, name="Not yet funded")
    accounts = sorted(g.account.pk for g in goals)

    with django_capture_on_commit_callbacks():
        # when: the daily batch's fan-out takes [second account, last account)
        in_range = projections.plans_project(account_range=(accounts[1], accounts[-1]))
        # then: the goals of the two accounts in it, not the unfunded goal
        assert in_range == 2
        asked = set(GoalProjection.objects.values_list("goal__account__pk", flat=True))
        assert asked == set(accounts[1:3])
        # and without a range: every goal, the unfunded one too
        assert projections.plans_project() == 5
    assert GoalProjection.objects.filter(goal=unfunded).exists()


def test_projecting_a_book_takes_a_fixed_number_of_queries(
    goal, bold_answers, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # given: three clients with eight goals, six of them funded
    for _ in range(2):
        client = GoalFactory().client  # and its first goal, unfunded
        advisor_services.questionnaire_submit(
            client=client,
            version=goal.client.questionnaire_responses.get().version,
            answers=bold_answers,
        )
        funded_goals(client, 2)
    funded_goals(goal.client, 1)

    # then: the goals (2), their plans' inputs (a fixed number), the rows (read, insert, read)
    with django_capture_on_commit_callbacks(), django_assert_max_num_queries(16):
        assert projections.plans_project() == 8


# --- The API: money as decimal strings, and what would work instead -----------------------------


def test_projection_money_is_sent_as_decimal_strings(goal, owner_api):
    body = owner_api.get(projection_url(goal)).json()

    for field in (
        "initial_value",
        "monthly_contribution",
        "target_amount",
        "median_final_value",
        "expected_final_value",
        "required_monthly_contribution",
        "reachable_target",
    ):
        assert isinstance(body[field], str), field
        assert Decimal(body[field]) == Decimal(body[field]).quantize(Decimal("0.01"))
    assert all(isinstance(v, str) for path in body["percentiles"].values() for v in path)
    assert body["market_date"] == selectors.market_date_get().isoformat()


def test_an_unreachable_target_says_the_contribution_is_capped_and_what_would_work(
    goal, owner_api, approved_set
):
    # given: markets assumed to lose 60% a year, so no contribution up to the cap
    # (10 x target / months) reaches the target four times in five
    MarketAssumptions.objects.filter(pk=approved_set.assumptions_id).update(
        data={
            "tickers": ["VTI", "AGG", "BIL"],
            "expected_returns": [-0.6, -0.6, -0.6],
            "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
        }
    )

    body = owner_api.get(projection_url(goal)).json()

    assert body["required_contribution_capped"] is True
    assert body["required_monthly_contribution"] is None  # not "the contribution for 80%"
    assert Decimal("0") < Decimal(body["reachable_target"]) < goal.target_amount


def test_a_reachable_target_gives_the_contribution_for_80_percent(goal, owner_api):
    body = owner_api.get(projection_url(goal)).json()

    assert body["required_contribution_capped"] is False
    plugged = owner_api.get(
        projection_url(goal), {"monthly_contribution": body["required_monthly_contribution"]}
    ).json()
    assert plugged["probability"] >= 0.79
