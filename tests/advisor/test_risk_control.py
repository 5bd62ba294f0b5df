"""The risk-control rules engine: rules as versioned data, each check against hand-worked
figures, the decision, login and recurring-change evaluations, the model and the scenario
command."""

import importlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import override_settings

from advisor import risk_control as rc
from advisor.models import RiskEvent, RiskRule, SecurityEvent

from ..factories import AdvisorFactory, ClientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
D = Decimal


def facts(
    amount: str, *, value: str = "50000", total: str | None = None, **kwargs
) -> rc.WithdrawalFacts:
    return rc.WithdrawalFacts(
        at=NOW,
        amount=D(amount),
        account_value=D(value),
        client_total=D(total or value),
        **kwargs,
    )


def rule(code: str) -> list[rc.RuleSpec]:
    return [r for r in rc.builtin_specs() if r.code == code]


def fired(f: rc.WithdrawalFacts | rc.EventFacts, code: str) -> bool:
    return bool(rc.evaluate(f, rule(code)).fired)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


# --- Rules as data ---------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    # Migration 0008 seeds them; a transactional test elsewhere may have flushed the table.
    rc.risk_rules_seed()


def test_the_migration_seeds_every_built_in_rule_at_its_documented_defaults():
    migration = importlib.import_module("advisor.migrations.0008_risk_control")
    RiskRule.objects.all().delete()
    migration.seed_rules(django_apps, None)

    seeded = {
        r.code: (r.version, r.current, r.event, r.check_name, r.action, r.parameters)
        for r in RiskRule.objects.all()
    }
    assert seeded == {
        r["code"]: (1, True, r["event"], r["check_name"], r["action"], r["parameters"])
        for r in rc.BUILTIN_RULES
    }


def test_built_in_rules_apply_at_their_defaults_until_a_version_is_stored():
    RiskRule.objects.all().delete()
    assert [(s.code, s.version) for s in rc.rules_in_force(event="withdrawal")] == [
        ("after-credential-reset", 1),
        ("amount-vs-history", 1),
        ("drain", 1),
        ("new-device-large-withdrawal", 1),
        ("slow-drain", 1),
        ("velocity", 1),
    ]
    # a disabled version switches a rule off; the others stay at their defaults
    officer = AdvisorFactory(is_superuser=True)
    rc.risk_rules_seed()
    rc.risk_rule_revise(rule=RiskRule.objects.get(code="drain"), actor=officer, enabled=False)
    assert "drain" not in {s.code for s in rc.rules_in_force(event="withdrawal")}


def test_an_edit_makes_a_new_audited_version_and_keeps_the_old_one(seeded):
    # given: a compliance officer (the Compliance group)
    officer = AdvisorFactory()
    officer.groups.add(rc.compliance_group_ensure())
    rc.risk_control_audit_register()
    velocity = RiskRule.objects.get(code="velocity")

    # when
    revised = rc.risk_rule_revise(
        rule=velocity,
        actor=officer,
        parameters={**velocity.parameters, "max_count": 3},
    )

    # then: version 2 is in force, version 1 is kept as it was
    velocity.refresh_from_db()
    assert (revised.version, revised.current, revised.parameters["max_count"]) == (2, True, 3)
    assert (velocity.version, velocity.current, velocity.parameters["max_count"]) == (1, False, 5)
    assert [s.version for s in rc.rules_in_force(event="withdrawal") if s.code == "velocity"] == [2]
    entry = LogEntry.objects.get_for_object(revised).get()
    assert entry.actor == officer


def test_only_compliance_staff_edit_rules_and_parameters_are_checked(seeded):
    velocity = RiskRule.objects.get(code="velocity")
    with pytest.raises(PermissionDenied):
        rc.risk_rule_revise(rule=velocity, actor=AdvisorFactory(), action="flag")
    officer = AdvisorFactory(is_superuser=True)
    with pytest.raises(ValidationError) as error:
        rc.risk_rule_revise(rule=velocity, actor=officer, parameters={"max_count": -1, "x": 1})
    messages = error.value.message_dict["parameters"]
    assert "Unknown parameter(s): x." in messages
    assert "`max_count` must not be negative." in messages
    assert "`window_hours` is missing." in messages
    assert RiskRule.objects.filter(code="velocity").count() == 1


# --- Each check on hand-worked figures -------------------------------------------------------


def test_amount_vs_history_fires_above_three_times_the_largest_and_ten_thousand():
    history = ((ago(days=100), D("2000.00")), (ago(days=400), D("9000.00")))  # 400 d: too old
    # 3 × 2,000 = 6,000: 10,000.01 passes both bars; 10,000.00 is not above $10,000
    assert fired(facts("10000.01", withdrawals=history), "amount-vs-history")
    assert not fired(facts("10000.00", withdrawals=history), "amount-vs-history")
    # no withdrawal in the window: no history to compare with
    assert not fired(facts("40000.00"), "amount-vs-history")


