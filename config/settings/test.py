"""The test suite: fast hashing, no throttling surprises, PostgreSQL/Redis when CI exports them."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, REST_FRAMEWORK

DEBUG = False
DEMO_DATA_ALLOWED = True
MODEL_PORTFOLIOS_AUTO_APPROVE = True  # as the demo; tests of the committee turn it off
NLP_AUTO_APPROVE_MODELS = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the concurrency tests' threads then share one database, and they run
    # on the embedded default as on PostgreSQL. One per process: two suites may run at once.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")
    }
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "anon": "100000/min",
        "user": "100000/min",
        "auth": "100000/min",
        "chat": "100000/min",
    },
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True  # unit tests; the worker tests switch the app to a real broker
# Identity (issue #13): mail stays in memory (django.core.mail.outbox); staff MFA is switched on
# by the tests that pin it (tests/security/test_mfa.py), so other tests can log staff in plainly.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MFA_REQUIRED_FOR_STAFF = False
