"""Goal projections: inputs from the goal, its account and the market assumptions; the Monte
Carlo itself runs in the ml worker (nlp.inference.projection, torch)."""

import hashlib
import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from advisor.models import Goal
from config.celery import enqueue

from .models import (
    Account,
    GoalProjection,
    MarketAssumptions,
    ModelPortfolio,
    ModelPortfolioSet,
)
from .valuation import account_value, goal_level

logger = logging.getLogger(__name__)


class ProjectionUnavailable(Exception):
    """The goal cannot be projected yet; the message says what is missing."""


def _months_between(start: date, end: date) -> int:
    return max((end.year - start.year) * 12 + (end.month - start.month), 1)


def projection_inputs(
    *,
    goal: Goal,
    monthly_contribution: Decimal | None = None,
    target_date: date | None = None,
) -> dict[str, Any]:
    """Everything the simulation needs, as JSON-ready numbers (what-ifs override the goal's)."""
    level = goal_level(goal=goal)
    if level is None:
        raise ProjectionUnavailable("Complete the risk questionnaire to see projections.")
    portfolio = ModelPortfolio.objects.filter(
        portfolio_set__status=ModelPortfolioSet.Status.APPROVED, level=level
    ).first()
    assumptions = MarketAssumptions.objects.first()
    if portfolio is None or assumptions is None:
        raise ProjectionUnavailable("Model portfolios are not ready yet.")
    tickers = [t for t, w in portfolio.weights.items() if Decimal(w) > 0]
    index = {t: i for i, t in enumerate(assumptions.data["tickers"])}
    mu, cov = assumptions.data["expected_returns"], assumptions.data["covariance"]
    account = Account.objects.filter(goal=goal).first()
    value = account_value(account=account).total if account else Decimal("0.00")
    today = timezone.localdate()
    return {
        "initial_value": float(value or goal.initial_amount),
        "monthly_contribution": float(
            goal.monthly_contribution if monthly_contribution is None else monthly_contribution
        ),
        "months": _months_between(today, target_date or goal.target_date),
        "target_amount": float(goal.target_amount),
        "weights": [float(Decimal(portfolio.weights[t])) for t in tickers],
        "monthly_mean": [mu[index[t]] / 12 for t in tickers],
        "monthly_cov": [[cov[index[a]][index[b]] / 12 for b in tickers] for a in tickers],
        "annual_inflation": settings.PROJECTION_INFLATION,
        "paths": settings.PROJECTION_PATHS,
        "seed": goal.pk,
        "level": level,
        "assumptions_version": assumptions.version,
    }


def inputs_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def projection_request(*, goal: Goal, inputs: dict[str, Any]) -> tuple[GoalProjection, bool]:
    """The stored projection for these inputs, or a new pending one. Returns (row, created)."""
    return GoalProjection.objects.get_or_create(
        goal=goal, inputs_hash=inputs_hash(inputs), defaults={"inputs": inputs}
    )


def projection_answer(
    *, goal: Goal, monthly_contribution: Decimal | None = None, target_date: date | None = None
) -> dict[str, Any]:
    """The goal's projection: the stored one, a fresh one if the worker answers within
    PROJECTION_WAIT_SECONDS, or `status: pending` — never an error when the worker is slow or
    down. The Monte Carlo itself is the ml worker's (`nlp.projection_compute`, queued by name)."""
    try:
        inputs = projection_inputs(
            goal=goal, monthly_contribution=monthly_contribution, target_date=target_date
        )
    except ProjectionUnavailable as exc:
        return {"status": "pending", "goal_id": goal.pk, "message": str(exc)}
    projection, _ = projection_request(goal=goal, inputs=inputs)
    if projection.status == GoalProjection.Status.PENDING:
        try:
            pending = enqueue("nlp.projection_compute", projection_id=projection.pk)
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                pending.get(timeout=settings.PROJECTION_WAIT_SECONDS, propagate=False)
        except (CeleryTimeout, BrokerDown):
            logger.warning("projection not ready in time", extra={"projection_id": projection.pk})
        projection.refresh_from_db()
    base = {
        "goal_id": goal.pk,
        "months": inputs["months"],
        "target_amount": inputs["target_amount"],
        "monthly_contribution": inputs["monthly_contribution"],
        "level": inputs["level"],
    }
    if projection.status == GoalProjection.Status.READY and projection.result:
        result = projection.result
        return {
            **base,
            "status": "ready",
            "probability": result["probability"],
            "required_monthly_contribution": result["required_monthly_contribution"],
            "expected_final_value": result["expected_final_value"],
            "percentiles": result["percentiles"],
            "computed_at": projection.computed_at,
        }
    if projection.status == GoalProjection.Status.FAILED:
        return {**base, "status": "failed", "message": projection.error}
    return {**base, "status": "pending", "message": "Computing; ask again in a few seconds."}
