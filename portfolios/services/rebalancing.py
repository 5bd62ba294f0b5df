"""Rebalancing: a proposal when an account drifts past the threshold, and its execution once an
advisor approves it (or at once where REBALANCE_AUTO_EXECUTE says so).

Approved means executed: a proposal stores its exact trades (units at the closes shown) and the
state they were computed from. Approval executes exactly those trades while that state holds;
when anything changed it executes nothing, supersedes the proposal, proposes afresh and raises
RebalanceStale (409) saying what changed. Nothing is ever re-planned silently.

Holdings are compared with targets per slot (`targets.slot`: a tax-loss-harvesting alternate
counts toward its primary's target). A slot under target buys the fund `purchase_ticker`
chooses, one over target sells its alternate first; the trades name the real funds, and the
choice of fund is part of the state, so a wash-sale window opening or closing makes a pending
proposal stale instead of executing something else."""

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from advisor.models import QuestionnaireResponse, User
from advisor.selectors import final_assessment
from config.postgres import rows_update

from .. import targets
from ..broker import UNIT, Broker, Fill, PaperBroker, units_for_amount, units_for_value
from ..exceptions import MarketDataMissing, RebalanceStale
from ..market import closes_on
from ..models import Account, Asset, ModelPortfolioSet, RebalanceProposal, Transaction
from ..money import money, money_down
from ..notices import rebalance_notify
from ..tax import identical_tickers, open_loss_funds
from ..valuation import (
    Holding,
    Valuation,
    account_value,
    account_values,
    approved_targets,
    class_drift,
    drift_threshold,
    goal_level,
    level_at,
    min_trade,
    target_weights,
)
from .cash_flows import slot_holdings, slot_values
from .ledger import account_lock, accounts_lock, ledger_fill
from .purchases import purchase_choice, purchase_ticker

logger = logging.getLogger(__name__)


# --- The state a proposal is computed from ----------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """An account as a rebalance sees it: valued at the market date, with its targets."""

    valuation: Valuation
    goal_targets: dict[str, Decimal]  # keyed by slot: the model portfolio's (primary) funds
    prices: dict[str, Decimal]  # the close of every fund held or to be bought
    state: dict[str, Any]
    fingerprint: str
    purchases: dict[str, str]  # slot → the fund a purchase for it buys (purchase_ticker)


def _snapshot(*, account: Account) -> _Snapshot | None:
    """The account's state now, or None while it has no target (no risk profile or no approved
    model portfolio) or holds nothing."""
    goal_targets = target_weights(account=account)
    valuation = account_value(account=account)
    if not goal_targets or not valuation.weights():
        return None
    purchases = {
        t: purchase_ticker(account=account, primary=t, day=valuation.day)
        for t in sorted(goal_targets)
    }
    tickers = set(purchases.values()) | {h.asset.ticker for h in valuation.holdings}
    assets = list(Asset.objects.filter(ticker__in=tickers))
    closes = closes_on(day=valuation.day, assets=assets)
    prices = {a.ticker: closes[a.pk] for a in assets if a.pk in closes}
    missing = sorted(tickers - set(prices))
    if missing:
        raise MarketDataMissing(f"No close on or before {valuation.day} for {', '.join(missing)}.")
    portfolio_set = (
        ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED)
        .values_list("version", flat=True)
        .first()
    )
    state = {
        "market_date": valuation.day.isoformat(),
        "prices": {t: str(p) for t, p in sorted(prices.items())},
        "cash": str(money(valuation.cash)),
        "positions": {
            h.asset.ticker: str(h.quantity.quantize(UNIT))
            for h in sorted(valuation.holdings, key=lambda h: h.asset.ticker)
        },
        "model_portfolio_set": portfolio_set,
        "level": goal_level(goal=account.goal),
        "targets": {t: str(w) for t, w in sorted(goal_targets.items())},
    }
    substitutes = {t: bought for t, bought in purchases.items() if bought != t}
    if substitutes:
        # Only where a slot buys its alternate: an account buying its primaries keeps the
        # fingerprint it had before slots existed, so pending proposals stay valid.
        state["purchases"] = substitutes
    fingerprint = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
    return _Snapshot(valuation, goal_targets, prices, state, fingerprint, purchases)


