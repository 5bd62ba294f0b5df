"""Reads for the portfolio API, scoped to what the asking client may see."""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db import connections
from django.db.models import CharField, Count, Max, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Concat

from advisor.models import Client, Goal, RiskAssessment, User
from advisor.selectors import clients_in_reach, risk_profile_get
from config.errors import NotFound

from . import benchmarks, history, projections, tax
from .market import market_date_get
from .models import (
    Account,
    Asset,
    FeeOwed,
    GoalProjection,
    Lot,
    MarketDataRevision,
    ModelPortfolio,
    ModelPortfolioSet,
    Price,
    RebalanceProposal,
    RecurringDeposit,
    Transaction,
)
from .money import money, money_half_up
from .performance import (
    DailyPoint,
    PeriodReturn,
    ValuePoint,
    blended_index,
    period_returns,
    value_history,
)
from .projections import ProjectionOutcome
from .targets import (
    EMERGENCY_MAX_LEVEL,
    SHORT_PURCHASE_GOALS,
    SHORT_PURCHASE_MAX_LEVEL,
    SHORT_PURCHASE_YEARS,
)
from .valuation import (
    Valuation,
    account_value,
    account_values,
    advisory_fee_annual,
    advisory_fee_annual_estimate,
    approved_targets,
    class_drift,
    fee_accrued,
    fee_prices,
    goal_level,
    level_at,
    target_weights,
    valuation_day,
)


def account_list(*, client: Client) -> QuerySet[Account]:
    return Account.objects.filter(client=client).select_related("goal", "client")


def account_get(*, client: Client, account_id: int) -> Account:
    try:
        return account_list(client=client).get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise NotFound from exc


def transaction_list(*, account: Account) -> QuerySet[Transaction]:
    return Transaction.objects.filter(account=account).prefetch_related("entries__asset")


def asset_list() -> QuerySet[Asset]:
    return Asset.objects.filter(active=True)


def asset_get(*, ticker: str) -> Asset:
    try:
        return asset_list().get(ticker=ticker.upper())
    except Asset.DoesNotExist as exc:
        raise NotFound from exc


def price_list(*, asset: Asset) -> QuerySet[Price]:
    return Price.objects.filter(asset=asset).order_by("date")


def model_portfolios_approved() -> QuerySet[ModelPortfolio]:
    return ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    ).select_related("portfolio_set")


@dataclass(frozen=True)
class HoldingRow:
    ticker: str
    name: str
    asset_class: str
    quantity: Decimal
    price: Decimal
    value: Decimal
    weight: Decimal
    target_weight: Decimal


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    market_date: object
    value: Decimal
    cash: Decimal
    invested: Decimal
    level: int | None
    drift: float | None
    holdings: tuple[HoldingRow, ...]


def account_summary(*, account: Account) -> AccountSummary:
    """Value, cash, holdings with actual and target weights, and drift by asset class."""
    return account_summaries(accounts=[account])[0]


def account_summaries(*, accounts: Sequence[Account]) -> list[AccountSummary]:
    """`account_summary` of each account, in order, in a fixed number of queries whatever the
    number of accounts: the market date, one risk profile per client, the approved targets,
    the positions, closes and cash, and the funds' names, each read once for all."""
    if not accounts:
        return []
    day = market_date_get()
    levels = _goal_levels(accounts=accounts, today=day)
    by_level = approved_targets()
    goal_targets = {
        a.pk: by_level.get(level, {}) if level is not None else {}
        for a, level in zip(accounts, (levels[a.pk] for a in accounts), strict=True)
    }
    valuations = account_values(accounts=accounts, day=day)
    tickers = {t for targets in goal_targets.values() for t in targets} | {
        h.asset.ticker for v in valuations.values() for h in v.holdings
    }
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=tickers)}
    return [
        _account_summary(
            account=account,
            valuation=valuations[account.pk],
            targets=goal_targets[account.pk],
            level=levels[account.pk],
            assets=assets,
        )
        for account in accounts
    ]


