"""Risk figures and stress tests of every funded account and each approved model portfolio:
computed at the market date in one vectorised pass (portfolios.risk, portfolios.stress), stored
one row per subject and date (`RiskFigures`), and read back by one selector per subject
(`risk_figures_get`, `model_portfolio_risk_get`) that the API, the client's sentence and the
advisor's figures all use: one figure, one computation.

A subject with no stored row yet (an account funded since the nightly run) is computed on read by
the same code and not stored; `computed_at` is then None. The onboarding check
(`stress_vs_tolerance`) sets the worst scenario of the model portfolio a client is about to hold
beside the loss they said they could bear; the stress cap (`stress_caps_apply`, after each
nightly run) hands each approved level's worst scenario loss to the suitability policy as plain
data, which lowers a client's level whose worst loss exceeds that tolerance."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from advisor import suitability
from advisor.models import Client, QuestionnaireResponse, RiskAssessment
from advisor.selectors import assessment_decision, final_assessment, risk_profile_get
from advisor.services.questionnaire import flag_rows, risk_assessment_record
from config.errors import NotFound

from .. import risk, stress
from ..exceptions import RiskFiguresUnavailable, RiskLevelMissing
from ..market import closes_on, market_date_get
from ..models import Account, Asset, ModelPortfolio, ModelPortfolioSet, Position, Price, RiskFigures
from ..money import money
from ..targets import MAX_LEVEL, MIN_LEVEL

logger = logging.getLogger(__name__)

# Model portfolios hold no money: their dollar figures are per $10,000 invested.
MODEL_PORTFOLIO_VALUE = Decimal("10000.00")
WEIGHT_DECIMALS = 6


# --- Reading the inputs -------------------------------------------------------------------------


def market_history_read(*, through: date) -> risk.MarketHistory:
    """Every fund's total-return levels up to `through`, one row per market date."""
    rows = (
        Price.objects.filter(date__lte=through)
        .order_by()
        .values_list("date", "asset__ticker", "total_return")
    )
    by_day: dict[date, dict[str, float]] = defaultdict(dict)
    for day, ticker, stored in rows.iterator(chunk_size=10_000):
        by_day[day][ticker] = float(stored)
    dates = tuple(sorted(by_day))
    tickers = tuple(sorted({t for levels in by_day.values() for t in levels}))
    matrix = np.full((len(dates), len(tickers)), np.nan)
    column = {t: i for i, t in enumerate(tickers)}
    for row, day in enumerate(dates):
        for ticker, value in by_day[day].items():
            matrix[row, column[ticker]] = value
    return risk.MarketHistory(dates=dates, tickers=tickers, levels=matrix)


@dataclass(frozen=True)
class Subject:
    """What is measured: an account's holdings today, or a model portfolio's target weights."""

    value: Decimal
    weights: dict[str, float]  # ticker → share of value; the rest is cash
    account_id: int | None = None
    model_portfolio: ModelPortfolio | None = None


def account_subjects(*, day: date, account_ids: Iterable[int] | None = None) -> list[Subject]:
    """Every account with a positive value at `day`'s closes (or those of `account_ids`)."""
    accounts = Account.objects.order_by("pk")
    positions = Position.objects.filter(quantity__gt=0).order_by()
    if account_ids is not None:
        ids = list(account_ids)
        accounts = accounts.filter(pk__in=ids)
        positions = positions.filter(account_id__in=ids)
    cash = dict(accounts.values_list("pk", "cash"))
    held: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for account_id, asset_id, quantity in positions.values_list(
        "account_id", "asset_id", "quantity"
    ):
        held[account_id].append((asset_id, quantity))
    asset_ids = {a for holdings in held.values() for a, _ in holdings}
    closes = closes_on(day=day, assets=Asset.objects.filter(pk__in=asset_ids))
    tickers = dict(Asset.objects.filter(pk__in=asset_ids).values_list("pk", "ticker"))
    subjects = []
    for account_id, account_cash in cash.items():
        values = {tickers[a]: q * closes[a] for a, q in held.get(account_id, [])}
        total = account_cash + sum(values.values(), Decimal(0))
        if total <= 0:
            continue
        weights = {t: round(float(v / total), 12) for t, v in values.items() if v > 0}
        subjects.append(Subject(value=money(total), weights=weights, account_id=account_id))
    return subjects


