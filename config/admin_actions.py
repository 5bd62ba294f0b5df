"""Shared admin helpers: run a decision on each selected row, and the one approve/reject action
pair of everything that follows `config.lifecycle`."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest


def decide_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    decide: Callable[[Any], object],
    outcome: str | Callable[[Any], str],
) -> None:
    """Run an approve/reject service on each selected row and say how each went (`outcome`, or
    what it says of the decided row)."""
    for row in queryset:
        try:
            decided = decide(row)
        except ValidationError as exc:  # e.g. already decided: say so, carry on with the rest
            model_admin.message_user(request, f"{row}: {'; '.join(exc.messages)}", messages.ERROR)
        except PermissionDenied as exc:
            model_admin.message_user(request, f"{row}: {exc}", messages.ERROR)
        else:
            said = outcome(decided) if callable(outcome) else outcome
            model_admin.message_user(request, f"{row}: {said}.")


class LifecycleAdmin(admin.ModelAdmin):
    """Approve or reject selected candidates through the model's decide service."""

    actions = ("approve", "reject")
    approved_outcome = "approved"
    rejected_outcome = "rejected"

    def lifecycle_decide(self, row: Any, *, approve: bool, actor: Any) -> object:
        raise NotImplementedError  # the app's service: e.g. model_portfolio_set_decide

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Only the investment committee decides (config.lifecycle): others are not offered it.
        actions = super().get_actions(request)
        opts = self.model._meta
        if not request.user.has_perm(f"{opts.app_label}.approve_{opts.model_name}"):
            actions.pop("approve", None)
            actions.pop("reject", None)
        return actions

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], approve: bool) -> None:
        decide_each(
            self,
            request,
            queryset,
            lambda row: self.lifecycle_decide(row, approve=approve, actor=request.user),
            self._approval_outcome if approve else self.rejected_outcome,
        )

    def _approval_outcome(self, row: Any) -> str:
        if row.status == "candidate":  # the first of the two approvals (config.lifecycle)
            return "first approval recorded; a second committee member puts it in force"
        return self.approved_outcome

    @admin.action(description="Approve the selected candidate (retires the one in use)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected candidate")
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=False)
