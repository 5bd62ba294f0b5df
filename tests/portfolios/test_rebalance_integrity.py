"""Approved means executed: a proposal records its exact trades and the state it was computed
from; approval executes exactly those trades, or refuses as stale and proposes afresh."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from advisor import risk
from advisor import services as advisor_services
from portfolios import exceptions, market, services
from portfolios.broker import Fill, PaperBroker
from portfolios.models import (
    MarketAssumptions,
    ModelPortfolio,
    ModelPortfolioSet,
    RebalanceProposal,
    Transaction,
)
from portfolios.services.ledger import ledger_cash
from portfolios.targets import UNIVERSE

from ..factories import AdvisorFactory, GoalFactory
from . import test_rebalancing
from .conftest import BASE_PRICES, TICKERS, write_prices
from .test_ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db

drifted = test_rebalancing.drifted  # an account at target, then a 60% stock rally


# --- Helpers --------------------------------------------------------------------------------


def ledger_lines(txn: Transaction) -> list[tuple[str, str, Decimal, Decimal, Decimal]]:
    """The trade transaction's entries as (ticker, side, units, price, cash) per fill: each fill
    books a units entry and then its cash entry."""
    entries = list(txn.entries.select_related("asset").order_by("id"))
    lines = []
    for units, cash in zip(entries[::2], entries[1::2], strict=True):
        assert units.asset is not None
        assert cash.asset is None
        side = "buy" if units.quantity > 0 else "sell"
        lines.append((units.asset.ticker, side, abs(units.quantity), units.price, cash.quantity))
    return lines


def proposed_lines(proposal: RebalanceProposal) -> list[tuple[str, str, Decimal, Decimal, Decimal]]:
    return [
        (
            t["ticker"],
            t["side"],
            Decimal(t["units"]),
            Decimal(t["price"]),
            Decimal(t["value"]) if t["side"] == "sell" else -Decimal(t["value"]),
        )
        for t in proposal.trades
    ]


def approved_set_replace(version: int, weights: dict[str, Decimal]) -> ModelPortfolioSet:
    """Approve a new model-portfolio set with `weights` at every level (the old one retires)."""
    ModelPortfolioSet.objects.filter(status=ModelPortfolioSet.Status.APPROVED).update(
        status=ModelPortfolioSet.Status.RETIRED
    )
    assumptions = MarketAssumptions.objects.first()
    portfolio_set = ModelPortfolioSet.objects.create(
        version=version, assumptions=assumptions, status=ModelPortfolioSet.Status.APPROVED
    )
    ModelPortfolio.objects.bulk_create(
        ModelPortfolio(
            portfolio_set=portfolio_set,
            level=level,
            weights={t: str(w) for t, w in weights.items()},
            expected_return=0.05,
            volatility=0.1,
        )
        for level in range(1, 11)
    )
    return portfolio_set


def _advisor_api(account) -> APIClient:
    advisor = AdvisorFactory()
    account.client.advisor = advisor
    account.client.save()
    api = APIClient()
    api.force_authenticate(advisor)
    return api


# --- Exact execution --------------------------------------------------------------------------


def test_a_proposal_records_units_price_and_value_of_each_trade_sells_first(drifted):
    proposal = services.rebalance_propose(account=drifted)

    sides = [t["side"] for t in proposal.trades]
    assert sides == sorted(sides, key=lambda side: side != "sell")  # sells, then buys
    for trade in proposal.trades:
        assert {"ticker", "side", "units", "price", "value"} <= set(trade)
        assert Decimal(trade["units"]) > 0
    vti = next(t for t in proposal.trades if t["ticker"] == "VTI")
    assert Decimal(vti["price"]) == Decimal("320")  # the close the proposal was priced at
    assert proposal.fingerprint
    assert proposal.state["market_date"] == proposal.market_date.isoformat()


def test_the_ledger_after_approval_equals_the_proposal_line_by_line(drifted):
    proposal = services.rebalance_propose(account=drifted)
    cash_before = type(drifted).objects.get(pk=drifted.pk).cash

    services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert ledger_lines(proposal.executed_transaction) == proposed_lines(proposal)
    drifted.refresh_from_db()
    assert drifted.cash == cash_before + sum(line[4] for line in proposed_lines(proposal))
    assert_ledger_consistent(drifted)


def test_auto_execution_also_books_exactly_the_proposed_trades(drifted, settings):
    settings.REBALANCE_AUTO_EXECUTE = True

    proposal = services.rebalance_propose(account=drifted)

    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert ledger_lines(proposal.executed_transaction) == proposed_lines(proposal)


# --- Stale proposals ------------------------------------------------------------------------


def _deposit(account, tmp_path, day) -> str:
    services.deposit_make(account=account, amount=Decimal("2500.00"))
    return "a deposit of $2,500.00"


def _withdrawal(account, tmp_path, day) -> str:
    services.withdrawal_make(account=account, amount=Decimal("700.00"))
    return "a withdrawal of $700.00"


def _new_price_date(account, tmp_path, day) -> str:
    later = {**BASE_PRICES, "VTI": "318"}
    market.prices_load(path=write_prices(tmp_path / "later.csv", {day + timedelta(days=2): later}))
    return "the market date moved"


def _risk_reassessment(account, tmp_path, day) -> str:
    question_set = risk.question_set_get()
    cautious = {q.key: min(q.choices, key=lambda c: c.points).value for q in question_set.questions}
    advisor_services.questionnaire_submit(
        client=account.client, version=risk.CURRENT_VERSION, answers=cautious
    )
    return "risk level changed"


def _new_model_portfolios(account, tmp_path, day) -> str:
    approved_set_replace(
        2, {"VTI": Decimal("0.30"), "IEF": Decimal("0.65"), "BIL": Decimal("0.05")}
    )
    return "a new model-portfolio set was approved"


STATE_CHANGES = [_deposit, _withdrawal, _new_price_date, _risk_reassessment, _new_model_portfolios]


@pytest.mark.parametrize("change", STATE_CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_state_change_makes_approval_stale_and_re_proposes(
    drifted, tmp_path, market_data, change
):
    # given: a proposal, then something it was computed from changes
    proposal = services.rebalance_propose(account=drifted)
    shown = list(proposal.trades)
    what = change(drifted, tmp_path, market_data)
    trades_before = Transaction.objects.filter(kind=Transaction.Kind.TRADE).count()

    # when
    with pytest.raises(exceptions.RebalanceStale) as stale:
        services.rebalance_decide(proposal=proposal, approve=True, actor=AdvisorFactory())

    # then: nothing traded, the proposal superseded, a fresh one (if still needed) pending
    assert stale.value.status_code == 409
    assert what in stale.value.message
    assert "not executed" in stale.value.message
    assert Transaction.objects.filter(kind=Transaction.Kind.TRADE).count() == trades_before
    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.SUPERSEDED
    assert proposal.executed_transaction is None
    fresh = RebalanceProposal.objects.filter(
        account=drifted, status=RebalanceProposal.Status.PENDING
    ).first()
    assert stale.value.extra["new_proposal"] == (fresh.pk if fresh else None)
    if fresh is not None:
        assert fresh.pk != proposal.pk
        assert fresh.trades != shown or fresh.state != proposal.state
    assert_ledger_consistent(drifted)


def test_the_issue_case_a_risk_reassessment_never_re_plans_silently(drifted, tmp_path, market_data):
    # given: a bold client's proposal, then a cautious re-assessment lowers the level
    proposal = services.rebalance_propose(account=drifted)
    _risk_reassessment(drifted, tmp_path, market_data)

    # when / then: no trades other than those shown are ever booked
    with pytest.raises(exceptions.RebalanceStale, match="risk level changed"):
        services.rebalance_decide(proposal=proposal, approve=True, actor=None)
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()
    fresh = RebalanceProposal.objects.get(account=drifted, status="pending")
    services.rebalance_decide(proposal=fresh, approve=True, actor=None)
    fresh.refresh_from_db()
    assert ledger_lines(fresh.executed_transaction) == proposed_lines(fresh)


def test_a_proposal_from_before_fingerprints_is_stale_not_re_planned(drifted):
    proposal = services.rebalance_propose(account=drifted)
    RebalanceProposal.objects.filter(pk=proposal.pk).update(
        state=None, fingerprint="", trades=[{"ticker": "VTI", "side": "sell", "value": "10.00"}]
    )

    with pytest.raises(exceptions.RebalanceStale, match="predates"):
        services.rebalance_decide(proposal=proposal, approve=True, actor=None)

    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()


class _SlippingBroker(PaperBroker):
    """Fills a cent per unit below the close: a real broker's fill may differ from the close."""

    def sell(self, *, asset, quantity, day) -> Fill:
        fill = super().sell(asset=asset, quantity=quantity, day=day)
        price = fill.price - Decimal("0.01")
        return Fill(asset=asset, quantity=fill.quantity, price=price, cash=fill.cash - quantity)


