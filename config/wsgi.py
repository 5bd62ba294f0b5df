"""The WSGI entry point for gunicorn (production settings unless told otherwise)."""

from django.core.wsgi import get_wsgi_application

from config.environment import settings_module_set

settings_module_set(default="config.settings.production")

application = get_wsgi_application()
