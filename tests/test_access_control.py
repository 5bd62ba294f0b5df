"""Every object route of the API, found from the OpenAPI schema, is checked with an intruder.

A route with a path parameter must answer the owner and 404 to another client (or another
advisor's book): never someone else's data, never a 500. A new route whose parameter this
file cannot build an object for fails the test until a builder is added below.
"""

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from advisor import risk, services
from advisor.models import Client, DeviceToken, User, WithdrawalHold
from advisor.services.notifications import notify
from nlp.models import Conversation, Message
from portfolios.models import (
    Account,
    Asset,
    Document,
    RebalanceProposal,
    RecurringDeposit,
    TaxHarvest,
)
from portfolios.services import account_open

from .factories import AdvisorFactory, ClientFactory, GoalFactory

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"{(\w+)}")
# Parameters naming shared reference data (the fund universe), not anyone's object.
PUBLIC_PARAMS = {"ticker", "level", "version"}


def _object_routes() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = []
    for path, operations in schema["paths"].items():
        params = set(PARAM.findall(path))
        if not params or params <= PUBLIC_PARAMS:
            continue
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                routes.append((path, method))
    return sorted(routes)


OBJECT_ROUTES = _object_routes()


class World:
    """An owner with objects, and intruders who must not reach them."""

    def __init__(self) -> None:
        self.advisor = AdvisorFactory()
        self.other_advisor = AdvisorFactory()
        self.owner: Client = ClientFactory(advisor=self.advisor)
        self.intruder: Client = ClientFactory(advisor=self.other_advisor)
        ClientFactory(advisor=self.other_advisor)  # the other advisor's book is not empty
        # The owner has data behind every route, so a leak would be a 200, not a lucky 404.
        question_set = risk.question_set_get()
        answers = {q.key: q.choices[0].value for q in question_set.questions}
        for client in (self.owner, self.intruder):
            services.questionnaire_submit(
                client=client, version=question_set.version, answers=answers
            )

    @functools.cached_property
    def account(self) -> Account:
        return account_open(goal=GoalFactory(client=self.owner))

    @staticmethod
    def _asset(ticker: str) -> Asset:
        return Asset.objects.get_or_create(
            ticker=ticker, defaults={"name": ticker, "asset_class": "us_equity"}
        )[0]

    def build(self, param: str) -> str:
        builders: dict[str, Callable[[], object]] = {
            "goal_id": lambda: GoalFactory(client=self.owner).pk,
            "client_id": lambda: self.owner.pk,
            "token_key": lambda: DeviceToken.objects.create(user=self.owner.user)[0].token_key,
            "account_id": lambda: self.account.pk,
            "recurring_id": lambda: RecurringDeposit.objects.create(
                account=self.account, amount=10, day_of_month=1, next_run="2100-01-01"
            ).pk,
            "conversation_id": lambda: Message.objects.create(
                conversation=Conversation.objects.create(client=self.owner),
                role="client",
                text="my private question",
            ).conversation_id,
            "rebalance_id": lambda: RebalanceProposal.objects.create(
                account=self.account,
                market_date="2023-06-09",
                drift="0.05",
                threshold="0.03",
                reason="test",
                trades=[],
                before_weights={},
                after_weights={},
            ).pk,
            "harvest_id": lambda: TaxHarvest.objects.create(
                account=self.account,
                market_date="2023-06-09",
                sell_asset=self._asset("VTI"),
                buy_asset=self._asset("SPY"),
                units="1",
                price="100",
                proceeds="100.00",
                buy_units="1",
                buy_price="100",
                lots=[],
                tax_rate_short="0.24",
                tax_rate_long="0.15",
                tax_saved="0.00",
                reason="test",
                state={},
                fingerprint="x",
            ).pk,
            "document_id": lambda: Document.objects.create(
                client=self.owner,
                account=self.account,
                kind="statement",
                period_start="2023-05-01",
                period_end="2023-05-31",
                title="Statement",
                pdf=b"%PDF-1.4",
                csv="Summary",
            ).pk,
            "hold_id": lambda: WithdrawalHold.objects.create(
                client=self.owner,
                goal=self.account.goal,
                account_id=self.account.pk,
                amount=Decimal("100.00"),
                expires_at=timezone.now() + timedelta(days=7),
            ).pk,
            "notification_id": lambda: notify(
                user=self.owner.user, kind="cash_flow", key="access-test", title="Deposit done"
            ).pk,
            "request_id": lambda: services.risk_override_request_create(
                client=self.owner, level=5, reason="test", actor=self.advisor, flags_reviewed=True
            ).pk,
        }
        if param not in builders:
            pytest.fail(f"No builder for path parameter {param!r}: add one to World.build.")
        return str(builders[param]())

    def owner_user(self, path: str) -> User:
        return self.advisor if path.startswith("/api/v1/advisor/") else self.owner.user

    def intruders(self, path: str) -> list[User]:
        if path.startswith("/api/v1/advisor/"):
            return [self.other_advisor, self.intruder.user]
        return [self.intruder.user, self.other_advisor]


def _as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_schema_has_object_routes_to_check():
    assert len(OBJECT_ROUTES) >= 6


@pytest.mark.parametrize(("path", "method"), OBJECT_ROUTES)
def test_an_object_route_answers_its_owner_and_404s_everyone_else(path, method):
    world = World()
    url = PARAM.sub(lambda match: world.build(match.group(1)), path)

    for intruder in world.intruders(path):
        response = getattr(_as(intruder), method)(url, {}, format="json")
        assert response.status_code in (403, 404), (path, method, intruder, response.content)
        if intruder.is_staff or not path.startswith("/api/v1/advisor/"):
            # Same kind of user, other book: the object simply does not exist for them.
            assert response.status_code == 404, (path, method, response.content)
        assert set(response.json()) == {"message", "code", "extra"}

    # The owner reaches the object (an empty body may still be a 400, never a 404).
    owner = getattr(_as(world.owner_user(path)), method)(url, {}, format="json")
    assert owner.status_code != 404, (path, method, owner.content)
    assert owner.status_code < 500, (path, method, owner.content)
