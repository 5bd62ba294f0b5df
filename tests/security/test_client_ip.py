"""Issue 13, finding 2: rate limits trusted a client-supplied X-Forwarded-For (rotating it
avoided every 429), and behind a proxy the lockout would key everyone on the proxy's address.
Now one setting, NUM_PROXIES (default 0), says how many proxies to trust, for both."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.authentication import client_ip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no proxy trusted: the header is the client's claim
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # what our proxy saw, not the claim
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, None, "10.0.0.1"),
        (3, "203.0.113.7", "203.0.113.7"),  # fewer hops than proxies: the leftmost
    ],
)
def test_the_client_address_counts_only_trusted_proxies(settings, proxies, forwarded, expected):
    settings.NUM_PROXIES = proxies
    assert client_ip(request_from("10.0.0.1", forwarded)) == expected


def test_a_rotated_forwarded_for_does_not_dodge_the_throttle(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    # Throttle rates are read once, at import: lower the auth scope's for this test.
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "auth": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    responses = [
        APIClient().post(
            "/api/v1/auth/token/",
            # A new email each time: the lockout (per email) stays out of it.
            {"email": f"nobody{n}@example.test", "password": "whatever it is"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        for n in range(6)
    ]
    assert [r.status_code for r in responses][:3] == [401, 401, 401]
    assert {r.status_code for r in responses[3:]} == {429}
    assert responses[-1].json()["code"] == "throttled"


def test_a_forged_forwarded_for_cannot_lock_out_someone_else(settings, client_user, password):
    """Six failures claiming to come from the victim's address lock the attacker's own."""
    settings.NUM_PROXIES = 1
    attacker = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.50, 203.0.113.66"}
    for _ in range(6):
        APIClient().post(
            "/api/v1/auth/login/",
            {"email": client_user.email, "password": "wrong wrong"},
            **attacker,
        )
    victim = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.50"}
    response = APIClient().post(
        "/api/v1/auth/login/", {"email": client_user.email, "password": password}, **victim
    )
    assert response.status_code == 200, response.content