def _goal_levels(*, accounts: Sequence[Account], today: date) -> dict[int, int | None]:
    """Account id → its goal's level (`valuation.goal_level`): one risk profile per client."""
    risk: dict[int, int | None] = {}
    levels = {}
    for account in accounts:
        goal = account.goal
        if goal.client_id not in risk:
            # The account's client is its goal's (account_open), and account_list reads it.
            profile = risk_profile_get(client=account.client)
            risk[goal.client_id] = profile.assessment.risk_level if profile else None
        levels[account.pk] = level_at(goal=goal, risk_level=risk[goal.client_id], today=today)
    return levels


def _account_summary(
    *,
    account: Account,
    valuation: Valuation,
    targets: dict[str, Decimal],
    level: int | None,
    assets: dict[str, Asset],
) -> AccountSummary:
    weights = valuation.weights()
    by_ticker = {h.asset.ticker: h for h in valuation.holdings}
    rows = []
    for ticker in sorted(set(targets) | set(by_ticker)):
        holding = by_ticker.get(ticker)
        rows.append(
            HoldingRow(
                ticker=ticker,
                name=assets[ticker].name,
                asset_class=assets[ticker].asset_class,
                quantity=holding.quantity if holding else Decimal(0),
                price=holding.price if holding else Decimal(0),
                value=holding.value if holding else Decimal("0.00"),
                weight=weights.get(ticker, Decimal(0)).quantize(Decimal("0.0001")),
                target_weight=targets.get(ticker, Decimal(0)).quantize(Decimal("0.0001")),
            )
        )
    drift = account_drift(account=account, valuation=valuation, goal_targets=targets)
    return AccountSummary(
        account=account,
        market_date=valuation.day,
        value=valuation.total,
        cash=valuation.cash,
        invested=valuation.invested,
        level=level,
        drift=float(drift) if drift is not None else None,
        holdings=tuple(rows),
    )


def account_drift(
    *,
    account: Account,
    valuation: Valuation | None = None,
    goal_targets: dict[str, Decimal] | None = None,
) -> Decimal | None:
    """The account's drift now: ½·Σ|actual − target| by asset class (`valuation.class_drift`),
    at the market date, to four places; None without holdings or a target.

    The one live drift every surface shows (the account summary, a pending proposal's "drift
    now", the workspace). Pass what the caller has already read to avoid reading it twice."""
    valuation = valuation or account_value(account=account)
    goal_targets = target_weights(account=account) if goal_targets is None else goal_targets
    weights = valuation.weights()
    if not goal_targets or not weights:
        return None
    return class_drift(weights, goal_targets)


def rebalance_list(*, account: Account) -> QuerySet[RebalanceProposal]:
    return RebalanceProposal.objects.filter(account=account)


def rebalance_current_drifts(
    *, proposals: Iterable[RebalanceProposal]
) -> dict[int, Decimal | None]:
    """Account id → its live drift (`account_drift`), for the accounts of pending proposals: what
    a proposal shows as "drift now" beside the drift stored when it was proposed."""
    accounts = {p.account_id: p.account for p in proposals if p.status == p.Status.PENDING}
    return {pk: account_drift(account=account) for pk, account in accounts.items()}


def rebalances_for_staff(*, user: User) -> QuerySet[RebalanceProposal]:
    """Proposals of the clients the advisor works on: their book and the firm queue of
    unassigned clients (advisor.selectors.clients_in_reach), as the workspace shows them;
    admins: all."""
    proposals = RebalanceProposal.objects.select_related("account__client", "account__goal")
    if user.is_superuser:
        return proposals
    return proposals.filter(account__client__in=clients_in_reach(user))


def rebalance_get_for_staff(*, user: User, rebalance_id: int) -> RebalanceProposal:
    try:
        return rebalances_for_staff(user=user).get(pk=rebalance_id)
    except RebalanceProposal.DoesNotExist as exc:
        raise NotFound from exc


def recurring_list(*, account: Account) -> QuerySet[RecurringDeposit]:
    return RecurringDeposit.objects.filter(account=account, cancelled_at=None)


