"""Settings shared by every environment; all environment variables are read here."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -----------------------------------------------------------------------------------
# local/test keep this default; production reads it without one and fails at boot if missing.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="meridian-insecure-local-development-key-change-me")
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# `seed_demo` (demo logins with published passwords) runs only where this is on: local and test.
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "workspace.apps.WorkspaceAdminConfig",  # django.contrib.admin, on the workspace's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "auditlog",
    "advisor",
    "portfolios",
    "nlp",
    "workspace",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every GET (a hash of the body) and 304 for a matching If-None-Match: the mobile
    # app revalidates the summary and lists without downloading them again.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.AuditActorMiddleware",
    # Axes last: it must see the authentication result of everything above.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles and everything else from this origin
# only, no inline script or style, no framing, no plugins. The browser client is built to it
# (Vite emits external modules), the admin and the API docs (the split Swagger view) too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "advisor.User"
KNOX_TOKEN_MODEL = "advisor.DeviceToken"
MIGRATION_MODULES = {"knox": "config.knox_migrations"}
LOGIN_URL = "admin:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],  # overrides of third-party pages
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# No DATABASE_URL: an embedded SQLite file. postgres://… uses psycopg 3.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent writers: readers never wait for a writer (WAL), a
    # transaction takes the write lock when it begins (IMMEDIATE: no lock upgrade can deadlock
    # and fail at once, which select_for_update cannot prevent on SQLite), and a writer waits up
    # to 20 s for another. What still times out answers 503 with Retry-After (config.errors).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches hold derived data only (keys carry a fingerprint of their inputs): losing them is safe.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "config.passwords.NotBlankValidator"},
]
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # sliding expiry: 30 idle minutes end the session
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Brute-force lockout: AXES_FAILURE_LIMIT failures per email+IP lock that pair for the cool-off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "config.authentication.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.errors.axes_lockout_response"
AXES_VERBOSE = False
# Behind a reverse proxy (or a load balancer and a proxy: 2), how many to trust; one setting for
# the lockout (AXES_CLIENT_IP_CALLABLE) and the throttles (REST_FRAMEWORK NUM_PROXIES). 0: the
# socket's address, X-Forwarded-For ignored.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "config.authentication.client_ip"

# Mobile tokens (django-rest-knox): one per device, expiring, revocable one by one or all.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("AUTH_TOKEN_TTL_DAYS", default=30)),
    "AUTO_REFRESH": True,
    "TOKEN_LIMIT_PER_USER": 20,
    "AUTH_HEADER_PREFIX": "Token",
}

# --- Identity (issue #13): email, password reset, verification, device notices, MFA ---------
# Outgoing mail. With EMAIL_HOST: SMTP. Without (local, demo): each message is written as a file
# under EMAIL_FILE_PATH (var/mail), the demo's inbox. Production requires EMAIL_HOST.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Meridian <no-reply@meridian.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in emails point at the browser client: reset-password, verify-email.
FRONTEND_BASE_URL = env("FRONTEND_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Password-reset and email-verification links expire after this many seconds (1 hour).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
# A device token dies this many days after it was issued however often knox renewed it.
AUTH_TOKEN_MAX_AGE_DAYS = env.int("AUTH_TOKEN_MAX_AGE_DAYS", default=30)
REST_KNOX["AUTO_REFRESH_MAX_TTL"] = timedelta(days=AUTH_TOKEN_MAX_AGE_DAYS)
# Staff (advisors, admins) must sign in with a TOTP code; until they enrol, only enrolment works.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=True)
# The second login step's token (mfa_token) is good for this many seconds.
MFA_LOGIN_TIMEOUT = env.int("MFA_LOGIN_TIMEOUT", default=5 * 60)
MFA_ISSUER = env("MFA_ISSUER", default="Meridian")
OTP_TOTP_ISSUER = MFA_ISSUER
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
# After authentication: marks request.user verified when the session holds a confirmed device.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)

# Field encryption (django-fernet-encrypted-fields): keys derive from SECRET_KEY (+ fallbacks)
# and these salts. The first salt encrypts; every salt decrypts, so rotation is: prepend a new
# salt, run `manage.py rotate_field_encryption`, then drop the old one.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS", default=["meridian-local-field-salt"])

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes an anonymous call a 401, not a 403.
        "config.authentication.TokenAuthentication",
        "config.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out: the browser client and the mobile app both speak it.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        "auth": env("API_THROTTLE_AUTH", default="30/min"),
        "chat": env("API_THROTTLE_CHAT", default="30/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meridian API",
    "DESCRIPTION": (
        "The robo-advisor's REST API, used by the browser client and the mobile app.\n\n"
        "**Retries.** When the database or a worker blinks, a request answers 503 with "
        "`Retry-After` (seconds) and nothing was done. Clients retry *idempotent* requests "
        "(GET, and writes sent with an `Idempotency-Key`, which the server applies once per "
        "key) after `Retry-After`, or with exponential backoff from 0.5 s with jitter, at most "
        "3 times; a write without a key is never resent automatically. The browser client "
        "does exactly this."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "GoalStatusEnum": "advisor.models.Goal.Status",
        "RebalanceStatusEnum": "portfolios.models.RebalanceProposal.Status",
        "ProjectionStatusEnum": "portfolios.models.GoalProjection.Status",
        "NotificationKindEnum": "advisor.models.Notification.Kind",
        "KindEnum": "portfolios.models.Transaction.Kind",
        "AccountTypeEnum": "advisor.models.Goal.AccountType",
        "TaxHarvestKindEnum": "portfolios.models.TaxHarvest.Kind",
        "DocumentKindEnum": "portfolios.models.Document.Kind",
        "WithdrawalHoldStatusEnum": "advisor.models.WithdrawalHold.Status",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No broker: tasks run in-process, so `make run` needs no worker.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_RESULT_EXPIRES = timedelta(days=1)
# Four lanes, one worker each (Makefile): `chat` answers clients while they wait and nothing
# else shares it, so a daily batch cannot delay a reply; `ml` the other interactive model work
# (risk opinions); `batch` the daily jobs, goal projections, news scoring and the allocation
# build; `default` the rest (emails, purges, the sweeper). Exact names win over the globs.
CELERY_TASK_DEFAULT_QUEUE = "default"
BATCH_TASKS = [
    "nlp.projection_compute",
    "nlp.projections_compute_batch",
    "portfolios.daily_batch_run",
    "portfolios.daily_batch_chunk",
    "portfolios.daily_batch_job_done",
    # The old name of nlp.projection_compute: delete with its alias task in nlp/tasks.py.
    "portfolios.projection_compute",
    "nlp.sentiment_score_pending",
    "nlp.news_poll_feeds",
    "portfolios.allocation_refresh",
    "portfolios.prices_import",
    "portfolios.dividends_pay",
    "portfolios.tax_harvests_refresh",
    "portfolios.rebalance_proposals_refresh",
    "portfolios.fees_bill",
    "portfolios.goal_plans_project",
    "portfolios.recurring_deposits_run",
    "portfolios.statements_generate_month",
    "portfolios.tax_reports_generate_year",
    "portfolios.ledger_reconcile",
    "portfolios.risk_figures_compute",
    "portfolios.governance_report_build",
]
CELERY_TASK_ROUTES = {
    "nlp.chat_answer": {"queue": "chat"},
    "nlp.pending_sweep": {"queue": "default"},
    **{name: {"queue": "batch"} for name in BATCH_TASKS},
    "portfolios.allocation_*": {"queue": "batch"},
    "nlp.*": {"queue": "ml"},
}
# The daily batch (portfolios.batch): accounts per chunk task.
BATCH_CHUNK_ACCOUNTS = env.int("BATCH_CHUNK_ACCOUNTS", default=500)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a worker killed mid-task hands the task back
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Bounded waits: a web request never waits on Redis (broker or result backend) for longer than
# these, whether Redis refuses (down), hangs (a partition) or answers slowly. The defaults were
# a 4 s connect, no socket timeout, 3 publish retries and 20×1 s result-backend reconnects: a
# chat or projection request held its web worker ≈ 20 s during an outage. Now a dead Redis
# costs a request at most REDIS_CONNECT_TIMEOUT × 2 attempts + 0.1 s before the holding reply.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.2)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
# Visibility timeout: an unacknowledged message (its worker died whole, not just a child) goes
# back to the queue after this long. A few times the longest time-limited task (660 s: news
# scoring, the allocation build), so a slow run is never handed to a second worker while it is
# still going. Chat questions and pending projections do not wait for it: the sweeper below
# re-queues them within minutes.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_keepalive": True,
    "health_check_interval": 25,
}
# Publishing: one retry, at once, then the caller hears "broker down" (kombu OperationalError).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_RETRY_ON_TIMEOUT = False
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "var" / "celerybeat-schedule")
)
# Nothing lost (nlp/sweeper.py, beat every minute): a client question still without a real
# answer this many seconds after it was asked is queued again (a broker outage lost its
# message, or its worker died); likewise a goal projection pending this many minutes; and news
# the approved sentiment model has not read. Each is re-queued at most once per SWEEP_CLAIM
# window; questions older than SWEEP_CHAT_LOOKBACK_HOURS are left to the advisor.
SWEEP_CHAT_AFTER_SECONDS = env.int("SWEEP_CHAT_AFTER_SECONDS", default=30)
SWEEP_CHAT_LOOKBACK_HOURS = env.int("SWEEP_CHAT_LOOKBACK_HOURS", default=24)
SWEEP_PROJECTION_AFTER_MINUTES = env.int("SWEEP_PROJECTION_AFTER_MINUTES", default=5)
SWEEP_CLAIM_SECONDS = env.int("SWEEP_CLAIM_SECONDS", default=300)
SWEEP_BATCH = env.int("SWEEP_BATCH", default=500)

# --- Models (nlp/) --------------------------------------------------------------------------
NLP_MODEL_DIR = env("NLP_MODEL_DIR", default=str(BASE_DIR / "var" / "models"))
NLP_DEVICE = env("NLP_DEVICE", default="auto")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch weights from a hub at run time
# Idle OpenMP threads yield the core: spinning ones slowed torch 20x on a busy 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# --- I18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# The browser client's build (`make frontend`), served as /static/app/…; listed only once built,
# so a checkout without Node passes `check --deploy`.
FRONTEND_BUILD_DIR = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "config" / "static"]
if FRONTEND_BUILD_DIR.is_dir():
    STATICFILES_DIRS.append(("app", FRONTEND_BUILD_DIR))
# Vite puts a content hash in every bundle name: browsers may keep those forever.
WHITENOISE_IMMUTABLE_FILE_TEST = rf"^/{STATIC_URL}app/assets/.+-[\w-]{{8,}}\.\w+$"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB of JSON is far more than any form here

MERIDIAN_BASE_CURRENCY = "USD"
KYC_REVIEW_INTERVAL_DAYS = env.int("KYC_REVIEW_INTERVAL_DAYS", default=365)

# --- Logging: JSON lines, ids only, never personal data -------------------------------------
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes names the email it locks out: personal data stays out of the logs.
        "axes": {"level": "ERROR"},
    },
}

# --- Portfolios -----------------------------------------------------------------------------
PORTFOLIO_MIN_TRADE = env("PORTFOLIO_MIN_TRADE", default="1.00")  # smallest order, in dollars
# Demo default: a freshly built model-portfolio set is approved at once. Production: False, and
# an advisor or admin approves each candidate in the admin.
# Auto-approval is for the local demo (config.settings.local turns it on): in production a daily
# price load would otherwise re-optimise and put a new firm-wide set in force every day.
MODEL_PORTFOLIOS_AUTO_APPROVE = env.bool("MODEL_PORTFOLIOS_AUTO_APPROVE", default=False)
# The daily price feed (portfolios/feeds.py): kind folder, csv_url or json_url, and its location
# (a folder, or a URL template with {date}). An empty kind disables it: prices then come from
# `manage.py load_market_data` only.
PRICE_FEED = {
    "kind": env("PRICE_FEED_KIND", default=""),
    "location": env("PRICE_FEED_LOCATION", default=""),
}
# Days after a trading day before its absence from the feed raises a "missing" alert.
PRICE_FEED_MISSING_AFTER_DAYS = env.int("PRICE_FEED_MISSING_AFTER_DAYS", default=1)
# Drift (½·Σ|actual − target| over asset classes) above which the daily job proposes a rebalance.
REBALANCE_DRIFT_THRESHOLD = env.float("REBALANCE_DRIFT_THRESHOLD", default=0.03)
# False: an advisor approves each proposal. True: proposals execute at once (still audited).
REBALANCE_AUTO_EXECUTE = env.bool("REBALANCE_AUTO_EXECUTE", default=False)
# Tax-loss harvesting (portfolios/services/harvesting.py): a fund's lots at a loss are harvested
# when their loss is at least TLH_MIN_LOSS dollars and at least TLH_MIN_LOSS_FRACTION of their
# basis (5%); a switch back to the primary fund waits while it would realise a short-term gain
# above TLH_SWITCH_BACK_MAX_GAIN. WASH_SALE_PAIRS_IDENTICAL: treat each primary and its alternate
# (different indices) as substantially identical for wash sales (default: not).
TLH_MIN_LOSS = Decimal(env("TLH_MIN_LOSS", default="100.00"))
TLH_MIN_LOSS_FRACTION = Decimal(env("TLH_MIN_LOSS_FRACTION", default="0.05"))
TLH_SWITCH_BACK_MAX_GAIN = Decimal(env("TLH_SWITCH_BACK_MAX_GAIN", default="50.00"))
WASH_SALE_PAIRS_IDENTICAL = env.bool("WASH_SALE_PAIRS_IDENTICAL", default=False)
# Advisory fee, a year, on each account's value; billed monthly (one twelfth at each month end).
ADVISORY_FEE_ANNUAL = Decimal(env("ADVISORY_FEE_ANNUAL", default="0.0025"))
# Goal projections: Monte Carlo paths and the inflation that turns results into today's money.
PROJECTION_PATHS = env.int("PROJECTION_PATHS", default=10_000)
# The Monte Carlo's seed, shared by every goal (common random numbers: the same simulated markets
# for every plan and what-if, so figures move only when their inputs do).
PROJECTION_SEED = env.int("PROJECTION_SEED", default=0)
# Goals per nlp.projections_compute_batch task (one vectorised Monte Carlo each).
PROJECTION_BATCH_GOALS = env.int("PROJECTION_BATCH_GOALS", default=500)
PROJECTION_INFLATION = env.float("PROJECTION_INFLATION", default=0.025)
# How long a web request waits for a projection from the ml worker before answering "pending".
PROJECTION_WAIT_SECONDS = env.float("PROJECTION_WAIT_SECONDS", default=3.0)
# A freshly trained model serves at once (demo default); False: an admin approves each version.
NLP_AUTO_APPROVE_MODELS = env.bool("NLP_AUTO_APPROVE_MODELS", default=False)
# RSS feeds polled by Celery beat in production (comma-separated URLs); empty: no polling.
NEWS_RSS_FEEDS = env.list("NEWS_RSS_FEEDS", default=[])
# A held fund's 7-day sentiment at or below this (−1…+1) alerts its clients' advisors.
NEWS_ALERT_THRESHOLD = env.float("NEWS_ALERT_THRESHOLD", default=-0.4)
# Chat assistant: how long the web request waits for the ml worker before a holding reply; the
# intent confidence under which it says it is unsure; knowledge-base retrieval.
CHAT_WAIT_SECONDS = env.float("CHAT_WAIT_SECONDS", default=5.0)
CHAT_CONFIDENCE_THRESHOLD = env.float("CHAT_CONFIDENCE_THRESHOLD", default=0.5)
CHAT_KB_TOP_K = env.int("CHAT_KB_TOP_K", default=3)
CHAT_KB_THRESHOLD = env.float("CHAT_KB_THRESHOLD", default=0.35)
# Name of the task that adds the risk model's opinion to each questionnaire response ("" to
# switch it off); queued by name, so advisor does not import nlp.
RISK_SECOND_OPINION_TASK = env("RISK_SECOND_OPINION_TASK", default="nlp.risk_profile_assess")
# After a questionnaire: the task (in portfolios, above advisor) that applies the suitability
# policy's stress cap with the levels' worst stress losses; empty to leave it to the nightly run.
SUITABILITY_STRESS_CAP_TASK = env(
    "SUITABILITY_STRESS_CAP_TASK", default="portfolios.stress_caps_apply"
)
if RISK_SECOND_OPINION_TASK == "nlp.tasks.risk_profile_assess_task":  # the old import path
    RISK_SECOND_OPINION_TASK = "nlp.risk_profile_assess"
