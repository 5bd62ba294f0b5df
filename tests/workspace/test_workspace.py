"""The advisor workspace: home-page selectors, the client page's panels, risk-level overrides."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as BrowserClient
from django.utils import timezone

from advisor import risk, selectors, services
from advisor.models import Client, Goal, RiskAssessment, User
from nlp.models import Conversation, Escalation, Message
from portfolios import projections, valuation
from portfolios import services as portfolio_services
from portfolios.models import GoalProjection, MarketAssumptions, RebalanceProposal
from workspace import selectors as workspace

from ..factories import AdvisorFactory, ClientFactory, GoalFactory
from ..portfolios import conftest as portfolio_fixtures

pytestmark = pytest.mark.django_db

# The portfolios' market data and approved model portfolios, shared.
market_day = portfolio_fixtures.market_day
market_data = portfolio_fixtures.market_data
approved_set = portfolio_fixtures.approved_set


# --- Helpers --------------------------------------------------------------------------------


def _mixed_answers(bold: dict[str, str], cautious: dict[str, str]) -> dict[str, str]:
    """Bold willingness, cautious capacity: the rules flag the profile inconsistent."""
    capacity = {q.key for q in risk.question_set_get().questions if q.dimension == "capacity"}
    return {k: cautious[k] if k in capacity else v for k, v in bold.items()}


THREE_FUNDS = {
    "tickers": ["VTI", "AGG", "BIL"],
    "expected_returns": [0.07, 0.035, 0.02],
    "covariance": [[0.03, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.0001]],
}


def _projection(goal: Goal, *, probability: float, what_if: bool = False) -> GoalProjection:
    """A ready projection of the goal's current plan (or of a what-if at $1 a month), stored
    under its inputs' hash as the ml worker would store it, without running the Monte Carlo."""
    MarketAssumptions.objects.filter(data={}).update(data=THREE_FUNDS)
    inputs = projections.projection_inputs(
        goal=goal, monthly_contribution=Decimal("1.00") if what_if else None
    )
    result = {
        "probability": probability,
        "percentiles": {name: [1000.0, 41234.5] for name in ("p10", "p50", "p90")},
        "expected_final_value": 41234.5,
        "required_monthly_contribution": 900.0,
        "required_contribution_capped": False,
        "reachable_target": 30000.0,
    }
    projection, _ = GoalProjection.objects.update_or_create(
        goal=goal,
        inputs_hash=projections.inputs_hash(inputs),
        defaults={
            "inputs": inputs,
            "status": GoalProjection.Status.READY,
            "result": result,
            "computed_at": timezone.now(),
        },
    )
    return projection


def _pending_proposal(account) -> RebalanceProposal:
    return RebalanceProposal.objects.create(
        account=account,
        market_date=timezone.localdate(),
        drift=Decimal("0.0500"),
        threshold=Decimal("0.0300"),
        reason="Drift is 5.0%.",
        trades=[],
        before_weights={},
        after_weights={},
    )


def _escalation(client: Client, text: str = "Can I talk to my advisor?") -> Escalation:
    conversation = Conversation.objects.create(client=client)
    Message.objects.create(conversation=conversation, role=Message.Role.CLIENT, text=text)
    return Escalation.objects.create(
        conversation=conversation, client=client, reason=Escalation.Reason.REQUESTED
    )


def _book(advisor: User, bold: dict[str, str], cautious: dict[str, str]) -> dict:
    """A client in the advisor's book with one of everything the home page counts."""
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=_mixed_answers(bold, cautious)
    )
    goal = GoalFactory(client=client, target_date=timezone.localdate() + timedelta(days=9000))
    account = portfolio_services.account_open(goal=goal)
    portfolio_services.deposit_make(account=account, amount=Decimal("10000.00"))
    _pending_proposal(account)
    _escalation(client)
    _projection(goal, probability=0.3)
    return {"client": client, "goal": goal, "account": account}