def goal_scheduled_monthly(*, goal_ids: list[int]) -> dict[int, Decimal]:
    """Goal id → the month's total of its account's active recurring deposits (0.00 when none):
    what is scheduled to go in, beside the plan's `monthly_contribution`. Every surface that
    compares the two reads it here."""
    totals = dict(
        RecurringDeposit.objects.filter(
            account__goal_id__in=goal_ids, active=True, cancelled_at=None
        )
        .order_by()
        .values("account__goal_id")
        .annotate(total=Sum("amount"))
        .values_list("account__goal_id", "total")
    )
    return {goal_id: totals.get(goal_id) or Decimal("0.00") for goal_id in goal_ids}


@dataclass(frozen=True)
class GoalFunding:
    goal_id: int
    account_id: int
    currency: str
    initial_amount: Decimal
    monthly_contribution: Decimal
    scheduled_monthly: Decimal


def goal_funding_get(*, client: Client, goal_id: int) -> GoalFunding:
    """How the client's goal is funded: its plan (starting amount, monthly contribution) and
    what its account has scheduled each month. 404 for another client's goal."""
    try:
        account = Account.objects.select_related("goal").get(client=client, goal_id=goal_id)
    except Account.DoesNotExist as exc:
        raise NotFound from exc
    goal = account.goal
    return GoalFunding(
        goal_id=goal.pk,
        account_id=account.pk,
        currency=account.currency,
        initial_amount=goal.initial_amount,
        monthly_contribution=goal.monthly_contribution,
        scheduled_monthly=goal_scheduled_monthly(goal_ids=[goal.pk])[goal.pk],
    )


def recurring_get(*, account: Account, recurring_id: int) -> RecurringDeposit:
    try:
        return recurring_list(account=account).get(pk=recurring_id)
    except RecurringDeposit.DoesNotExist as exc:
        raise NotFound from exc


@dataclass(frozen=True)
class PolicyComposition:
    """What a policy benchmark holds on its last day: the goal's level (None for a blend of
    accounts) and ticker → weight."""

    level: int | None
    weights: dict[str, Decimal]


@dataclass(frozen=True)
class Performance:
    account_id: int
    periods: list[PeriodReturn]
    realised_gain: Decimal
    unrealised_gain: Decimal
    history: list[ValuePoint]  # value and cumulative net deposits per day
    policy: PolicyComposition | None = None


def account_gains(*, account: Account) -> tuple[Decimal, Decimal]:
    """Realised gains from lot sales and unrealised gains on open lots at the market date, each
    lot's basis including its wash-sale adjustment (as the lots endpoint shows it)."""
    lots = list(Lot.objects.filter(account=account).select_related("asset"))
    realised = sum((lot.realised_gain for lot in lots), Decimal("0.00"))
    held = [lot for lot in lots if lot.remaining]
    rows = tax.unrealised(account=account, day=market_date_get(), lots=held)
    unrealised = sum((row.gain for row in rows), Decimal("0.00"))
    return realised, unrealised


def account_performance(*, account: Account) -> Performance:
    """The account's returns by period (GIPS conventions, performance.py), its policy benchmark
    (benchmarks.py) and the 60/40 reference, gains, and its history with net deposits."""
    periods, points, policy = history.account_performance(account=account)
    realised, unrealised = account_gains(account=account)
    composition = PolicyComposition(policy.level, policy.weights) if policy else None
    return Performance(
        account.pk, periods, realised, unrealised, value_history(points), composition
    )


