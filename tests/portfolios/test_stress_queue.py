"""The advisor's queue lists clients whose level's worst stress scenario lost more than they said
they could bear (issue #16: "when the scenario loss exceeds it, the advisor is flagged"), from the
nightly stored figures and the same rule as the client's stress check (portfolios.stress)."""

from datetime import date

import pytest
from django.utils import timezone

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
