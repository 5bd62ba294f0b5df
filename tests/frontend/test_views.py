"""Django serves the single-page app's shell for client routes, and nothing it owns."""

import pytest


@pytest.fixture
def built(settings, tmp_path):
    settings.FRONTEND_BUILD_DIR = tmp_path / "dist"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.FRONTEND_BUILD_DIR.mkdir()
    (settings.FRONTEND_BUILD_DIR / "index.html").write_text("<div id=root></div><!--shell-->")
    return settings


@pytest.mark.parametrize("path", ["/", "/dashboard", "/goals/3", "/settings/devices"])
def test_client_routes_get_the_app_shell_revalidated_on_each_load(client, built, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"<!--shell-->" in response.content
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/static/app/missing.js", "/media/x"])
def test_server_paths_are_never_the_app(client, built, path):
    response = client.get(path)

    assert response.status_code == 404
    assert b"<!--shell-->" not in response.content


def test_the_collected_copy_serves_when_the_build_folder_is_gone(client, built, tmp_path):
    (built.FRONTEND_BUILD_DIR / "index.html").unlink()
    collected = built.STATIC_ROOT / "app"
    collected.mkdir(parents=True)
    (collected / "index.html").write_text("<!--collected-->")

    assert b"<!--collected-->" in client.get("/goals").content


def test_without_a_build_the_page_says_how_to_make_one(client, settings, tmp_path):
    settings.FRONTEND_BUILD_DIR = tmp_path / "none"
    settings.STATIC_ROOT = tmp_path / "none-static"

    response = client.get("/")

    assert response.status_code == 200
    assert b"make frontend" in response.content


def test_only_safe_methods(client, built):
    assert client.post("/dashboard").status_code == 405
