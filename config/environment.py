"""Which settings a process runs with. DJANGO_ENV=production says this machine is production:
then the settings module must be `config.settings.production` (DEBUG off, secrets required),
and a worker, beat or manage.py started with the local default refuses to start instead of
running with the insecure development key and DEBUG."""

import os

PRODUCTION = "config.settings.production"


def settings_module_set(*, default: str) -> None:
    environment = os.environ.get("DJANGO_ENV", "").strip().lower()
    if environment == "production":
        default = PRODUCTION
    module = os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    if environment == "production" and module != PRODUCTION:
        raise RuntimeError(
            f"DJANGO_ENV=production but DJANGO_SETTINGS_MODULE={module}: refusing to start. "
            f"Unset DJANGO_SETTINGS_MODULE or set it to {PRODUCTION}."
        )
