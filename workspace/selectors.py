"""Reads for the advisor workspace: the home page's figures and the client page's panels.

The figures of the book (assets, clients) are scoped to the signed-in advisor's book (admins:
every client), like the admin's querysets; what waits for someone (proposals, escalations,
flags, reviews, off-track goals) is scoped to the book and the firm queue, the clients no advisor
has yet (advisor.selectors.clients_in_reach): nothing of an unassigned client goes unseen. The
home page is opened all day, so its figures take a handful of queries whatever the book's size;
the client page's panels are per client and may take a few more.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from advisor import suitability
from advisor.models import (
    Client,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
    WithdrawalHold,
)
from advisor.selectors import (
    clients_in_reach,
    clients_visible_to,
    clients_with_risk,
    risk_override_requests_pending,
    risk_profile_get,
)
from nlp.models import Conversation, Escalation, Message
from nlp.selectors import NewsAlert, news_alerts
from portfolios.exceptions import MarketDataMissing
from portfolios.market import closes_on, market_date_get
from portfolios.models import (
    Account,
    Document,
    LedgerBreak,
    MarketDataAlert,
    Position,
    RebalanceProposal,
    TaxHarvest,
)
from portfolios.money import money_value
from portfolios.selectors import goal_plan_projections
from portfolios.valuation import Holding, drift_threshold

# Goals that can no longer be on or off track.
FINISHED_GOALS = (Goal.Status.ACHIEVED, Goal.Status.CLOSED)


def _market_date() -> date | None:
    try:
        return market_date_get()
    except MarketDataMissing:  # a fresh install: the workspace still opens
        return None


# --- Home page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookValue:
    """Assets under management at the market date (None before any market data is loaded)."""

    market_date: date | None
    total: Decimal | None
    accounts: int


def book_value(*, user: User) -> BookValue:
    """Every account of the book valued at the market date, by the same rule as
    portfolios.valuation.account_value (cash plus units × close, summed exactly and rounded
    down once per account by money_value), in a fixed number of queries rather than three per
    account."""
    day = _market_date()
    accounts = Account.objects.filter(client__in=clients_visible_to(user))
    # Summed here, not in SQL: SQLite sums decimals as floats.
    exact: dict[int, Decimal] = dict(accounts.values_list("pk", "cash"))
    if day is None:
        return BookValue(market_date=None, total=None, accounts=len(exact))
    positions = list(
        Position.objects.filter(account__in=accounts, quantity__gt=0).select_related("asset")
    )
    closes = closes_on(day=day, assets={p.asset for p in positions})
    for p in positions:
        exact[p.account_id] += Holding(
            asset=p.asset, quantity=p.quantity, price=closes[p.asset_id]
        ).exact
    # Each account rounded once, as its own page shows it: the book is the sum of those figures.
    total = sum((money_value(v) for v in exact.values()), Decimal("0.00"))
    return BookValue(market_date=day, total=total, accounts=len(exact))


def client_count(*, user: User) -> int:
    return clients_visible_to(user).count()


def pending_rebalances(*, user: User) -> QuerySet[RebalanceProposal]:
    return RebalanceProposal.objects.filter(
        status=RebalanceProposal.Status.PENDING, account__client__in=clients_in_reach(user)
    ).select_related("account__client", "account__goal")


def pending_harvests(*, user: User) -> QuerySet[TaxHarvest]:
    """Tax-loss harvests and switch-backs waiting for approval (the client did not opt in to
    automatic harvesting)."""
    return TaxHarvest.objects.filter(
        status=TaxHarvest.Status.PENDING, account__client__in=clients_in_reach(user)
    ).select_related("account__client", "account__goal", "sell_asset", "buy_asset")


def pending_holds(*, user: User) -> QuerySet[WithdrawalHold]:
    """Withdrawals the risk rules held that wait for a decision, in the advisor's reach."""
    return WithdrawalHold.objects.filter(
        status=WithdrawalHold.Status.PENDING, client__in=clients_in_reach(user)
    ).select_related("client", "goal")


def open_escalations(*, user: User) -> QuerySet[Escalation]:
    return Escalation.objects.filter(
        status=Escalation.Status.OPEN, client__in=clients_in_reach(user)
    ).select_related("client")


