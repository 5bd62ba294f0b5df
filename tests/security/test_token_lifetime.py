"""Issue 13, token lifetime and "sign out everywhere": knox renewed a device token on every use,
so a token used daily never died, and `revoke all` left browser sessions signed in. A token now
dies AUTH_TOKEN_MAX_AGE_DAYS after it was issued however often it was renewed, and revoking
all tokens ends the user's browser sessions too."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from advisor.models import DeviceToken

pytestmark = pytest.mark.django_db


def _token(user, password) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": password})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def _me(raw: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return api.get("/api/v1/auth/me/").status_code


def test_a_renewed_token_is_refused_past_its_absolute_lifetime(client_user, password, settings):
    settings.AUTH_TOKEN_MAX_AGE_DAYS = 30
    raw = _token(client_user, password)
    token = DeviceToken.objects.get(user=client_user)
    # Issued 31 days ago, but (as if renewed yesterday) not expired.
    DeviceToken.objects.filter(pk=token.pk).update(
        created=timezone.now() - timedelta(days=31), expiry=timezone.now() + timedelta(days=29)
    )

    assert _me(raw) == 401
    assert not DeviceToken.objects.filter(pk=token.pk).exists()


def test_a_token_within_its_lifetime_works_and_renewal_never_passes_the_cap(client_user, password):
    raw = _token(client_user, password)
    token = DeviceToken.objects.get(user=client_user)
    # Issued 20 days ago, due to expire tomorrow: using it renews it, but only up to day 30.
    DeviceToken.objects.filter(pk=token.pk).update(
        created=timezone.now() - timedelta(days=20), expiry=timezone.now() + timedelta(days=1)
    )

    assert _me(raw) == 200
    token.refresh_from_db()
    assert token.expiry > timezone.now() + timedelta(days=9)
    assert token.expiry <= token.created + timedelta(days=30)


def test_revoking_all_tokens_also_ends_browser_sessions(client_user, password):
    browser = APIClient()
    browser.post("/api/v1/auth/login/", {"email": client_user.email, "password": password})
    assert browser.get("/api/v1/auth/me/").status_code == 200
    raw = _token(client_user, password)
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    response = phone.post("/api/v1/auth/token/revoke/", {"all": True})

    assert response.status_code == 200
    assert browser.get("/api/v1/auth/me/").status_code in (401, 403)
    assert _me(raw) == 401
    # and a fresh login works again
    again = APIClient()
    assert (
        again.post(
            "/api/v1/auth/login/", {"email": client_user.email, "password": password}
        ).status_code
        == 200
    )
    assert again.get("/api/v1/auth/me/").status_code == 200
