"""Issue 13, email verification: sign-up took any address on trust. A new account now gets a
one-time, expiring link; following it sets `email_verified_at`, and /auth/me/ says
`email_verified`. Policy: an unverified user may log in and use the app (the client shows a
banner); the link can be sent again from Settings."""

import re

import pytest
from rest_framework.test import APIClient

from advisor.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _sign_up(capture, mailoutbox) -> tuple[str, str]:
    with capture(execute=True):
        APIClient().post(
            "/api/v1/auth/register/", {"email": "verify.me@example.test", "password": PASSWORD}
        )
    match = re.search(r"/verify-email\?uid=(\S+)&token=(\S+)", mailoutbox[-1].body)
    assert match
    return match[1], match[2]


def test_the_link_verifies_the_address_once(django_capture_on_commit_callbacks, mailoutbox):
    uid, token = _sign_up(django_capture_on_commit_callbacks, mailoutbox)
    api = APIClient()
    api.post("/api/v1/auth/login/", {"email": "verify.me@example.test", "password": PASSWORD})
    assert api.get("/api/v1/auth/me/").json()["email_verified"] is False

    response = APIClient().post("/api/v1/auth/email/verify/", {"uid": uid, "token": token})

    assert response.status_code == 200, response.content
    assert api.get("/api/v1/auth/me/").json()["email_verified"] is True
    assert User.objects.get(email="verify.me@example.test").email_verified_at is not None
    again = APIClient().post("/api/v1/auth/email/verify/", {"uid": uid, "token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "link_invalid"


def test_an_unverified_user_can_log_in_and_ask_for_a_new_link(
    django_capture_on_commit_callbacks, mailoutbox
):
    _sign_up(django_capture_on_commit_callbacks, mailoutbox)
    api = APIClient()
    login = api.post(
        "/api/v1/auth/login/", {"email": "verify.me@example.test", "password": PASSWORD}
    )
    assert login.status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/auth/email/verify/resend/")

    assert response.status_code == 202
    assert mailoutbox[-1].to == ["verify.me@example.test"]
    assert "/verify-email?uid=" in mailoutbox[-1].body


def test_a_forged_link_is_refused(client_user):
    response = APIClient().post("/api/v1/auth/email/verify/", {"uid": "MQ", "token": "nope"})
    assert response.status_code == 400
