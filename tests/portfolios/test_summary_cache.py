"""The dashboard's cache key (`portfolio_fingerprint`) changes with everything the summary shows,
including writes that edit a row in place: an advisor's override of the risk level, and a
recurring deposit paused or resumed (it is part of each goal's plan)."""

from decimal import Decimal

import pytest

from advisor import services as advisor_services
from portfolios import selectors, services
from tests.factories import AdvisorFactory

pytestmark = pytest.mark.django_db


def test_an_advisors_second_override_changes_the_dashboards_key(account):
    # given: the client's level already overridden once (the override row exists)
    client = account.client
    advisor = AdvisorFactory()
    client.advisor = advisor
    client.save(update_fields=["advisor"])
    advisor_services.risk_level_override(
        client=client, level=3, reason="Talked it through", actor=advisor, flags_reviewed=True
    )
    before = selectors.portfolio_fingerprint(client=client)

    # when: the advisor overrides again, which edits the same row
    advisor_services.risk_level_override(
        client=client, level=2, reason="Lower still", actor=advisor, flags_reviewed=True
    )

    # then
    assert selectors.portfolio_fingerprint(client=client) != before


def test_pausing_and_resuming_a_recurring_deposit_changes_the_key_and_back(account):
    recurring = services.recurring_deposit_create(
        account=account, amount=Decimal("250.00"), day_of_month=5
    )
    active = selectors.portfolio_fingerprint(client=account.client)

    services.recurring_deposit_pause(recurring=recurring, paused=True)
    paused = selectors.portfolio_fingerprint(client=account.client)
    services.recurring_deposit_pause(recurring=recurring, paused=False)

    assert paused != active
    assert selectors.portfolio_fingerprint(client=account.client) == active