# --- The same state for many accounts at once (the daily batch's chunks) ----------------------


def _risk_levels(client_ids: set[int]) -> dict[int, int | None]:
    """Client id → the risk level of the final assessment of its latest response, as
    `risk_profile_get` reads it (None: no response), in two queries."""
    levels: dict[int, int | None] = dict.fromkeys(client_ids)
    seen: set[int] = set()
    # Meta ordering (newest first): the first response met per client is its latest.
    responses = QuestionnaireResponse.objects.filter(client_id__in=client_ids)
    for response in responses.prefetch_related("assessments"):
        if response.client_id in seen:
            continue
        seen.add(response.client_id)
        levels[response.client_id] = final_assessment(list(response.assessments.all())).risk_level
    return levels


def _washes(ticker: str, *, client_id: int, blocked: set[tuple[int, str]]) -> bool:
    return any((client_id, same) in blocked for same in identical_tickers(ticker))


def _snapshots(*, accounts: Sequence[Account]) -> dict[int, _Snapshot | MarketDataMissing | None]:
    """`_snapshot` of each account (goal loaded) in a fixed number of queries whatever their
    number: risk levels, targets, positions, closes, cash, open loss sales, funds, the approved
    set. An account whose funds lack a close gets the MarketDataMissing `_snapshot` raises.

    Read without locks, to decide which accounts need the locked `rebalance_propose` at all;
    the proposal itself is still made from `_snapshot` under the account's lock."""
    if not accounts:
        return {}
    valuations = account_values(accounts=accounts)
    day = next(iter(valuations.values())).day
    levels = _risk_levels({a.client_id for a in accounts})
    by_level = approved_targets()
    blocked = open_loss_funds(client_ids={a.client_id for a in accounts}, day=day)
    plans: dict[int, tuple[int | None, dict[str, Decimal], dict[str, str], set[str]]] = {}
    for account in accounts:
        level = level_at(goal=account.goal, risk_level=levels[account.client_id], today=day)
        goal_targets = by_level.get(level) if level is not None else None
        valuation = valuations[account.pk]
        if not goal_targets or not valuation.weights():
            continue
        held = {h.asset.ticker for h in valuation.holdings}
        washes = partial(_washes, client_id=account.client_id, blocked=blocked)
        purchases = {
            t: purchase_choice(primary=t, held=held, blocked=washes) for t in sorted(goal_targets)
        }
        plans[account.pk] = (level, goal_targets, purchases, set(purchases.values()) | held)
    assets = list(Asset.objects.filter(ticker__in={t for *_, ts in plans.values() for t in ts}))
    closes = closes_on(day=day, assets=assets)
    close_of = {a.ticker: closes[a.pk] for a in assets if a.pk in closes}
    portfolio_set = (
        ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED)
        .values_list("version", flat=True)
        .first()
    )
    found: dict[int, _Snapshot | MarketDataMissing | None] = {}
    for account in accounts:
        if account.pk not in plans:
            found[account.pk] = None
            continue
        level, goal_targets, purchases, tickers = plans[account.pk]
        valuation = valuations[account.pk]
        prices = {t: close_of[t] for t in tickers if t in close_of}
        missing = sorted(tickers - set(prices))
        if missing:
            found[account.pk] = MarketDataMissing(
                f"No close on or before {valuation.day} for {', '.join(missing)}."
            )
            continue
        state = {
            "market_date": valuation.day.isoformat(),
            "prices": {t: str(p) for t, p in sorted(prices.items())},
            "cash": str(money(valuation.cash)),
            "positions": {
                h.asset.ticker: str(h.quantity.quantize(UNIT))
                for h in sorted(valuation.holdings, key=lambda h: h.asset.ticker)
            },
            "model_portfolio_set": portfolio_set,
            "level": level,
            "targets": {t: str(w) for t, w in sorted(goal_targets.items())},
        }
        substitutes = {t: bought for t, bought in purchases.items() if bought != t}
        if substitutes:
            state["purchases"] = substitutes
        fingerprint = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
        found[account.pk] = _Snapshot(
            valuation, goal_targets, prices, state, fingerprint, purchases
        )
    return found