def _logged_in(user: User) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def advisor() -> User:
    return services.advisor_create(email="alex@example.test", password=None, first_name="Alex")


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser(email="root@example.test", password=None)


@pytest.fixture
def two_books(advisor, approved_set, bold_answers, cautious_answers):
    other = services.advisor_create(email="blair@example.test", password=None)
    return {
        "mine": _book(advisor, bold_answers, cautious_answers),
        "theirs": _book(other, bold_answers, cautious_answers),
        "other_advisor": other,
    }


# --- Home page selectors --------------------------------------------------------------------


def test_the_home_page_counts_only_the_advisors_own_book(advisor, two_books):
    mine = two_books["mine"]

    home = workspace.workspace_home(user=advisor)

    assert home.clients == 1
    assert home.pending_rebalances == 1
    assert home.open_escalations == 1
    assert [c.pk for c in home.inconsistent_profiles] == [mine["client"].pk]
    assert [row.goal.pk for row in home.off_track_goals] == [mine["goal"].pk]
    assert home.off_track_goals[0].probability == pytest.approx(0.3)
    expected = valuation.account_value(account=mine["account"]).total
    assert home.book.total == expected
    assert home.book.accounts == 1


def test_an_admin_sees_every_book_on_the_home_page(admin_user, two_books):
    home = workspace.workspace_home(user=admin_user)

    assert home.clients == 2
    assert home.pending_rebalances == 2
    assert home.open_escalations == 2
    assert len(home.inconsistent_profiles) == 2
    assert len(home.off_track_goals) == 2
    assert home.book.total == sum(
        valuation.account_value(account=book["account"]).total
        for book in (two_books["mine"], two_books["theirs"])
    )


def test_assets_under_management_take_a_few_queries_whatever_the_book_size(
    advisor, approved_set, bold_answers, django_assert_max_num_queries
):
    accounts = []
    for _ in range(4):
        client = ClientFactory(advisor=advisor)
        services.questionnaire_submit(
            client=client, version=risk.CURRENT_VERSION, answers=bold_answers
        )
        account = portfolio_services.account_open(goal=GoalFactory(client=client))
        portfolio_services.deposit_make(account=account, amount=Decimal("2500.00"))
        accounts.append(account)

    with django_assert_max_num_queries(5):
        value = workspace.book_value(user=advisor)

    assert value.total == sum(valuation.account_value(account=a).total for a in accounts)
    assert value.market_date == approved_set.assumptions.prices_through


def test_assets_under_management_are_unknown_before_market_data(advisor):
    ClientFactory(advisor=advisor)

    value = workspace.book_value(user=advisor)

    assert value.total is None
    assert value.market_date is None


def test_resolved_escalations_and_decided_rebalances_are_not_counted(advisor, two_books):
    mine = two_books["mine"]
    Escalation.objects.filter(client=mine["client"]).update(status=Escalation.Status.RESOLVED)
    RebalanceProposal.objects.filter(account=mine["account"]).update(
        status=RebalanceProposal.Status.REJECTED
    )

    home = workspace.workspace_home(user=advisor)

    assert (home.open_escalations, home.pending_rebalances) == (0, 0)


def test_a_goal_is_off_track_on_its_current_plans_projection_only(
    advisor, approved_set, bold_answers
):
    # given: goals of a client in the book, each with projections of its plan or of what-ifs
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=bold_answers)
    on_track = GoalFactory(client=client, name="On track")
    _projection(on_track, probability=0.2, what_if=True)  # a gloomy what-if is not the plan
    _projection(on_track, probability=0.7)
    what_if = GoalFactory(client=client, name="What-if only")
    _projection(what_if, probability=0.1, what_if=True)  # the plan itself is not projected yet
    achieved = GoalFactory(client=client, name="Done", status=Goal.Status.ACHIEVED)
    _projection(achieved, probability=0.1)
    behind = GoalFactory(client=client, name="Behind")
    _projection(behind, probability=0.45)
    changed = GoalFactory(client=client, name="Changed since")
    _projection(changed, probability=0.1)
    portfolio_services.deposit_make(
        account=portfolio_services.account_open(goal=changed), amount=Decimal("5000.00")
    )  # the plan now starts from other money: its old projection is not its chance any more

    # when
    rows = workspace.off_track_goals(user=advisor)

    # then
    assert [row.goal.name for row in rows] == ["Behind"]
    assert rows[0].probability == 0.45


