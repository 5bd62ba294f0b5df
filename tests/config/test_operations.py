"""Operations: probes, settings for production, logging, limits."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database_and_broker(client, settings):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    if settings.CELERY_BROKER_URL:
        settings.CELERY_TASK_ALWAYS_EAGER = False
        assert client.get("/readyz").json()["checks"]["broker"] == "ok"


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"


def test_an_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_openapi_schema_and_swagger_ui_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/v1/goals/" in schema.json()["paths"]
    assert docs.status_code == 200
    assert b"cdn." not in docs.content
    assert b"/static/drf_spectacular_sidecar/" in docs.content


def test_the_home_page_is_served(client):
    assert b"Meridian" in client.get("/").content


def test_the_database_backend_is_postgresql_in_ci():
    if os.environ.get("MERIDIAN_REQUIRE_SERVICES") != "1":
        pytest.skip("only CI promises PostgreSQL")
    assert connection.vendor == "postgresql"


def test_check_deploy_passes_with_production_settings_and_environment():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "meridian.example.com",
        "DATABASE_URL": "postgres://meridian@127.0.0.1:5432/meridian",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "FIELD_ENCRYPTION_SALTS": "a-production-salt",
        "EMAIL_HOST": "smtp.meridian.example.com",
        "FRONTEND_BASE_URL": "https://meridian.example.com",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr

    # Throttle counters in each worker's memory would multiply the limits: refused.
    env["CACHE_URL"] = "locmemcache://"
    local = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert local.returncode != 0
    assert "CACHE_URL must be a shared cache" in local.stderr


def test_production_settings_refuse_to_boot_without_a_secret_key():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/risk-profile/" in target.read_text()


@pytest.mark.parametrize("cookie", ["\x00" * 32, "a" * 5000, "../../etc/passwd", "é" * 32])
def test_a_malformed_session_cookie_is_treated_as_no_session(client, cookie):
    client.cookies["sessionid"] = cookie

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == 401