def model_portfolio_subjects(*, level: int | None = None) -> list[Subject]:
    """The approved model portfolios (or the one at `level`), per $10,000."""
    portfolios = ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED
    ).select_related("portfolio_set")
    if level is not None:
        portfolios = portfolios.filter(level=level)
    subjects = []
    for portfolio in portfolios.order_by("level"):
        weights = {t: float(w) for t, w in portfolio.weights.items() if float(w) > 0}
        total = sum(weights.values())
        if total > 1:  # stored to 6 places: a sum a hair over 1 is rounding, not leverage
            weights = {t: w / total for t, w in weights.items()}
        subjects.append(
            Subject(value=MODEL_PORTFOLIO_VALUE, weights=weights, model_portfolio=portfolio)
        )
    return subjects


# --- Computing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluated:
    subject: Subject
    measures: risk.RiskMeasures
    stress: tuple[stress.ScenarioResult, ...]
    iso_dates: dict[str, list[str]]  # each historical scenario's dates, shared by all subjects

    def figures(self) -> dict[str, Any]:
        """What `RiskFigures.figures` stores."""
        weights = {t: round(w, WEIGHT_DECIMALS) for t, w in sorted(self.subject.weights.items())}
        return {
            "value": str(self.subject.value),
            "weights": weights,
            "cash_weight": round(max(0.0, 1.0 - sum(self.subject.weights.values())), 6) + 0.0,
            **self.measures.as_dict(),
            "stress": [r.as_dict() for r in self.stress],
        }

    def paths(self) -> dict[str, Any]:
        """What `RiskFigures.paths` stores: each historical scenario's dates and values."""
        return {
            r.key: {"dates": self.iso_dates[r.key], "path": list(r.path)}
            for r in self.stress
            if r.kind == "historical"
        }


def subjects_evaluate(subjects: list[Subject], *, history: risk.MarketHistory) -> list[Evaluated]:
    """Risk figures and stress tests of every subject in one pass."""
    if not subjects:
        return []
    held = sorted({t for s in subjects for t, w in s.weights.items() if w > 0})
    missing = sorted(set(held) - set(history.tickers))
    if missing:
        raise RiskFiguresUnavailable(f"No price history for {', '.join(missing)}.")
    returns = risk.daily_returns(history, needed=held)
    weights = risk.weights_matrix([s.weights for s in subjects], history.tickers)
    measures = risk.risk_measures(returns, weights)
    scenarios = stress.stress_tests(history, weights, risk.fund_betas(returns))
    iso_dates: dict[str, list[str]] = {}
    for results in scenarios:
        for result in results:
            if result.kind == "historical" and result.key not in iso_dates:
                iso_dates[result.key] = [d.isoformat() for d in result.dates]
    return [
        Evaluated(subject=s, measures=m, stress=tuple(r), iso_dates=iso_dates)
        for s, m, r in zip(subjects, measures, scenarios, strict=True)
    ]


