"""Goal projections: inputs from the goal, its account and the market assumptions; the Monte
Carlo itself runs in the ml worker (nlp.inference.projection, torch).

A goal's chance of success is its *current plan's* projection: the one for the inputs
`projection_inputs(goal=goal)` gives now, with no what-ifs. The inputs hold everything that
changes the answer — the money in the account, the contribution, the target, the glide path's
levels, the assumptions, the advisory fee and the funds' expense ratios, the market date — so
the inputs' hash is the link between a goal and its plan's projection: it moves whenever any of
them changes, and a what-if (other inputs, another hash) can never stand in for it.
"""

import functools
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from advisor.models import Goal, QuestionnaireResponse, RiskAssessment
from advisor.selectors import final_assessment
from config.celery import enqueue, enqueue_on_commit, result_wait

from . import targets
from .exceptions import MarketDataMissing
from .fan_chart import monthly_path
from .market import closes_on, market_date_get
from .models import (
    Account,
    Asset,
    GoalProjection,
    MarketAssumptions,
    ModelPortfolio,
    ModelPortfolioSet,
    Position,
    RecurringDeposit,
)
from .money import money, money_value
from .valuation import advisory_fee_annual

logger = logging.getLogger(__name__)

# Bumped when the inputs' meaning changes, so a projection stored under the old meaning is
# never taken for the plan's. 2: glide path, costs, horizon from the market date, money in the
# account only, money as decimal strings. 3: the glide path by months remaining (steps on any
# month) and one seed for every goal (PROJECTION_SEED), computed with shared draws and the
# percentiles at yearly knots (nlp.inference.projection).
INPUTS_FORMAT = 3


class ProjectionUnavailable(Exception):
    """The goal cannot be projected yet; the message says what is missing."""