def test_a_fill_away_from_the_shown_price_is_stale_and_books_nothing(drifted):
    proposal = services.rebalance_propose(account=drifted)

    with pytest.raises(exceptions.RebalanceStale, match="price"):
        services.rebalance_decide(
            proposal=proposal, approve=True, actor=None, broker=_SlippingBroker()
        )

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.SUPERSEDED
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()
    assert_ledger_consistent(drifted)


def test_rejecting_a_stale_proposal_needs_no_fresh_state(drifted, tmp_path, market_data):
    proposal = services.rebalance_propose(account=drifted)
    _deposit(drifted, tmp_path, market_data)

    services.rebalance_decide(proposal=proposal, approve=False, actor=None)

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.REJECTED


def test_the_daily_check_replaces_a_pending_proposal_when_its_state_changed(drifted):
    proposal = services.rebalance_propose(account=drifted)
    services.deposit_make(account=drifted, amount=Decimal("100.00"))

    again = services.rebalance_propose(account=drifted)

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.SUPERSEDED
    assert again is not None
    assert again.pk != proposal.pk


# --- Through the API ------------------------------------------------------------------------


def test_a_stale_approval_is_a_409_with_what_changed(drifted, tmp_path, market_data):
    proposal = services.rebalance_propose(account=drifted)
    api = _advisor_api(drifted)
    _risk_reassessment(drifted, tmp_path, market_data)

    response = api.post(f"/api/v1/advisor/rebalances/{proposal.pk}/approve/")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "rebalance_stale"
    assert "risk level changed" in body["message"]
    assert body["extra"]["proposal"] == proposal.pk
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "superseded"
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()


