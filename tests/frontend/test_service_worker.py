"""Issue 14: the browser client is installable. Its service worker is served from the site's
root (a worker's scope is the folder it comes from; the build lives under /static/app/), never
cached by HTTP, and it never caches the API. The whole install and offline path is checked in
Chromium by frontend/e2e/pwa.mjs (`make e2e`)."""

from pathlib import Path

import pytest
from django.test import Client

SOURCE = Path(__file__).resolve().parents[2] / "frontend" / "public" / "sw.js"


def test_the_worker_is_served_at_the_root_uncached(settings, tmp_path):
    (tmp_path / "sw.js").write_text(SOURCE.read_text())
    settings.FRONTEND_BUILD_DIR = tmp_path

    response = Client().get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert "no-cache" in response["Cache-Control"]
    assert b"meridian-shell" in response.content


def test_without_a_build_there_is_no_worker(settings, tmp_path):
    settings.FRONTEND_BUILD_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path
    assert Client().get("/sw.js").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/portfolio/summary/", "/admin/", "/healthz", "/readyz"])
def test_the_worker_never_caches_the_api_admin_or_probes(path):
    import re

    never = re.search(r"const NEVER = /(.+)/;", SOURCE.read_text()).group(1)
    assert re.match(never.replace("\\/", "/"), path)
