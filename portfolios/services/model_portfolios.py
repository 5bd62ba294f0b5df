"""Market assumptions and the ten model portfolios built on them, and their approval."""

import logging

from django.conf import settings
from django.db import transaction

from advisor.models import User
from config.celery import enqueue_on_commit
from config.lifecycle import lifecycle_decide

from ..market import market_date_get
from ..models import ModelPortfolio, ModelPortfolioSet

logger = logging.getLogger(__name__)

APPROVE_PERMISSION = "portfolios.approve_modelportfolioset"


@transaction.atomic
def allocation_refresh(
    *, approve: bool | None = None, force: bool = False
) -> ModelPortfolioSet | None:
    """Re-estimate market assumptions and build ten model portfolios when prices moved on.

    Estimated from total-return levels, not closes: a fund's return to its holder includes its
    distributions, and closes drop by each one on its ex-date.

    Idempotent: nothing new is written while the latest assumptions already cover the market
    date, unless `force` (past figures were revised: the same market date, other data). The new
    set is a candidate unless MODEL_PORTFOLIOS_AUTO_APPROVE (or `approve`)."""
    import pandas as pd  # the ml worker's imports: keep them out of web processes

    from .. import allocation  # pandas and skfolio: the ml worker's imports
    from ..models import MarketAssumptions, Price

    day = market_date_get()
    latest = MarketAssumptions.objects.first()
    if latest is not None and latest.prices_through >= day and not force:
        return None
    rows = Price.objects.filter(asset__active=True).values_list(
        "date", "asset__ticker", "total_return"
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["date", "ticker", "level"])
    prices = frame.pivot(index="date", columns="ticker", values="level").astype(float)
    prices.index = pd.to_datetime(prices.index)
    tickers = [t for t in allocation.UNIVERSE if t in prices.columns]
    estimate = allocation.assumptions_estimate(prices[tickers].sort_index())
    assumptions = MarketAssumptions.objects.create(
        version=(latest.version + 1) if latest else 1,
        prices_through=day,
        method=estimate.method,
        data=estimate.as_dict(),
    )
    previous = ModelPortfolioSet.objects.order_by("-version").first()
    portfolio_set = ModelPortfolioSet.objects.create(
        version=(previous.version + 1) if previous else 1, assumptions=assumptions
    )
    for portfolio in allocation.model_portfolios_build(estimate):
        ModelPortfolio.objects.create(
            portfolio_set=portfolio_set,
            level=portfolio.level,
            weights={t: format(w, ".6f") for t, w in portfolio.weights.items() if w > 0},
            expected_return=portfolio.expected_return,
            volatility=portfolio.volatility,
        )
    auto = settings.MODEL_PORTFOLIOS_AUTO_APPROVE if approve is None else approve
    if auto:
        model_portfolio_set_decide(portfolio_set=portfolio_set, approve=True, actor=None)
    # The committee's evidence: the set's walk-forward governance report, built once committed.
    enqueue_on_commit("portfolios.governance_report_build", portfolio_set_id=portfolio_set.pk)
    logger.info("model portfolios built", extra={"version": portfolio_set.version})
    return portfolio_set


def model_portfolio_set_decide(
    *, portfolio_set: ModelPortfolioSet, approve: bool, actor: User | None
) -> ModelPortfolioSet:
    """Approve (retiring the approved one) or reject a candidate set; audited. A person approves
    only with the set's governance report in front of them: none yet, a 400 (the automatic
    approval of the local demo, `actor=None`, comes before the report is built)."""
    if approve and actor is not None and actor.has_perm(APPROVE_PERMISSION):
        from .governance import governance_report_require

        governance_report_require(portfolio_set=portfolio_set)
    return lifecycle_decide(
        row=portfolio_set,
        approve=approve,
        actor=actor,
        rejected_status=ModelPortfolioSet.Status.REJECTED,
        peers=ModelPortfolioSet.objects.all(),
        permission=APPROVE_PERMISSION,
    )