def goal_plan_projections(*, goals: list[Goal]) -> dict[int, ProjectionOutcome]:
    """Goal id → its current plan's projection: the one stored for the inputs
    `projections.projection_inputs(goal=goal)` gives now, found by their hash, else `pending`.
    A what-if, or a projection from before a deposit, a withdrawal, a goal edit, a new risk
    level, new assumptions or a new market date, has other inputs and is never taken for it.
    Reads only; the goal's projection API (or the chat) asks the ml worker for a missing one."""
    plans = projections.plan_inputs(goals=goals)
    hashes = {
        goal_id: projections.inputs_hash(inputs)
        for goal_id, inputs in plans.items()
        if not isinstance(inputs, projections.ProjectionUnavailable)
    }
    stored = {
        (row.goal_id, row.inputs_hash): row
        for row in GoalProjection.objects.filter(
            goal_id__in=hashes, inputs_hash__in=set(hashes.values())
        )
    }
    outcomes = {}
    for goal_id, inputs in plans.items():
        if isinstance(inputs, projections.ProjectionUnavailable):
            outcomes[goal_id] = ProjectionOutcome(
                goal_id=goal_id, status="pending", is_plan=True, message=str(inputs)
            )
            continue
        outcomes[goal_id] = projections.projection_outcome(
            goal_id=goal_id,
            inputs=inputs,
            projection=stored.get((goal_id, hashes[goal_id])),
            is_plan=True,
        )
    return outcomes


def goal_plan_projection(*, goal: Goal) -> ProjectionOutcome:
    """The goal's chance of success, median and contribution for 80%: its current plan's
    projection (see goal_plan_projections), or `pending`. Every surface reads it here."""
    return goal_plan_projections(goals=[goal])[goal.pk]


@dataclass(frozen=True)
class GoalSummary:
    id: int
    name: str
    goal_type: str
    target_amount: Decimal
    target_date: object
    account_id: int
    value: Decimal
    # The goal's current plan's projection (goal_plan_projection): one figure on every surface.
    projection_status: str
    probability: float | None
    median_final_value: Decimal | None
    monthly_contribution: Decimal
    scheduled_monthly: Decimal  # goal_scheduled_monthly


@dataclass(frozen=True)
class PortfolioSummary:
    market_date: object
    total_value: Decimal
    cash: Decimal
    risk_level: int | None
    pending_rebalances: int
    accounts: list[AccountSummary]
    goals: list[GoalSummary]
    performance: list[PeriodReturn]
    # The combined performance's policy benchmark: the accounts' policies blended by value.
    performance_policy: PolicyComposition | None = None


def _combined(histories: list[list[DailyPoint]]) -> list[DailyPoint]:
    values: dict[date, Decimal] = {}
    flows: dict[date, Decimal] = {}
    for points in histories:
        for point in points:
            values[point.day] = values.get(point.day, Decimal(0)) + point.value
            flows[point.day] = flows.get(point.day, Decimal(0)) + point.flow
    return [DailyPoint(day=d, value=values[d], flow=flows[d]) for d in sorted(values)]


def portfolio_summary(*, client: Client) -> PortfolioSummary:
    """What the dashboard shows, in one call: value, accounts, goals, performance, rebalances."""
    accounts = list(account_list(client=client))
    summaries = account_summaries(accounts=accounts)
    by_account = history.account_histories(accounts=accounts)
    histories = [by_account[a.pk] for a in accounts]
    combined = _combined(histories)
    levels, policy_levels, policy = None, None, None
    if len(combined) > 1:
        levels = history.benchmark_levels(start=combined[0].day, end=combined[-1].day)
        policy_levels, policy = _blended_policy(accounts, histories)
    plans = goal_plan_projections(goals=[s.account.goal for s in summaries])
    scheduled = goal_scheduled_monthly(goal_ids=[s.account.goal_id for s in summaries])
    goals = []
    for summary in summaries:
        goal = summary.account.goal
        plan = plans[goal.pk]
        goals.append(
            GoalSummary(
                id=goal.pk,
                name=goal.name,
                goal_type=goal.goal_type,
                target_amount=goal.target_amount,
                target_date=goal.target_date,
                account_id=summary.account.pk,
                value=summary.value,
                projection_status=plan.status,
                probability=plan.probability,
                median_final_value=plan.median_final_value,
                monthly_contribution=goal.monthly_contribution,
                scheduled_monthly=scheduled[goal.pk],
            )
        )
    profile = risk_profile_get(client=client)
    return PortfolioSummary(
        market_date=market_date_get(),
        total_value=sum((s.value for s in summaries), Decimal("0.00")),
        cash=sum((s.cash for s in summaries), Decimal("0.00")),
        risk_level=profile.assessment.risk_level if profile else None,
        pending_rebalances=RebalanceProposal.objects.filter(
            account__in=accounts, status=RebalanceProposal.Status.PENDING
        ).count(),
        accounts=summaries,
        goals=goals,
        performance=(
            period_returns(combined, benchmark_levels=levels, policy_levels=policy_levels)
            if len(combined) > 1
            else []
        ),
        performance_policy=policy,
    )


