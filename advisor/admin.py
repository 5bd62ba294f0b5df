"""Admin pages of advisor's own models, scoped to the advisor's book (admins see all).

The Client page composes portfolios and nlp, so it is registered by workspace.admin, which
reuses the filters and the goal inline below; this module imports nothing above advisor."""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from . import selectors, services
from .exceptions import RiskOverrideConflict
from .models import (
    DeviceToken,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # advisors manage clients, not logins


class BookScopedAdmin(admin.ModelAdmin):
    """Limits every list and object page to the clients the user may see."""

    client_path = "client"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # The book and the firm queue (selectors.clients_in_reach): unassigned clients' rows
        # are every advisor's to see, so that nothing of theirs waits unseen.
        return queryset.filter(
            Q(**{f"{self.client_path}__advisor": request.user})
            | Q(**{f"{self.client_path}__advisor__isnull": True})
        )


class GoalInline(admin.TabularInline):
    model = Goal
    extra = 0
    fields = (
        "name",
        "goal_type",
        "target_amount",
        "target_date",
        "monthly_contribution",
        "priority",
        "status",
    )
    show_change_link = True


class RiskLevelFilter(admin.SimpleListFilter):
    title = "risk level"
    parameter_name = "risk_level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(level), str(level)) for level in range(1, 11)] + [("none", "Not assessed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "none":
            return queryset.filter(risk_level__isnull=True)
        if self.value():
            return queryset.filter(risk_level=self.value())
        return queryset


class InconsistentFilter(admin.SimpleListFilter):
    title = "risk answers inconsistent"
    parameter_name = "inconsistent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Inconsistent"), ("no", "Consistent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(risk_inconsistent=True)
        if self.value() == "no":
            return queryset.filter(risk_inconsistent=False)
        return queryset


@admin.register(Goal)
class GoalAdmin(BookScopedAdmin):
    list_display = ("name", "client", "goal_type", "target_amount", "target_date", "status")
    list_filter = ("goal_type", "priority", "status")
    search_fields = ("name", "client__first_name", "client__last_name", "client__user__email")
    raw_id_fields = ("client",)


class RiskAssessmentInline(admin.TabularInline):
    model = RiskAssessment
    extra = 0
    can_delete = False
    readonly_fields = (
        "method",
        "risk_level",
        "willingness_score",
        "capacity_score",
        "inconsistent",
        "flags",
        "created_at",
    )
    exclude = ("details",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(BookScopedAdmin):
    list_display = ("client", "version", "submitted_at")
    list_filter = ("version",)
    search_fields = ("client__first_name", "client__last_name", "client__user__email")
    readonly_fields = ("client", "version", "answers", "submitted_at")
    inlines = (RiskAssessmentInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # answers come from the client, never typed in by staff


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    list_display = ("token_key", "user", "device_name", "created", "expiry")
    readonly_fields = ("token_key", "user", "device_name", "created", "expiry")
    exclude = ("digest",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RiskOverrideRequest)
class RiskOverrideRequestAdmin(admin.ModelAdmin):
    """Overrides above a client's capacity, waiting for (or decided by) a second person with
    the compliance permission; the actions call the services, which enforce the four eyes."""

    list_display = (
        "__str__",
        "client",
        "level",
        "capacity_level",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
    )
    list_filter = ("status",)
    readonly_fields = (
        "response",
        "level",
        "capacity_level",
        "reason",
        "flags_reviewed",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    actions = ("approve", "reject")

    @admin.display(description="client")
    def client(self, obj: RiskOverrideRequest) -> Any:
        return obj.response.client

    def get_queryset(self, request: HttpRequest) -> QuerySet[RiskOverrideRequest]:
        return selectors.risk_override_requests_visible_to(cast(User, request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return super().has_view_permission(request, obj) or bool(
            user.is_staff and user.has_perm(RiskOverrideRequest.APPROVE_PERMISSION)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requested from the client's risk-override page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided through the actions below only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit record of a compliance decision

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], *, approve: bool) -> None:
        actor = cast(User, request.user)
        done = 0
        for override_request in queryset.order_by("pk"):
            try:
                if approve:
                    services.risk_override_request_approve(
                        override_request=override_request, actor=actor
                    )
                else:
                    services.risk_override_request_reject(
                        override_request=override_request, actor=actor
                    )
            except (PermissionDenied, RiskOverrideConflict, ValidationError) as exc:
                text = exc.message if isinstance(exc, RiskOverrideConflict) else str(exc)
                self.message_user(request, f"{override_request}: {text}", messages.ERROR)
            else:
                done += 1
        if done:
            verb = "approved" if approve else "rejected"
            self.message_user(request, f"{done} request(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Approve the selected overrides above capacity (four-eyes)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected overrides above capacity")
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=False)


from . import admin_risk_control  # noqa: E402, F401  (the risk rules and withdrawal holds)
