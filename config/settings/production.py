"""Production: secrets without defaults (boot fails when one is missing), HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DEMO_DATA_ALLOWED = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS")
# Password resets, verification and sign-in notices go by email: a real SMTP server is required.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FRONTEND_BASE_URL = env("FRONTEND_BASE_URL").rstrip("/")
# Throttle counters live in the cache: a per-process memory cache would give each gunicorn
# worker its own limits (×3) and forget them on restart. Require a shared one (Redis).
# The sweeper's claims (nlp/sweeper.py) live there too.
if not env("CACHE_URL", default=""):
    raise ImproperlyConfigured(
        "CACHE_URL is required in production: a shared cache (e.g. redis://…/1) that every "
        "web and worker process uses."
    )
CACHES = {"default": env.cache("CACHE_URL")}
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
    raise ImproperlyConfigured("CACHE_URL must be a shared cache (e.g. redis://…/1) in production.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
