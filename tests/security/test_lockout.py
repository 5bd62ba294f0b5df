"""Issue 13, finding 1: `POST /api/v1/auth/token/` never locked out (12 wrong passwords, then
the right one, still gave a token): the failure record was written inside the token's
transaction and rolled back with the refusal. Every login path now shares one lockout: six wrong
tries on any path lock the email (from that address) on every path."""

import pytest
from django.test import Client as BrowserClient
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"


def session_try(email: str, password: str) -> bool:
    response = APIClient().post("/api/v1/auth/login/", {"email": email, "password": password})
    return response.status_code == 200


def token_try(email: str, password: str) -> bool:
    response = APIClient().post("/api/v1/auth/token/", {"email": email, "password": password})
    return response.status_code == 201


def admin_try(email: str, password: str) -> bool:
    browser = BrowserClient()
    browser.post("/admin/login/", {"username": email, "password": password})
    return "_auth_user_id" in browser.session


PATHS = {"session": session_try, "token": token_try, "admin": admin_try}


@pytest.fixture
def staff_user(advisor_user):
    return advisor_user  # advisors are staff: every path, the admin included, lets them in


@pytest.mark.parametrize("path", PATHS)
def test_the_right_password_works_on_each_path(path, staff_user, password):
    assert PATHS[path](staff_user.email, password)


@pytest.mark.parametrize("failing", PATHS)
@pytest.mark.parametrize("then", PATHS)
def test_six_wrong_tries_on_one_path_lock_every_path(failing, then, staff_user, password):
    for _ in range(6):
        assert not PATHS[failing](staff_user.email, WRONG)

    assert not PATHS[then](staff_user.email, password)


def test_the_token_path_answers_429_locked_out(staff_user, password):
    for _ in range(6):
        token_try(staff_user.email, WRONG)

    response = APIClient().post(
        "/api/v1/auth/token/", {"email": staff_user.email, "password": password}
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
