"""The advisor's queue lists clients whose level's worst stress scenario lost more than they said
they could bear (issue #16: "when the scenario loss exceeds it, the advisor is flagged"), from the
nightly stored figures and the same rule as the client's stress check (portfolios.stress)."""

from datetime import date

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from advisor import risk
from advisor import services as advisor_services
from portfolios.models import ModelPortfolio, RiskFigures
from portfolios.stress import loss_tolerance
from workspace.selectors import stress_over_tolerance, work_queue

from ..factories import AdvisorFactory, ClientFactory

pytestmark = pytest.mark.django_db


def _worst_scenario_everywhere(approved_set, change: float) -> None:
    """Every level's model portfolio: one stored row whose worst scenario changed by `change`."""
    for portfolio in ModelPortfolio.objects.filter(portfolio_set=approved_set):
        RiskFigures.objects.create(
            model_portfolio=portfolio,
            market_date=date(2023, 6, 9),
            computed_at=timezone.now(),
            figures={
                "stress": [
                    {
                        "key": "gfc_2008",
                        "name": "2008 crisis",
                        "kind": "historical",
                        "start": "2008-09-01",
                        "end": "2009-03-09",
                        "change": change,
                    },
                    {"key": "gold", "name": "Gold −20%", "kind": "hypothetical", "change": -0.01},
                ]
            },
        )


@pytest.fixture
def book(approved_set, cautious_answers):
    advisor = AdvisorFactory()
    cautious = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=cautious, version=risk.CURRENT_VERSION, answers=cautious_answers
    )
    return advisor, cautious


def test_a_worst_loss_above_the_stated_tolerance_is_in_the_advisors_queue(book, approved_set):
    advisor, cautious = book
    tolerance = loss_tolerance(cautious.questionnaire_responses.get().answers)
    assert tolerance is not None
    assert tolerance.loss < 0.30  # the cautious answers accept little
    _worst_scenario_everywhere(approved_set, change=-0.30)

    [flag] = stress_over_tolerance(user=advisor)
    queue = [item for item in work_queue(user=advisor) if item.client == cautious]

    assert (flag.client, flag.worst) == (cautious, pytest.approx(0.30))
    assert "Stress loss over stated tolerance" in [item.kind for item in queue]
    assert stress_over_tolerance(user=AdvisorFactory()) == []  # another book: nothing


def test_a_worst_loss_within_the_tolerance_flags_nothing(approved_set, bold_answers):
    advisor = AdvisorFactory()
    bold = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=bold, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    tolerance = loss_tolerance(bold_answers)
    assert tolerance is not None
    _worst_scenario_everywhere(approved_set, change=-tolerance.loss / 2)

    assert stress_over_tolerance(user=advisor) == []


# --- The stress cap (suitability policy, rule 3): the level lowered, recorded and queued -------


def _worst_by_level(approved_set, loss_per_level: float) -> None:
    """Each level's model portfolio: its worst scenario (2008) lost `loss_per_level` × level."""
    for portfolio in ModelPortfolio.objects.filter(portfolio_set=approved_set):
        RiskFigures.objects.create(
            model_portfolio=portfolio,
            market_date=date(2023, 6, 9),
            computed_at=timezone.now(),
            figures={
                "stress": [
                    {
                        "key": "crisis_2008",
                        "name": "2008 financial crisis",
                        "kind": "historical",
                        "start": "2008-09-01",
                        "end": "2009-03-09",
                        "change": -loss_per_level * portfolio.level,
                    },
                ]
            },
        )


def test_the_stress_cap_lowers_a_level_records_why_and_queues_it_for_the_advisor(
    approved_set, bold_answers
):
    from auditlog.models import LogEntry

    from advisor.selectors import risk_profile_get
    from portfolios.services.risk import stress_caps_apply

    # given a bold client (level 10) who can bear 33% (portfolio_choice high_growth 28%, a
    # third lost would not matter: 33%), and level L's worst scenario lost 4% × L: level 8
    # (32%) is the highest within, level 10 (40%) is over
    advisor = AdvisorFactory()
    bold = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=bold, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    assert loss_tolerance(bold_answers).loss == pytest.approx(0.33)
    assert risk_profile_get(client=bold).assessment.risk_level == 10
    _worst_by_level(approved_set, 0.04)

    # when
    written = stress_caps_apply()

    # then the level is 8, said to the client and the advisor, audited
    profile = risk_profile_get(client=bold)
    assert written == 1
    assert profile.assessment.risk_level == 8
    assert profile.decision.uncapped_level == 10
    assert (
        "It was lowered from 10 to 8: in a year like 2008 the level 10 portfolio could have "
        "fallen about 40%, more than the 33% you said you could bear; at level 8 it was about 32%."
    ) in profile.client_explanation
    assert "lowered from 10 to 8" in profile.advisor_explanation
    assert LogEntry.objects.get_for_object(profile.assessment).count() == 2  # created, capped
    # the advisor's queue says it was capped, not merely over
    [flag] = stress_over_tolerance(user=advisor)
    assert (flag.kind, flag.capped_from, flag.level) == ("Risk level lowered by stress cap", 10, 8)
    [item] = [i for i in work_queue(user=advisor) if i.client == bold]
    assert item.kind == "Risk level lowered by stress cap"
    assert item.what.startswith("Lowered from level 10 to 8: level 10's worst stress scenario")
    assert "lost 40%; the client said they could bear about 33%" in item.what
    # and a rerun changes nothing
    assert stress_caps_apply() == 0
    assert LogEntry.objects.get_for_object(profile.assessment).count() == 2


