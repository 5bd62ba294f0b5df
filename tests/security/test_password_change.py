"""Issue 13, password change: a logged-in user could not change the password. Now
`POST /auth/password/change/` checks the current one, keeps this session, ends the other
sessions and every device token, and tells the owner by email."""

import pytest
from rest_framework.test import APIClient

from advisor.models import DeviceToken

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase"


def _login(user, password) -> APIClient:
    api = APIClient()
    assert (
        api.post("/api/v1/auth/login/", {"email": user.email, "password": password}).status_code
        == 200
    )
    return api


def test_a_change_keeps_this_session_and_ends_the_others(
    client_user, password, django_capture_on_commit_callbacks, mailoutbox
):
    here, elsewhere = _login(client_user, password), _login(client_user, password)
    APIClient().post("/api/v1/auth/token/", {"email": client_user.email, "password": password})

    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(
            "/api/v1/auth/password/change/", {"current_password": password, "new_password": NEW}
        )

    assert response.status_code == 200, response.content
    assert here.get("/api/v1/auth/me/").status_code == 200
    assert elsewhere.get("/api/v1/auth/me/").status_code in (401, 403)
    assert not DeviceToken.objects.filter(user=client_user).exists()
    assert [m.to for m in mailoutbox] == [[client_user.email]]
    client_user.refresh_from_db()
    assert client_user.check_password(NEW)


def test_a_wrong_current_password_changes_nothing(client_user, password):
    api = _login(client_user, password)
    response = api.post(
        "/api/v1/auth/password/change/", {"current_password": "not it at all", "new_password": NEW}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "current_password_incorrect"
    client_user.refresh_from_db()
    assert client_user.check_password(password)


def test_the_new_password_must_pass_the_validators(client_user, password):
    api = _login(client_user, password)
    response = api.post(
        "/api/v1/auth/password/change/", {"current_password": password, "new_password": "123"}
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["new_password"]


def test_anonymous_calls_are_refused(api_client):
    response = api_client.post(
        "/api/v1/auth/password/change/", {"current_password": "x", "new_password": NEW}
    )
    assert response.status_code == 401