def _blended_policy(
    accounts: list[Account], histories: list[list[DailyPoint]]
) -> tuple[dict[date, Decimal] | None, PolicyComposition | None]:
    """The book's policy benchmark: each day, the accounts' policy returns weighted by their
    values at the previous close; its composition weighted by the accounts' last values.
    None when an account with history has no policy (no risk level or model portfolio)."""
    indices, values, parts = [], [], []
    spans = {
        account.pk: (points[0].day, points[-1].day)
        for account, points in zip(accounts, histories, strict=True)
        if len(points) >= 2
    }
    policies = history.policy_benchmarks(accounts=accounts, spans=spans)
    for account, points in zip(accounts, histories, strict=True):
        if len(points) < 2:
            continue
        policy = policies[account.pk]
        if policy is None:
            return None, None
        indices.append(policy.levels)
        values.append({point.day: point.value for point in points})
        parts.append((points[-1].value, policy.weights))
    if not indices:
        return None, None
    return blended_index(indices, values), PolicyComposition(
        None, benchmarks.blended_weights(parts)
    )


SUMMARY_CACHE_SECONDS = 600
PERFORMANCE_CACHE_SECONDS = 600


def _latest(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1])


def _market_marks() -> dict[str, Subquery]:
    """What changes for every account at once: a new price day, a revised close or level (a
    revision rewrites a stored row in place), a newly approved model-portfolio set."""
    return {
        "day": _latest(Price.objects.all(), "date"),
        "revision": _latest(MarketDataRevision.objects.all(), "id"),
        "portfolios": _latest(
            ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED), "id"
        ),
    }


def _risk_marks(client: OuterRef) -> dict[str, Subquery]:
    """The client's risk level: a new assessment, or an advisor's override edited in place."""
    return {
        "risk": _latest(RiskAssessment.objects.filter(response__client=client), "id"),
        "override": Subquery(
            RiskAssessment.objects.filter(
                response__client=client, method=RiskAssessment.OVERRIDE_METHOD
            )
            .order_by("-response__submitted_at", "-response_id")
            .values("risk_level")[:1]
        ),
    }


# Where a fingerprint query's row id goes in its compiled SQL: never a primary key.
_ROW_SENTINEL = -7_340_021
_COMPILED: dict[tuple[str, str, str], tuple[str, list[Any], list[int]]] = {}


def _digest(name: str, rows: QuerySet, pk: int, marks: Callable[[], dict[str, Subquery]]) -> str:
    """The sha256 of the marks' values for row `pk` of `rows`, in one query.

    Django takes milliseconds to compile a query of a dozen subqueries and the database a tenth
    of one to run it, so each fingerprint is compiled once per process and database (with a
    sentinel where the row id goes) and then run with the id in its place."""
    using = rows.db
    connection = connections[using]
    key = (name, using, connection.vendor)
    compiled = _COMPILED.get(key)
    if compiled is None:
        fields = marks()
        query = rows.filter(pk=_ROW_SENTINEL).annotate(**fields).values_list(*fields).query
        sql, params = query.get_compiler(using=using).as_sql()
        slots = [index for index, param in enumerate(params) if param == _ROW_SENTINEL]
        if not slots:  # pragma: no cover - Django always binds a pk filter as a parameter
            raise RuntimeError(f"The {name} fingerprint's row id is not a query parameter.")
        compiled = _COMPILED[key] = (sql, list(params), slots)
    sql, params, slots = compiled
    bound = list(params)
    for index in slots:
        bound[index] = pk
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        row = cursor.fetchone()
    if row is None:
        raise NotFound
    return hashlib.sha256("|".join(str(value) for value in row).encode()).hexdigest()