def test_an_approval_through_the_api_books_the_trades_it_listed(drifted):
    proposal = services.rebalance_propose(account=drifted)
    api = _advisor_api(drifted)
    listed = api.get("/api/v1/advisor/rebalances/", {"status": "pending"}).json()["results"][0]

    response = api.post(f"/api/v1/advisor/rebalances/{proposal.pk}/approve/")

    assert response.status_code == 200
    proposal.refresh_from_db()
    assert [
        (t["ticker"], t["side"], Decimal(t["units"]), Decimal(t["price"]), Decimal(t["value"]))
        for t in listed["trades"]
    ] == [(t, s, u, p, abs(c)) for t, s, u, p, c in ledger_lines(proposal.executed_transaction)]


# --- Property: unchanged state, exact execution, never an overdraft ---------------------------

# Targets are over the model-portfolio universe (never the harvesting alternates).
FUNDS = list(UNIVERSE)
weight_sets = st.lists(
    st.integers(min_value=0, max_value=20), min_size=len(FUNDS), max_size=len(FUNDS)
).filter(lambda xs: sum(xs) > 0)


def _weights(raw: list[int]) -> dict[str, Decimal]:
    """Integer draws → weights to four places summing to exactly 1."""
    total = sum(raw)
    weights = {
        t: (Decimal(x) / total).quantize(Decimal("0.0001"))
        for t, x in zip(FUNDS, raw, strict=True)
        if x
    }
    last = max(weights)
    weights[last] += Decimal(1) - sum(weights.values())
    return {t: w for t, w in weights.items() if w > 0}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    before=weight_sets,
    after=weight_sets,
    moves=st.lists(
        st.integers(min_value=50, max_value=200), min_size=len(TICKERS), max_size=len(TICKERS)
    ),
    deposit=st.decimals(min_value="50", max_value="50000", places=2),
    spare_cash=st.decimals(min_value="0", max_value="5000", places=2),
)
def test_approve_after_propose_with_unchanged_state_executes_exactly_the_proposal(
    bold_client, approved_set, tmp_path, market_data, before, after, moves, deposit, spare_cash
):
    with transaction.atomic(), override_settings(REBALANCE_DRIFT_THRESHOLD=0.0):
        # given: holdings bought to one target, prices moved, spare cash, then another target
        approved_set_replace(101, _weights(before))
        goal = GoalFactory(client=bold_client, target_date=market_data + timedelta(days=9000))
        account = services.account_open(goal=goal)
        services.deposit_make(account=account, amount=deposit)
        moved = {
            t: str((Decimal(BASE_PRICES[t]) * m / 100).quantize(Decimal("0.0001")))
            for t, m in zip(TICKERS, moves, strict=True)
        }
        day = market_data + timedelta(days=1)
        # Hypothesis reruns this on the same database: the day may be loaded already, at other
        # prices, and rewriting it is what the example means.
        market.prices_load(
            path=write_prices(tmp_path / "moved.csv", {day: moved}), allow_revisions=True
        )
        if spare_cash:
            account.refresh_from_db()  # the deposit booked through its own locked instance
            txn = Transaction.objects.create(
                account=account, kind=Transaction.Kind.DEPOSIT, amount=spare_cash, market_date=day
            )
            ledger_cash(txn=txn, account=account, amount=spare_cash)
        approved_set_replace(102, _weights(after))

        # when
        proposal = services.rebalance_propose(account=account)
        if proposal is not None:
            cash_before = type(account).objects.get(pk=account.pk).cash
            services.rebalance_decide(proposal=proposal, approve=True, actor=None)

            # then
            proposal.refresh_from_db()
            assert proposal.status == RebalanceProposal.Status.EXECUTED
            lines = ledger_lines(proposal.executed_transaction)
            assert lines == proposed_lines(proposal)
            account.refresh_from_db()
            assert account.cash == cash_before + sum(line[4] for line in lines)
            assert account.cash >= 0
            assert_ledger_consistent(account)
        transaction.set_rollback(True)
