"""Fixtures shared by every test: API clients, users, the broker switch."""

import contextlib
import os

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from advisor import risk, services
from advisor.models import Client, User

from .factories import PASSWORD, AdvisorFactory, ClientFactory

REQUIRE_SERVICES = os.environ.get("MERIDIAN_REQUIRE_SERVICES") == "1"

# Properties are checked, not timed: Hypothesis's default 200 ms deadline per example failed a
# pure scoring property once on a loaded 2-core machine (speed is measured in benchmarks/).
hypothesis_settings.register_profile("meridian", deadline=None)
hypothesis_settings.load_profile("meridian")


def pytest_sessionfinish(session, exitstatus):
    """The SQLite test database is a file per run (config/settings/test.py): remove it."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and str(name).endswith(f"-{os.getpid()}.sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{name}{suffix}")


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need PostgreSQL/Redis: skipped on a bare machine, never in CI."""
    if REQUIRE_SERVICES or os.environ.get("CELERY_BROKER_URL"):
        return
    skip = pytest.mark.skip(reason="set CELERY_BROKER_URL (and DATABASE_URL), as .ci/run does")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_user(db) -> User:
    return ClientFactory().user


@pytest.fixture
def other_client_user(db) -> User:
    return ClientFactory().user


@pytest.fixture
def advisor_user(db) -> User:
    return AdvisorFactory()


@pytest.fixture
def client_api(client_user) -> APIClient:
    api = APIClient()
    api.force_authenticate(client_user)
    return api


@pytest.fixture
def advisor_api(advisor_user) -> APIClient:
    api = APIClient()
    api.force_authenticate(advisor_user)
    return api


@pytest.fixture
def cautious_answers() -> dict[str, str]:
    question_set = risk.question_set_get()
    return {q.key: min(q.choices, key=lambda c: c.points).value for q in question_set.questions}


@pytest.fixture
def bold_answers() -> dict[str, str]:
    question_set = risk.question_set_get()
    return {q.key: max(q.choices, key=lambda c: c.points).value for q in question_set.questions}


@pytest.fixture
def client_of(db):
    def _client_of(user: User) -> Client:
        return Client.objects.get(user=user)

    return _client_of


@pytest.fixture
def through_broker(settings):
    """Tasks go through the configured broker instead of running in-process.

    Celery reads `CELERY_TASK_ALWAYS_EAGER` from the Django settings before its own
    `task_always_eager` key, so the setting (not `app.conf`) is what switches it."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert app.conf.task_always_eager is False
    return app


@pytest.fixture
def advisor() -> User:
    """An advisor with a password, to log in through the admin's form (`admin_login`)."""
    return services.advisor_create(
        email="alex@example.test", password=PASSWORD, first_name="Alex", last_name="M"
    )
