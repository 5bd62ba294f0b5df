"""The URL map, the composition root: the admin (advisor workspace), the API of each app, the
schema, the probes and, last, the browser client."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # admin.site is workspace.sites.WorkspaceAdminSite, set by WorkspaceAdminConfig.
    path("admin/", admin.site.urls),
    path("api/v1/", include("advisor.api.urls")),
    path("api/v1/", include("portfolios.api.urls")),
    path("api/v1/", include("nlp.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("frontend.urls")),
]

handler404 = "config.errors.json_not_found"
handler500 = "config.errors.json_server_error"