def portfolio_fingerprint(*, client: Client) -> str:
    """One query that changes whenever anything the summary shows can change: a transaction,
    new or revised prices, a goal or risk-profile edit (an advisor's override edits its row in
    place), a recurring deposit (it is part of each goal's plan), a projection, a rebalance
    decision."""
    me = OuterRef("pk")
    return _digest(
        "portfolio",
        Client.objects.all(),
        client.pk,
        lambda: {
            "txn": _latest(Transaction.objects.filter(account__client=me), "id"),
            "goal": _latest(Goal.objects.filter(client=me), "updated_at"),
            **_risk_marks(me),
            "recurring": Subquery(
                RecurringDeposit.objects.filter(account__client=me, active=True, cancelled_at=None)
                .order_by()
                .values("account__client")
                .annotate(total=Sum("amount"), last=Max("id"), n=Count("id"))
                .annotate(
                    key=Concat(
                        "total", Value(":"), "last", Value(":"), "n", output_field=CharField()
                    )
                )
                .values("key")[:1]
            ),
            "projection": _latest(GoalProjection.objects.filter(goal__client=me), "computed_at"),
            "rebalance": _latest(
                RebalanceProposal.objects.filter(account__client=me), "decided_at"
            ),
            "proposal": _latest(RebalanceProposal.objects.filter(account__client=me), "id"),
            **_market_marks(),
        },
    )


def account_performance_fingerprint(*, account: Account) -> str:
    """One query that changes whenever anything the account's performance shows can change: a
    transaction of the account (deposits, withdrawals, trades, fees, distributions, harvests:
    every ledger change, lot and wash-sale adjustment comes with one), new or revised prices,
    its goal (type and date set the policy's glide path), the client's risk level, the
    approved model portfolios. The key the performance endpoint caches under."""
    return _digest(
        "account-performance",
        Account.objects.all(),
        account.pk,
        lambda: {
            "txn": _latest(Transaction.objects.filter(account=OuterRef("pk")), "id"),
            "goal_edit": _latest(Goal.objects.filter(pk=OuterRef("goal_id")), "updated_at"),
            **_risk_marks(OuterRef("client_id")),
            **_market_marks(),
        },
    )


# --- Advisory fees --------------------------------------------------------------------------

EXPENSE_RATIO_PLACES = Decimal("0.000001")
FEE_BILLING_RULE = (
    "Accrued daily, billed monthly: each calendar day accrues the annual rate / 365 (366 in a "
    "leap year) of the account's value at that day's market close (weekends and holidays at "
    "the previous close), and after each month ends its accruals are billed, rounded once to "
    "the cent, from the account's cash (a little of the most overweight fund is sold if cash "
    "is short). A fee the account cannot pay is owed and taken from its next deposit before "
    "the rest is invested. No trading commissions, no deposit or withdrawal fees, no minimum; "
    "a fee under $0.01 is not billed."
)
FUND_EXPENSES_NOTE = (
    "Fund expense ratios are paid inside the funds (reflected in their prices), not billed by "
    "Meridian."
)


@dataclass(frozen=True)
class FeeSchedule:
    annual_rate: Decimal
    billing: str
    fund_expenses: str


@dataclass(frozen=True)
class AccountFees:
    account_id: int
    goal_name: str
    value: Decimal
    paid_ytd: Decimal
    paid_since_inception: Decimal
    last_fee_month: date | None
    last_fee_amount: Decimal | None
    owed: Decimal
    accrued_this_month: Decimal
    estimated_annual_fee: Decimal
    fund_expense_ratio: Decimal | None
    estimated_annual_fund_expenses: Decimal


