"""Issue 13, password reset: there was no way back into an account without an admin. Now
`POST /auth/password/reset/` emails a signed, expiring, one-time link (and answers the same
whether or not the address exists), and the confirm step signs the user out everywhere and
lifts any lockout."""

import re

import pytest
from django.test import Client as BrowserClient
from rest_framework.test import APIClient

from advisor.models import DeviceToken

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase"


def _request_link(api, email, capture, mailoutbox) -> tuple[str, str]:
    with capture(execute=True):
        api.post("/api/v1/auth/password/reset/", {"email": email})
    match = re.search(r"/reset-password\?uid=(\S+)&token=(\S+)", mailoutbox[-1].body)
    assert match
    return match[1], match[2]


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(
    client_user, django_capture_on_commit_callbacks, mailoutbox
):
    api = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        known = api.post("/api/v1/auth/password/reset/", {"email": client_user.email})
        unknown = api.post("/api/v1/auth/password/reset/", {"email": "nobody@example.test"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mailoutbox] == [[client_user.email]]


def test_the_reset_ends_every_session_and_token_and_the_link_works_once(
    client_user, password, django_capture_on_commit_callbacks, mailoutbox
):
    # given a browser session and a device token
    browser = APIClient()
    assert (
        browser.post(
            "/api/v1/auth/login/", {"email": client_user.email, "password": password}
        ).status_code
        == 200
    )
    APIClient().post("/api/v1/auth/token/", {"email": client_user.email, "password": password})
    assert DeviceToken.objects.filter(user=client_user).count() == 1
    uid, token = _request_link(
        APIClient(), client_user.email, django_capture_on_commit_callbacks, mailoutbox
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        done = APIClient().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": NEW},
        )

    # then
    assert done.status_code == 200, done.content
    assert browser.get("/api/v1/auth/me/").status_code in (401, 403)
    assert not DeviceToken.objects.filter(user=client_user).exists()
    assert "password was changed" in mailoutbox[-1].subject
    again = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": "yet another passphrase"},
    )
    assert again.status_code == 400
    assert again.json()["code"] == "link_invalid"


def test_an_expired_link_is_refused(
    client_user, settings, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    uid, token = _request_link(
        APIClient(), client_user.email, django_capture_on_commit_callbacks, mailoutbox
    )
    from django.contrib.auth.tokens import default_token_generator

    monkeypatch.setattr(
        default_token_generator, "_now", lambda: __import__("datetime").datetime(2100, 1, 1)
    )
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/", {"uid": uid, "token": token, "new_password": NEW}
    )
    assert response.status_code == 400
    assert "expired" in response.json()["message"]


@pytest.mark.parametrize(("uid", "token"), [("MQ", "forged-token"), ("!!", "x"), ("", "")])
def test_a_forged_link_is_a_clear_400(uid, token, client_user):
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/", {"uid": uid, "token": token, "new_password": NEW}
    )
    assert response.status_code == 400


def test_the_new_password_must_pass_the_validators(
    client_user, django_capture_on_commit_callbacks, mailoutbox
):
    uid, token = _request_link(
        APIClient(), client_user.email, django_capture_on_commit_callbacks, mailoutbox
    )
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": "12345678"},
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["new_password"]


def test_a_reset_lifts_the_lockout(client_user, django_capture_on_commit_callbacks, mailoutbox):
    for _ in range(6):
        APIClient().post("/api/v1/auth/login/", {"email": client_user.email, "password": "wrong!"})
    uid, token = _request_link(
        APIClient(), client_user.email, django_capture_on_commit_callbacks, mailoutbox
    )
    APIClient().post(
        "/api/v1/auth/password/reset/confirm/", {"uid": uid, "token": token, "new_password": NEW}
    )

    browser = BrowserClient()
    response = browser.post(
        "/api/v1/auth/login/",
        {"email": client_user.email, "password": NEW},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