def _money_text(amount: Decimal, currency: str) -> str:
    return f"${amount:,.2f}" if currency == "USD" else f"{amount:,.2f} {currency}"


def _changes(
    *,
    proposal: RebalanceProposal,
    now: _Snapshot | None,
    account: Account,
    moved: Sequence[Transaction] | None = None,
) -> list[str]:
    """What differs between the state a proposal was computed from and now, in an advisor's
    words; empty when nothing did. `moved`: the account's transactions booked since the
    proposal, oldest first, where the caller has read them (for many accounts at once)."""
    was = proposal.state
    if not was or not proposal.fingerprint:
        return ["it predates exact trade records, so the trades it would execute cannot be checked"]
    if now is None:
        return ["the goal has no target any more (no risk profile or no approved model portfolio)"]
    if now.fingerprint == proposal.fingerprint:
        return []
    changes = []
    if moved is None:
        moved = list(
            Transaction.objects.filter(
                account=account, created_at__gt=proposal.created_at
            ).order_by("created_at", "id")
        )
    for txn in moved:
        what = txn.get_kind_display().lower()
        if txn.amount:
            article = "an" if what[0] in "aeiou" else "a"
            amount = _money_text(abs(txn.amount), account.currency)
            changes.append(f"{article} {what} of {amount} was booked on {txn.market_date}")
        else:
            changes.append(f"{what} were booked on {txn.market_date}")
    new = now.state
    if was["market_date"] != new["market_date"]:
        changes.append(
            f"the market date moved from {was['market_date']} to {new['market_date']} (new prices)"
        )
    elif was["prices"] != new["prices"]:
        # Funds priced then and now whose close differs; a fund priced only now (a purchase
        # switched to it) is told below, with the purchases.
        corrected = sorted(
            t for t in new["prices"] if t in was["prices"] and was["prices"][t] != new["prices"][t]
        )
        if corrected:
            changes.append(f"the closes of {', '.join(corrected)} were corrected")
    if was["model_portfolio_set"] != new["model_portfolio_set"]:
        changes.append(
            f"a new model-portfolio set was approved (v{was['model_portfolio_set']} → "
            f"v{new['model_portfolio_set']})"
        )
    if was["level"] != new["level"]:
        changes.append(f"the goal's risk level changed from {was['level']} to {new['level']}")
    elif (
        was["targets"] != new["targets"]
        and was["model_portfolio_set"] == new["model_portfolio_set"]
    ):
        changes.append("the goal's target weights changed")
    bought_was, bought_now = was.get("purchases", {}), new.get("purchases", {})
    if bought_was != bought_now:
        slots = sorted(
            t for t in set(bought_was) | set(bought_now) if bought_was.get(t) != bought_now.get(t)
        )
        switched = ", ".join(f"{bought_was.get(t, t)} → {bought_now.get(t, t)}" for t in slots)
        changes.append(
            f"the fund a purchase buys changed ({switched}): a wash-sale window opened or "
            "closed, or an alternate fund was bought or sold"
        )
    if was["cash"] != new["cash"]:
        changes.append(
            f"cash changed from {_money_text(Decimal(was['cash']), account.currency)} to "
            f"{_money_text(Decimal(new['cash']), account.currency)}"
        )
    if was["positions"] != new["positions"]:
        held = set(was["positions"]) | set(new["positions"])
        changed = sorted(t for t in held if was["positions"].get(t) != new["positions"].get(t))
        changes.append(f"the units held changed ({', '.join(changed)})")
    return changes or ["the account's state changed"]


# --- The plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trade:
    ticker: str
    side: str  # "sell" or "buy"
    units: Decimal
    price: Decimal
    value: Decimal  # cash in for a sale, cash out for a purchase

    def as_json(self) -> dict[str, str]:
        return {
            "ticker": self.ticker,
            "side": self.side,
            "units": str(self.units),
            "price": str(self.price),
            "value": str(self.value),
        }


