"""The workspace app, and the admin app configured to use the workspace's admin site."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = "Advisor workspace"


class WorkspaceAdminConfig(admin_apps.AdminConfig):
    """Replaces "django.contrib.admin" in INSTALLED_APPS: `admin.site`, and so every
    `@admin.register` in every app, is then the workspace's site, with no app importing this one.
    """

    default = False  # "workspace" alone still means WorkspaceConfig
    default_site = "workspace.sites.WorkspaceAdminSite"
