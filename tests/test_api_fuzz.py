"""Property-based run over the OpenAPI schema (schemathesis): no input yields a 5xx.

Bounded for CI by SCHEMATHESIS_MAX_EXAMPLES (examples per operation); SCHEMATHESIS_COVERAGE=1
adds schemathesis' coverage phase. Calls go through the
WSGI app in-process, authenticated as a client that has a profile, answers and a goal.
"""

import os
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from advisor import risk, services
from advisor.models import DeviceToken

from .factories import ClientFactory, GoalFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
# The coverage phase (boundary values for every field) is thorough but builds its examples at
# collection time, ~90 s on CI's two cores: on in `make test-full`, off in `make test`.
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"

schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}),
)
application = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: the real WSGI handler would close the connection that holds
    the test's transaction at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    client = ClientFactory()
    question_set = risk.question_set_get()
    services.questionnaire_submit(
        client=client,
        version=question_set.version,
        answers={q.key: q.choices[-1].value for q in question_set.questions},
    )
    GoalFactory(client=client)
    return DeviceToken.objects.create(user=client.user)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples here and in CI, whatever ran before
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_the_api_fail(case, token):
    response = case.call(app=application, headers={"Authorization": f"Token {token}"})

    case.validate_response(response, checks=[not_a_server_error])


HOSTILE_BODIES = {
    "deeply nested": "[" * 5000 + "]" * 5000,
    "deeply nested object": '{"a":' * 5000 + "1" + "}" * 5000,
    "many keys": "{" + ",".join(f'"k{i}": {i}' for i in range(5000)) + "}",
    "long string": '{"name": "' + "x" * 200_000 + '"}',
    "oversized": '{"amount": "' + "9" * 3_000_000 + '"}',
}
BODY_OPERATIONS = [
    (method.upper(), path)
    for path, item in SchemaGenerator().get_schema(request=None, public=True)["paths"].items()
    for method in item
    if method in ("post", "put", "patch")
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_no_json_route_fails_on_a_hostile_body(body, token):
    """Issue 13, finding 4, on every route that takes a body: a 4xx, never a 5xx, logged in or
    not. Path parameters are filled with 1 (a 404 is as good an answer as a 400)."""
    from rest_framework.test import APIClient

    anonymous, authed = APIClient(), APIClient()
    authed.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    failures = []
    for method, path in BODY_OPERATIONS:
        url = re.sub(r"\{[^}]+\}", "1", path)
        for api in (anonymous, authed):
            response = api.generic(method, url, body, content_type="application/json")
            if response.status_code >= 500:
                failures.append(f"{method} {url}: {response.status_code}")
    assert failures == []