def _rebalance_plan(snapshot: _Snapshot) -> tuple[list[_Trade], dict[str, str]]:
    """Trades that restore the targets, sells first, and the weights they lead to.

    Priced exactly as PaperBroker fills at the close: a sale of units raises their value rounded
    down; a purchase of an amount gets its units rounded up (broker.units_for_amount). Purchases
    never spend more than the cash and the sales' proceeds: if the gaps add up to more (rounding,
    gaps under the minimum trade left alone), they are scaled down here, in the plan the advisor
    sees."""
    valuation, goal_targets, prices = snapshot.valuation, snapshot.goal_targets, snapshot.prices
    total = valuation.total
    holdings = {h.asset.ticker: h for h in valuation.holdings}
    have_by_slot = slot_values(valuation)
    sells, gaps = [], {}
    for slot_ in sorted(set(goal_targets) | set(have_by_slot)):
        want = money(goal_targets.get(slot_, Decimal(0)) * total)
        have = have_by_slot.get(slot_, Decimal("0.00"))
        gap = want - have
        if gap <= -min_trade():
            sells += _slot_sales(slot_holdings(valuation, slot_), -gap)
        elif gap >= min_trade():
            gaps[slot_] = gap
    budget = valuation.cash + sum((t.value for t in sells), Decimal(0))
    wanted = sum(gaps.values(), Decimal(0))
    scale = min(Decimal(1), budget / wanted) if wanted else Decimal(0)
    buys = []
    for slot_, gap in sorted(gaps.items()):
        ticker = snapshot.purchases.get(slot_, slot_)
        amount = money_down(gap * scale)
        units = units_for_amount(amount, prices[ticker])
        if amount >= min_trade() and units > 0:
            buys.append(_Trade(ticker, "buy", units, prices[ticker], amount))
    trades = sells + buys
    units_after = {t: h.quantity for t, h in holdings.items()}
    cash_after = valuation.cash
    for trade in trades:
        sign = 1 if trade.side == "buy" else -1
        units_after[trade.ticker] = units_after.get(trade.ticker, Decimal(0)) + sign * trade.units
        cash_after -= sign * trade.value
    # Weights of exact values (units × close), as Valuation.weights computes them.
    values = {t: u * prices[t] for t, u in units_after.items() if u > 0}
    total_after = cash_after + sum(values.values(), Decimal(0))
    after = (
        {t: format(v / total_after, ".4f") for t, v in sorted(values.items()) if v > 0}
        if total_after > 0
        else {}
    )
    return trades, after


def _slot_sales(held: list[Holding], value: Decimal) -> list[_Trade]:
    """Sales raising about `value` from one slot's holdings, in `slot_holdings`' order (the
    alternate first); a remainder under the minimum trade is left alone."""
    trades = []
    left = value
    for holding in held:
        if left < min_trade():
            break
        units = min(units_for_value(left, holding.price), holding.quantity)
        proceeds = money_down(units * holding.price)
        if units <= 0:
            continue
        trades.append(_Trade(holding.asset.ticker, "sell", units, holding.price, proceeds))
        left -= proceeds
    return trades


# --- Propose ----------------------------------------------------------------------------------


def _supersede(proposal: RebalanceProposal, reason: str) -> None:
    # decided_at marks when it stopped pending (no one decided it): caches keyed on it move on.
    proposal.status = RebalanceProposal.Status.SUPERSEDED
    proposal.superseded_reason = reason
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "superseded_reason", "decided_at"])


def _proposal(*, account: Account, snapshot: _Snapshot) -> RebalanceProposal | None:
    """The proposal (unsaved) for an account drifted past the threshold; None within it."""
    weights = snapshot.valuation.weights()
    drift = class_drift(weights, snapshot.goal_targets)
    if drift <= drift_threshold():
        return None
    trades, after = _rebalance_plan(snapshot)
    by_class_now = targets.class_weights({t: float(w) for t, w in weights.items()})
    by_class_target = targets.class_weights({t: float(w) for t, w in snapshot.goal_targets.items()})
    worst = max(by_class_now, key=lambda c: abs(by_class_now[c] - by_class_target[c]))
    gap = by_class_now[worst] - by_class_target[worst]
    direction = "over" if gap > 0 else "under"
    return RebalanceProposal(
        account=account,
        market_date=snapshot.valuation.day,
        drift=drift,
        threshold=drift_threshold(),
        reason=(
            f"Drift is {drift:.1%}, above the {drift_threshold():.0%} threshold; the largest "
            f"gap is {worst.replace('_', ' ')}, {abs(gap):.1%} {direction} target."
        ),
        trades=[t.as_json() for t in trades],
        before_weights={t: format(w, ".4f") for t, w in sorted(weights.items())},
        after_weights=after,
        state=snapshot.state,
        fingerprint=snapshot.fingerprint,
    )