@transaction.atomic
def risk_figures_compute(
    *, account_ids: list[int] | None = None, models: bool | None = None
) -> int:
    """Compute and store the risk figures and stress tests of every funded account (or those of
    `account_ids`) and of each approved model portfolio (`models`; by default only with the
    whole book) at the market date; the daily batch runs it after the prices, the model
    portfolios in a chunk of their own (`account_ids=[]`, `models=True`). Idempotent: one row
    per subject and date, replaced by a rerun. Returns the rows written."""
    day = market_date_get()
    if models is None:
        models = account_ids is None
    subjects = account_subjects(day=day, account_ids=account_ids) if account_ids != [] else []
    if models:
        subjects += model_portfolio_subjects()
    evaluated = subjects_evaluate(subjects, history=market_history_read(through=day))
    now = timezone.now()
    rows = [
        RiskFigures(
            account_id=e.subject.account_id,
            model_portfolio=e.subject.model_portfolio,
            market_date=day,
            figures=e.figures(),
            paths=e.paths(),
            computed_at=now,
        )
        for e in evaluated
    ]
    fields = ["figures", "paths", "computed_at"]
    accounts = [r for r in rows if r.account_id is not None]
    portfolios = [r for r in rows if r.account_id is None]
    RiskFigures.objects.bulk_create(
        accounts,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["account", "market_date"],
        update_fields=fields,
    )
    RiskFigures.objects.bulk_create(
        portfolios,
        update_conflicts=True,
        unique_fields=["model_portfolio", "market_date"],
        update_fields=fields,
    )
    # Chart paths live on each subject's latest row only.
    older = RiskFigures.objects.filter(market_date__lt=day, paths__isnull=False)
    if account_ids is None:
        older.update(paths=None)
    else:
        older.filter(account_id__in=account_ids).update(paths=None)
        if models:
            older.filter(model_portfolio__isnull=False).update(paths=None)
    logger.info(
        "risk figures computed",
        extra={
            "market_date": day.isoformat(),
            "accounts": len(accounts),
            "models": len(portfolios),
        },
    )
    if portfolios:  # the levels' worst losses moved: the stress cap follows them
        stress_caps_apply()
    return len(rows)


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathPoint:
    date: date
    value: Decimal  # the subject's value that day, today's value scaled by the scenario


@dataclass(frozen=True)
class ScenarioView:
    result: stress.ScenarioResult
    loss_amount: Decimal  # of today's value, at the scenario's worst point
    path: tuple[PathPoint, ...]


@dataclass(frozen=True)
class RiskView:
    """One subject's figures as every surface shows them."""

    market_date: date
    computed_at: datetime | None  # None: computed on read, not stored yet
    value: Decimal
    weights: dict[str, float]
    cash_weight: float
    measures: risk.RiskMeasures
    scenarios: tuple[ScenarioView, ...]
    subject_label: str

    @property
    def summary_text(self) -> str:
        return stress.risk_text(
            self.measures,
            [s.result for s in self.scenarios],
            value=self.value,
            subject=self.subject_label,
        )

    @property
    def worst(self) -> ScenarioView | None:
        return max(self.scenarios, key=lambda s: s.result.loss, default=None)


def _scenario_view(result: stress.ScenarioResult, value: Decimal) -> ScenarioView:
    return ScenarioView(
        result=result,
        loss_amount=money(value * Decimal(str(result.loss))),
        path=tuple(
            PathPoint(date=d, value=money(value * Decimal(str(level))))
            for d, level in zip(result.dates, result.path, strict=True)
        ),
    )


def _view(
    *,
    market_date: date,
    computed_at: datetime | None,
    figures: dict[str, Any],
    paths: dict[str, Any] | None,
    label: str,
) -> RiskView:
    value = Decimal(figures["value"])
    scenarios = []
    for item in figures["stress"]:
        drawn = (paths or {}).get(item["key"], {})
        result = stress.ScenarioResult.from_dict({**item, **drawn})
        scenarios.append(_scenario_view(result, value))
    return RiskView(
        market_date=market_date,
        computed_at=computed_at,
        value=value,
        weights=dict(figures["weights"]),
        cash_weight=float(figures["cash_weight"]),
        measures=risk.RiskMeasures.from_dict(figures),
        scenarios=tuple(scenarios),
        subject_label=label,
    )


def _stored(row: RiskFigures, label: str) -> RiskView:
    return _view(
        market_date=row.market_date,
        computed_at=row.computed_at,
        figures=row.figures,
        paths=row.paths,
        label=label,
    )


