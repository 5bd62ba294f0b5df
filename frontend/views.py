"""Serves the browser client: the built single-page app's index.html for every client route."""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


def _built_file(name: str) -> Path | None:
    # `npm run build` writes FRONTEND_BUILD_DIR; collectstatic copies it to STATIC_ROOT/app/,
    # which may be all a production image keeps.
    for folder in (Path(settings.FRONTEND_BUILD_DIR), Path(settings.STATIC_ROOT) / "app"):
        if (folder / name).is_file():
            return folder / name
    return None


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at the site's root so its scope is the whole app (a worker's scope
    is the folder it is served from; the build lives under /static/app/)."""
    path = _built_file("sw.js")
    if path is None:
        return HttpResponse(status=404)
    response = HttpResponse(path.read_bytes(), content_type="application/javascript")
    # Browsers check for a new worker on navigation; never let a cache hide a new one.
    patch_cache_control(response, no_cache=True)
    return response


@require_safe
def app(request: HttpRequest, route: str = "") -> HttpResponse:
    """The app shell; React Router picks the page from the URL in the browser."""
    index = _built_file("index.html")
    if index is None:
        response = render(request, "frontend/build_missing.html")
    else:
        response = HttpResponse(
            index.read_text(encoding="utf-8"), content_type="text/html; charset=utf-8"
        )
    # The shell names the hashed bundles of one build: revalidate it so a deploy shows at once.
    patch_cache_control(response, no_cache=True)
    return response
