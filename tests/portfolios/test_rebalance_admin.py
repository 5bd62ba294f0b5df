"""The rebalance proposal's admin page: trades and weights as tables, drift as a percentage,
Approve / Reject buttons that are CSRF-protected, permission-checked, scoped and audited."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client as BrowserClient

from portfolios import selectors, services
from portfolios.models import RebalanceProposal, Transaction

from ..factories import AdvisorFactory, admin_login
from . import test_rebalancing
from .test_rebalance_integrity import ledger_lines, proposed_lines

pytestmark = pytest.mark.django_db

drifted = test_rebalancing.drifted


@pytest.fixture
def proposal(drifted, advisor) -> RebalanceProposal:
    drifted.client.advisor = advisor
    drifted.client.save()
    return services.rebalance_propose(account=drifted)


def _page(proposal: RebalanceProposal) -> str:
    return f"/admin/portfolios/rebalanceproposal/{proposal.pk}/change/"


def _decide(proposal: RebalanceProposal) -> str:
    return f"/admin/portfolios/rebalanceproposal/{proposal.pk}/decide/"


def test_the_page_shows_trades_and_weights_as_tables_and_drift_as_a_percentage(advisor, proposal):
    html = admin_login(advisor).get(_page(proposal)).content.decode()

    vti = next(t for t in proposal.trades if t["ticker"] == "VTI")
    assert "<th>Units</th>" in html
    assert f"<td>{vti['units']}</td>" in html
    assert "<th>After the trades</th>" in html
    assert f"{proposal.drift:.1%}" in html  # drift when proposed
    live = selectors.account_drift(account=proposal.account)
    assert f"{live:.1%}" in html  # and the account's drift now
    assert str(proposal.drift) not in html
    assert 'name="decision" value="approve"' in html
    assert 'name="_save"' not in html  # nothing on a proposal is edited by hand


def test_the_list_shows_drift_as_a_percentage(advisor, proposal):
    html = admin_login(advisor).get("/admin/portfolios/rebalanceproposal/").content.decode()

    assert f"{proposal.drift:.1%}" in html
    assert str(proposal.drift) not in html


def test_stored_text_is_escaped_in_the_tables(advisor, proposal):
    RebalanceProposal.objects.filter(pk=proposal.pk).update(
        trades=[{"ticker": "<script>x</script>", "side": "buy", "value": "1.00"}],
        before_weights={"<b>VTI</b>": "0.5"},
    )

    html = admin_login(advisor).get(_page(proposal)).content.decode()

    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;VTI&lt;/b&gt;" in html


def test_approve_on_the_page_executes_exactly_the_trades_shown_and_is_audited(advisor, proposal):
    browser = admin_login(advisor)

    page = browser.post(_decide(proposal), {"decision": "approve"}, follow=True)

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    assert ledger_lines(proposal.executed_transaction) == proposed_lines(proposal)
    assert "approved and executed" in page.content.decode()
    entry = LogEntry.objects.get_for_object(proposal).first()
    assert entry.actor == advisor
    assert entry.changes_dict["status"] == ["pending", "executed"]


def test_reject_on_the_page_trades_nothing(advisor, proposal):
    admin_login(advisor).post(_decide(proposal), {"decision": "reject"})

    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "rejected"
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()


def test_a_stale_proposal_shows_an_error_on_its_page_and_executes_nothing(advisor, proposal):
    services.deposit_make(account=proposal.account, amount=Decimal("1000.00"))
    browser = admin_login(advisor)

    page = browser.post(_decide(proposal), {"decision": "approve"}, follow=True)

    html = page.content.decode()
    assert page.redirect_chain[-1][0] == _page(proposal)
    assert 'class="error"' in html
    assert f"Proposal {proposal.pk} was not executed because it is out of date" in html
    assert "a deposit of $1,000.00" in html
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "superseded"
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()
    assert 'name="decision"' not in html  # superseded: no buttons any more


def test_the_approve_action_reports_a_stale_proposal_without_executing(advisor, proposal):
    services.deposit_make(account=proposal.account, amount=Decimal("1000.00"))

    page = admin_login(advisor).post(
        "/admin/portfolios/rebalanceproposal/",
        {"action": "approve", "_selected_action": [proposal.pk]},
        follow=True,
    )

    assert "was not executed because it is out of date" in page.content.decode()
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "superseded"
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()


def test_deciding_needs_a_csrf_token(advisor, proposal):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(advisor)

    response = browser.post(_decide(proposal), {"decision": "approve"})

    assert response.status_code == 403
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "pending"


def test_another_advisors_proposal_is_a_404(proposal):
    other = AdvisorFactory()
    other.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_rebalanceproposal", "change_rebalanceproposal"]
        )
    )

    response = admin_login(other).post(_decide(proposal), {"decision": "approve"})

    assert response.status_code == 404
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "pending"


def test_an_advisor_who_may_only_view_cannot_decide(proposal):
    viewer = AdvisorFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_rebalanceproposal"))
    proposal.account.client.advisor = viewer
    proposal.account.client.save()
    browser = admin_login(viewer)

    page = browser.get(_page(proposal))
    response = browser.post(_decide(proposal), {"decision": "approve"})

    assert page.status_code == 200
    assert 'name="decision"' not in page.content.decode()
    assert response.status_code == 403
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "pending"


def test_a_get_or_an_unknown_decision_changes_nothing(advisor, proposal):
    browser = admin_login(advisor)

    assert browser.get(_decide(proposal)).status_code == 405
    assert browser.post(_decide(proposal), {"decision": "maybe"}).status_code == 400
    assert RebalanceProposal.objects.get(pk=proposal.pk).status == "pending"
