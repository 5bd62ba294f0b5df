"""The advisor app's admin pages, scoped to the advisor's book."""

import pytest
from django.test import Client as BrowserClient

from advisor import risk, services

from ..factories import PASSWORD, AdvisorFactory, ClientFactory, admin_login

pytestmark = pytest.mark.django_db


def test_the_admin_lockout_message_is_clear(advisor, settings):
    browser = BrowserClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.post("/admin/login/", {"username": advisor.email, "password": "wrong"})

    response = browser.post("/admin/login/", {"username": advisor.email, "password": PASSWORD})

    assert response.status_code == 429
    assert b"locked for 15 minutes" in response.content


def test_an_advisor_approves_a_rebalance_from_the_admin(advisor, bold_answers, tmp_path):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from portfolios import market
    from portfolios import services as portfolio_services
    from portfolios.models import RebalanceProposal

    from ..factories import GoalFactory
    from ..portfolios.conftest import BASE_PRICES, LEVEL_WEIGHTS, write_prices

    # given: a client of the book whose portfolio drifted after a stock rally
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=bold_answers)
    market.assets_sync()
    day = timezone.localdate() - timedelta(days=10)
    market.prices_load(path=write_prices(tmp_path / "a.csv", {day: BASE_PRICES}))
    _approved_set_create(day, LEVEL_WEIGHTS)
    goal = GoalFactory(client=client, target_date=timezone.localdate() + timedelta(days=9000))
    account = portfolio_services.account_open(goal=goal)
    portfolio_services.deposit_make(account=account, amount=Decimal("5000.00"))
    rally = {**BASE_PRICES, "VTI": "330"}
    market.prices_load(path=write_prices(tmp_path / "b.csv", {day + timedelta(days=1): rally}))
    proposal = portfolio_services.rebalance_propose(account=account)
    browser = admin_login(advisor)

    # when: the advisor selects it and runs the approve action
    response = browser.post(
        "/admin/portfolios/rebalanceproposal/",
        {"action": "approve", "_selected_action": [proposal.pk]},
        follow=True,
    )

    # then: exactly the trades shown were executed
    assert b"approved and executed" in response.content
    executed = RebalanceProposal.objects.get(pk=proposal.pk)
    assert executed.status == "executed"
    fills = executed.executed_transaction.entries.exclude(asset=None).order_by("id")
    assert [(e.asset.ticker, abs(e.quantity), e.price) for e in fills] == [
        (t["ticker"], Decimal(t["units"]), Decimal(t["price"])) for t in proposal.trades
    ]


def _approved_set_create(day, level_weights):
    from portfolios.models import MarketAssumptions, ModelPortfolio, ModelPortfolioSet

    assumptions = MarketAssumptions.objects.create(
        version=1, prices_through=day, method="test", data={}
    )
    portfolio_set = ModelPortfolioSet.objects.create(
        version=1, assumptions=assumptions, status=ModelPortfolioSet.Status.APPROVED
    )
    for level, weights in level_weights.items():
        ModelPortfolio.objects.create(
            portfolio_set=portfolio_set,
            level=level,
            weights={t: str(w) for t, w in weights.items()},
            expected_return=0.05,
            volatility=0.1,
        )


def test_an_advisor_reads_an_escalated_chat_and_resolves_it_audited(advisor):
    from auditlog.models import LogEntry

    from nlp.chat import services as chat_services
    from nlp.models import Conversation, Escalation, Message

    client = ClientFactory(advisor=advisor)
    conversation = Conversation.objects.create(client=client)
    Message.objects.create(
        conversation=conversation, role="client", text="<b>call me</b> about my house fund"
    )
    escalation = chat_services.escalation_open(conversation=conversation, reason="requested")
    theirs = chat_services.escalation_open(
        conversation=Conversation.objects.create(client=ClientFactory(advisor=AdvisorFactory())),
        reason="requested",
    )
    browser = admin_login(advisor)

    listing = browser.get("/admin/nlp/escalation/").content.decode()
    page = browser.get(f"/admin/nlp/escalation/{escalation.pk}/change/").content.decode()
    other = browser.get(f"/admin/nlp/escalation/{theirs.pk}/change/")
    response = browser.post(
        "/admin/nlp/escalation/",
        {"action": "resolve", "_selected_action": [escalation.pk]},
        follow=True,
    )

    escalation.refresh_from_db()
    assert f"/admin/nlp/escalation/{escalation.pk}/" in listing
    assert f"/admin/nlp/escalation/{theirs.pk}/" not in listing
    assert "&lt;b&gt;call me&lt;/b&gt;" in page  # the client's text is shown, never rendered
    assert other.status_code in (302, 404)
    assert b"resolved" in response.content
    assert (escalation.status, escalation.resolved_by) == (Escalation.Status.RESOLVED, advisor)
    assert LogEntry.objects.get_for_object(escalation).filter(actor=advisor).exists()
