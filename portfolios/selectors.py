"""Reads for the portfolio API, scoped to what the asking client may see."""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from django.db.models import OuterRef, QuerySet, Subquery

from advisor.models import Client, Goal, RiskAssessment, User
from advisor.selectors import risk_profile_get
from config.errors import NotFound

from . import history
from .market import closes_on, market_date_get
from .models import (
    Account,
    Asset,
    GoalProjection,
    Lot,
    ModelPortfolio,
    ModelPortfolioSet,
    Price,
    RebalanceProposal,
    RecurringDeposit,
    Transaction,
)
from .money import money
from .performance import DailyPoint, PeriodReturn, period_returns
from .targets import drift as class_drift
from .valuation import (
    account_value,
    advisory_fee_annual,
    advisory_fee_annual_estimate,
    goal_level,
    target_weights,
)


def account_list(*, client: Client) -> QuerySet[Account]:
    return Account.objects.filter(client=client).select_related("goal")


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
    valuation = account_value(account=account, day=market_date_get())
    targets = target_weights(account=account) or {}
    weights = valuation.weights()
    by_ticker = {h.asset.ticker: h for h in valuation.holdings}
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=set(targets) | set(by_ticker))}
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
    drift = (
        class_drift(
            {t: float(w) for t, w in weights.items()}, {t: float(w) for t, w in targets.items()}
        )
        if targets and weights
        else None
    )
    return AccountSummary(
        account=account,
        market_date=valuation.day,
        value=valuation.total,
        cash=valuation.cash,
        invested=valuation.invested,
        level=goal_level(goal=account.goal),
        drift=round(drift, 4) if drift is not None else None,
        holdings=tuple(rows),
    )


def rebalance_list(*, account: Account) -> QuerySet[RebalanceProposal]:
    return RebalanceProposal.objects.filter(account=account)


def rebalances_for_staff(*, user: User) -> QuerySet[RebalanceProposal]:
    """Proposals in the advisor's book (admins: all)."""
    proposals = RebalanceProposal.objects.select_related("account__client", "account__goal")
    if user.is_superuser:
        return proposals
    return proposals.filter(account__client__advisor=user)


def rebalance_get_for_staff(*, user: User, rebalance_id: int) -> RebalanceProposal:
    try:
        return rebalances_for_staff(user=user).get(pk=rebalance_id)
    except RebalanceProposal.DoesNotExist as exc:
        raise NotFound from exc


def recurring_list(*, account: Account) -> QuerySet[RecurringDeposit]:
    return RecurringDeposit.objects.filter(account=account, cancelled_at=None)


def recurring_get(*, account: Account, recurring_id: int) -> RecurringDeposit:
    try:
        return recurring_list(account=account).get(pk=recurring_id)
    except RecurringDeposit.DoesNotExist as exc:
        raise NotFound from exc


@dataclass(frozen=True)
class Performance:
    account_id: int
    periods: list[PeriodReturn]
    realised_gain: Decimal
    unrealised_gain: Decimal
    history: list[DailyPoint]


def account_gains(*, account: Account) -> tuple[Decimal, Decimal]:
    """Realised gains from closed lots and unrealised gains on open ones, at the market date."""
    lots = list(Lot.objects.filter(account=account))
    realised = sum((lot.realised_gain for lot in lots), Decimal("0.00"))
    closes = closes_on(day=market_date_get(), assets={lot.asset for lot in lots if lot.remaining})
    unrealised = sum(
        (
            money(lot.remaining * (closes[lot.asset_id] - lot.unit_cost))
            for lot in lots
            if lot.remaining
        ),
        Decimal("0.00"),
    )
    return realised, unrealised


def account_performance(*, account: Account) -> Performance:
    periods, points = history.account_performance(account=account)
    realised, unrealised = account_gains(account=account)
    return Performance(account.pk, periods, realised, unrealised, points)


@dataclass(frozen=True)
class GoalSummary:
    id: int
    name: str
    goal_type: str
    target_amount: Decimal
    target_date: object
    account_id: int
    value: Decimal
    probability: float | None


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
    summaries = [account_summary(account=a) for a in accounts]
    histories = [history.account_history(account=a) for a in accounts]
    combined = _combined(histories)
    levels = (
        history.benchmark_levels(start=combined[0].day, end=combined[-1].day)
        if len(combined) > 1
        else None
    )
    goals = []
    for summary in summaries:
        goal = summary.account.goal
        projection = (
            GoalProjection.objects.filter(
                goal=goal,
                status=GoalProjection.Status.READY,
                inputs__monthly_contribution=float(goal.monthly_contribution),
            )
            .order_by("-computed_at")
            .first()
        )
        goals.append(
            GoalSummary(
                id=goal.pk,
                name=goal.name,
                goal_type=goal.goal_type,
                target_amount=goal.target_amount,
                target_date=goal.target_date,
                account_id=summary.account.pk,
                value=summary.value,
                probability=projection.result["probability"]
                if projection and projection.result
                else None,
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
        performance=period_returns(combined, benchmark_levels=levels) if len(combined) > 1 else [],
    )


SUMMARY_CACHE_SECONDS = 600


def portfolio_fingerprint(*, client: Client) -> str:
    """One query that changes whenever anything the summary shows can change: a transaction,
    new prices, a goal or risk-profile edit, a projection, a rebalance decision."""

    def latest(queryset: QuerySet, field: str) -> Subquery:
        return Subquery(queryset.order_by(f"-{field}").values(field)[:1])

    row = (
        Client.objects.filter(pk=client.pk)
        .annotate(
            txn=latest(Transaction.objects.filter(account__client=OuterRef("pk")), "id"),
            day=latest(Price.objects.all(), "date"),
            goal=latest(Goal.objects.filter(client=OuterRef("pk")), "updated_at"),
            risk=latest(RiskAssessment.objects.filter(response__client=OuterRef("pk")), "id"),
            projection=latest(
                GoalProjection.objects.filter(goal__client=OuterRef("pk")), "computed_at"
            ),
            rebalance=latest(
                RebalanceProposal.objects.filter(account__client=OuterRef("pk")), "decided_at"
            ),
            proposal=latest(RebalanceProposal.objects.filter(account__client=OuterRef("pk")), "id"),
            portfolios=latest(
                ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED), "id"
            ),
        )
        .values_list(
            "txn", "day", "goal", "risk", "projection", "rebalance", "proposal", "portfolios"
        )
        .get()
    )
    return hashlib.sha256("|".join(str(value) for value in row).encode()).hexdigest()


# --- Advisory fees --------------------------------------------------------------------------

EXPENSE_RATIO_PLACES = Decimal("0.000001")
FEE_BILLING_RULE = (
    "Billed monthly: one twelfth of the annual rate on each account's value at the month's last "
    "market close, taken from the account's cash (a little of the most overweight fund is sold "
    "if cash is short). No trading commissions, no deposit or withdrawal fees, no minimum; "
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
    since inception per account and in total, the annual fee at today's value, and, for
    information, the weighted expense ratio of the funds held (paid inside the funds)."""
    day = market_date_get()
    accounts = list(account_list(client=client))
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
        estimated_annual_fee=sum((r.estimated_annual_fee for r in rows), Decimal("0.00")),
        fund_expense_ratio=_expense_ratio(total_cost, total_invested),
        estimated_annual_fund_expenses=sum(
            (r.estimated_annual_fund_expenses for r in rows), Decimal("0.00")
        ),
        accounts=rows,
    )