@transaction.atomic
def rebalance_propose(*, account: Account) -> RebalanceProposal | None:
    """Propose trades when drift (½·Σ|actual − target| by class) exceeds the threshold.

    Idempotent per state: a pending proposal stays while nothing it was computed from changed,
    and is superseded (with what changed) once something did."""
    account = account_lock(account.pk, related=())
    snapshot = _snapshot(account=account)
    if snapshot is None:
        return None
    pending = account.rebalances.filter(status=RebalanceProposal.Status.PENDING).first()
    if pending is not None and pending.fingerprint == snapshot.fingerprint:
        return pending
    if pending is not None:
        changes = _changes(proposal=pending, now=snapshot, account=account)
        _supersede(pending, "Replaced by the daily check: " + "; ".join(changes) + ".")
    proposal = _proposal(account=account, snapshot=snapshot)
    if proposal is None:
        return None
    proposal.save()
    logger.info("rebalance proposed", extra={"account_id": account.pk, "proposal_id": proposal.pk})
    if settings.REBALANCE_AUTO_EXECUTE:
        return rebalance_decide(proposal=proposal, approve=True, actor=None)
    return proposal


# --- Decide -----------------------------------------------------------------------------------


class _FillDiverged(Exception):
    """A fill differs from the trade shown; raised inside the execution's savepoint."""


def _execute(*, proposal: RebalanceProposal, account: Account, broker: Broker) -> Transaction:
    """Book exactly the proposal's trades, sells first, each checked against what was shown."""
    txn = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.TRADE,
        amount=Decimal("0.00"),
        market_date=proposal.market_date,
        description=f"Rebalance (proposal {proposal.pk})",
    )
    trades = [t for t in proposal.trades if t["side"] == "sell"] + [
        t for t in proposal.trades if t["side"] == "buy"
    ]
    assets = {a.ticker: a for a in Asset.objects.filter(ticker__in={t["ticker"] for t in trades})}
    for trade in trades:
        ticker, units = trade["ticker"], Decimal(trade["units"])
        price, value = Decimal(trade["price"]), Decimal(trade["value"])
        fill: Fill
        if trade["side"] == "sell":
            fill = broker.sell(asset=assets[ticker], quantity=units, day=txn.market_date)
            shown = (-units, value)
        else:
            if value > account.cash:
                raise _FillDiverged(
                    f"the cash would not cover buying {ticker} for "
                    f"{_money_text(value, account.currency)} at the price shown"
                )
            fill = broker.buy(asset=assets[ticker], amount=value, day=txn.market_date)
            shown = (units, -value)
        if fill.price != price:
            raise _FillDiverged(
                f"{ticker} would fill at {fill.price}, not at the price {price} shown"
            )
        if (fill.quantity, fill.cash) != shown:
            raise _FillDiverged(f"the {trade['side']} of {ticker} would not fill as shown")
        ledger_fill(txn=txn, account=account, fill=fill)
    return txn


@dataclass(frozen=True)
class _Stale:
    proposal: RebalanceProposal
    changes: list[str]
    fresh: RebalanceProposal | None


def _stale(*, proposal: RebalanceProposal, account: Account, changes: list[str]) -> _Stale:
    """Supersede a proposal that can no longer execute as shown, and propose from today's state."""
    reason = "Not executed: " + "; ".join(changes) + "."
    _supersede(proposal, reason)
    fresh = rebalance_propose(account=account)
    logger.info(
        "rebalance stale",
        extra={"proposal_id": proposal.pk, "fresh_proposal_id": fresh.pk if fresh else None},
    )
    return _Stale(proposal, changes, fresh)