def _fresh(subject: Subject, day: date, label: str) -> RiskView:
    [evaluated] = subjects_evaluate([subject], history=market_history_read(through=day))
    return _view(
        market_date=day,
        computed_at=None,
        figures=evaluated.figures(),
        paths=evaluated.paths(),
        label=label,
    )


ACCOUNT_LABEL = "this goal's portfolio"


def risk_figures_get(*, account: Account) -> RiskView:
    """The account's latest stored risk figures and stress tests; for an account with none
    stored yet, the same computation at the market date, not stored. The one read of these
    figures: the API, the client's sentence and the advisor's figures all come from here."""
    row = RiskFigures.objects.filter(account=account).order_by("-market_date").first()
    if row is not None:
        return _stored(row, ACCOUNT_LABEL)
    day = market_date_get()
    subjects = account_subjects(day=day, account_ids=[account.pk])
    if not subjects:
        raise RiskFiguresUnavailable(
            "This account holds nothing yet: its risk figures come once it is funded."
        )
    return _fresh(subjects[0], day, ACCOUNT_LABEL)


def model_portfolio_risk_get(*, level: int) -> RiskView:
    """The approved model portfolio's risk figures at `level` (per $10,000), as
    `risk_figures_get`: the latest stored, else computed on read."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise NotFound(f"No model portfolio at level {level}: levels run from 1 to 10.")
    subjects = model_portfolio_subjects(level=level)
    if not subjects:
        raise NotFound(f"No approved model portfolio at level {level}.")
    subject = subjects[0]
    label = f"the level {level} portfolio"
    row = (
        RiskFigures.objects.filter(model_portfolio=subject.model_portfolio)
        .order_by("-market_date")
        .first()
    )
    if row is not None:
        return _stored(row, label)
    return _fresh(subject, market_date_get(), label)


# --- Onboarding and risk changes: the worst scenario against the client's own tolerance ------


@dataclass(frozen=True)
class StressFlag:
    code: str
    message: str  # for the advisor


@dataclass(frozen=True)
class StressCheck:
    level: int
    market_date: date
    worst: ScenarioView | None
    tolerance: stress.Tolerance | None
    exceeds: bool
    flag: StressFlag | None
    client_text: str
    advisor_text: str
    capped_from: int | None = None  # the stress cap lowered the client's level from this one


STRESS_FLAG_CODE = "stress_exceeds_tolerance"
# Even the lowest level's worst loss exceeds the tolerance: the level is floored there.
STRESS_FLOOR_FLAG_CODE = "stress_floor"


def stress_vs_tolerance(*, client: Client, level: int | None = None) -> StressCheck:
    """The worst scenario of the model portfolio at `level` (default: the client's current
    level) beside the loss the client said in the questionnaire they could bear; when it is
    larger, a flag for the advisor; when the stress cap lowered the client's level to this one,
    from which level (`capped_from`, also said in both texts). Read only: the API shows the
    flag, and the advisor's queue lists every client it applies to
    (workspace.selectors.stress_over_tolerance, the same rule over the nightly stored figures)."""
    profile = risk_profile_get(client=client)
    if level is None:
        if profile is None:
            raise RiskLevelMissing("Answer the risk questionnaire first, or give a level.")
        level = profile.assessment.risk_level
    view = model_portfolio_risk_get(level=level)
    worst = view.worst
    tolerance = stress.loss_tolerance(profile.response.answers) if profile else None
    over = bool(worst and tolerance and stress.exceeds(worst.result.loss, tolerance))
    client_text, advisor_text = _check_texts(level, worst, tolerance, over)
    decision = profile.decision if profile else None
    capped_from = None
    if (
        decision is not None
        and decision.stress_capped
        and decision.decided_by != "advisor"
        and decision.level == level
    ):
        capped_from = decision.uncapped_level
        client_text = (
            f"Your level was lowered from {capped_from} to {level} because of this check. "
            f"{client_text}"
        )
        advisor_text = f"Stress cap: lowered from {capped_from} to {level}. {advisor_text}"
    code = STRESS_FLAG_CODE
    if (
        decision is not None
        and capped_from is not None
        and suitability.STRESS_FLOOR in decision.reasons
    ):
        code = STRESS_FLOOR_FLAG_CODE
    flag = StressFlag(code=code, message=advisor_text) if over else None
    if over:
        logger.info("stress check over tolerance", extra={"client_id": client.pk, "level": level})
    return StressCheck(
        capped_from=capped_from,
        level=level,
        market_date=view.market_date,
        worst=worst,
        tolerance=tolerance,
        exceeds=over,
        flag=flag,
        client_text=client_text,
        advisor_text=advisor_text,
    )


def _check_texts(
    level: int,
    worst: ScenarioView | None,
    tolerance: stress.Tolerance | None,
    over: bool,
) -> tuple[str, str]:
    if worst is None:
        return (
            f"There is not enough market history to stress the level {level} portfolio.",
            f"Level {level}: no scenario could be replayed.",
        )
    loss = stress.percent(worst.result.loss)
    said = (
        f" You told us you could bear a fall of about {stress.percent(tolerance.loss)}%."
        if tolerance
        else ""
    )
    verdict = (
        " That is more than you said you could bear: your advisor will go through it with you."
        if over
        else ""
    )
    client = (
        f"In the worst of our scenarios ({worst.result.name}), the level {level} portfolio "
        f"could fall about {loss}%.{said}{verdict}"
    )
    basis = f" ({', '.join(tolerance.basis)})" if tolerance else ""
    stated = (
        f"stated tolerance {stress.percent(tolerance.loss)}%{basis}"
        if tolerance
        else "no questionnaire answers with a stated tolerance"
    )
    gap = (
        f"; exceeds it by {loss - stress.percent(tolerance.loss)} points"
        if over and tolerance
        else ""
    )
    advisor = (
        f"Level {level} worst scenario: {worst.result.name} −{worst.result.loss:.1%} "
        f"(${worst.loss_amount:,} per ${MODEL_PORTFOLIO_VALUE:,.0f}); {stated}{gap}."
    )
    return client, advisor


# --- The stress cap: the levels' worst losses handed to the suitability policy ----------------


@dataclass(frozen=True)
class WorstLosses:
    """Each approved level's worst scenario loss, as the suitability policy takes it."""

    market_date: date | None
    losses: tuple[suitability.LevelLoss, ...]


