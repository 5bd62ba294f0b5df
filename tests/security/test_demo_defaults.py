"""Issue 13, finding 6: the demo ran with DEBUG on (a 500 page showed other users' idempotency
rows; an unknown /api/ route listed the URL map). `make run` (config.settings.local) now serves
with DEBUG off; DJANGO_DEBUG=1 is for development, loopback only, with a warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DEBUG, settings.DEMO_DATA_ALLOWED, settings.ALLOWED_HOSTS)"
)


def local_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_demo_settings_run_with_debug_off():
    result = local_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False True")
    assert "DJANGO_DEBUG is on" not in result.stderr


def test_debug_on_is_loopback_only_and_says_so():
    result = local_settings(DJANGO_DEBUG="1", DJANGO_ALLOWED_HOSTS="*")
    assert result.stdout.strip() == "True True ['localhost', '127.0.0.1', '[::1]']"
    assert "DJANGO_DEBUG is on" in result.stderr


@pytest.mark.django_db
def test_an_unknown_api_route_is_a_json_404_without_the_url_map():
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "extra": {}}


def _start(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "code",
    [
        "import config.celery",  # what `celery -A config worker|beat` imports first
        "import sys; sys.argv = ['manage.py', 'check']; import manage; manage.main()",
    ],
)
def test_workers_beat_and_manage_refuse_local_settings_on_a_production_machine(code):
    """Issue 13, finding 8: workers and beat defaulted to the local settings (DEBUG, the
    insecure key) even in production."""
    result = _start(code, DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="config.settings.local")
    assert result.returncode != 0
    assert "DJANGO_ENV=production but DJANGO_SETTINGS_MODULE=config.settings.local" in (
        result.stderr
    )


def test_on_a_production_machine_the_default_is_the_production_settings():
    result = _start(
        "import config.celery, os; print(os.environ['DJANGO_SETTINGS_MODULE'])",
        DJANGO_ENV="production",
    )
    assert result.stdout.strip() == "config.settings.production", result.stderr