def _months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end`, at least one."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 1)


def glide_steps(*, risk_level: int, goal_type: str, months: int) -> list[tuple[int, int]]:
    """(first month, level) wherever the glide level changes: month t holds the level of its
    months remaining, `targets.glide_level(years_to_goal=(months - t) / 12)`, the level the goal's
    account is rebalanced to as its date nears (`valuation.goal_level`). Read by months
    remaining, every goal of a level and goal type has the same schedule, so their projections
    share their draws (`nlp.inference.projection`). A step may fall on any month; a glide runs
    from the client's level down to the floor, so there are a few steps at most."""
    return list(_glide_steps(risk_level, goal_type, months))


@functools.lru_cache(maxsize=4096)
def _glide_steps(risk_level: int, goal_type: str, months: int) -> tuple[tuple[int, int], ...]:
    # Cached: a book's goals share a few (level, type) pairs, and a horizon is one of 1200 months.
    steps: list[tuple[int, int]] = []
    for month in range(months):
        level = targets.glide_level(
            risk_level=risk_level, goal_type=goal_type, years_to_goal=(months - month) / 12
        )
        if not steps or steps[-1][1] != level:
            steps.append((month, level))
    return tuple(steps)


@dataclass(frozen=True)
class _Market:
    """What every goal's inputs share: the market date, the approved portfolios, their
    assumptions, the funds' expense ratios and the advisory fee."""

    day: date
    portfolios: dict[int, ModelPortfolio]  # level → the approved model portfolio
    assumptions: MarketAssumptions | None
    expense_ratios: dict[str, Decimal]
    fee_annual: Decimal


def _market() -> _Market:
    try:
        day = market_date_get()
    except MarketDataMissing as exc:
        raise ProjectionUnavailable("Market data is not loaded yet.") from exc
    portfolios: dict[int, ModelPortfolio] = {}
    approved = ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    ).select_related("portfolio_set__assumptions")
    for portfolio in approved:  # the first per level, as valuation.target_weights picks it
        portfolios.setdefault(portfolio.level, portfolio)
    # The assumptions the approved portfolios were built on, so weights and returns agree.
    first = next(iter(portfolios.values()), None)
    return _Market(
        day=day,
        portfolios=portfolios,
        assumptions=first.portfolio_set.assumptions if first else None,
        expense_ratios=dict(Asset.objects.values_list("ticker", "expense_ratio")),
        fee_annual=advisory_fee_annual(),
    )


@dataclass(frozen=True)
class _GoalFacts:
    risk_level: int | None  # the client's level, before the goal's type and glide path
    value: Decimal  # the account's value at the market date: what is actually invested
    scheduled: Decimal  # active recurring deposits, per month


def _risk_levels(*, client_ids: Iterable[int]) -> dict[int, int | None]:
    """Client id → the level of their current risk profile (as `advisor.selectors.
    risk_profile_get`: the latest response's final assessment), None without one; in two
    queries for any number of clients."""
    client_ids = set(client_ids)
    latest: dict[int, int] = {}  # client → latest response, in the responses' own order
    responses = QuestionnaireResponse.objects.filter(client_id__in=client_ids)
    for client_id, response_id in responses.values_list("client_id", "pk"):
        latest.setdefault(client_id, response_id)
    by_response: defaultdict[int, list[RiskAssessment]] = defaultdict(list)
    for assessment in RiskAssessment.objects.filter(response_id__in=latest.values()):
        by_response[assessment.response_id].append(assessment)
    levels: dict[int, int | None] = dict.fromkeys(client_ids)
    for client_id, response_id in latest.items():
        try:
            levels[client_id] = final_assessment(by_response[response_id]).risk_level
        except RiskAssessment.DoesNotExist:
            levels[client_id] = None  # not assessed yet: no level to project with
    return levels


def _goal_facts(*, goals: list[Goal], day: date) -> dict[int, _GoalFacts]:
    """Each goal's risk level, account value and scheduled deposits, in a few queries for any
    number of goals. Values follow valuation.account_value: cash plus holdings at the close
    (units x close, `valuation.Holding.exact`, read as plain values: no model per position)."""
    accounts = {a.goal_id: a for a in Account.objects.filter(goal__in=goals)}
    positions = list(
        Position.objects.filter(account__in=accounts.values(), quantity__gt=0).values_list(
            "account_id", "asset_id", "quantity"
        )
    )
    held = {asset_id for _, asset_id, _ in positions}
    # closes_on reads the assets' ids only: instances made from the ids spare a query
    closes = closes_on(day=day, assets=[Asset(pk=asset_id) for asset_id in held])
    invested: defaultdict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for account_id, asset_id, quantity in positions:
        invested[account_id] += quantity * closes[asset_id]
    scheduled: defaultdict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    recurring = RecurringDeposit.objects.filter(
        account__in=accounts.values(), active=True, cancelled_at=None
    ).values_list("account_id", "amount")
    for account_id, amount in recurring:  # summed here: SQLite would add decimals as floats
        scheduled[account_id] += amount
    levels = _risk_levels(client_ids={goal.client_id for goal in goals})
    facts = {}
    for goal in goals:
        account = accounts.get(goal.pk)
        facts[goal.pk] = _GoalFacts(
            risk_level=levels[goal.client_id],
            # Rounded once, as valuation.Valuation.total: the figure the dashboard shows.
            value=money_value(account.cash + invested[account.pk]) if account else Decimal("0.00"),
            scheduled=scheduled[account.pk] if account else Decimal("0.00"),
        )
    return facts


def _inputs(
    *,
    market: _Market,
    goal: Goal,
    facts: _GoalFacts,
    monthly_contribution: Decimal | None,
    target_date: date | None,
) -> dict[str, Any]:
    if facts.risk_level is None:
        raise ProjectionUnavailable("Complete the risk questionnaire to see projections.")
    target_date = target_date or goal.target_date
    months = _months_between(market.day, target_date)
    steps = glide_steps(risk_level=facts.risk_level, goal_type=goal.goal_type, months=months)
    if {level for _, level in steps} - set(market.portfolios):
        raise ProjectionUnavailable("Model portfolios are not ready yet.")
    if market.assumptions is None or not market.assumptions.data.get("tickers"):
        raise ProjectionUnavailable("Market assumptions are not ready yet.")
    weights = [
        {t: Decimal(w) for t, w in market.portfolios[level].weights.items() if Decimal(w) > 0}
        for _, level in steps
    ]
    data = market.assumptions.data
    held = set().union(*weights)
    tickers = [t for t in data["tickers"] if t in held]
    if len(tickers) != len(held):
        raise ProjectionUnavailable("Market assumptions are not ready yet.")
    index = {t: i for i, t in enumerate(data["tickers"])}
    mu, cov = data["expected_returns"], data["covariance"]
    vectors = [[float(w.get(t, Decimal(0))) for t in tickers] for w in weights]
    if monthly_contribution is None:
        # The plan's contribution, or the deposits actually scheduled when they are larger.
        monthly_contribution = max(goal.monthly_contribution, facts.scheduled)
    return {
        "format": INPUTS_FORMAT,
        "market_date": market.day.isoformat(),
        "target_date": target_date.isoformat(),
        "months": months,
        # Money as decimal strings: exact in the hash and in storage.
        "initial_value": str(money(facts.value)),
        "monthly_contribution": str(money(monthly_contribution)),
        "target_amount": str(money(goal.target_amount)),
        "tickers": tickers,
        "weights": vectors[0],
        "glide": [[month, vector] for (month, _), vector in zip(steps, vectors, strict=True)][1:],
        "levels": [[month, level] for month, level in steps],
        "level": steps[0][1],
        "monthly_mean": [mu[index[t]] / 12 for t in tickers],
        "monthly_cov": [[cov[index[a]][index[b]] / 12 for b in tickers] for a in tickers],
        # The assumptions are market (index-like) returns: the funds' expense ratios and the
        # advisory fee come off them, both as a twelfth of the annual rate each month.
        "monthly_expense": [float(market.expense_ratios.get(t, 0)) / 12 for t in tickers],
        "monthly_fee": float(market.fee_annual) / 12,
        "annual_inflation": settings.PROJECTION_INFLATION,
        "paths": settings.PROJECTION_PATHS,
        # One seed for every plan and what-if: figures never move by resampling alone, and the
        # goals of a family share their draws (nlp.inference.projection).
        "seed": getattr(settings, "PROJECTION_SEED", 0),
        "assumptions_version": market.assumptions.version,
    }


def projection_inputs(
    *,
    goal: Goal,
    monthly_contribution: Decimal | None = None,
    target_date: date | None = None,
) -> dict[str, Any]:
    """Everything the simulation needs, JSON-ready (what-ifs override the goal's plan).

    Without what-ifs these are the goal's current plan's inputs. The horizon runs from the market
    date; the start is the money in the account (nothing for an unfunded goal: its
    `initial_amount` is a plan, not money invested); the portfolio follows the glide path."""
    market = _market()
    facts = _goal_facts(goals=[goal], day=market.day)[goal.pk]
    return _inputs(
        market=market,
        goal=goal,
        facts=facts,
        monthly_contribution=monthly_contribution,
        target_date=target_date,
    )


def plan_inputs(*, goals: list[Goal]) -> dict[int, dict[str, Any] | ProjectionUnavailable]:
    """Goal id → its current plan's inputs (as `projection_inputs(goal=goal)`), or why it has
    none; for any number of goals in a fixed number of queries."""
    try:
        market = _market()
    except ProjectionUnavailable as exc:
        return dict.fromkeys((goal.pk for goal in goals), exc)
    return _plan_inputs(market=market, goals=goals)


def _plan_inputs(
    *, market: _Market, goals: list[Goal]
) -> dict[int, dict[str, Any] | ProjectionUnavailable]:
    facts = _goal_facts(goals=goals, day=market.day)
    plans: dict[int, dict[str, Any] | ProjectionUnavailable] = {}
    for goal in goals:
        try:
            plans[goal.pk] = _inputs(
                market=market,
                goal=goal,
                facts=facts[goal.pk],
                monthly_contribution=None,
                target_date=None,
            )
        except ProjectionUnavailable as exc:
            plans[goal.pk] = exc
    return plans


# Goals read and written per step of plans_project (bounded memory and IN lists).
PLANS_CHUNK = 2000


def plans_project(
    *, goal_ids: list[int] | None = None, account_range: tuple[int, int] | None = None
) -> int:
    """Store a pending projection for the current plan of each goal (default: every goal still
    in progress) that has none yet, and queue the pending ones on the batch worker, in chunks of
    PROJECTION_BATCH_GOALS goals per task (`nlp.projections_compute_batch`: one vectorised Monte
    Carlo each). Run after a write changes a plan (a deposit, a goal edit, a recurring deposit),
    by beat after the close (new prices are a new plan), and for what the dashboard finds
    pending. `account_range` (lo, hi) takes only the goals whose account id is in [lo, hi), so
    the daily batch can fan out by account id; goals without an account only when it is None.
    Safe to run twice: a stored plan is not stored again, a computed one not queued again.
    Returns the projections queued."""
    goals = Goal.objects.exclude(status__in=(Goal.Status.ACHIEVED, Goal.Status.CLOSED))
    if goal_ids is not None:
        goals = goals.filter(pk__in=goal_ids)
    if account_range is not None:
        lo, hi = account_range
        goals = goals.filter(account__pk__gte=lo, account__pk__lt=hi)
    ids = list(goals.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    try:
        market = _market()
    except ProjectionUnavailable:
        return 0
    pending: list[_Pending] = []
    for start in range(0, len(ids), PLANS_CHUNK):
        chunk = list(Goal.objects.filter(pk__in=ids[start : start + PLANS_CHUNK]).order_by("pk"))
        plans = {
            goal_id: inputs
            for goal_id, inputs in _plan_inputs(market=market, goals=chunk).items()
            if not isinstance(inputs, ProjectionUnavailable)
        }
        pending += _plans_store(plans=plans)
    # A family's goals (same paths, levels by months remaining) side by side, so a task's Monte
    # Carlo shares its draws among as many goals as it can.
    pending.sort()
    size = max(1, getattr(settings, "PROJECTION_BATCH_GOALS", 500))
    for start in range(0, len(pending), size):
        enqueue_on_commit(
            "nlp.projections_compute_batch",
            projection_ids=[pk for *_, pk in pending[start : start + size]],
        )
    return len(pending)


# (paths, levels from the date backwards, months, projection id): sorted, a family's goals meet.
_Pending = tuple[int, tuple[int, ...], int, int]


def _plans_store(*, plans: dict[int, dict[str, Any]]) -> list[_Pending]:
    """Store a pending projection for each plan not stored yet (one bulk insert; a concurrent
    run's rows are left as they are) and return those still pending (`_Pending`)."""
    hashes = {goal_id: inputs_hash(inputs) for goal_id, inputs in plans.items()}
    wanted = {(goal_id, digest) for goal_id, digest in hashes.items()}
    stored = {
        (goal_id, digest)
        for goal_id, digest in GoalProjection.objects.filter(
            goal_id__in=hashes, inputs_hash__in=set(hashes.values())
        ).values_list("goal_id", "inputs_hash")
    }
    GoalProjection.objects.bulk_create(
        [
            GoalProjection(goal_id=goal_id, inputs_hash=digest, inputs=plans[goal_id])
            for goal_id, digest in hashes.items()
            if (goal_id, digest) not in stored
        ],
        ignore_conflicts=True,  # one row per (goal, inputs) whoever inserts it first
    )
    rows = GoalProjection.objects.filter(
        goal_id__in=hashes,
        inputs_hash__in=set(hashes.values()),
        status=GoalProjection.Status.PENDING,
    ).values_list("goal_id", "inputs_hash", "pk")
    return [
        (
            plans[goal_id]["paths"],
            tuple(level for _, level in reversed(plans[goal_id]["levels"])),
            plans[goal_id]["months"],
            pk,
        )
        for goal_id, digest, pk in rows
        if (goal_id, digest) in wanted
    ]


def inputs_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


# --- What a projection says -------------------------------------------------------------------


@dataclass(frozen=True)
class GlideStep:
    month: int  # months after the market date
    level: int


@dataclass(frozen=True)
class ProjectionOutcome:
    """A goal's projection as every surface shows it: money in `Decimal` cents, final values in
    today's money. `status` is "ready", "pending" (not computed yet, or cannot be: `message`
    says why) or "failed"."""

    goal_id: int
    status: str
    is_plan: bool  # the goal's current plan (what the dashboard shows), not a what-if
    message: str = ""
    market_date: date | None = None
    target_date: date | None = None
    months: int | None = None
    level: int | None = None
    glide: tuple[GlideStep, ...] = ()
    initial_value: Decimal | None = None
    monthly_contribution: Decimal | None = None
    target_amount: Decimal | None = None
    probability: float | None = None
    median_final_value: Decimal | None = None
    low_final_value: Decimal | None = None  # 10th percentile
    high_final_value: Decimal | None = None  # 90th percentile
    expected_final_value: Decimal | None = None
    # For an 80% chance; None when no contribution up to the cap reaches it (then `capped`).
    required_monthly_contribution: Decimal | None = None
    required_contribution_capped: bool | None = None
    # The largest target the contribution reaches with an 80% chance.
    reachable_target: Decimal | None = None
    percentiles: dict[str, list[Decimal]] | None = None  # only when asked for the paths
    computed_at: datetime | None = None


def _cents(value: float) -> Decimal:
    return money(Decimal(repr(value)))


def projection_outcome(
    *,
    goal_id: int,
    inputs: dict[str, Any],
    projection: GoalProjection | None,
    is_plan: bool,
    paths: bool = False,
) -> ProjectionOutcome:
    """What a stored projection (None: not requested yet) says about its inputs."""
    base = ProjectionOutcome(
        goal_id=goal_id,
        status="pending",
        is_plan=is_plan,
        message="Computing; ask again in a few seconds.",
        market_date=date.fromisoformat(inputs["market_date"]),
        target_date=date.fromisoformat(inputs["target_date"]),
        months=inputs["months"],
        level=inputs["level"],
        glide=tuple(GlideStep(month=m, level=level) for m, level in inputs["levels"]),
        initial_value=Decimal(inputs["initial_value"]),
        monthly_contribution=Decimal(inputs["monthly_contribution"]),
        target_amount=Decimal(inputs["target_amount"]),
    )
    if projection is None:
        return base
    if projection.status == GoalProjection.Status.FAILED:
        return replace(base, status="failed", message=projection.error)
    if projection.status != GoalProjection.Status.READY or not projection.result:
        return base
    result = projection.result
    capped = bool(result.get("required_contribution_capped", False))
    # Stored at the knots only, beside "knots" (nlp.projections); without "knots", monthly (as
    # results were stored before). Either way a list ends at the final month.
    knots = result.get("knots")
    finals = {name: values[-1] for name, values in result["percentiles"].items()}
    return replace(
        base,
        status="ready",
        message="",
        probability=result["probability"],
        median_final_value=_cents(finals["p50"]),
        low_final_value=_cents(finals["p10"]),
        high_final_value=_cents(finals["p90"]),
        expected_final_value=_cents(result["expected_final_value"]),
        required_monthly_contribution=None
        if capped
        else _cents(result["required_monthly_contribution"]),
        required_contribution_capped=capped,
        reachable_target=_cents(result["reachable_target"])
        if "reachable_target" in result
        else None,
        percentiles={
            name: [
                _cents(v) for v in (monthly_path(knots=knots, values=values) if knots else values)
            ]
            for name, values in result["percentiles"].items()
        }
        if paths
        else None,
        computed_at=projection.computed_at,
    )


# --- Writes -----------------------------------------------------------------------------------


@transaction.atomic
def projection_request(*, goal: Goal, inputs: dict[str, Any]) -> tuple[GoalProjection, bool]:
    """The stored projection for these inputs, or a new pending one. Returns (row, created)."""
    return GoalProjection.objects.get_or_create(
        goal=goal, inputs_hash=inputs_hash(inputs), defaults={"inputs": inputs}
    )


def projection_answer(
    *, goal: Goal, monthly_contribution: Decimal | None = None, target_date: date | None = None
) -> ProjectionOutcome:
    """The goal's projection, its plan's or a what-if's: the stored one, a fresh one if the
    worker answers within PROJECTION_WAIT_SECONDS, or `status: pending` — never an error when
    the worker is slow or down. The Monte Carlo itself is the ml worker's
    (`nlp.projection_compute`, queued by name)."""
    try:
        market = _market()
        facts = _goal_facts(goals=[goal], day=market.day)[goal.pk]
        inputs = _inputs(
            market=market,
            goal=goal,
            facts=facts,
            monthly_contribution=monthly_contribution,
            target_date=target_date,
        )
        plan = (
            inputs
            if monthly_contribution is None and target_date is None
            else _inputs(
                market=market,
                goal=goal,
                facts=facts,
                monthly_contribution=None,
                target_date=None,
            )
        )
    except ProjectionUnavailable as exc:
        return ProjectionOutcome(goal_id=goal.pk, status="pending", is_plan=False, message=str(exc))
    projection, _ = projection_request(goal=goal, inputs=inputs)
    if projection.status == GoalProjection.Status.PENDING:
        # Asked for by someone waiting: the interactive lane (`ml`), not behind the daily
        # projections on `batch`; a broker or result-backend outage answers "pending".
        try:
            pending = enqueue("nlp.projection_compute", queue="ml", projection_id=projection.pk)
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                result_wait(pending, timeout=settings.PROJECTION_WAIT_SECONDS)
        except BrokerDown:
            logger.warning("projection not queued", extra={"projection_id": projection.pk})
        projection.refresh_from_db()
    return projection_outcome(
        goal_id=goal.pk,
        inputs=inputs,
        projection=projection,
        is_plan=inputs_hash(inputs) == inputs_hash(plan),
        paths=True,
    )


# --- Purge ------------------------------------------------------------------------------------

PURGE_BATCH = 5000


def what_if_projections_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete the projections asked more than `older_than` ago that no surface can show any more:
    what-ifs, and plans superseded by newer inputs (the daily batch stores a plan per goal per
    price day). Kept whatever their age: every projection for the current market date (each
    goal's current plan, which every surface shows, and any what-if a goal page may be showing
    now: a what-if asked today carries today's market date) and each goal's latest projection.
    Nothing else refers to a projection (notifications name it in a string key only). Safe to
    run twice; deletes in batches of PURGE_BATCH. Returns the rows deleted."""
    try:
        day = market_date_get()
    except MarketDataMissing:
        return 0  # no market date: nothing can be told current from stale
    cutoff = timezone.now() - older_than
    latest = GoalProjection.objects.values("goal_id").annotate(last=Max("pk")).values("last")
    stale = (
        GoalProjection.objects.filter(created_at__lt=cutoff)
        .filter(~Q(inputs__market_date=day.isoformat()) | Q(inputs__market_date__isnull=True))
        .exclude(pk__in=latest)
    )
    deleted = 0
    while ids := list(stale.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH]):
        deleted += GoalProjection.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("projections purged", extra={"deleted": deleted, "cutoff": cutoff.isoformat()})
    return deleted