def test_an_override_settles_an_inconsistent_profile_once_its_flags_are_gone_through(
    advisor, bold_answers, cautious_answers
):
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=_mixed_answers(bold_answers, cautious_answers),
    )
    assert list(workspace.inconsistent_risk_profiles(user=advisor)) == [client]
    with pytest.raises(ValidationError) as unconfirmed:  # never cleared silently
        services.risk_level_override(client=client, level=1, reason="In person", actor=advisor)
    assert "flags_reviewed" in unconfirmed.value.message_dict

    override = services.risk_level_override(
        client=client, level=1, reason="Reviewed in person", actor=advisor, flags_reviewed=True
    )

    assert list(workspace.inconsistent_risk_profiles(user=advisor)) == []
    assert [f["code"] for f in override.flags] == ["willingness_exceeds_capacity"]  # kept
    assert override.details["decision"]["override"]["flags_reviewed"] is True


# --- Home page ------------------------------------------------------------------------------


def test_the_home_page_shows_the_advisors_book_above_the_app_list(advisor, two_books):
    page = _logged_in(advisor).get("/admin/")

    assert page.status_code == 200
    html = page.content.decode()
    home = page.context["workspace"]
    assert (home.clients, home.pending_rebalances, home.open_escalations) == (1, 1, 1)
    assert "Assets under management" in html
    assert "?status__exact=pending" in html
    assert "?inconsistent=yes" in html
    assert f"/admin/advisor/client/{two_books['mine']['client'].pk}/change/" in html
    assert f"/admin/advisor/client/{two_books['theirs']['client'].pk}/change/" not in html
    assert 'id="content-main"' in html  # the stock app list follows


def test_the_home_page_shows_everyone_to_an_admin(admin_user, two_books):
    page = _logged_in(admin_user).get("/admin/")

    assert page.status_code == 200
    assert page.context["workspace"].clients == 2
    assert b"/admin/nlp/escalation/?status__exact=open" in page.content


def test_the_home_page_opens_on_a_fresh_install(advisor):
    page = _logged_in(advisor).get("/admin/")

    assert page.status_code == 200
    assert b"no market data loaded yet" in page.content


# --- Client page ----------------------------------------------------------------------------


def test_the_client_page_shows_every_panel_and_escapes_chat_text(advisor, two_books):
    mine = two_books["mine"]
    client = mine["client"]
    _escalation(client, text="<script>alert('x')</script> what is my balance?")
    services.risk_assessment_record(
        response=client.questionnaire_responses.get(),
        method="risk_profile@3",
        risk_level=6,
        details={"attributions": {"income": 0.12, "age": -0.3}},
    )
    _projection(mine["goal"], probability=0.3)  # the plan as it stands after the model's say

    page = _logged_in(advisor).get(f"/admin/advisor/client/{client.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    for heading in ("Profile and KYC", "Risk profile", "Goals and projections", "Portfolio"):
        assert heading in html
    assert "Chat history" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; what is my balance?" in html
    assert "willingness_exceeds_capacity" in html  # the rules' flag
    assert "lowers it (-0.300)" in html  # the model's attributions, largest first
    assert html.index("lowers it (-0.300)") < html.index("raises it (+0.120)")
    assert "30%" in html  # the goal's chance of success
    assert "$41,234.50" in html  # and its median final value
    assert f"Proposal {RebalanceProposal.objects.get(account=mine['account']).pk}" in html
    assert "/admin/nlp/conversation/" in html
    assert "Override risk level" in html


def test_an_advisor_cannot_open_another_advisors_client_page(advisor, two_books):
    theirs = two_books["theirs"]["client"]
    browser = _logged_in(advisor)

    page = browser.get(f"/admin/advisor/client/{theirs.pk}/change/")
    override = browser.get(f"/admin/advisor/client/{theirs.pk}/risk-override/")

    assert page.status_code in (302, 404)
    assert override.status_code == 404
    assert theirs.last_name not in page.content.decode()


# --- Risk-level override --------------------------------------------------------------------


@pytest.fixture
def assessed_client(advisor, bold_answers) -> Client:
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=bold_answers)
    return client