def inconsistent_risk_profiles(*, user: User) -> QuerySet[Client]:
    """Clients whose current risk profile (see risk_profile_get) is flagged inconsistent."""
    # Annotated (risk_level, risk_inconsistent): the stubs can't tell.
    clients: QuerySet[Any] = clients_with_risk(clients_in_reach(user))
    return clients.filter(risk_inconsistent=True)


def unassigned_clients() -> QuerySet[Client]:
    """The firm queue: clients with an active login and no advisor yet, oldest first. Every
    advisor sees them, and takes one into their book with "Assign to me"."""
    return (
        Client.objects.filter(advisor__isnull=True, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def kyc_reviews_due(*, user: User, today: date | None = None) -> QuerySet[Client]:
    """Clients whose periodic KYC review date has come (or was flagged overdue)."""
    today = today or timezone.localdate()
    return clients_in_reach(user).filter(kyc_review_due__lte=today)


@dataclass(frozen=True)
class OffTrackGoal:
    goal: Goal
    probability: float


def off_track_goals(*, user: User) -> list[OffTrackGoal]:
    """Open goals of the book whose current plan (goal_plan_projections, the chance the client
    sees) is below its priority's band (`Goal.on_track`: need 80%, want 65%, wish 50%), the rule
    the client's off-track notification uses; a goal whose plan is not projected yet is left out.
    A few queries for the book, plus two per client for their risk levels."""
    goals = list(
        Goal.objects.filter(client__in=clients_in_reach(user))
        .exclude(status__in=FINISHED_GOALS)
        .select_related("client")
    )
    projections = goal_plan_projections(goals=goals)
    off_track = [
        OffTrackGoal(goal=goal, probability=outcome.probability)
        for goal in goals
        if (outcome := projections.get(goal.pk)) is not None
        and outcome.probability is not None
        and not goal.on_track(outcome.probability)
    ]
    return sorted(off_track, key=lambda row: (row.probability, row.goal.pk))


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting for the advisor, with where it is handled."""

    kind: str
    client: Client
    what: str
    since: datetime  # when it started waiting: the queue is sorted oldest first
    url_name: str  # an admin URL name taking the object's id
    object_id: int


@dataclass(frozen=True)
class StressOverTolerance:
    client: Client
    level: int
    worst: float  # the worst scenario's loss for the level's model portfolio, a fraction
    tolerance: float  # the loss the client's answers accept, a fraction
    answered_at: datetime
    # The stress cap lowered the level from this one (suitability policy); None: not capped,
    # the level's worst loss is over the tolerance (an override above it, or not yet capped).
    capped_from: int | None = None
    capped_worst: float | None = None  # the worst loss of the level it was lowered from
    floored: bool = False  # no level within the tolerance: at the lowest level

    @property
    def kind(self) -> str:
        if self.floored:
            return "No level within stated tolerance"
        if self.capped_from is not None:
            return "Risk level lowered by stress cap"
        return "Stress loss over stated tolerance"

    @property
    def what(self) -> str:
        said = f"the client said they could bear about {self.tolerance:.0%}"
        if self.floored:
            moved = f" (from {self.capped_from})" if self.capped_from != self.level else ""
            return (
                f"At the lowest level, {self.level}{moved}: even its worst stress scenario lost "
                f"{self.worst:.0%}; {said}. Go through their tolerance with them"
            )
        if self.capped_from is not None:
            lost = f" lost {self.capped_worst:.0%}" if self.capped_worst is not None else ""
            return (
                f"Lowered from level {self.capped_from} to {self.level}: level "
                f"{self.capped_from}'s worst stress scenario{lost}; {said}"
            )
        return f"Level {self.level}: the worst stress scenario lost {self.worst:.0%}; {said}"


def stress_over_tolerance(*, user: User) -> list[StressOverTolerance]:
    """Clients in reach whose level the stress cap lowered (the suitability policy's record of
    their current level says so), or whose level's model portfolio still lost more in its worst
    stress scenario than they said in the questionnaire they could bear (portfolios.stress, the
    same rule as the client's stress check; an advisor's override above the cap, or figures the
    cap has not run on yet), from the nightly stored figures: a few queries whatever the book's
    size. Cleared by an override or new answers."""
    from advisor.selectors import FINAL_METHODS
    from portfolios.models import ModelPortfolioSet, RiskFigures
    from portfolios.stress import ScenarioResult, exceeds, loss_tolerance

    approved = ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED).first()
    if approved is None:
        return []
    worst: dict[int, float] = {}
    rows = RiskFigures.objects.filter(model_portfolio__portfolio_set=approved).order_by(
        "model_portfolio__level", "-market_date"
    )
    for row in rows.select_related("model_portfolio"):
        level = row.model_portfolio.level  # type: ignore[union-attr]
        if level not in worst:  # the latest row of each level
            losses = [ScenarioResult.from_dict(s).loss for s in row.figures.get("stress", [])]
            worst[level] = max(losses, default=0.0)
    if not worst:
        return []
    latest = QuestionnaireResponse.objects.filter(client=OuterRef("pk")).order_by(
        "-submitted_at", "-id"
    )
    final = (
        RiskAssessment.objects.filter(response=OuterRef("latest_response"))
        .filter(method__in=FINAL_METHODS)
        .annotate(
            precedence=Case(
                *(When(method=m, then=Value(rank)) for rank, m in enumerate(FINAL_METHODS)),
                output_field=IntegerField(),
            )
        )
        .order_by("precedence")
    )
    clients = (
        clients_with_risk(clients_in_reach(user))
        .annotate(
            answers=Subquery(latest.values("answers")[:1]),
            answered_at=Subquery(latest.values("submitted_at")[:1]),
            latest_response=Subquery(latest.values("pk")[:1]),
        )
        .annotate(final_details=Subquery(final.values("details")[:1]))
    )
    flagged = []
    for client in clients:  # annotated: risk_level, answers, answered_at, final_details
        level = getattr(client, "risk_level", None)
        if level is None:
            continue
        loss = worst.get(level)
        tolerance = loss_tolerance(getattr(client, "answers", None) or {})
        if loss is None or tolerance is None:
            continue
        answered_at = getattr(client, "answered_at", None) or client.created_at
        decision = _stress_decision(getattr(client, "final_details", None), level)
        if decision is not None:
            before = decision.uncapped_level
            flagged.append(
                StressOverTolerance(
                    client=client,
                    level=level,
                    worst=loss,
                    tolerance=tolerance.loss,
                    answered_at=answered_at,
                    capped_from=before,
                    capped_worst=worst.get(before) if before is not None else None,
                    floored=suitability.STRESS_FLOOR in decision.reasons,
                )
            )
        elif exceeds(loss, tolerance):
            flagged.append(
                StressOverTolerance(
                    client=client,
                    level=level,
                    worst=loss,
                    tolerance=tolerance.loss,
                    answered_at=answered_at,
                )
            )
    return flagged


def _stress_decision(details: Any, level: int) -> suitability.Decision | None:
    """The suitability decision in force when the stress cap set the level (not an override)."""
    stored = details.get("decision") if isinstance(details, dict) else None
    if not isinstance(stored, dict):
        return None
    try:
        decision = suitability.decision_from_details(stored)
    except (KeyError, TypeError, ValueError):
        return None
    if decision.level != level or decision.decided_by == "advisor":
        return None
    return decision if decision.stress_capped else None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def work_queue(*, user: User) -> list[QueueItem]:
    """Everything waiting for the advisor, oldest first: pending rebalance proposals and
    tax-loss harvests, held withdrawals, open escalations, KYC reviews due, inconsistent risk
    profiles and (for whoever claims them) unassigned clients. A handful of queries whatever
    the book's size."""
    items = [
        QueueItem(
            kind="Rebalance to approve",
            client=p.account.client,
            what=f"Proposal {p.pk}: drift {Decimal(str(p.drift)):.1%} in {p.account}",
            since=p.created_at,
            url_name="admin:portfolios_rebalanceproposal_change",
            object_id=p.pk,
        )
        for p in pending_rebalances(user=user)
    ]
    items += [
        QueueItem(
            kind="Tax-loss harvest to approve"
            if h.kind == TaxHarvest.Kind.HARVEST
            else "Switch-back to approve",
            client=h.account.client,
            what=(
                f"Harvest {h.pk}: sell {h.sell_asset.ticker} for {h.buy_asset.ticker} in "
                f"{h.account}, est. tax saved ${h.tax_saved:,.2f}"
            ),
            since=h.created_at,
            url_name="admin:portfolios_taxharvest_change",
            object_id=h.pk,
        )
        for h in pending_harvests(user=user)
    ]
    items += [
        QueueItem(
            kind="Held withdrawal to decide",
            client=h.client,
            what=(
                f"${h.amount:,.2f} from {h.goal.name}: {'; '.join(map(str, h.reasons)) or 'held'}"
                + (" (four-eyes: one more approval)" if h.first_approved_by_id else "")
            ),
            since=h.created_at,
            url_name="admin:advisor_withdrawalhold_change",
            object_id=h.pk,
        )
        for h in pending_holds(user=user)
    ]
    items += [
        QueueItem(
            kind="Open escalation",
            client=e.client,
            what=f"Escalation {e.pk}: {e.get_reason_display()}",
            since=e.created_at,
            url_name="admin:nlp_escalation_change",
            object_id=e.pk,
        )
        for e in open_escalations(user=user)
    ]
    items += [
        QueueItem(
            kind="KYC review due",
            client=c,
            what=f"Review due {c.kyc_review_due:%Y-%m-%d}",
            since=_start_of(c.kyc_review_due),
            url_name="admin:advisor_client_change",
            object_id=c.pk,
        )
        for c in kyc_reviews_due(user=user)
        if c.kyc_review_due is not None
    ]
    inconsistent = inconsistent_risk_profiles(user=user).annotate(
        answered_at=Max("questionnaire_responses__submitted_at")
    )
    items += [
        QueueItem(
            kind="Inconsistent risk profile",
            client=c,
            what="Risk answers point different ways: go through the flags",
            since=c.answered_at or c.created_at,
            url_name="admin:advisor_client_change",
            object_id=c.pk,
        )
        for c in inconsistent
    ]
    items += [
        QueueItem(
            kind=f.kind,
            client=f.client,
            what=f.what,
            since=f.answered_at,
            url_name="admin:advisor_client_change",
            object_id=f.client.pk,
        )
        for f in stress_over_tolerance(user=user)
    ]
    if user.is_staff:
        items += [
            QueueItem(
                kind="Unassigned client",
                client=c,
                what="No advisor yet: assign to yourself",
                since=c.created_at,
                url_name="admin:advisor_client_change",
                object_id=c.pk,
            )
            for c in unassigned_clients()
        ]
    return sorted(items, key=lambda item: (item.since, item.kind, item.object_id))


@dataclass(frozen=True)
class WorkspaceHome:
    book: BookValue
    clients: int
    pending_rebalances: int
    open_escalations: int
    inconsistent_profiles: list[Client]
    off_track_goals: list[OffTrackGoal]
    news_alerts: list[NewsAlert]
    unassigned_clients: int  # the firm queue (see the assignment rule)
    queue: list[QueueItem]
    ledger_breaks: int  # open breaks in the book's accounts (portfolios.ledger_reconcile)
    market_data_alerts: (
        int  # open price-feed alerts (portfolios.prices_import): the market date waits
    )
    model_alerts: int  # approved model versions whose latest drift report is an alert
    # Model-portfolio sets waiting for the investment committee, each linked to its report.
    sets_awaiting_approval: list["SetAwaitingApproval"] = field(default_factory=list)


@dataclass(frozen=True)
class SetAwaitingApproval:
    """A candidate model-portfolio set: its page shows the governance report beside Approve."""

    portfolio_set: Any  # portfolios.models.ModelPortfolioSet
    has_report: bool
    first_approved: bool  # one committee member has approved: a second one puts it in force


def sets_awaiting_approval() -> list[SetAwaitingApproval]:
    """Candidate model-portfolio sets, newest first, and whether their governance report (the
    committee's evidence, portfolios.services.governance) is ready: firm-wide, one query."""
    from portfolios.models import GovernanceReport, ModelPortfolioSet

    candidates = ModelPortfolioSet.objects.filter(
        status=ModelPortfolioSet.Status.CANDIDATE
    ).annotate(has_report=Exists(GovernanceReport.objects.filter(portfolio_set=OuterRef("pk"))))
    return [
        SetAwaitingApproval(
            portfolio_set=s,
            has_report=bool(getattr(s, "has_report", False)),
            first_approved=s.first_approved_by_id is not None,
        )
        for s in candidates.order_by("-version")
    ]


def model_alerts() -> int:
    """Approved model versions whose latest monitoring report (nlp.monitoring) says alert."""
    from nlp.models import ModelMonitorReport, ModelVersion

    latest = (
        ModelMonitorReport.objects.filter(
            model_version__status=ModelVersion.Status.APPROVED,
            model_version=OuterRef("model_version"),
        )
        .order_by("-day")
        .values("pk")[:1]
    )
    return ModelMonitorReport.objects.filter(pk__in=Subquery(latest), status="alert").count()


def workspace_home(*, user: User) -> WorkspaceHome:
    """What the advisor's home page shows, in one call."""
    book = book_value(user=user)
    return WorkspaceHome(
        book=book,
        clients=client_count(user=user),
        pending_rebalances=pending_rebalances(user=user).count(),
        open_escalations=open_escalations(user=user).count(),
        inconsistent_profiles=list(inconsistent_risk_profiles(user=user)),
        off_track_goals=off_track_goals(user=user),
        # News alerts are read as of the market date: none before market data exists.
        news_alerts=news_alerts(user=user) if book.market_date is not None else [],
        unassigned_clients=unassigned_clients().count(),
        queue=work_queue(user=user),
        ledger_breaks=LedgerBreak.objects.filter(
            resolved_at__isnull=True, account__client__in=clients_visible_to(user)
        ).count(),
        market_data_alerts=MarketDataAlert.objects.filter(resolved_at__isnull=True).count(),
        model_alerts=model_alerts(),
        sets_awaiting_approval=sets_awaiting_approval(),
    )


# --- Client page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskExplanation:
    assessment: RiskAssessment
    response: QuestionnaireResponse
    willingness_level: int | None
    capacity_level: int | None
    flags: list[dict[str, str]]
    # The risk model's opinion on the latest response: its level and per-feature attributions,
    # largest first.
    model_method: str | None
    model_level: int | None
    attributions: list[tuple[str, float]]
    overridden: bool
    # The suitability policy's decision record and the two texts generated from it: the
    # advisor's, and the client's (what the client reads in the app and the chat).
    decision: suitability.Decision
    advisor_text: str
    client_text: str
    flags_reviewed: bool
    pending_requests: list[RiskOverrideRequest]  # an override above capacity awaiting approval


def risk_explanation(*, client: Client) -> RiskExplanation | None:
    """Why the client's risk level is what it is (None before the first questionnaire)."""
    profile = risk_profile_get(client=client)
    if profile is None:
        return None
    final = profile.assessment
    model = profile.model_opinion
    attributions = (model.details.get("attributions") or {}) if model else {}
    decision = profile.decision
    return RiskExplanation(
        assessment=final,
        response=profile.response,
        willingness_level=decision.willingness_level,
        capacity_level=decision.capacity_level,
        # An override keeps the flags it reviewed, marked as reviewed (never cleared silently).
        flags=[{"code": f.code, "message": f.message} for f in decision.flags],
        model_method=model.method if model else None,
        model_level=model.risk_level if model else None,
        attributions=sorted(
            ((str(k), float(v)) for k, v in attributions.items()), key=lambda kv: -abs(kv[1])
        ),
        overridden=final.method == RiskAssessment.OVERRIDE_METHOD,
        decision=decision,
        advisor_text=profile.advisor_explanation,
        client_text=profile.client_explanation,
        flags_reviewed=decision.flags_reviewed,
        pending_requests=risk_override_requests_pending(response=profile.response),
    )


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    projection_status: str  # of the current plan: "ready", "pending" or "failed"
    probability: float | None
    median_final_value: Decimal | None  # in today's money


def client_goals(*, client: Client) -> list[GoalRow]:
    """The client's goals with their current plan's chance and median final value: the figures
    the client sees (goal_plan_projections)."""
    goals = list(Goal.objects.filter(client=client).select_related("client"))
    projections = goal_plan_projections(goals=goals)
    return [
        GoalRow(
            goal=goal,
            projection_status=projections[goal.pk].status,
            probability=projections[goal.pk].probability,
            median_final_value=projections[goal.pk].median_final_value,
        )
        for goal in goals
    ]


@dataclass(frozen=True)
class AccountRow:
    account: Account
    level: int | None  # the goal's target level: the client's, by goal type and glide path
    value: Decimal | None
    cash: Decimal
    drift: float | None
    over_threshold: bool
    pending: RebalanceProposal | None


@dataclass(frozen=True)
class ClientPortfolio:
    market_date: date | None
    threshold: Decimal
    total: Decimal | None
    accounts: list[AccountRow]


def client_portfolio(*, client: Client) -> ClientPortfolio:
    """The client's accounts at the market date: value, cash, drift against the rebalancing
    threshold, and any proposal awaiting approval."""
    from portfolios.selectors import account_summary

    threshold = drift_threshold()
    accounts = list(Account.objects.filter(client=client).select_related("goal__client"))
    pending = {
        p.account_id: p
        for p in RebalanceProposal.objects.filter(
            account__in=accounts, status=RebalanceProposal.Status.PENDING
        )
    }
    day = _market_date()
    rows = []
    for account in accounts:
        summary = account_summary(account=account) if day is not None else None
        drift = summary.drift if summary else None  # portfolios.selectors.account_drift
        rows.append(
            AccountRow(
                account=account,
                level=summary.level if summary else None,
                value=summary.value if summary else None,
                cash=summary.cash if summary else account.cash,
                drift=drift,
                over_threshold=drift is not None and Decimal(str(drift)) > threshold,
                pending=pending.get(account.pk),
            )
        )
    total = sum((r.value for r in rows if r.value is not None), Decimal("0.00"))
    return ClientPortfolio(
        market_date=day, threshold=threshold, total=total if day else None, accounts=rows
    )


@dataclass(frozen=True)
class ClientTaxes:
    year: int
    summary: Any  # portfolios.tax.tax_year_summary: the figures the client's tax centre shows
    harvests: list[TaxHarvest]  # the latest, pending first
    documents: list[Document]


def client_taxes(*, client: Client, year: int | None = None) -> ClientTaxes:
    """The client's tax year so far (the same selector as the client's tax centre and tax
    report), their latest harvests and their documents."""
    from portfolios.tax import tax_year_summary

    day = _market_date()
    year = year or (day.year if day else timezone.now().year)
    harvests = list(
        TaxHarvest.objects.filter(account__client=client)
        .select_related("account__goal", "sell_asset", "buy_asset")
        .order_by("-status", "-created_at")[:10]
    )
    harvests.sort(key=lambda h: h.status != TaxHarvest.Status.PENDING)
    documents = list(
        Document.objects.filter(client=client)
        .select_related("account__goal")
        .defer("pdf", "csv")[:24]
    )
    return ClientTaxes(
        year=year,
        summary=tax_year_summary(client=client, year=year),
        harvests=harvests,
        documents=documents,
    )


@dataclass(frozen=True)
class AccountRisk:
    account: Account
    view: Any  # portfolios.services.risk.RiskView, or None when the account holds nothing


@dataclass(frozen=True)
class ClientRisk:
    accounts: list[AccountRisk]
    stress_check: Any  # portfolios.services.risk.StressCheck, or None without a risk level


def client_risk(*, client: Client) -> ClientRisk:
    """Each account's risk figures and stress tests (the one selector the client's app reads)
    and the stress check of the client's level against the loss they said they could bear."""
    from config.errors import ApplicationError
    from portfolios.services.risk import risk_figures_get, stress_vs_tolerance

    # Nothing to measure (an empty account, no market data, no risk level or no approved model
    # portfolio at the level) shows as such: a panel never fails the client's page.
    rows = []
    for account in Account.objects.filter(client=client).select_related("goal"):
        try:
            rows.append(AccountRisk(account=account, view=risk_figures_get(account=account)))
        except ApplicationError:
            rows.append(AccountRisk(account=account, view=None))
    try:
        check = stress_vs_tolerance(client=client)
    except ApplicationError:
        check = None
    return ClientRisk(accounts=rows, stress_check=check)


CHAT_MESSAGES = 20


@dataclass(frozen=True)
class ChatHistory:
    conversations: list[Conversation]
    messages: list[Message]  # the latest CHAT_MESSAGES across them, oldest first


def client_chat_history(*, client: Client, limit: int = CHAT_MESSAGES) -> ChatHistory:
    latest = list(
        Message.objects.filter(conversation__client=client)
        .select_related("conversation")
        .order_by("-created_at", "-id")[:limit]
    )
    return ChatHistory(
        conversations=list(Conversation.objects.filter(client=client)),
        messages=latest[::-1],
    )
