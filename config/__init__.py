"""Meridian's project package: settings, the Celery app, URLs and the kit every app builds on."""

from .celery import app as celery_app
from .postgres import array_escape_fast

array_escape_fast()

__all__ = ("celery_app",)
