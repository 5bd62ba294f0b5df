"""Issue 13, "real email": account emails went nowhere (no EMAIL_* settings; the console backend
at best). They now go through Django's SMTP backend when EMAIL_HOST is set: these tests start a
real SMTP server (aiosmtpd) on loopback, point the backend at it, and read what arrived."""

import re
import socket
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    with socket.socket() as probe:  # a free loopback port (the controller cannot take 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "Meridian <no-reply@meridian.example>"
        settings.FRONTEND_BASE_URL = "https://app.meridian.example"
        yield inbox
    finally:
        controller.stop()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_a_password_reset_link_arrives_over_smtp_and_resets_the_password(
    smtp_inbox, client_user, django_capture_on_commit_callbacks
):
    api = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/auth/password/reset/", {"email": client_user.email})
    assert response.status_code == 202

    [(to, message)] = smtp_inbox.messages
    assert to == [client_user.email]
    assert message["From"] == "Meridian <no-reply@meridian.example>"
    assert message["Subject"] == "Reset your Meridian password"
    link = re.search(
        r"https://app\.meridian\.example/reset-password\?uid=(\S+)&token=(\S+)", _body(message)
    )
    assert link, _body(message)

    confirm = api.post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": link[1], "token": link[2], "new_password": "a brand new passphrase"},
    )
    assert confirm.status_code == 200, confirm.content
    client_user.refresh_from_db()
    assert client_user.check_password("a brand new passphrase")


def test_the_verification_link_arrives_over_smtp_on_sign_up(
    smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post(
            "/api/v1/auth/register/",
            {"email": "smtp.person@example.test", "password": "correct horse battery"},
        )

    [(to, message)] = smtp_inbox.messages
    assert to == ["smtp.person@example.test"]
    assert "https://app.meridian.example/verify-email?uid=" in _body(message)