@pytest.mark.parametrize(
    ("level", "reason", "field"),
    [(0, "Too bold", "level"), (11, "Too bold", "level"), (4, "   ", "reason"), (4, "", "reason")],
)
def test_an_override_needs_a_level_from_1_to_10_and_a_reason(
    advisor, assessed_client, level, reason, field
):
    with pytest.raises(ValidationError) as caught:
        services.risk_level_override(
            client=assessed_client, level=level, reason=reason, actor=advisor
        )

    assert field in caught.value.message_dict
    assert not RiskAssessment.objects.filter(method=RiskAssessment.OVERRIDE_METHOD).exists()


def test_an_override_needs_a_questionnaire_response(advisor):
    client = ClientFactory(advisor=advisor)

    with pytest.raises(ValidationError) as caught:
        services.risk_level_override(client=client, level=4, reason="Met them", actor=advisor)

    assert "client" in caught.value.message_dict


def test_an_advisor_cannot_override_another_books_client(assessed_client):
    with pytest.raises(PermissionDenied):
        services.risk_level_override(
            client=assessed_client, level=4, reason="Not mine", actor=AdvisorFactory()
        )


def test_the_override_beats_the_combined_and_the_rules_assessments(advisor, assessed_client):
    response = assessed_client.questionnaire_responses.get()
    services.risk_assessment_record(  # as the risk model's task records it
        response=response,
        method=RiskAssessment.COMBINED_METHOD,
        risk_level=8,
        willingness_score=100,
        capacity_score=100,
    )
    assert selectors.risk_profile_get(client=assessed_client).assessment.risk_level == 8

    override = services.risk_level_override(
        client=assessed_client, level=4, reason="  Needs the money in 2 years  ", actor=advisor
    )

    profile = selectors.risk_profile_get(client=assessed_client)
    assert profile.assessment == override
    assert {a.method for a in profile.second_opinions} == {"rules-v1", "combined-v1"}
    assert override.details["reason"] == "Needs the money in 2 years"
    assert override.details["overridden_by"] == "alex@example.test"
    assert override.details["previous_level"] == 8
    assert override.willingness_score == 100  # the scores reviewed stay visible
    clients = selectors.client_list_with_risk(advisor)
    assert clients.get(pk=assessed_client.pk).risk_level == 4  # type: ignore[attr-defined]


def test_a_second_override_updates_the_same_row(advisor, assessed_client):
    first = services.risk_level_override(
        client=assessed_client, level=4, reason="First look", actor=advisor
    )

    second = services.risk_level_override(
        client=assessed_client, level=6, reason="Second look", actor=advisor
    )

    assert second.pk == first.pk
    assert RiskAssessment.objects.filter(method=RiskAssessment.OVERRIDE_METHOD).count() == 1
    assert second.details["previous_level"] == 4
    assert selectors.risk_profile_get(client=assessed_client).assessment.risk_level == 6


def test_a_newer_questionnaire_response_replaces_the_override(
    advisor, assessed_client, cautious_answers
):
    services.risk_level_override(client=assessed_client, level=4, reason="Met", actor=advisor)

    services.questionnaire_submit(
        client=assessed_client, version=risk.CURRENT_VERSION, answers=cautious_answers
    )

    profile = selectors.risk_profile_get(client=assessed_client)
    assert profile.assessment.method == RiskAssessment.RULES_METHOD
    assert profile.assessment.risk_level == 1


