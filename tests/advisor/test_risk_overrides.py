"""Advisor overrides under the suitability policy: within capacity at once, above it only with a
second person's approval (four-eyes), both steps audited; the model's opinion on top."""

import importlib

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from advisor import risk, selectors, services
from advisor.exceptions import RiskOverrideConflict
from advisor.models import RiskAssessment, RiskOverrideRequest, User

from ..factories import AdvisorFactory, ClientFactory
from .answers import answers_for

pytestmark = pytest.mark.django_db


def _submit(client, *, willingness: int, capacity: int):
    return services.questionnaire_submit(
        client=client,
        version=risk.CURRENT_VERSION,
        answers=answers_for(willingness=willingness, capacity=capacity),
    )


def compliance_officer(**names) -> User:
    user = AdvisorFactory(**names)
    user.user_permissions.add(
        Permission.objects.get(codename="approve_risk_override_above_capacity")
    )
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per object


@pytest.fixture
def sam() -> User:
    return compliance_officer(first_name="Sam", last_name="Kerr")


@pytest.fixture
def keen(advisor):
    """A client willing to take level 8 who can bear level 4."""
    client = ClientFactory(advisor=advisor)
    _submit(client, willingness=8, capacity=4)
    return client


def _log(model, pk) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_pk=str(pk)
        ).order_by("timestamp", "pk")
    )


def test_an_override_within_capacity_applies_and_says_who_set_it(advisor, keen):
    override = services.risk_level_override(
        client=keen, level=3, reason="Needs the money in two years", actor=advisor
    )

    profile = selectors.risk_profile_get(client=keen)
    assert profile.assessment == override
    assert (profile.decision.level, profile.decision.decided_by) == (3, "advisor")
    assert profile.decision.override.set_by == "Alex M."
    assert profile.client_explanation.startswith(
        "Your risk level is 3 of 10, set by your advisor Alex M. on "
    )
    assert "Needs the money in two years" in profile.client_explanation


def test_an_override_above_the_stated_willingness_but_within_capacity_is_allowed_and_said(
    advisor,
):
    client = ClientFactory(advisor=advisor)
    _submit(client, willingness=3, capacity=8)

    services.risk_level_override(client=client, level=6, reason="Talked it over", actor=advisor)

    decision = selectors.risk_profile_get(client=client).decision
    assert decision.level == 6
    assert "override_above_willingness" in decision.reasons
    assert "above level 3, what your answers about your willingness" in (
        decision.client_explanation
    )


def test_above_capacity_a_request_changes_nothing_until_a_second_person_approves_it(
    advisor, keen, sam
):
    # given: the advisor asks for level 7, three above the client's capacity (4)
    request = services.risk_override_request_create(
        client=keen, level=7, reason="Large pension besides", actor=advisor
    )
    assert request.status == RiskOverrideRequest.Status.PENDING
    assert selectors.risk_profile_get(client=keen).assessment.risk_level == 4

    # when: a compliance officer approves it
    override = services.risk_override_request_approve(
        override_request=request, actor=sam, note="Pension statement seen"
    )

    # then: the level applies, naming both people, and both steps are in the audit trail
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_note) == (
        "approved",
        sam,
        "Pension statement seen",
    )
    decision = selectors.risk_profile_get(client=keen).decision
    assert (override.risk_level, decision.level) == (7, 7)
    assert decision.reasons[:2] == ("advisor_override", "override_above_capacity_approved")
    assert decision.override.approved_by == "Sam K."
    assert override.details["approved_by"] == sam.email
    assert override.details["overridden_by"] == "alex@example.test"
    assert "a second person in compliance checked and approved it" in (decision.client_explanation)
    request_log = _log(RiskOverrideRequest, request.pk)
    assert [(e.action, e.actor) for e in request_log] == [
        (LogEntry.Action.CREATE, advisor),
        (LogEntry.Action.UPDATE, sam),
    ]
    assert [(e.action, e.actor) for e in _log(RiskAssessment, override.pk)] == [
        (LogEntry.Action.CREATE, sam)
    ]


def test_the_requester_cannot_approve_their_own_request_even_with_the_permission(keen):
    advisor = keen.advisor
    advisor.user_permissions.add(
        Permission.objects.get(codename="approve_risk_override_above_capacity")
    )
    advisor = User.objects.get(pk=advisor.pk)
    request = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )

    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.risk_override_request_approve(override_request=request, actor=advisor)

    assert selectors.risk_profile_get(client=keen).assessment.risk_level == 4


def test_an_advisor_without_the_compliance_permission_cannot_approve(advisor, keen):
    request = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )

    with pytest.raises(PermissionDenied, match="compliance permission"):
        services.risk_override_request_approve(override_request=request, actor=AdvisorFactory())