@transaction.atomic
def _decide(
    *, proposal: RebalanceProposal, approve: bool, actor: User | None, broker: Broker
) -> RebalanceProposal | _Stale:
    # Locks in the order every money-moving service takes them: the client, the account, then
    # the account's rows.
    account_id = RebalanceProposal.objects.values_list("account_id", flat=True).get(pk=proposal.pk)
    account = account_lock(account_id, related=())
    proposal = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != RebalanceProposal.Status.PENDING:
        raise ValidationError({"status": [f"This proposal is already {proposal.status}."]})
    if not approve:
        proposal.status = RebalanceProposal.Status.REJECTED
        proposal.decided_by, proposal.decided_at = actor, timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        return proposal
    changes = _changes(proposal=proposal, now=_snapshot(account=account), account=account)
    if changes:
        return _stale(proposal=proposal, account=account, changes=changes)
    try:
        with transaction.atomic():  # a savepoint: a diverging fill books nothing
            txn = _execute(proposal=proposal, account=account, broker=broker)
    except _FillDiverged as exc:
        logger.warning("rebalance fill diverged", extra={"proposal_id": proposal.pk}, exc_info=True)
        account.refresh_from_db(fields=["cash"])
        return _stale(proposal=proposal, account=account, changes=[str(exc)])
    proposal.status = RebalanceProposal.Status.EXECUTED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.executed_transaction = txn
    proposal.save(update_fields=["status", "decided_by", "decided_at", "executed_transaction"])
    logger.info("rebalance executed", extra={"proposal_id": proposal.pk, "transaction_id": txn.pk})
    rebalance_notify(proposal=proposal)
    return proposal


def stale_message(stale: _Stale) -> str:
    text = (
        f"Proposal {stale.proposal.pk} was not executed because it is out of date: "
        f"{'; '.join(stale.changes)}."
    )
    fresh = stale.fresh
    if fresh is None:
        return text + " At today's state drift is within the threshold: no rebalance is needed."
    if fresh.status == RebalanceProposal.Status.EXECUTED:
        return text + f" A fresh proposal ({fresh.pk}) was made and executed automatically."
    return text + f" A fresh proposal ({fresh.pk}) shows the trades for today's state."


def rebalance_decide(
    *, proposal: RebalanceProposal, approve: bool, actor: User | None, broker: Broker | None = None
) -> RebalanceProposal:
    """Approve (execute exactly the trades shown, at the closes shown) or reject a pending
    proposal; audited. A stale approval supersedes the proposal, proposes afresh (both kept)
    and raises RebalanceStale: an advisor never approves trades they were not shown."""
    outcome = _decide(
        proposal=proposal, approve=approve, actor=actor, broker=broker or PaperBroker()
    )
    if isinstance(outcome, _Stale):
        raise RebalanceStale(
            stale_message(outcome),
            extra={
                "proposal": outcome.proposal.pk,
                "changes": outcome.changes,
                "new_proposal": outcome.fresh.pk if outcome.fresh else None,
            },
        )
    return outcome


# Accounts whose state is read at once: bounds the memory of a whole-book run.
REFRESH_READ_ACCOUNTS = 500


def _in_range(accounts: QuerySet[Account], account_range: tuple[int, int] | None) -> QuerySet:
    if account_range is None:
        return accounts
    lo, hi = account_range
    return accounts.filter(pk__gte=lo, pk__lt=hi)


def _batches(accounts: QuerySet[Account]) -> Iterator[list[Account]]:
    batch: list[Account] = []
    for account in accounts.iterator(chunk_size=REFRESH_READ_ACCOUNTS):
        batch.append(account)
        if len(batch) == REFRESH_READ_ACCOUNTS:
            yield batch
            batch = []
    if batch:
        yield batch


def _needs_propose(
    snapshot: _Snapshot | MarketDataMissing | None, pending: list[str] | None
) -> bool:
    """Whether `rebalance_propose` would write anything (or raise) for an account in this
    state: a pending proposal to supersede, or drift past the threshold with none pending."""
    if snapshot is None:
        return False  # rebalance_propose returns None and leaves any pending proposal alone
    if isinstance(snapshot, MarketDataMissing):
        return True  # let it raise, as it always did
    if pending:
        return pending != [snapshot.fingerprint]
    drift = class_drift(snapshot.valuation.weights(), snapshot.goal_targets)
    return drift > drift_threshold()