def test_goal_targets_follow_the_override(advisor, assessed_client):
    goal = GoalFactory(
        client=assessed_client,
        goal_type=Goal.GoalType.GENERAL_WEALTH,
        target_date=timezone.localdate() + timedelta(days=30 * 365),
    )
    assert valuation.goal_level(goal=goal) == 10

    services.risk_level_override(client=assessed_client, level=3, reason="Met", actor=advisor)

    assert valuation.goal_level(goal=goal) == 3


def test_the_override_is_in_the_audit_log_with_its_actor(advisor, assessed_client):
    override = services.risk_level_override(
        client=assessed_client, level=5, reason="Met", actor=advisor
    )

    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(RiskAssessment), object_pk=str(override.pk)
    )
    assert entry.actor == advisor
    assert entry.action == LogEntry.Action.CREATE


def test_an_advisor_overrides_a_risk_level_from_the_client_page(advisor, assessed_client):
    browser = _logged_in(advisor)
    url = f"/admin/advisor/client/{assessed_client.pk}/risk-override/"
    assert browser.get(url).status_code == 200

    refused = browser.post(url, {"level": "4", "reason": ""})
    response = browser.post(url, {"level": "4", "reason": "Retiring sooner"}, follow=True)

    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    assert response.redirect_chain[-1][0] == f"/admin/advisor/client/{assessed_client.pk}/change/"
    assert b"Risk level set to 4" in response.content
    assert b"Retiring sooner" in response.content
    override = RiskAssessment.objects.get(method=RiskAssessment.OVERRIDE_METHOD)
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(RiskAssessment), object_pk=str(override.pk)
    )
    assert entry.actor == advisor  # set by the request's audit middleware and the service
    assert b"riskassessment" in response.content  # and shown in the client's audit trail


def test_an_override_leaves_the_enclosing_audit_context_as_it_was(
    advisor, admin_user, assessed_client
):
    from auditlog.context import set_actor

    # given: a request's audit context (the middleware's), with its actor and address
    with set_actor(admin_user, remote_addr="203.0.113.7"):
        # when: the override runs inside it, then something else is saved
        services.risk_level_override(client=assessed_client, level=5, reason="Met", actor=advisor)
        services.client_update(client=assessed_client, data={"city": "Springfield"})

    # then: the later change is still the request's, from the request's address
    entry = LogEntry.objects.get_for_object(assessed_client).latest("timestamp")
    assert entry.actor == admin_user
    assert entry.remote_addr == "203.0.113.7"


# --- Overrides above capacity (four-eyes) and the explanations ------------------------------


@pytest.fixture
def keen_client(advisor) -> Client:
    """Willing to take level 8, able to bear level 4."""
    from ..advisor.answers import answers_for

    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=answers_for(willingness=8, capacity=4),
    )
    return client


def test_the_override_page_refuses_a_level_above_capacity_and_sends_a_request_when_asked(
    advisor, keen_client
):
    from advisor.models import RiskOverrideRequest

    browser = _logged_in(advisor)
    url = f"/admin/advisor/client/{keen_client.pk}/risk-override/"
    page = browser.get(url)
    assert b"capacity level <strong>4</strong>" in page.content

    refused = browser.post(url, {"level": "6", "reason": "Large pension"})
    requested = browser.post(
        url, {"level": "6", "reason": "Large pension", "above_capacity": "on"}, follow=True
    )

    assert "above this client&#x27;s capacity level (4)" in refused.content.decode()
    assert b"sent for a compliance approval" in requested.content
    assert selectors.risk_profile_get(client=keen_client).assessment.risk_level == 4
    pending = RiskOverrideRequest.objects.get()
    assert (pending.level, pending.status, pending.requested_by) == (6, "pending", advisor)
    assert b"awaiting a compliance approval" in requested.content  # on the client page


