"""The advisor workspace's admin site: the admin index opens on the advisor's book at a glance."""

from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from advisor.models import User

from . import selectors


class WorkspaceAdminSite(admin.AdminSite):
    site_header = "Meridian advisor workspace"
    site_title = "Meridian"
    index_title = "Your book of clients"
    # The stock index template, extended. It has its own name, since django.contrib.admin's own
    # admin/index.html is found first.
    index_template = "admin/workspace_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The admin index with the home page's figures for the signed-in advisor's book."""
        user = cast(User, request.user)
        context = {
            "workspace": selectors.workspace_home(user=user),
            "can_view_escalations": user.has_perm("nlp.view_escalation"),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