def test_velocity_fires_on_the_sixth_in_a_day_once_they_reach_2500_or_above_50000():
    five = tuple((ago(hours=h), D("500.00")) for h in (1, 2, 3, 4, 23))
    # 6 withdrawals, 3,000 in 24 h: more than 5 and at least 2,500
    assert fired(facts("500.00", withdrawals=five), "velocity")
    # 6 small ones (6 × 60 = 360 < 2,500): an ordinary busy day
    small = tuple((ago(hours=h), D("60.00")) for h in (1, 2, 3, 4, 5))
    assert not fired(facts("60.00", withdrawals=small), "velocity")
    # one earlier 25 h ago is outside the window
    assert not fired(
        facts("500.00", withdrawals=(*five[:4], (ago(hours=25), D("500")))), "velocity"
    )
    # 30,000 + 20,000.01 = 50,000.01 > 50,000 in 24 h
    assert fired(facts("20000.01", withdrawals=((ago(hours=3), D("30000")),)), "velocity")


def test_a_new_device_then_over_5000_fires_within_48_hours():
    assert fired(facts("5000.01", new_devices=(ago(hours=47),)), "new-device-large-withdrawal")
    assert not fired(facts("5000.00", new_devices=(ago(hours=47),)), "new-device-large-withdrawal")
    assert not fired(facts("9000", new_devices=(ago(hours=49),)), "new-device-large-withdrawal")


def test_any_withdrawal_within_72_hours_of_a_credential_reset_fires():
    assert fired(facts("0.01", resets=(ago(hours=71),)), "after-credential-reset")
    assert not fired(facts("9000", resets=(ago(hours=73),)), "after-credential-reset")


def test_drain_fires_when_less_than_10_percent_of_the_account_or_total_is_left():
    # 10,000 − 9,000.01 = 999.99 left: 9.9999% < 10%; 9,000 leaves exactly 10%
    assert fired(facts("9000.01", value="10000", total="100000"), "drain")
    assert not fired(facts("9000.00", value="10000", total="100000"), "drain")
    # 2,000 left of 30,000: 6.7%
    assert fired(facts("28000", value="30000", total="30000"), "drain")
    # withdrawals of the last 30 days count as drained: (10,000 − 5,000) / (10,000 + 50,000)
    history = ((ago(days=10), D("50000")),)
    assert fired(facts("5000", value="10000", total="100000", withdrawals=history), "drain")
    # $1,000 and less is never a drain
    assert not fired(facts("1000", value="1000"), "drain")


def test_slow_drain_fires_on_the_fourth_withdrawal_taking_over_half_in_30_days():
    # account now 6,000; earlier 2,000 + 1,500 + 1,000 = 4,500 in 30 days: before them 10,500.
    # This 1,000 brings it to 5,500 / 10,500 = 52% > 50%, the 4th withdrawal in the window.
    history = tuple((ago(days=d), D(a)) for d, a in ((20, "2000"), (12, "1500"), (5, "1000")))
    assert fired(facts("1000", value="6000", total="6000", withdrawals=history), "slow-drain")
    assert not fired(facts("400", value="6000", total="6000", withdrawals=history), "slow-drain")
    assert not fired(
        facts("1000", value="6000", total="6000", withdrawals=history[1:]), "slow-drain"
    )


def test_login_and_recurring_checks():
    reset = (NOW - timedelta(hours=10),)
    login = rc.EventFacts(at=NOW, new_device=True, resets=reset)
    assert fired(login, "login-new-device-after-reset")
    assert not fired(
        rc.EventFacts(at=NOW, new_device=False, resets=reset), "login-new-device-after-reset"
    )
    assert fired(
        rc.EventFacts(at=NOW, change="pause", resets=reset), "recurring-after-identity-change"
    )
    big = rc.EventFacts(at=NOW, change="create", amount=D("10000.01"))
    assert fired(big, "recurring-large")
    assert not fired(rc.EventFacts(at=NOW, change="create", amount=D("10000")), "recurring-large")


# --- The decision ----------------------------------------------------------------------------


def test_a_hold_rule_holds_two_flags_hold_and_one_flag_or_the_model_only_flags():
    rules = rc.builtin_specs("withdrawal")
    assert rc.evaluate(facts("100.00"), rules).decision == "allow"
    assert rc.evaluate(facts("100.00", resets=(ago(hours=1),)), rules).decision == "hold"
    one_flag = facts("9500", value="10000", total="100000")  # drain only
    assert rc.evaluate(one_flag, rules).decision == "flag"
    # drain + amount vs history (3 × 1,000 < 10,500 > 10,000): two flags hold
    two = facts("10500", value="11000", withdrawals=((ago(days=90), D("1000")),))
    evaluation = rc.evaluate(two, rules)
    assert evaluation.decision == "hold"
    assert {f.code for f in evaluation.fired} == {"drain", "amount-vs-history"}
    # a high anomaly score flags; it never holds by itself
    scored = rc.evaluate(facts("100.00"), rules, score=0.9, threshold=0.6, model_version="m")
    assert scored.decision == "flag"
    assert [f.code for f in scored.fired] == [rc.ANOMALY_CODE]