def test_a_compliance_officer_approves_a_request_from_the_requests_page(advisor, keen_client):
    from django.contrib.auth.models import Permission

    from advisor.models import RiskOverrideRequest

    request = services.risk_override_request_create(
        client=keen_client, level=6, reason="Large pension", actor=advisor
    )
    sam = AdvisorFactory(first_name="Sam", last_name="Kerr")
    sam.user_permissions.add(
        Permission.objects.get(codename="approve_risk_override_above_capacity")
    )
    browser = _logged_in(sam)

    listing = browser.get("/admin/advisor/riskoverriderequest/")
    own = _logged_in(advisor).post(
        "/admin/advisor/riskoverriderequest/",
        {"action": "approve", "_selected_action": [request.pk]},
        follow=True,
    )
    approved = browser.post(
        "/admin/advisor/riskoverriderequest/",
        {"action": "approve", "_selected_action": [request.pk]},
        follow=True,
    )

    assert listing.status_code == 200
    assert b"compliance permission" in own.content  # the advisor's own request: refused
    assert b"1 request(s) approved" in approved.content
    assert RiskOverrideRequest.objects.get().status == "approved"
    assert selectors.risk_profile_get(client=keen_client).assessment.risk_level == 6


def test_the_risk_panel_shows_who_decided_and_what_the_client_reads(advisor, keen_client):
    services.risk_level_override(
        client=keen_client, level=3, reason="Needs it in two years", actor=advisor
    )

    html = _logged_in(advisor).get(f"/admin/advisor/client/{keen_client.pk}/change/")
    text = html.content.decode()

    assert "Level 3 of 10, decided by an advisor override" in text
    assert "Your risk level is 3 of 10, set by your advisor Alex on " in text  # no last name
    assert "Needs it in two years" in text


# --- One drift --------------------------------------------------------------------------------


def test_one_account_shows_one_live_drift_on_every_surface(
    advisor, approved_set, bold_answers, tmp_path
):
    from rest_framework.test import APIClient

    from portfolios import market

    # given: a drifted account with a proposal, then a deposit that moves its drift again
    client = ClientFactory(advisor=advisor)
    services.questionnaire_submit(client=client, version=risk.CURRENT_VERSION, answers=bold_answers)
    goal = GoalFactory(client=client, target_date=timezone.localdate() + timedelta(days=9000))
    account = portfolio_services.account_open(goal=goal)
    portfolio_services.deposit_make(account=account, amount=Decimal("10000.00"))
    rally = {**portfolio_fixtures.BASE_PRICES, "VTI": "320"}
    day = approved_set.assumptions.prices_through + timedelta(days=1)
    market.prices_load(path=portfolio_fixtures.write_prices(tmp_path / "r.csv", {day: rally}))
    proposal = portfolio_services.rebalance_propose(account=account)
    portfolio_services.deposit_make(account=account, amount=Decimal("3000.00"))
    owner, staff = APIClient(), APIClient()
    owner.force_authenticate(client.user)
    staff.force_authenticate(advisor)

    # when
    summary = owner.get("/api/v1/portfolio/summary/").json()["accounts"][0]["drift"]
    detail = owner.get(f"/api/v1/accounts/{account.pk}/").json()["drift"]
    mine = owner.get(f"/api/v1/accounts/{account.pk}/rebalances/").json()[0]
    queue = staff.get("/api/v1/advisor/rebalances/", {"status": "pending"}).json()["results"][0]
    page = _logged_in(advisor).get(f"/admin/advisor/client/{client.pk}/change/").content.decode()
    row = workspace.client_portfolio(client=client).accounts[0]

    # then: the same live drift everywhere; the proposal keeps its own, labelled as of then
    assert summary == detail == mine["current_drift"] == queue["current_drift"] == row.drift
    assert Decimal(mine["drift"]) == proposal.drift != Decimal(str(summary))
    assert f"{summary:.1%}" in page
