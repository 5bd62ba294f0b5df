"""Issue 13, sign-in notices: a login from an unknown device went unnoticed. Each user's devices
(a hash of client IP + user agent) are remembered, and a login from a new one, by session or
token, emails the owner. The very first device (sign-up) is not announced."""

import pytest
from rest_framework.test import APIClient

from advisor.models import KnownDevice

pytestmark = pytest.mark.django_db


def _login(user, password, agent, path="/api/v1/auth/login/", ip="203.0.113.7"):
    api = APIClient(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = api.post(path, {"email": user.email, "password": password})
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("path", ["/api/v1/auth/login/", "/api/v1/auth/token/"])
def test_a_login_from_a_new_device_emails_the_owner_once(
    path, client_user, password, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _login(client_user, password, "Firefox on the laptop", path)
        _login(client_user, password, "Firefox on the laptop", path)
    assert mailoutbox == []  # the first device, seen twice

    with django_capture_on_commit_callbacks(execute=True):
        _login(client_user, password, "Safari on a stranger's phone", path, ip="198.51.100.9")
        _login(client_user, password, "Safari on a stranger's phone", path, ip="198.51.100.9")

    [notice] = mailoutbox
    assert notice.to == [client_user.email]
    assert "New sign-in" in notice.subject
    assert "Safari on a stranger's phone" in notice.body
    assert "198.51.100.9" in notice.body
    assert KnownDevice.objects.filter(user=client_user).count() == 2
    # only a hash is stored
    assert all(len(d.fingerprint) == 64 for d in KnownDevice.objects.all())


def test_a_failed_login_records_no_device(client_user):
    APIClient().post("/api/v1/auth/login/", {"email": client_user.email, "password": "wrong!!"})
    assert not KnownDevice.objects.exists()
