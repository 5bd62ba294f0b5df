"""The demo data command: personas, risk profiles, the advisor's book and idempotency."""

import io

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.utils import timezone

from advisor.models import Client, Goal, QuestionnaireResponse, RiskAssessment, User

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "meridian-demo-2026"


def _counts() -> dict[str, int]:
    models = (User, Client, QuestionnaireResponse, RiskAssessment, Goal, LogEntry)
    return {model.__name__: model.objects.count() for model in models}


def _rules_assessment(email: str) -> RiskAssessment:
    return RiskAssessment.objects.get(
        response__client__user__email=email, method=RiskAssessment.RULES_METHOD
    )


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_it_creates_one_admin_and_one_advisor(seeded: None) -> None:
    admin = User.objects.get(email="admin@meridian.example")
    assert admin.is_superuser
    assert not admin.check_password("meridian-admin-2026")  # the old published one: gone
    advisor = User.objects.get(is_staff=True, is_superuser=False)
    assert advisor.email == "advisor@meridian.example"
    assert advisor.get_full_name() == "Alex Morgan"
    assert advisor.groups.filter(name="Advisors").exists()


def test_it_puts_three_kyc_complete_clients_in_the_advisors_book(seeded: None) -> None:
    advisor = User.objects.get(is_staff=True, is_superuser=False)
    clients = list(Client.objects.all())
    assert len(clients) == 3
    for client in clients:
        assert client.advisor == advisor
        assert client.kyc_completed_at is not None
        assert client.kyc_review_due is not None
        assert client.questionnaire_responses.count() == 1
        response = client.questionnaire_responses.get()
        assert response.assessments.filter(method=RiskAssessment.RULES_METHOD).exists()
        assert client.goals.count() >= 2
        assert client.user.check_password(DEMO_PASSWORD)


def test_risk_levels_fit_the_personas(seeded: None) -> None:
    maya = _rules_assessment("maya@meridian.example")
    daniel = _rules_assessment("daniel@meridian.example")
    ruth = _rules_assessment("ruth@meridian.example")
    assert maya.risk_level > daniel.risk_level > ruth.risk_level
    assert not maya.inconsistent
    assert not ruth.inconsistent
    assert daniel.inconsistent
    assert [flag["code"] for flag in daniel.flags] == ["stated_vs_loss_reaction"]


def test_goals_lie_in_the_future(seeded: None) -> None:
    assert not Goal.objects.filter(target_date__lte=timezone.localdate()).exists()


def test_the_audit_trail_names_the_admin_as_the_seeder(seeded: None) -> None:
    admin = User.objects.get(email="admin@meridian.example")
    goal_entries = LogEntry.objects.get_for_model(Goal)
    assert goal_entries.count() == Goal.objects.count()
    assert set(goal_entries.values_list("actor", flat=True)) == {admin.pk}


def test_running_it_twice_changes_nothing(seeded: None) -> None:
    # given
    before = _counts()
    levels = {
        client.user.email: _rules_assessment(client.user.email).risk_level
        for client in Client.objects.select_related("user")
    }

    # when
    call_command("seed_demo", stdout=io.StringIO())

    # then
    assert _counts() == before
    assert levels == {
        client.user.email: _rules_assessment(client.user.email).risk_level
        for client in Client.objects.select_related("user")
    }


def test_the_demo_admin_gets_a_random_password_printed_once() -> None:
    """Issue 13, finding 7: every install had the admin password printed in the README."""
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    line = next(x for x in first.getvalue().splitlines() if "admin@meridian.example" in x)
    password = line.split(" / ")[1].split(" ")[0]
    assert len(password) >= 16
    assert User.objects.get(email="admin@meridian.example").check_password(password)
    assert password not in second.getvalue()  # shown only when created
    assert "password unchanged" in second.getvalue()


def test_an_explicit_admin_password_is_used() -> None:
    call_command("seed_demo", "--admin-password", "a chosen one, long enough", stdout=io.StringIO())
    admin = User.objects.get(email="admin@meridian.example")
    assert admin.check_password("a chosen one, long enough")


def test_it_refuses_to_run_where_demo_data_is_not_allowed(settings) -> None:
    settings.DEMO_DATA_ALLOWED = False  # as config.settings.production sets it
    with pytest.raises(CommandError, match="refuses to run"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def test_it_prints_the_demo_logins() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    for email in ("admin@meridian.example", "advisor@meridian.example", "ruth@meridian.example"):
        assert email in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
