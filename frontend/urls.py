"""Client routes: everything the server does not own serves the browser client's index.html."""

from django.urls import path, re_path

from . import views

# Everything the server itself owns is left out, so a typo there stays a 404 (JSON under /api/)
# instead of an app page; every other path is a client-side route.
SERVER_PATHS = r"(?:api|admin|static|media)(?:/|$)|(?:healthz|readyz)$"

urlpatterns = [
    path("sw.js", views.service_worker, name="frontend-service-worker"),
    re_path(rf"^(?!{SERVER_PATHS})(?P<route>.*)$", views.app, name="frontend-index"),
]