def _level_loss(level: int, results: Iterable[stress.ScenarioResult]) -> suitability.LevelLoss:
    worst = stress.worst_scenario(list(results))
    if worst is None:
        return suitability.LevelLoss(level=level, loss=0.0, scenario="")
    return suitability.LevelLoss(
        level=level,
        loss=round(worst.loss, stress.FIGURE_DECIMALS),
        scenario=worst.name,
        phrase=stress.PHRASES.get(worst.key, ""),
        historical=worst.kind == "historical",
    )


def model_portfolio_worst_losses() -> WorstLosses:
    """The worst scenario (historical or hypothetical, as the stress check takes it) of each
    approved model portfolio, from its latest stored figures; computed on read, not stored,
    when none are stored yet (before the first nightly run)."""
    rows = (
        RiskFigures.objects.filter(
            model_portfolio__portfolio_set__status=ModelPortfolioSet.Status.APPROVED
        )
        .select_related("model_portfolio")
        .order_by("model_portfolio__level", "-market_date")
    )
    latest: dict[int, RiskFigures] = {}
    for row in rows:
        level = row.model_portfolio.level  # type: ignore[union-attr]
        latest.setdefault(level, row)
    if latest:
        losses = tuple(
            _level_loss(
                level, (stress.ScenarioResult.from_dict(s) for s in row.figures.get("stress", []))
            )
            for level, row in sorted(latest.items())
        )
        return WorstLosses(market_date=max(r.market_date for r in latest.values()), losses=losses)
    subjects = model_portfolio_subjects()
    if not subjects:
        return WorstLosses(market_date=None, losses=())
    day = market_date_get()
    evaluated = subjects_evaluate(subjects, history=market_history_read(through=day))
    return WorstLosses(
        market_date=day,
        losses=tuple(
            _level_loss(e.subject.model_portfolio.level, e.stress)  # type: ignore[union-attr]
            for e in evaluated
        ),
    )


