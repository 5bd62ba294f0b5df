"""Shared admin helpers."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest


def decide_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    decide: Callable[[Any], object],
    outcome: str,
) -> None:
    """Run an approve/reject service on each selected row and say how each went."""
    for row in queryset:
        try:
            decide(row)
        except ValidationError as exc:  # e.g. already decided: say so, carry on with the rest
            model_admin.message_user(request, f"{row}: {'; '.join(exc.messages)}", messages.ERROR)
        else:
            model_admin.message_user(request, f"{row}: {outcome}.")
