"""Issue 13, finding 4: a 2 KB deeply nested JSON body gave an unauthenticated 500
(RecursionError in the parser) on every JSON route. Now nesting depth, item count and string
length are bounded, and over a bound is a 400 with the reason."""

import json

import pytest
from rest_framework.test import APIClient

from config.parsers import MAX_DEPTH, MAX_ITEMS, MAX_STRING

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def post(client: APIClient, url: str, body: str | bytes):
    return client.post(url, data=body, content_type="application/json")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_deeply_nested_body_is_a_400_not_a_500_before_login(opener):
    closer = "]" if opener == "[" else "}"
    body = opener * 2000 + "1" + closer * 2000  # the finding's 2 KB-scale body, ×2
    response = post(APIClient(), TOKEN, body)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["message"]


def test_a_deeply_nested_body_is_a_400_on_an_authenticated_route(client_api):
    response = post(client_api, "/api/v1/goals/", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400


def test_brackets_inside_strings_are_not_nesting(client_user):
    body = json.dumps({"email": client_user.email, "password": "[{" * 2500})
    response = post(APIClient(), TOKEN, body)
    assert response.json()["code"] != "parse_error"  # parsed: a wrong password, not a bad body


def test_the_depth_limit_is_exact():
    from config.parsers import _depth

    assert _depth(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == MAX_DEPTH
    assert _depth(b'{"a": "]]]]{{{{", "b": [{"c": "\\"["}]}') == 3


def test_too_many_keys_and_too_long_strings_are_400s():
    many = json.dumps({f"k{i}": i for i in range(MAX_ITEMS + 1)})
    assert post(APIClient(), TOKEN, many).status_code == 400
    long = json.dumps({"email": "a@b.c", "password": "x" * (MAX_STRING + 1)})
    response = post(APIClient(), TOKEN, long)
    assert response.status_code == 400
    assert "characters" in response.json()["message"]


@pytest.mark.parametrize("body", ["NaN", '{"amount": Infinity}', "{", '{"a": 1,}', b"\xed\xa0\x80"])
def test_malformed_json_is_a_400(body):
    assert post(APIClient(), TOKEN, body).status_code == 400