@dataclass(frozen=True)
class FeesSummary:
    market_date: date
    year: int
    schedule: FeeSchedule
    value: Decimal
    paid_ytd: Decimal
    paid_since_inception: Decimal
    owed: Decimal
    accrued_this_month: Decimal
    estimated_annual_fee: Decimal
    fund_expense_ratio: Decimal | None
    estimated_annual_fund_expenses: Decimal
    accounts: list[AccountFees]


def _expense_ratio(cost: Decimal, invested: Decimal) -> Decimal | None:
    if invested <= 0:
        return None
    return (cost / invested).quantize(EXPENSE_RATIO_PLACES, rounding=ROUND_HALF_UP)


def fees_summary(*, client: Client) -> FeesSummary:
    """The client's advisory fees: the schedule, fees paid this year (of the market date) and
    since inception per account and in total, fees owed (not yet collected), the fee accrued so
    far this month (building up, billed after the month ends), the annual fee at today's value,
    and, for information, the weighted expense ratio of the funds held (paid inside the funds)."""
    day = market_date_get()
    accounts = list(account_list(client=client))
    owed: dict[int, Decimal] = {a.pk: Decimal("0.00") for a in accounts}
    uncollected = FeeOwed.objects.filter(account__in=accounts, collected_by__isnull=True)
    for account_id, amount in uncollected.values_list("account_id", "amount"):
        owed[account_id] += amount  # summed here: SQLite would add decimals as floats
    month_start = day.replace(day=1)
    prices = fee_prices(start=month_start, end=day)  # one read for every account
    fees = (
        Transaction.objects.filter(account__in=accounts, kind=Transaction.Kind.FEE)
        .order_by("fee_period")
        .values_list("account_id", "amount", "fee_period")
    )
    paid: dict[int, list[tuple[Decimal, date]]] = {a.pk: [] for a in accounts}
    for account_id, amount, period in fees:  # summed here: SQLite would add decimals as floats
        # A fee always names its month (a check constraint).
        paid[account_id].append((-amount, cast(date, period)))
    rows = []
    total_cost, total_invested = Decimal(0), Decimal(0)
    for account in accounts:
        valuation = account_value(account=account, day=day)
        charges = paid[account.pk]
        fund_cost = sum(
            (h.value * h.asset.expense_ratio for h in valuation.holdings), Decimal("0.00")
        )
        total_cost += fund_cost
        total_invested += valuation.invested
        rows.append(
            AccountFees(
                account_id=account.pk,
                goal_name=account.goal.name,
                value=valuation.total,
                paid_ytd=sum((f for f, p in charges if p.year == day.year), Decimal("0.00")),
                paid_since_inception=sum((f for f, _ in charges), Decimal("0.00")),
                last_fee_month=charges[-1][1] if charges else None,
                last_fee_amount=charges[-1][0] if charges else None,
                owed=owed[account.pk],
                accrued_this_month=money_half_up(
                    fee_accrued(account=account, start=month_start, end=day, prices=prices)
                ),
                estimated_annual_fee=advisory_fee_annual_estimate(value=valuation.total),
                fund_expense_ratio=_expense_ratio(fund_cost, valuation.invested),
                estimated_annual_fund_expenses=money(fund_cost),
            )
        )
    return FeesSummary(
        market_date=day,
        year=day.year,
        schedule=FeeSchedule(
            annual_rate=advisory_fee_annual(),
            billing=FEE_BILLING_RULE,
            fund_expenses=FUND_EXPENSES_NOTE,
        ),
        value=sum((r.value for r in rows), Decimal("0.00")),
        paid_ytd=sum((r.paid_ytd for r in rows), Decimal("0.00")),
        paid_since_inception=sum((r.paid_since_inception for r in rows), Decimal("0.00")),
        owed=sum((r.owed for r in rows), Decimal("0.00")),
        accrued_this_month=sum((r.accrued_this_month for r in rows), Decimal("0.00")),
        estimated_annual_fee=sum((r.estimated_annual_fee for r in rows), Decimal("0.00")),
        fund_expense_ratio=_expense_ratio(total_cost, total_invested),
        estimated_annual_fund_expenses=sum(
            (r.estimated_annual_fund_expenses for r in rows), Decimal("0.00")
        ),
        accounts=rows,
    )


