"""Admin pages of risk control: the rules, which compliance staff edit (each save is a new
version through the services; old versions stay, read-only), the evaluations recorded, and the
held withdrawals (read-only here: advisors decide them in the API/workspace, on the floor that
moves money).

Who edits: superusers and staff with `advisor.manage_risk_rules` (the `Compliance` group,
`risk_control.compliance_group_ensure`). Rules and holds are audited with django-auditlog
(`risk_control.risk_control_audit_register`, called on import here)."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from . import risk_control
from .models import RiskEvent, RiskRule, User, WithdrawalHold

risk_control.risk_control_audit_register()


def _is_compliance(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perm(RiskRule.MANAGE_PERMISSION))
    )


class RiskRuleForm(forms.ModelForm):
    check_name = forms.ChoiceField(
        label="check", choices=[(c, c) for c in risk_control.CHECKS], required=False
    )

    class Meta:
        model = RiskRule
        fields = ("code", "check_name", "description", "parameters", "action", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check = data.get("check_name") or self.instance.check_name
        if "parameters" in data:
            try:
                data["parameters"] = risk_control.parameters_clean(check, data["parameters"])
            except ValidationError as exc:
                raise ValidationError(exc.message_dict.get("parameters", exc.messages)) from exc
        return data


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    """The rules, every version. Saving a current rule makes its next version; the edited row
    itself never changes (past evaluations name it)."""

    form = RiskRuleForm
    list_display = ("code", "version", "current", "event", "check_name", "action", "enabled")
    list_filter = ("current", "event", "action", "enabled")
    ordering = ("code", "-version")
    readonly_fields = ("version", "current", "event", "created_by", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "code", "check_name")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ["description", "parameters", "action", "enabled"]
        if obj is None:
            return ["code", "check_name", *editable]
        return ["code", "check_name", *editable, *self.readonly_fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_compliance(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_compliance(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_compliance(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_compliance(request) and (obj is None or obj.current)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a rule is disabled, never deleted: evaluations name its versions

    def save_model(self, request: HttpRequest, obj: RiskRule, form: Any, change: bool) -> None:
        actor = cast(User, request.user)
        data = form.cleaned_data
        if change:
            revised = risk_control.risk_rule_revise(
                rule=obj,
                actor=actor,
                parameters=data["parameters"],
                action=data["action"],
                enabled=data["enabled"],
                description=data["description"],
            )
        else:
            revised = risk_control.risk_rule_create(
                code=data["code"],
                check_name=data["check_name"],
                parameters=data["parameters"],
                action=data["action"],
                enabled=data["enabled"],
                description=data["description"],
                actor=actor,
            )
        request._risk_rule_saved = revised  # type: ignore[attr-defined]
        obj.pk = revised.pk  # the admin's log entry and redirect name the new version

    def response_change(self, request: HttpRequest, obj: RiskRule) -> HttpResponse:
        revised = getattr(request, "_risk_rule_saved", obj)
        self.message_user(
            request, f"Saved as {revised} (the previous version is kept).", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:advisor_riskrule_changelist"))


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Compliance staff read these; nobody adds, edits or deletes them here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_compliance(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_compliance(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RiskEvent)
class RiskEventAdmin(_ReadOnlyAdmin):
    """Every evaluation of the rules: the record of what decided a movement."""

    list_display = ("created_at", "client", "event", "amount", "decision", "score")
    list_filter = ("event", "decision")
    date_hierarchy = "created_at"
    raw_id_fields = ("client", "goal")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RiskEvent]:
        return super().get_queryset(request).select_related("client")


@admin.register(WithdrawalHold)
class WithdrawalHoldAdmin(_ReadOnlyAdmin):
    """Held withdrawals, read-only: released or rejected through the API's advisor routes."""

    list_display = (
        "created_at",
        "client",
        "amount",
        "status",
        "approvals_needed",
        "first_approved_by",
        "decided_by",
    )
    list_filter = ("status",)
    raw_id_fields = ("client", "goal", "risk_event")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return WithdrawalHold.objects.select_related("client", "first_approved_by", "decided_by")
