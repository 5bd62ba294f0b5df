"""The governance report of a model-portfolio set (issue #16): built from the shipped history
once per set, shown on the set's admin page to the committee, served as JSON to staff, printed
by the command; and no approval without it."""

import pytest
from django.core.management import call_command
from django.urls import include, path

from portfolios.models import GovernanceReport, MarketAssumptions, ModelPortfolioSet
from portfolios.services.governance import (
    GovernanceMethodUnknown,
    governance_report_build,
    governance_report_require,
)

from ..factories import AdvisorFactory, admin_login, committee_member

pytestmark = pytest.mark.django_db

# The API test's URL map: the module's own routes, as the app's urls.py includes them.
urlpatterns = [path("api/v1/", include("portfolios.api.governance"))]


@pytest.fixture
def candidate() -> ModelPortfolioSet:
    """A candidate set without prices or a report (as in tests/security)."""
    assumptions = MarketAssumptions.objects.create(
        version=1, prices_through="2023-06-09", method="test", data={}
    )
    return ModelPortfolioSet.objects.create(version=1, assumptions=assumptions)


@pytest.fixture
def shipped_candidate(settings) -> ModelPortfolioSet:
    """The shipped 2008–2023 history loaded, and the candidate set production builds on it."""
    settings.MODEL_PORTFOLIOS_AUTO_APPROVE = False
    call_command("load_market_data", "--no-progress")
    portfolio_set = ModelPortfolioSet.objects.get()
    assert portfolio_set.status == ModelPortfolioSet.Status.CANDIDATE
    return portfolio_set


def test_the_report_is_stored_once_per_set_and_served_to_staff_only(
    shipped_candidate, api_client, client_user
):
    # when built twice (the task after the build, then the command)
    first = governance_report_build(portfolio_set=shipped_candidate)
    again = governance_report_build(portfolio_set=shipped_candidate)
    call_command("governance_report", "--version", "1", stdout=(printed := _Text()))

    # then one report, unchanged
    assert again.pk == first.pk
    assert again.computed_at == first.computed_at
    assert GovernanceReport.objects.count() == 1
    figures = first.figures
    walk = figures["out_of_sample"]
    assert [row["level"] for row in walk["levels"]] == list(range(1, 11))
    assert walk["start"] == "2013-01-02"
    assert walk["end"] == "2023-06-09"
    assert figures["in_sample"]["start"] == "2008-01-02"
    assert len(figures["in_sample"]["levels"]) == 10
    assert figures["verdict"]["monotone_volatility"] is True
    assert "volatility rises with every level" in figures["verdict"]["lines"][0]
    assert "Walk-forward, out of sample" in printed.text
    assert "IN SAMPLE" in printed.text
    # the extended run: the older history joined, 2008 out of sample, its proxy labelled
    extended = figures["extended"]
    assert (extended["history_start"], extended["start"]) == ("2004-11-18", "2007-11-19")
    assert [row["level"] for row in extended["levels"]] == list(range(1, 11))
    assert extended["settings"]["min_history_years"] == 3
    assert "BIL" in extended["proxies"][0]
    assert "T-bill" in extended["proxies"][0]
    lines = figures["verdict"]["lines"]
    assert any("In the extended run" in line and "BIL proxied" in line for line in lines)

    # and served as JSON: to staff, not to clients
    api_client.force_authenticate(AdvisorFactory())
    with _urls():
        answer = api_client.get("/api/v1/model-portfolio-sets/1/governance/")
        missing = api_client.get("/api/v1/model-portfolio-sets/2/governance/")
        api_client.force_authenticate(client_user)
        refused = api_client.get("/api/v1/model-portfolio-sets/1/governance/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["version"] == 1
    assert body["status"] == "candidate"
    assert body["figures"]["out_of_sample"]["levels"][9]["volatility"] == pytest.approx(
        walk["levels"][9]["volatility"]
    )
    assert body["figures"]["extended"]["start"] == "2007-11-19"
    assert body["figures"]["extended"]["data_source"].startswith("portfolios/data/early")
    assert missing.status_code == 404
    assert refused.status_code == 403


def test_the_sets_admin_page_shows_its_report_and_the_committee_approves_from_it(
    shipped_candidate,
):
    governance_report_build(portfolio_set=shipped_candidate)
    browser = admin_login(committee_member())
    url = f"/admin/portfolios/modelportfolioset/{shipped_candidate.pk}/change/"

    page = browser.get(url).content.decode()

    assert 'id="governance-report"' in page
    assert "Walk-forward, out of sample (re-estimated yearly), 2013-01-02 to 2023-06-09" in page
    assert "volatility rises with every level" in page
    assert "IN SAMPLE" in page
    assert "In the extended run (out of sample 2007-11-19" in page  # the verdict says it
    assert 'value="approve"' in page
    assert "No governance report yet" not in page

    # the first of the two approvals, from the page
    after = browser.post(
        f"/admin/portfolios/modelportfolioset/{shipped_candidate.pk}/decide/",
        {"decision": "approve"},
        follow=True,
    ).content.decode()
    assert "a second committee member puts it in force" in after
    shipped_candidate.refresh_from_db()
    assert shipped_candidate.first_approved_by is not None


def test_approval_is_refused_until_the_set_has_a_report(candidate):
    browser = admin_login(committee_member())

    page = browser.get(f"/admin/portfolios/modelportfolioset/{candidate.pk}/change/")
    by_action = browser.post(
        "/admin/portfolios/modelportfolioset/",
        {"action": "approve", "_selected_action": [candidate.pk]},
        follow=True,
    )
    by_button = browser.post(
        f"/admin/portfolios/modelportfolioset/{candidate.pk}/decide/",
        {"decision": "approve"},
        follow=True,
    )

    assert "No governance report yet" in page.content.decode()
    for response in (by_action, by_button):
        assert "has no governance report yet" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == ModelPortfolioSet.Status.CANDIDATE
    assert candidate.first_approved_by is None
    # rejecting needs no evidence
    browser.post(
        f"/admin/portfolios/modelportfolioset/{candidate.pk}/decide/", {"decision": "reject"}
    )
    candidate.refresh_from_db()
    assert candidate.status == ModelPortfolioSet.Status.REJECTED


def test_a_set_of_a_method_the_walk_forward_cannot_replay_gets_no_report(candidate):
    with pytest.raises(GovernanceMethodUnknown, match="'test'"):
        governance_report_build(portfolio_set=candidate)

    assert not GovernanceReport.objects.exists()
    with pytest.raises(Exception, match="no governance report yet"):
        governance_report_require(portfolio_set=candidate)


class _Text:
    """A stdout for call_command that keeps what was written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def _urls():
    from django.test import override_settings

    return override_settings(ROOT_URLCONF=__name__)
