"""Issue 13, finding 9: amounts such as `1_000`, `١٢٣`, `５` and `1e3` were accepted (Python's
`Decimal` reads them all). Money in is now plain ASCII digits with an optional point."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from advisor.models import Goal

pytestmark = pytest.mark.django_db


def goal_body(target: str) -> str:
    """A goal with `target` spliced in as raw JSON (a string or a bare number)."""
    fields = {
        "goal_type": "retirement",
        "name": "A flat",
        "target_date": (timezone.localdate() + timedelta(days=1000)).isoformat(),
    }
    return json.dumps(fields)[:-1] + f', "target_amount": {target}}}'


@pytest.mark.parametrize(
    "target",
    [
        '"1_000"',
        '"١٢٣"',
        '"５"',
        '"1e3"',
        "1e3",
        "1E+3",
        '" 12 "',
        '"12."',
        '".5"',
        '"0x10"',
        "true",
    ],
)
def test_an_amount_that_is_not_plain_digits_is_a_400_with_the_field(client_api, target):
    response = client_api.post("/api/v1/goals/", goal_body(target), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "target_amount" in response.json()["extra"]["fields"]
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("target", "stored"),
    [
        ('"1500.00"', "1500.00"),
        ("1500", "1500.00"),
        ("1500.1", "1500.10"),
        ('"250000"', "250000.00"),
    ],
)
def test_plain_amounts_as_strings_or_numbers_are_read_exactly(client_api, target, stored):
    response = client_api.post("/api/v1/goals/", goal_body(target), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["target_amount"] == stored


@pytest.mark.parametrize("password", [" " * 10, "\t" * 12, " \u00a0 " * 4])
def test_a_password_of_only_whitespace_is_refused(api_client, password):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "blank@example.test", "password": password},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "password" in response.json()["extra"]["fields"]
