"""Rebalancing: a proposal when an account drifts past the threshold, executed at the close
once an advisor approves it (or at once where REBALANCE_AUTO_EXECUTE says so)."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisor.models import User

from .. import targets
from ..broker import Broker, PaperBroker, units_for_value
from ..market import market_date_get
from ..models import Account, Asset, RebalanceProposal, Transaction
from ..money import money, money_down
from ..valuation import (
    Valuation,
    account_value,
    class_drift,
    drift_threshold,
    min_trade,
    target_weights,
)
from .ledger import ledger_fill

logger = logging.getLogger(__name__)


def _rebalance_plan(
    valuation: Valuation, goal_targets: dict[str, Decimal]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Trades (value per fund) that restore the targets, and the weights they lead to."""
    total = valuation.total
    current = {h.asset.ticker: h.value for h in valuation.holdings}
    trades, after = [], {}
    for ticker in sorted(set(goal_targets) | set(current)):
        want = money(goal_targets.get(ticker, Decimal(0)) * total)
        have = current.get(ticker, Decimal("0.00"))
        gap = want - have
        if abs(gap) >= min_trade():
            trades.append(
                {"ticker": ticker, "side": "buy" if gap > 0 else "sell", "value": str(abs(gap))}
            )
            have = want
        if total > 0 and have > 0:
            after[ticker] = format(have / total, ".4f")
    return trades, after


@transaction.atomic
def rebalance_propose(*, account: Account) -> RebalanceProposal | None:
    """Propose trades when drift (½·Σ|actual − target| by class) exceeds the threshold.

    Idempotent per market date: a pending proposal is replaced only when prices moved on."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    goal_targets = target_weights(account=account)
    valuation = account_value(account=account)
    weights = valuation.weights()
    if not goal_targets or not weights:
        return None
    drift = class_drift(weights, goal_targets)
    pending = account.rebalances.filter(status=RebalanceProposal.Status.PENDING).first()
    if pending is not None and pending.market_date == valuation.day:
        return pending
    if drift <= drift_threshold():
        if pending is not None:  # the market came back: nothing to do any more
            pending.status = RebalanceProposal.Status.SUPERSEDED
            pending.save(update_fields=["status"])
        return None
    if pending is not None:
        pending.status = RebalanceProposal.Status.SUPERSEDED
        pending.save(update_fields=["status"])
    trades, after = _rebalance_plan(valuation, goal_targets)
    by_class_now = targets.class_weights({t: float(w) for t, w in weights.items()})
    by_class_target = targets.class_weights({t: float(w) for t, w in goal_targets.items()})
    worst = max(by_class_now, key=lambda c: abs(by_class_now[c] - by_class_target[c]))
    gap = by_class_now[worst] - by_class_target[worst]
    direction = "over" if gap > 0 else "under"
    proposal = RebalanceProposal.objects.create(
        account=account,
        market_date=valuation.day,
        drift=drift,
        threshold=drift_threshold(),
        reason=(
            f"Drift is {drift:.1%}, above the {drift_threshold():.0%} threshold; the largest "
            f"gap is {worst.replace('_', ' ')}, {abs(gap):.1%} {direction} target."
        ),
        trades=trades,
        before_weights={t: format(w, ".4f") for t, w in weights.items()},
        after_weights=after,
    )
    logger.info("rebalance proposed", extra={"account_id": account.pk, "proposal_id": proposal.pk})
    if settings.REBALANCE_AUTO_EXECUTE:
        return rebalance_decide(proposal=proposal, approve=True, actor=None)
    return proposal


@transaction.atomic
def rebalance_decide(
    *, proposal: RebalanceProposal, approve: bool, actor: User | None, broker: Broker | None = None
) -> RebalanceProposal:
    """Approve (and execute at the close) or reject a pending proposal; audited."""
    proposal = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != RebalanceProposal.Status.PENDING:
        raise ValidationError({"status": [f"This proposal is already {proposal.status}."]})
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    if not approve:
        proposal.status = RebalanceProposal.Status.REJECTED
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        return proposal
    broker = broker or PaperBroker()
    account = Account.objects.select_for_update().get(pk=proposal.account_id)
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.TRADE,
        amount=Decimal("0.00"),
        market_date=market_date_get(),
        description=f"Rebalance (proposal {proposal.pk})",
    )
    # Re-planned at execution: prices may have moved since the proposal. Sales first, to fund
    # the purchases; purchases then spend what the account holds.
    goal_targets = target_weights(account=account) or {}
    valuation = account_value(account=account, day=txn.market_date)
    trades, _ = _rebalance_plan(valuation, goal_targets)
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    for trade in (t for t in trades if t["side"] == "sell"):
        holding = holdings[trade["ticker"]]
        quantity = min(units_for_value(Decimal(trade["value"]), holding.price), holding.quantity)
        fill = broker.sell(asset=holding.asset, quantity=quantity, day=txn.market_date)
        ledger_fill(txn=txn, account=account, fill=fill)
    buys = {t["ticker"]: Decimal(t["value"]) for t in trades if t["side"] == "buy"}
    wanted = sum(buys.values(), Decimal(0))
    scale = min(Decimal(1), account.cash / wanted) if wanted else Decimal(0)
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in=buys)}
    for ticker, value in sorted(buys.items()):
        amount = money_down(value * scale)
        if amount >= min_trade() and amount <= account.cash:
            fill = broker.buy(asset=assets[ticker], amount=amount, day=txn.market_date)
            ledger_fill(txn=txn, account=account, fill=fill)
    proposal.status = RebalanceProposal.Status.EXECUTED
    proposal.executed_transaction = txn
    proposal.save(update_fields=["status", "decided_by", "decided_at", "executed_transaction"])
    logger.info("rebalance executed", extra={"proposal_id": proposal.pk, "transaction_id": txn.pk})
    return proposal


def rebalance_proposals_refresh() -> int:
    """Daily: propose a rebalance for every drifted account. Returns proposals pending."""
    for account_id in Account.objects.values_list("pk", flat=True):
        rebalance_propose(account=Account(pk=account_id))
    return RebalanceProposal.objects.filter(status=RebalanceProposal.Status.PENDING).count()
