"""`make run` and `manage.py`: SQLite and in-process tasks unless the environment says
otherwise, and DEBUG off, as in production: a 500 shows no data, an unknown /api/ route no URL
map, and whitenoise serves the collected static files. DJANGO_DEBUG=1 turns it on for
development, with a warning, and only for loopback hosts."""

import sys

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=True)
# The demo puts new model portfolios and model versions in force at once; production waits for
# two investment-committee approvals.
MODEL_PORTFOLIOS_AUTO_APPROVE = env.bool("MODEL_PORTFOLIOS_AUTO_APPROVE", default=True)
NLP_AUTO_APPROVE_MODELS = env.bool("NLP_AUTO_APPROVE_MODELS", default=True)
# The demo's advisor and admin sign in with a password only (seed_demo warns); production
# requires TOTP for staff. MFA_REQUIRED_FOR_STAFF=1 tries the real thing locally.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=False)
if DEBUG:
    # A debug page shows settings, SQL and other users' rows: never to anyone but this machine.
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    sys.stderr.write(
        "\n*** DJANGO_DEBUG is on: error pages show internals. Loopback only; never deploy. ***\n\n"
    )