@transaction.atomic
def _propose_many(*, account_ids: list[int]) -> None:
    """`rebalance_propose` for many accounts in a fixed number of queries: the accounts locked
    (`accounts_lock`: their clients, then them, as every money-moving service takes them), their
    state read under the lock,
    pending proposals superseded and new ones written in bulk. Proposing moves no money, so one
    transaction for the lot holds no invariant back; auto-execution stays per account."""
    accounts = accounts_lock(account_ids)
    snapshots = _snapshots(accounts=accounts)
    pending = {
        p.account_id: p
        for p in RebalanceProposal.objects.select_for_update().filter(
            account_id__in=account_ids, status=RebalanceProposal.Status.PENDING
        )
    }
    stale: dict[int, RebalanceProposal] = {}
    for account in accounts:
        snapshot = snapshots[account.pk]
        if isinstance(snapshot, MarketDataMissing):
            raise snapshot
        was = pending.get(account.pk)
        if snapshot is not None and was is not None and was.fingerprint != snapshot.fingerprint:
            stale[account.pk] = was
    moved: dict[int, list[Transaction]] = {pk: [] for pk in stale}
    if stale:
        since = min(p.created_at for p in stale.values())
        for txn in Transaction.objects.filter(
            account_id__in=list(stale), created_at__gt=since
        ).order_by("created_at", "id"):
            if txn.created_at > stale[txn.account_id].created_at:
                moved[txn.account_id].append(txn)
    superseded, made = [], []
    for account in accounts:
        snapshot = snapshots[account.pk]
        if snapshot is None or isinstance(snapshot, MarketDataMissing):
            continue
        was = pending.get(account.pk)
        if was is not None and was.fingerprint == snapshot.fingerprint:
            continue
        old = stale.get(account.pk)
        if old is not None:
            changes = _changes(proposal=old, now=snapshot, account=account, moved=moved[account.pk])
            old.status = RebalanceProposal.Status.SUPERSEDED
            old.superseded_reason = "Replaced by the daily check: " + "; ".join(changes) + "."
            old.decided_at = timezone.now()
            superseded.append(old)
        proposal = _proposal(account=account, snapshot=snapshot)
        if proposal is not None:
            made.append(proposal)
    rows_update(superseded, ["status", "superseded_reason", "decided_at"])
    RebalanceProposal.objects.bulk_create(made, batch_size=500)
    for proposal in made:
        logger.info(
            "rebalance proposed",
            extra={"account_id": proposal.account_id, "proposal_id": proposal.pk},
        )


def rebalance_proposals_refresh(*, account_range: tuple[int, int] | None = None) -> int:
    """Daily: propose a rebalance for every drifted account (`account_range`: those with
    lo <= id < hi, a chunk of the daily batch). Returns the proposals pending among them.

    Set-based: the state of many accounts is read at once (`_snapshots`); those with something
    to change are locked and proposed for together (`_propose_many`), or one by one through
    `rebalance_propose` where proposals execute at once (REBALANCE_AUTO_EXECUTE)."""
    accounts = _in_range(Account.objects.select_related("goal").order_by("pk"), account_range)
    for batch in _batches(accounts):
        snapshots = _snapshots(accounts=batch)
        pending: dict[int, list[str]] = {}
        for account_id, fingerprint in RebalanceProposal.objects.filter(
            account_id__in=[a.pk for a in batch], status=RebalanceProposal.Status.PENDING
        ).values_list("account_id", "fingerprint"):
            pending.setdefault(account_id, []).append(fingerprint)
        due = [a for a in batch if _needs_propose(snapshots[a.pk], pending.get(a.pk))]
        if settings.REBALANCE_AUTO_EXECUTE:
            for account in due:
                rebalance_propose(account=account)
        elif due:
            _propose_many(account_ids=[a.pk for a in due])
    proposals = RebalanceProposal.objects.filter(status=RebalanceProposal.Status.PENDING)
    if account_range is not None:
        lo, hi = account_range
        proposals = proposals.filter(account_id__gte=lo, account_id__lt=hi)
    return proposals.count()