# --- Goal allocations: each goal's level and its stock/bond split (the client's risk page) ---

# Asset class → the split a client reads: stocks, bonds, and the rest (real estate, gold, cash).
ASSET_CLASS_GROUPS: dict[str, str] = {
    "us_equity": "equity",
    "intl_developed_equity": "equity",
    "emerging_equity": "equity",
    "us_aggregate_bonds": "fixed_income",
    "treasuries": "fixed_income",
    "tips": "fixed_income",
    "corporate_bonds": "fixed_income",
    "real_estate": "other",
    "gold": "other",
    "cash": "other",
}
WEIGHT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class GoalAllocation:
    goal: Goal
    client_level: int | None  # the client's risk level (advisor.suitability's decision)
    level: int | None  # the level the goal is invested at (valuation.goal_level)
    level_reason: str  # why the goal's level differs from the client's, in the client's words
    equity: Decimal | None
    fixed_income: Decimal | None
    other: Decimal | None
    classes: dict[str, Decimal]  # asset class → target weight


def _level_reason(*, goal: Goal, client_level: int | None, level: int | None, today: date) -> str:
    if client_level is None or level is None:
        return "Complete the risk questionnaire to get a level."
    if level == client_level:
        return f"Your risk level, {client_level}."
    if goal.goal_type == Goal.GoalType.EMERGENCY_FUND:
        return (
            f"Emergency funds stay at level {EMERGENCY_MAX_LEVEL} or below, so the money "
            "is there when you need it."
        )
    years = max((goal.target_date - today).days / 365.25, 0.0)
    if goal.goal_type in SHORT_PURCHASE_GOALS and years < SHORT_PURCHASE_YEARS:
        return (
            f"Purchases due within {SHORT_PURCHASE_YEARS:.0f} years stay at level "
            f"{SHORT_PURCHASE_MAX_LEVEL} or below."
        )
    return (
        f"Lowered from your level {client_level} as the target date nears (the glide path), so "
        "a late fall in markets can do less harm."
    )


def goal_allocations(*, client: Client, today: date | None = None) -> list[GoalAllocation]:
    """Each goal's level (the client's, adjusted for the goal's type and date, as everywhere
    else: valuation.goal_level) and the stock/bond split of the approved model portfolio at
    that level: the split the goal's account is rebalanced to."""
    today = today or valuation_day()  # as goal_level: the glide path counts from the market date
    profile = risk_profile_get(client=client)
    client_level = profile.assessment.risk_level if profile else None
    portfolios = {p.level: p for p in model_portfolios_approved()}
    asset_classes = dict(Asset.objects.values_list("ticker", "asset_class"))
    rows = []
    for goal in Goal.objects.filter(client=client).select_related("client"):
        level = goal_level(goal=goal, today=today) if client_level is not None else None
        portfolio = portfolios.get(level) if level is not None else None
        classes: dict[str, Decimal] = {}
        groups = dict.fromkeys(("equity", "fixed_income", "other"), Decimal(0))
        if portfolio is not None:
            for ticker, weight in portfolio.weights.items():
                asset_class = asset_classes.get(ticker, "other")
                classes[asset_class] = classes.get(asset_class, Decimal(0)) + Decimal(str(weight))
                groups[ASSET_CLASS_GROUPS.get(asset_class, "other")] += Decimal(str(weight))
        equity = groups["equity"].quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
        fixed_income = groups["fixed_income"].quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
        total = sum(groups.values(), Decimal(0)).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
        rows.append(
            GoalAllocation(
                goal=goal,
                client_level=client_level,
                level=level,
                level_reason=_level_reason(
                    goal=goal, client_level=client_level, level=level, today=today
                ),
                equity=equity if portfolio else None,
                fixed_income=fixed_income if portfolio else None,
                # The three parts add up to the whole, to the last digit shown.
                other=total - equity - fixed_income if portfolio else None,
                classes={
                    c: w.quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
                    for c, w in sorted(classes.items())
                },
            )
        )
    return rows
