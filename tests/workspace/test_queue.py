"""The workspace's queue and polish (issue 14): everything waiting for the advisor on the home
page, oldest first, the firm queue of unassigned clients, the proposal page's tables and
percentages, the client page's collapsible sections."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from advisor import risk, services
from advisor.models import Client, User
from nlp.models import Escalation
from portfolios import services as portfolio_services
from portfolios.models import RebalanceProposal
from workspace import selectors as workspace

from ..factories import PASSWORD, ClientFactory, admin_login
from ..portfolios import conftest as portfolio_fixtures
from ..portfolios import test_rebalancing
from .test_workspace import _escalation, _mixed_answers

pytestmark = pytest.mark.django_db

market_day = portfolio_fixtures.market_day
market_data = portfolio_fixtures.market_data
approved_set = portfolio_fixtures.approved_set
bold_client = portfolio_fixtures.bold_client
account = portfolio_fixtures.account
drifted = test_rebalancing.drifted


@pytest.fixture
def me() -> User:
    return services.advisor_create(email="alex@example.test", password=PASSWORD)


def _aged(model, pk: int, days: int, field: str = "created_at") -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now() - timedelta(days=days)})


@pytest.fixture
def proposal(drifted, me) -> RebalanceProposal:
    Client.objects.filter(pk=drifted.client_id).update(advisor=me)
    return portfolio_services.rebalance_propose(account=drifted)


# --- The queue ------------------------------------------------------------------------------


def test_an_escalation_from_an_unassigned_client_is_in_every_advisors_queue(me):
    other = services.advisor_create(email="blair@example.test", password=None)
    escalation = _escalation(ClientFactory())  # no advisor: the firm queue

    for advisor in (me, other):
        queue = workspace.work_queue(user=advisor)
        assert ("Open escalation", escalation.pk) in {(i.kind, i.object_id) for i in queue}
        assert workspace.open_escalations(user=advisor).get() == escalation

    # and its page opens for an advisor, to resolve it
    page = admin_login(me).get(f"/admin/nlp/escalation/{escalation.pk}/change/")
    assert page.status_code == 200


def test_another_books_escalation_is_not_in_my_queue(me):
    other = services.advisor_create(email="blair@example.test", password=None)
    _escalation(ClientFactory(advisor=other))

    assert workspace.work_queue(user=me) == []


def test_the_queue_lists_what_waits_oldest_first_each_linking_to_where_it_is_handled(me, proposal):
    # given: one of each, of different ages
    _aged(RebalanceProposal, proposal.pk, days=2)
    mine = ClientFactory(advisor=me)
    escalation = _escalation(mine)
    _aged(Escalation, escalation.pk, days=5)
    due = ClientFactory(advisor=me, kyc_review_due=timezone.localdate() - timedelta(days=9))
    unassigned = ClientFactory()
    _aged(Client, unassigned.pk, days=1)

    # when
    html = admin_login(me).get("/admin/").content.decode()
    queue = workspace.work_queue(user=me)

    # then: oldest first
    assert [(i.kind, i.object_id) for i in queue] == [
        ("KYC review due", due.pk),
        ("Open escalation", escalation.pk),
        ("Rebalance to approve", proposal.pk),
        ("Unassigned client", unassigned.pk),
    ]
    assert [i.since for i in queue] == sorted(i.since for i in queue)
    section = html[html.index('id="ws-queue"') :]
    links = re.findall(r'<tr class="queue-item">.*?href="([^"]+)"', section, flags=re.S)
    assert links == [
        f"/admin/advisor/client/{due.pk}/change/",
        f"/admin/nlp/escalation/{escalation.pk}/change/",
        f"/admin/portfolios/rebalanceproposal/{proposal.pk}/change/",
        f"/admin/advisor/client/{unassigned.pk}/change/",
    ]


def test_an_inconsistent_profile_is_in_the_queue(me, bold_answers, cautious_answers):
    client = ClientFactory(advisor=me)
    services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=_mixed_answers(bold_answers, cautious_answers),
    )

    kinds = [(i.kind, i.object_id) for i in workspace.work_queue(user=me)]

    assert ("Inconsistent risk profile", client.pk) in kinds


def test_the_home_page_counts_the_unassigned_clients_and_says_so_when_nothing_waits(me):
    html = admin_login(me).get("/admin/").content.decode()
    assert "Nothing is waiting for you." in html

    ClientFactory.create_batch(2)
    html = admin_login(me).get("/admin/").content.decode()

    figure = html[html.index('id="ws-unassigned"') :][:400]
    assert ">2</a>" in figure
    assert "advisor__isnull=True" in figure


# --- Polish ---------------------------------------------------------------------------------


def test_assets_under_management_show_on_one_line_in_whole_dollars(me, proposal):
    html = admin_login(me).get("/admin/").content.decode()

    figure = html[html.index('id="ws-aum"') :][:600]
    total = workspace.book_value(user=me).total
    assert total is not None
    assert 'class="figure figure-money"' in figure
    assert f"${total:,.0f}<" in figure  # whole dollars, the cents in the tooltip
    assert f'title="${total:,.2f}"' in figure


def test_the_proposal_page_shows_tables_and_percentages_not_raw_json(me, proposal):
    html = (
        admin_login(me)
        .get(f"/admin/portfolios/rebalanceproposal/{proposal.pk}/change/")
        .content.decode()
    )

    for header in ("Action", "Fund", "Units", "Price", "Amount", "Before", "After the trades"):
        assert f"<th>{header}</th>" in html
    assert f"{proposal.drift:.1%}" in html  # e.g. "40.7%"
    assert str(proposal.drift) not in html  # not 0.4067
    assert '{"' not in html  # no JSON dumped on the page
    assert "[{" not in html
    assert 'name="decision" value="approve"' in html
    assert 'name="decision" value="reject"' in html


def test_pending_is_not_shown_once_the_approval_is_executed(me, proposal):
    browser = admin_login(me)
    page = f"/admin/portfolios/rebalanceproposal/{proposal.pk}/change/"
    assert "(pending)" in browser.get(page).content.decode()  # the title, before

    after = browser.post(
        f"/admin/portfolios/rebalanceproposal/{proposal.pk}/decide/",
        {"decision": "approve"},
        follow=True,
    ).content.decode()

    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.EXECUTED
    for html in (after, browser.get(page).content.decode()):
        assert "(pending)" not in html
        assert "Pending approval" not in html
        assert 'value="approve"' not in html  # nothing left to decide
    client_page = browser.get(
        f"/admin/advisor/client/{proposal.account.client_id}/change/"
    ).content.decode()
    assert "awaiting approval" not in client_page


def test_the_client_page_is_in_collapsible_sections(me, proposal):
    html = (
        admin_login(me)
        .get(f"/admin/advisor/client/{proposal.account.client_id}/change/")
        .content.decode()
    )

    summaries = re.findall(r"<details><summary>\s*<h2[^>]*>([^<]+)</h2>", html)
    assert summaries == [
        "Risk profile",
        "Goals and projections",
        "Portfolio",
        "Risk figures and stress tests",
        "Taxes and documents",
        "Chat history",
        "Identity and contact",
        "Suitability",
        "KYC",
        "Audit trail",
    ]
    assert "Profile and KYC" in html  # the summary stays open
    assert "<style" not in html  # the CSP: styles come from workspace.css


def test_the_drift_on_the_client_page_is_a_percentage(me, proposal):
    html = (
        admin_login(me)
        .get(f"/admin/advisor/client/{proposal.account.client_id}/change/")
        .content.decode()
    )

    assert re.search(r"\d+\.\d%", html)
    assert str(Decimal(str(proposal.drift))) not in html


def test_the_advisor_api_and_admin_show_the_firm_queue_as_the_workspace_does(drifted, me):
    """One set of clients for every advisor surface: the book and the unassigned queue."""
    from rest_framework.test import APIClient

    Client.objects.filter(pk=drifted.client_id).update(advisor=None)  # the firm queue
    queued = portfolio_services.rebalance_propose(account=drifted)
    escalation = _escalation(Client.objects.get(pk=drifted.client_id))
    other = services.advisor_create(email="blair@example.test", password=PASSWORD)
    theirs = ClientFactory(advisor=other)

    api = APIClient()
    api.force_authenticate(me)
    listed = api.get("/api/v1/advisor/rebalances/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [queued.pk]

    browser = admin_login(me)
    conversation = f"/admin/nlp/conversation/{escalation.conversation_id}/change/"
    assert browser.get(conversation).status_code == 200
    theirs_escalation = _escalation(theirs)
    other_conversation = f"/admin/nlp/conversation/{theirs_escalation.conversation_id}/change/"
    assert browser.get(other_conversation).status_code == 302  # not in reach: back to the list


# --- Governance and monitoring in the workspace (issue #16) -----------------------------------


def _candidate_set(version: int, *, with_report: bool):
    from portfolios.models import GovernanceReport, MarketAssumptions, ModelPortfolioSet

    assumptions = MarketAssumptions.objects.create(
        version=version, prices_through="2023-06-09", method="test", data={}
    )
    portfolio_set = ModelPortfolioSet.objects.create(version=version, assumptions=assumptions)
    if with_report:
        GovernanceReport.objects.create(
            portfolio_set=portfolio_set,
            method="walk-forward/1",
            prices_through="2023-06-09",
            figures={"verdict": {"lines": ["volatility rises with every level"]}},
            computed_at=timezone.now(),
        )
    return portfolio_set


def test_the_home_page_links_a_set_awaiting_approval_to_its_governance_report(me):
    from ..factories import committee_member

    reported = _candidate_set(1, with_report=True)
    unreported = _candidate_set(2, with_report=False)
    page = f"/admin/portfolios/modelportfolioset/{reported.pk}/change/"

    home = admin_login(me).get("/admin/").content.decode()
    advisor_page = admin_login(me).get(page)
    committee_page = admin_login(committee_member()).get(page)

    # the home page: both sets, the reported one linked to its report
    listed = home[home.index('id="ws-sets-list"') :]
    assert f'href="{page}#governance-report"' in listed
    assert f"/admin/portfolios/modelportfolioset/{unreported.pk}/change/" in listed
    assert "Not built yet: it cannot be approved" in listed
    assert ">2</a>" in home[home.index('id="ws-sets"') :][:400]
    # an advisor reads the report; only the committee gets Approve
    assert advisor_page.status_code == 200
    assert 'id="governance-report"' in advisor_page.content.decode()
    assert 'value="approve"' not in advisor_page.content.decode()
    assert committee_page.status_code == 200
    assert 'value="approve"' in committee_page.content.decode()


def test_an_advisor_opens_a_models_monitoring_page_and_a_client_cannot(me):
    from nlp.models import ModelVersion

    version = ModelVersion.objects.create(
        name="risk_profile",
        version=1,
        status=ModelVersion.Status.APPROVED,
        weights_path="risk_profile/1",
        weights_sha256="0" * 64,
        data_hash="0" * 64,
    )
    url = f"/admin/nlp/modelmonitorreport/version/{version.pk}/"
    client_user = ClientFactory().user

    seen = admin_login(me).get(url)
    alerts = admin_login(me).get("/admin/nlp/modelmonitorreport/?status__exact=alert")
    from django.test import Client as BrowserClient

    browser = BrowserClient()
    browser.force_login(client_user)
    refused = browser.get(url)

    assert seen.status_code == 200
    assert "Monitoring of" in seen.content.decode()
    assert alerts.status_code == 200
    assert refused.status_code == 302  # not staff: to the admin's login
    assert "/admin/login/" in refused["Location"]
