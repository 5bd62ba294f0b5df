"""The advisor workspace in the Django admin, scoped to the advisor's book (admins see all)."""

from typing import Any

from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from . import selectors
from .models import Client, DeviceToken, Goal, QuestionnaireResponse, RiskAssessment, User


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
        return queryset.filter(**{f"{self.client_path}__advisor": request.user})


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


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "email",
        "advisor",
        "risk_level_display",
        "flags_display",
        "kyc_review_due",
    )
    list_filter = (RiskLevelFilter, InconsistentFilter, "kyc_review_overdue", "advisor")
    search_fields = ("first_name", "last_name", "user__email")
    inlines = (GoalInline,)
    readonly_fields = ("tax_id_masked", "kyc_completed_at", "created_at", "updated_at", "history")
    exclude = ("tax_id",)  # never shown in full, not even to advisors
    fieldsets = (
        (None, {"fields": ("user", "advisor")}),
        (
            "Identity and contact",
            {
                "fields": (
                    ("first_name", "last_name"),
                    "date_of_birth",
                    "address_line1",
                    "address_line2",
                    ("city", "region", "postal_code", "country"),
                    "phone",
                    "tax_id_masked",
                )
            },
        ),
        (
            "Suitability",
            {
                "fields": (
                    ("employment_status", "occupation_category"),
                    ("annual_income", "net_worth", "liquid_net_worth"),
                    ("dependents", "marital_status", "education_level"),
                    "tax_filing_status",
                    "investment_experience",
                    ("objective", "time_horizon", "liquidity_needs"),
                )
            },
        ),
        ("KYC", {"fields": ("kyc_completed_at", "kyc_review_due", "kyc_review_overdue")}),
        ("Audit trail", {"fields": ("history",)}),
    )
    raw_id_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return selectors.client_list_with_risk(request.user)  # type: ignore[arg-type]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ("advisor", "user")  # only admins move clients between books
        return fields

    @admin.display(description="Email", ordering="user__email")
    def email(self, client: Client) -> str:
        return client.user.email

    @admin.display(description="Risk level", ordering="risk_level")
    def risk_level_display(self, client: Client) -> Any:
        return getattr(client, "risk_level", None) or "—"

    @admin.display(description="Flags")
    def flags_display(self, client: Client) -> str:
        flags = []
        if getattr(client, "risk_inconsistent", False):
            flags.append("inconsistent risk answers")
        if client.kyc_review_overdue:
            flags.append("KYC review overdue")
        if client.kyc_completed_at is None:
            flags.append("KYC incomplete")
        return ", ".join(flags) or "—"

    @admin.display(description="Changes (newest first)")
    def history(self, client: Client) -> str:
        if client.pk is None:
            return "—"
        entries = LogEntry.objects.filter(
            Q(content_type=ContentType.objects.get_for_model(Client), object_pk=str(client.pk))
            | Q(
                content_type=ContentType.objects.get_for_model(Goal),
                object_pk__in=[str(pk) for pk in client.goals.values_list("pk", flat=True)],
            )
            | Q(
                content_type=ContentType.objects.get_for_model(QuestionnaireResponse),
                object_pk__in=[
                    str(pk) for pk in client.questionnaire_responses.values_list("pk", flat=True)
                ],
            )
        ).select_related("actor", "content_type")[:50]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            (
                (
                    entry.timestamp.strftime("%Y-%m-%d %H:%M"),
                    entry.actor or "system",
                    entry.get_action_display(),
                    entry.content_type.model,
                    ", ".join(sorted((entry.changes_dict or {}).keys())) or "—",
                )
                for entry in entries
            ),
        )
        return format_html(
            "<table><tr><th>When</th><th>Who</th><th>What</th><th>Fields</th></tr>{}</table>", rows
        )


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