def test_answers_accepting_no_loss_keep_the_lowest_level_flagged_for_the_advisor(approved_set):
    from advisor.selectors import risk_profile_get
    from portfolios.services.risk import stress_caps_apply

    # given answers whose tolerance is 0% (capital_stable accepts 0%; sell_all and severe refuse)
    # but whose level is above 1, and every level lost something
    answers = {
        q.key: max(q.choices, key=lambda c: c.points).value
        for q in risk.QUESTION_SETS[risk.CURRENT_VERSION].questions
    }
    answers |= {
        "portfolio_choice": "capital_stable",
        "loss_reaction": "sell_all",
        "loss_impact": "severe",
    }
    assert loss_tolerance(answers).loss == 0.0
    advisor = AdvisorFactory()
    client = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=answers
    )
    uncapped = risk_profile_get(client=client).assessment.risk_level
    assert uncapped > 1
    _worst_by_level(approved_set, 0.02)

    stress_caps_apply()

    profile = risk_profile_get(client=client)
    assert profile.assessment.risk_level == 1  # a level, the lowest, never none
    assert "our most cautious level" in profile.client_explanation
    [flag] = stress_over_tolerance(user=advisor)
    assert (flag.kind, flag.floored, flag.capped_from) == (
        "No level within stated tolerance",
        True,
        uncapped,
    )


def test_an_advisors_override_is_left_as_it_is_by_the_stress_cap(approved_set, bold_answers):
    from advisor.selectors import risk_profile_get
    from portfolios.services.risk import stress_caps_apply

    advisor = AdvisorFactory()
    bold = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=bold, version=risk.CURRENT_VERSION, answers=bold_answers
    )
    advisor_services.risk_level_override(
        client=bold, level=9, reason="Long talk about 2008", actor=advisor
    )
    _worst_by_level(approved_set, 0.04)

    assert stress_caps_apply() == 0
    assert risk_profile_get(client=bold).assessment.risk_level == 9
    # over the tolerance and not capped: the advisor's queue still shows it as over
    [flag] = stress_over_tolerance(user=advisor)
    assert (flag.kind, flag.capped_from) == ("Stress loss over stated tolerance", None)


def test_the_nightly_figures_floor_the_level_and_the_clients_stress_check_says_so(
    approved_set, bold_answers
):
    from advisor.selectors import risk_profile_get
    from portfolios.services.risk import (
        STRESS_FLOOR_FLAG_CODE,
        model_portfolio_worst_losses,
        risk_figures_compute,
        stress_vs_tolerance,
    )

    # given a client at level 8 who can bear 8% (portfolio_choice moderate; sell_some says
    # nothing; a significant effect of losing a third refuses 33%)
    answers = bold_answers | {
        "portfolio_choice": "moderate",
        "loss_reaction": "sell_some",
        "loss_impact": "significant",
    }
    advisor = AdvisorFactory()
    client = ClientFactory(advisor=advisor)
    advisor_services.questionnaire_submit(
        client=client, version=risk.CURRENT_VERSION, answers=answers
    )
    assert risk_profile_get(client=client).assessment.risk_level == 8

    # when the nightly figures run on the test market data
    risk_figures_compute()

    # then every level's worst scenario lost more than 8% (the lowest, level 4's, 8.5% shows
    # as 9%), so the level is the lowest, flagged, and the client's check says it was lowered
    worst = {item.level: item.loss for item in model_portfolio_worst_losses().losses}
    assert min(worst.values()) == pytest.approx(0.0853, abs=5e-4)
    assert risk_profile_get(client=client).assessment.risk_level == 1
    check = stress_vs_tolerance(client=client)
    assert (check.level, check.capped_from, check.exceeds) == (1, 8, True)
    assert check.flag is not None
    assert check.flag.code == STRESS_FLOOR_FLAG_CODE
    assert check.client_text.startswith("Your level was lowered from 8 to 1 because of this check.")
    assert "Stress cap: lowered from 8 to 1." in check.advisor_text
    # the client's route carries it (capped_from) with the flag
    api = APIClient()
    api.force_authenticate(client.user)
    body = api.get("/api/v1/risk/stress-check/").json()
    assert (body["level"], body["capped_from"], body["advisor_flag"]["code"]) == (
        1,
        8,
        "stress_floor",
    )


def test_the_stress_cap_reaches_every_client_page_after_page(
    approved_set, bold_answers, monkeypatch
):
    from advisor.selectors import risk_profile_get
    from portfolios.services import risk as risk_service

    # given three bold clients (level 10, can bear 33%) read a page of two at a time
    monkeypatch.setattr(risk_service, "STRESS_CAP_PAGE", 2)
    clients = [ClientFactory() for _ in range(3)]
    for client in clients:
        advisor_services.questionnaire_submit(
            client=client, version=risk.CURRENT_VERSION, answers=bold_answers
        )
    _worst_by_level(approved_set, 0.04)

    # when / then: each is capped at level 8, the third on the second page; a rerun writes none
    assert risk_service.stress_caps_apply() == 3
    assert [risk_profile_get(client=c).assessment.risk_level for c in clients] == [8, 8, 8]
    assert risk_service.stress_caps_apply() == 0