# --- Login and recurring changes are evaluated and recorded -------------------------------------


def test_a_login_from_a_new_device_after_a_password_reset_is_recorded_and_flagged(
    api_client, password
):
    client = ClientFactory()
    api_client.post(
        "/api/v1/auth/login/",
        {"email": client.user.email, "password": password},
        HTTP_USER_AGENT="first",
    )
    first = RiskEvent.objects.get(client=client, event="login")
    assert first.decision == "allow"  # the sign-up device

    rc.security_event_record(user=client.user, kind=SecurityEvent.Kind.PASSWORD_RESET)
    response = api_client.post(
        "/api/v1/auth/login/",
        {"email": client.user.email, "password": password},
        HTTP_USER_AGENT="a new browser",
    )

    assert response.status_code == 200, response.content
    latest = RiskEvent.objects.filter(client=client, event="login").latest("id")
    assert latest.decision == "flag"
    assert latest.fired[0]["code"] == "login-new-device-after-reset"
    assert latest.context["new_device"] is True


# --- The model and the scenario command ------------------------------------------------------


def test_the_saved_model_scores_each_withdrawal_and_flags_the_strange_ones(tmp_path):
    rows = [rc.features(facts(str(100 + i), value="20000")) for i in range(300)]
    model = rc.anomaly_model_fit(rows, seed=1)
    with override_settings(RISK_CONTROL_MODEL_DIR=str(tmp_path)):
        rc.anomaly_model_save(model)
        try:
            ordinary = rc.withdrawal_evaluate(facts("150", value="20000"), [])
            strange = rc.withdrawal_evaluate(
                facts("19000", value="20000", new_devices=(ago(hours=1),)), []
            )
        finally:
            rc.anomaly_model_load.cache_clear()
    assert ordinary.score is not None
    assert ordinary.decision == "allow"
    assert strange.score > model.threshold
    assert strange.decision == "flag"
    assert strange.model_version == model.version


def test_the_scenario_command_reports_rates_per_pattern_and_for_normal_clients():
    out = StringIO()
    call_command("risk_control_scenarios", clients=60, attacks=6, seed=3, json=True, stdout=out)
    report = json.loads(out.getvalue())

    assert set(report["detection"]) == set(rc.PATTERNS)
    for rates in [*report["detection"].values(), report["false_positive_clients"]]:
        assert set(rates) == {"rules_hold", "rules_any", "model", "both"}
        assert all(0 <= r <= 1 for r in rates.values())
    # every reset_drain withdraws within 48 h of a reset: the rule holds each one
    assert report["detection"]["reset_drain"]["rules_hold"] == 1.0
    # "both" catches at least what each alone does
    for rates in report["detection"].values():
        assert rates["both"] >= max(rates["rules_any"], rates["model"])


# --- The admin: compliance edits rules, each save a new version ----------------------------------

from django.contrib import admin as django_admin  # noqa: E402
from django.urls import path  # noqa: E402

from advisor import admin_risk_control  # noqa: E402, F401  (registers the pages)

urlpatterns = [path("admin/", django_admin.site.urls)]


@pytest.mark.urls(__name__)
def test_compliance_staff_edit_a_rule_in_the_admin_as_a_new_version(client, seeded):
    # given: a member of the Compliance group, and a plain advisor
    officer = AdvisorFactory()
    officer.groups.add(rc.compliance_group_ensure())
    velocity = RiskRule.objects.get(code="velocity", current=True)
    url = f"/admin/advisor/riskrule/{velocity.pk}/change/"
    form = {
        "description": velocity.description,
        "parameters": json.dumps({**velocity.parameters, "max_total": "40000.00"}),
        "action": "hold",
        "enabled": "on",
    }

    client.force_login(AdvisorFactory())
    assert client.post(url, form).status_code == 403

    # when
    client.force_login(officer)
    response = client.post(url, form)

    # then: version 2 holds the new threshold; version 1 is unchanged and no longer editable
    assert response.status_code == 302, response.content
    current = RiskRule.objects.get(code="velocity", current=True)
    assert (current.version, current.parameters["max_total"]) == (2, "40000.00")
    assert current.created_by == officer
    velocity.refresh_from_db()
    assert velocity.parameters["max_total"] == "50000.00"
    assert client.post(url, form).status_code == 403
    # a bad parameter is a form error, not a new version
    bad = {**form, "parameters": json.dumps({"max_total": "x"})}
    assert client.post(f"/admin/advisor/riskrule/{current.pk}/change/", bad).status_code == 200
    assert RiskRule.objects.filter(code="velocity").count() == 2
