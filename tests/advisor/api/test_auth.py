"""Every login path: sessions with CSRF, device tokens, lockout, logout."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from advisor.models import Client, DeviceToken, User

pytestmark = pytest.mark.django_db


def _token(api: APIClient, email: str, password: str, device: str = "phone") -> dict:
    response = api.post(
        "/api/v1/auth/token/", {"email": email, "password": password, "device_name": device}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_visitor_registers_and_gets_an_empty_client_profile(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "New.Person@Example.test",
            "password": "correct horse battery",
            "first_name": "N",
        },
    )

    assert response.status_code == 202, response.content
    assert response.json()["email"] == "new.person@example.test"
    user = User.objects.get(email="new.person@example.test")
    assert not user.is_staff
    assert user.email_verified_at is None
    assert Client.objects.filter(user__email="new.person@example.test").exists()


def test_registration_of_a_taken_email_whatever_its_case_answers_as_for_a_new_one(
    api_client, client_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Issue 13: sign-up no longer says an address is registered (it answered 400 "An
    account with this email already exists"); the owner is told by email instead."""
    new = api_client.post(
        "/api/v1/auth/register/", {"email": "fresh@example.test", "password": "correct horse 1"}
    )
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        taken = api_client.post(
            "/api/v1/auth/register/",
            {"email": client_user.email.upper(), "password": "correct horse battery"},
        )

    assert taken.status_code == new.status_code == 202
    assert taken.json().keys() == new.json().keys()
    assert taken.json()["message"] == new.json()["message"]
    assert User.objects.filter(email__iexact=client_user.email).count() == 1
    assert [m.to for m in mailoutbox] == [[client_user.email]]
    assert "tried to sign up" in mailoutbox[0].subject


def test_registration_applies_the_password_validators_and_writes_nothing(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "weak@example.test", "password": "12345678"}
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert body["extra"]["fields"]["password"]
    assert not User.objects.filter(email="weak@example.test").exists()


def test_registration_rejects_malformed_json_with_the_error_shape(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"message", "code", "extra"}
    assert response.json()["code"] == "parse_error"


def test_registration_rejects_unknown_fields_and_huge_strings(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "x@example.test", "password": "p" * 5000, "is_staff": True},
    )

    fields = response.json()["extra"]["fields"]
    assert response.status_code == 400
    assert "is_staff" in fields
    assert not User.objects.filter(email="x@example.test").exists()


def test_session_login_needs_the_csrf_token(client_user, password):
    browser = APIClient(enforce_csrf_checks=True)

    refused = browser.post(
        "/api/v1/auth/login/", {"email": client_user.email, "password": password}
    )
    csrf = browser.get("/api/v1/auth/csrf/").json()["csrf_token"]
    accepted = browser.post(
        "/api/v1/auth/login/",
        {"email": client_user.email, "password": password},
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200, accepted.content
    assert browser.get("/api/v1/auth/me/").json()["email"] == client_user.email


def test_a_session_times_out_after_thirty_idle_minutes(api_client, client_user, password, settings):
    api_client.post("/api/v1/auth/login/", {"email": client_user.email, "password": password})

    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert api_client.session.get_expiry_age() == 30 * 60


def test_logout_ends_the_session(api_client, client_user, password):
    api_client.post("/api/v1/auth/login/", {"email": client_user.email, "password": password})

    assert api_client.post("/api/v1/auth/logout/").status_code == 204
    assert api_client.get("/api/v1/auth/me/").status_code == 401


def test_a_wrong_password_gets_a_clear_401(api_client, client_user):
    response = api_client.post(
        "/api/v1/auth/login/", {"email": client_user.email, "password": "not the password"}
    )

    assert response.status_code == 401
    assert response.json()["message"] == "Email or password is incorrect."


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    api_client, client_user, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/v1/auth/login/", {"email": client_user.email, "password": "wrong!"})

    locked = api_client.post(
        "/api/v1/auth/login/", {"email": client_user.email, "password": password}
    )
    token = api_client.post(
        "/api/v1/auth/token/", {"email": client_user.email, "password": password}
    )

    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "locked for 15 minutes" in locked.json()["message"]
    assert token.status_code == 429


def test_the_lockout_ends_after_the_cool_off(api_client, client_user, password, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/v1/auth/login/", {"email": client_user.email, "password": "wrong!"})
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = api_client.post(
        "/api/v1/auth/login/", {"email": client_user.email, "password": password}
    )

    assert response.status_code == 200, response.content


def test_a_device_token_authenticates_api_calls(api_client, client_user, password):
    body = _token(api_client, client_user.email, password)

    mobile = APIClient()
    mobile.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")

    assert mobile.get("/api/v1/clients/me/").status_code == 200
    assert body["expiry"]


def test_revoking_one_device_leaves_the_others_working(api_client, client_user, password):
    phone = _token(api_client, client_user.email, password, "phone")
    tablet = _token(api_client, client_user.email, password, "tablet")
    phone_api, tablet_api = APIClient(), APIClient()
    phone_api.credentials(HTTP_AUTHORIZATION=f"Token {phone['token']}")
    tablet_api.credentials(HTTP_AUTHORIZATION=f"Token {tablet['token']}")

    revoked = tablet_api.post("/api/v1/auth/token/revoke/", {"token_key": phone["token_key"]})

    assert revoked.json() == {"revoked": 1}
    assert phone_api.get("/api/v1/auth/me/").status_code == 401
    assert tablet_api.get("/api/v1/auth/me/").status_code == 200
    devices = tablet_api.get("/api/v1/auth/tokens/").json()
    assert [d["device_name"] for d in devices] == ["tablet"]


def test_revoking_without_a_key_revokes_the_calling_token(api_client, client_user, password):
    phone = _token(api_client, client_user.email, password)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {phone['token']}")

    assert api.post("/api/v1/auth/token/revoke/", {}).json() == {"revoked": 1}
    assert api.get("/api/v1/auth/me/").status_code == 401


def test_revoking_all_signs_out_every_device(api_client, client_user, password):
    tokens = [_token(api_client, client_user.email, password, f"d{i}") for i in range(3)]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens[0]['token']}")

    assert api.post("/api/v1/auth/token/revoke/", {"all": True}).json() == {"revoked": 3}
    for token in tokens:
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
        assert other.get("/api/v1/auth/me/").status_code == 401


def test_an_expired_token_is_refused(api_client, client_user, password):
    body = _token(api_client, client_user.email, password)
    DeviceToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")

    response = api.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert set(response.json()) == {"message", "code", "extra"}


def test_a_user_cannot_revoke_another_users_device(
    api_client, client_user, other_client_user, password
):
    victim = _token(api_client, other_client_user.email, password)
    api = APIClient()
    api.force_authenticate(client_user)

    assert api.delete(f"/api/v1/auth/tokens/{victim['token_key']}/").status_code == 404
    assert DeviceToken.objects.filter(token_key=victim["token_key"]).exists()


def test_anonymous_calls_get_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/goals/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("token", ["\x00" * 64, "zz" * 32, "a" * 500])
def test_a_malformed_token_is_a_401_not_an_error(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."


def test_a_malformed_token_key_in_the_path_is_a_404(client_api):
    assert client_api.delete("/api/v1/auth/tokens/%00abc%C3%97defgh/").status_code == 404
