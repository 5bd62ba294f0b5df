"""Property-based run over the OpenAPI schema (schemathesis): no input yields a 5xx.

Bounded for CI by SCHEMATHESIS_MAX_EXAMPLES (examples per operation). Calls go through the
WSGI app in-process, authenticated as a client that has a profile, answers and a goal.
"""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from advisor import risk, services
from advisor.models import DeviceToken

from .factories import ClientFactory, GoalFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
application = get_wsgi_application()


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
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_the_api_fail(case, token):
    response = case.call(app=application, headers={"Authorization": f"Token {token}"})

    case.validate_response(response, checks=[not_a_server_error])