def test_a_rejected_request_leaves_the_level_and_is_audited(advisor, keen, sam):
    request = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )

    services.risk_override_request_reject(override_request=request, actor=sam, note="No")

    request.refresh_from_db()
    assert request.status == RiskOverrideRequest.Status.REJECTED
    assert selectors.risk_profile_get(client=keen).assessment.risk_level == 4
    assert _log(RiskOverrideRequest, request.pk)[-1].actor == sam
    with pytest.raises(RiskOverrideConflict):
        services.risk_override_request_approve(override_request=request, actor=sam)


def test_a_request_made_before_the_client_answered_again_cannot_be_approved(advisor, keen, sam):
    request = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )
    _submit(keen, willingness=8, capacity=3)

    with pytest.raises(RiskOverrideConflict) as caught:
        services.risk_override_request_approve(override_request=request, actor=sam)

    assert caught.value.code == "override_request_stale"
    assert selectors.risk_profile_get(client=keen).assessment.risk_level == 3


def test_a_newer_request_withdraws_the_pending_one(advisor, keen):
    first = services.risk_override_request_create(
        client=keen, level=9, reason="Typo", actor=advisor
    )

    second = services.risk_override_request_create(
        client=keen, level=6, reason="Keen", actor=advisor
    )

    first.refresh_from_db()
    assert first.status == RiskOverrideRequest.Status.WITHDRAWN
    assert second.status == RiskOverrideRequest.Status.PENDING


@pytest.mark.parametrize(
    ("service", "level", "field"),
    [
        (services.risk_level_override, 5, "level"),  # above capacity: needs a request
        (services.risk_override_request_create, 4, "level"),  # within: override directly
        (services.risk_override_request_create, 11, "level"),
        (services.risk_level_override, 0, "level"),
    ],
)
def test_overrides_and_requests_refuse_levels_on_the_wrong_side_of_capacity(
    advisor, keen, service, level, field
):
    with pytest.raises(ValidationError) as caught:
        service(client=keen, level=level, reason="Because", actor=advisor)

    assert field in caught.value.message_dict
    assert not RiskOverrideRequest.objects.exists()
    assert not RiskAssessment.objects.filter(method=RiskAssessment.OVERRIDE_METHOD).exists()


def test_an_override_after_the_models_opinion_keeps_the_model_and_its_flag(advisor):
    client = ClientFactory(advisor=advisor)
    response = _submit(client, willingness=7, capacity=9)
    combined = services.risk_model_opinion_record(
        response=response, method="risk_profile@1", model="v1", model_level=2, details={}
    )
    assert combined.risk_level == 4  # (7 + 2) // 2
    assert [f["code"] for f in combined.flags] == ["model_vs_stated"]

    with pytest.raises(ValidationError):  # the model's flag must be gone through too
        services.risk_level_override(client=client, level=6, reason="Met", actor=advisor)
    override = services.risk_level_override(
        client=client, level=6, reason="Met", actor=advisor, flags_reviewed=True
    )

    decision = selectors.risk_profile_get(client=client).decision
    assert (override.risk_level, decision.model_level) == (6, 2)
    assert [f.code for f in decision.flags] == ["model_vs_stated"]  # once, reviewed
    assert decision.open_flags == ()
    assert override.inconsistent is False


def test_a_level_stored_before_the_policy_is_explained_as_recorded():
    client = ClientFactory()
    response = _submit(client, willingness=5, capacity=10)
    RiskAssessment.objects.create(  # as the old combined rule wrote it: above the willingness
        response=response,
        method=RiskAssessment.COMBINED_METHOD,
        risk_level=7,
        details={"willingness_level": 5, "capacity_level": 10, "model_level": 9},
    )

    decision = selectors.risk_profile_get(client=client).decision

    assert decision.level == 7  # text and number agree, even for a row the policy would refuse
    assert decision.reason == "recorded_level"
    assert decision.client_explanation.startswith("Your risk level is 7 of 10, as recorded")


def test_the_migration_brings_levels_stored_under_the_old_rule_under_the_policy(advisor):
    migration = importlib.import_module("advisor.migrations.0003_risk_override_request")
    client = ClientFactory(advisor=advisor)
    response = _submit(client, willingness=5, capacity=6)
    combined = RiskAssessment.objects.create(
        response=response,
        method=RiskAssessment.COMBINED_METHOD,
        risk_level=6,  # min(6, round((7 + 5) / 2))
        details={"willingness_level": 5, "capacity_level": 6, "model_level": 7},
    )
    override = RiskAssessment.objects.create(
        response=response,
        method=RiskAssessment.OVERRIDE_METHOD,
        risk_level=9,
        details={"willingness_level": 5, "capacity_level": 6, "reason": "Keen"},
    )

    migration.apply_the_suitability_policy(apps, None)

    combined.refresh_from_db()
    override.refresh_from_db()
    assert combined.risk_level == 5
    assert override.risk_level == 6
    assert override.inconsistent is True
    assert override.flags[-1]["code"] == "override_above_capacity_capped"
    assert selectors.risk_profile_get(client=client).decision.level == 6