def stress_cap_inputs(
    *, answers: dict[str, str], worst: WorstLosses
) -> suitability.StressCap | None:
    """The stress cap's inputs for one client's answers; None without a stated tolerance or
    without any level's figures (then the policy has nothing to cap with)."""
    tolerance = stress.loss_tolerance(answers)
    if tolerance is None or not worst.losses:
        return None
    return suitability.StressCap(
        tolerance=tolerance.loss, losses=worst.losses, market_date=worst.market_date
    )


# Clients' latest responses (with their assessments) in memory at once in `stress_caps_apply`.
STRESS_CAP_PAGE = 2000


@transaction.atomic
def stress_caps_apply(*, client_ids: Iterable[int] | None = None) -> int:
    """Re-decide the level of every client (or those of `client_ids`) with the stress cap: the
    suitability policy, given the approved levels' worst scenario losses and the loss the
    client's latest answers accept, lowers a level whose worst loss is larger (never raises
    it; at no level within, the lowest, for the advisor to look at). Runs after the nightly
    figures and after a questionnaire is submitted.

    The final assessment is rewritten in place (rules or combined; audited) with the new
    decision record only when the level or its reasons change (a cap applied, moved or lifted):
    rerunning, or a nightly drift of a loss that changes nothing, writes nothing, so a large
    book is read in two queries a page of `STRESS_CAP_PAGE` clients (its memory bounded: a
    100,000-account book read at once took 1 GB) and written only where a level moves.
    An advisor's override stands as it is. Returns the assessments rewritten."""
    worst = model_portfolio_worst_losses()
    if not worst.losses:
        return 0
    latest = QuestionnaireResponse.objects.filter(client=OuterRef("client")).order_by(
        "-submitted_at", "-id"
    )
    responses = QuestionnaireResponse.objects.filter(
        pk=Subquery(latest.values("pk")[:1])
    ).prefetch_related("assessments")
    if client_ids is not None:
        responses = responses.filter(client_id__in=list(client_ids))
    today = timezone.localdate()
    written = 0
    for response in responses.order_by("pk").iterator(chunk_size=STRESS_CAP_PAGE):
        assessments = list(response.assessments.all())
        if not assessments:
            continue
        final = final_assessment(assessments)
        if final.method == RiskAssessment.OVERRIDE_METHOD:
            continue
        current = assessment_decision(final)
        cap = stress_cap_inputs(answers=response.answers, worst=worst)
        if (
            cap is None
            or current.willingness_level is None
            or current.capacity_level is None
            or current.reason == suitability.RECORDED_LEVEL
        ):
            continue
        decision = suitability.decide(
            willingness_level=current.willingness_level,
            capacity_level=current.capacity_level,
            model_level=current.model_level,
            flags=current.flags,
            decided_on=current.decided_on,
            stress=cap,
        )
        if (decision.level, decision.reasons) == (current.level, current.reasons):
            continue  # the cap changes nothing: no write, no audit entry
        if decision.level != current.level:
            decision = replace(decision, decided_on=today)
        risk_assessment_record(
            response=response,
            method=final.method,
            risk_level=decision.level,
            willingness_score=final.willingness_score,
            capacity_score=final.capacity_score,
            inconsistent=bool(decision.open_flags),
            flags=flag_rows(decision.flags),
            details={
                **final.details,
                "risk_level": decision.level,
                "decision": decision.as_details(),
            },
        )
        written += 1
        if decision.level != current.level:
            logger.info(
                "risk level stress-capped",
                extra={
                    "client_id": response.client_id,
                    "from_level": current.level,
                    "to_level": decision.level,
                },
            )
    return written
