"""The frontend app: no models, only the views that serve the client's build."""

from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"
