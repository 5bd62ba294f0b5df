"""Approve / Reject on the page of a row waiting for a decision (a rebalance proposal, a tax-loss
harvest): buttons outside the read-only form post `decision=approve|reject` to `<id>/decide/`,
scoped like the change list (another book's row is a 404), and the admin's `_decide_one` runs
the service and says how it went."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse

PENDING = "pending"


class DecideOnPageAdmin(admin.ModelAdmin):
    decide_context_key: str  # the change form template's variable holding the form's action
    not_found: str  # the 404's text

    def _decide_one(self, request: HttpRequest, obj: Any, approve: bool) -> None:
        raise NotImplementedError

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),  # login and CSRF checked
            name=self._url_name("decide"),
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        if obj is not None and obj.status == PENDING and self.has_change_permission(request, obj):
            context[self.decide_context_key] = reverse(
                f"admin:{self._url_name('decide')}", args=[obj.pk]
            )
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST `decision=approve|reject` from the row's page; audited like the actions."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))  # scoped to the book: others 404
        if obj is None:
            raise Http404(self.not_found)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            return HttpResponseBadRequest("decision must be approve or reject")
        self._decide_one(request, obj, approve=decision == "approve")
        return HttpResponseRedirect(reverse(f"admin:{self._url_name('change')}", args=[obj.pk]))
