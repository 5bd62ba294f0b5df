"""Issue 13, finding 8: model-portfolio sets and ML model versions were auto-approved everywhere
(a daily price load would re-optimise and approve a new firm-wide set every day), and any
advisor could approve a firm-wide set. Now: auto-approval is off outside the demo, deciding needs
the investment committee's permission, and approval takes two different members."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portfolios.models import GovernanceReport, MarketAssumptions, ModelPortfolioSet
from portfolios.services import model_portfolio_set_decide

from ..factories import AdvisorFactory, admin_login, committee_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidate() -> ModelPortfolioSet:
    """A candidate set with its governance report (the evidence approvers must have)."""
    assumptions = MarketAssumptions.objects.create(
        version=1, prices_through="2023-06-09", method="test", data={}
    )
    portfolio_set = ModelPortfolioSet.objects.create(version=1, assumptions=assumptions)
    GovernanceReport.objects.create(
        portfolio_set=portfolio_set,
        method="walk-forward/1",
        prices_through=assumptions.prices_through,
        figures={},
        computed_at=timezone.now(),
    )
    return portfolio_set


def test_a_committee_member_cannot_approve_a_set_without_its_governance_report(candidate):
    candidate.governance_report.delete()

    with pytest.raises(ValidationError, match="governance report"):
        model_portfolio_set_decide(portfolio_set=candidate, approve=True, actor=committee_member())
    candidate.refresh_from_db()
    assert (candidate.status, candidate.first_approved_by) == (
        ModelPortfolioSet.Status.CANDIDATE,
        None,
    )


def test_auto_approval_is_off_in_production_and_on_in_the_demo():
    from config.settings import base, local

    assert base.MODEL_PORTFOLIOS_AUTO_APPROVE is False
    assert base.NLP_AUTO_APPROVE_MODELS is False
    assert local.MODEL_PORTFOLIOS_AUTO_APPROVE is True  # the demo's choice, said in README


def test_an_advisor_cannot_approve_a_firm_wide_set(candidate):
    with pytest.raises(PermissionDenied):
        model_portfolio_set_decide(portfolio_set=candidate, approve=True, actor=AdvisorFactory())
    candidate.refresh_from_db()
    assert candidate.status == ModelPortfolioSet.Status.CANDIDATE


def test_approval_takes_two_different_committee_members(candidate):
    first, second = committee_member(), committee_member()

    after_first = model_portfolio_set_decide(portfolio_set=candidate, approve=True, actor=first)
    assert after_first.status == ModelPortfolioSet.Status.CANDIDATE  # not in force yet
    assert after_first.first_approved_by == first

    with pytest.raises(ValidationError, match="second committee member"):
        model_portfolio_set_decide(portfolio_set=candidate, approve=True, actor=first)

    approved = model_portfolio_set_decide(portfolio_set=candidate, approve=True, actor=second)
    assert approved.status == ModelPortfolioSet.Status.APPROVED
    assert approved.decided_by == second


def test_one_committee_member_can_reject_alone(candidate):
    rejected = model_portfolio_set_decide(
        portfolio_set=candidate, approve=False, actor=committee_member()
    )
    assert rejected.status == ModelPortfolioSet.Status.REJECTED


def test_the_admin_action_says_a_first_approval_waits_for_a_second(candidate):
    browser = admin_login(committee_member())
    page = browser.post(
        "/admin/portfolios/modelportfolioset/",
        {"action": "approve", "_selected_action": [candidate.pk]},
        follow=True,
    )
    assert "a second committee member puts it in force" in page.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == ModelPortfolioSet.Status.CANDIDATE


def test_an_advisor_is_not_offered_the_approve_action(candidate, advisor_user):
    from django.contrib.auth.models import Group

    from advisor.services.clients import ADVISOR_GROUP

    advisor_user.groups.add(Group.objects.get(name=ADVISOR_GROUP))
    browser = admin_login(advisor_user)
    page = browser.get("/admin/portfolios/modelportfolioset/").content.decode()
    assert 'value="approve"' not in page
