"""The advisor workspace's admin site: the admin index opens on the advisor's book at a glance.

Staff sign in with a password and, once enrolled, a TOTP code (MFA_REQUIRED_FOR_STAFF). A staff
user who has not enrolled yet is signed in but only reaches the enrolment page."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

from advisor import services
from advisor.exceptions import MfaCodeInvalid, MfaStateConflict
from advisor.models import User
from config.authentication import mfa_enrolment_pending

from . import selectors


class WorkspaceAuthenticationForm(AdminAuthenticationForm):
    """The admin login with a code from the authenticator app (or a recovery code) for staff
    who have enrolled. A wrong code counts towards the lockout like a wrong password."""

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=32,
        help_text="The 6-digit code from your app, or a recovery code. Leave empty if you "
        "have not set up two-factor authentication yet.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not services.mfa_enabled(user=user):
            return
        device = services.mfa_code_match(user=user, code=self.cleaned_data.get("otp_token") or "")
        if device is None:
            user_login_failed.send(
                sender=__name__, credentials={"username": user.email}, request=self.request
            )
            raise ValidationError(
                "Enter the current code from your authenticator app (or a recovery code).",
                code="otp_invalid",
            )
        # django-otp's user_logged_in receiver stores the device: the session is verified.
        user.otp_device = device


class MfaEnrolForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=32)


class WorkspaceAdminSite(admin.AdminSite):
    site_header = "Meridian advisor workspace"
    site_title = "Meridian"
    index_title = "Your book of clients"
    # The stock index template, extended. It has its own name, since django.contrib.admin's own
    # admin/index.html is found first.
    index_template = "admin/workspace_index.html"
    login_form = WorkspaceAuthenticationForm
    login_template = "admin/workspace_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and where MFA is required, verified with a TOTP code in this session."""
        if not super().has_permission(request):
            return False
        if not settings.MFA_REQUIRED_FOR_STAFF:
            return True
        return bool(getattr(request.user, "is_verified", lambda: False)())

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """A signed-in staff user who still has to enrol goes to the enrolment page."""
        if request.user.is_authenticated and mfa_enrolment_pending(request.user):
            return HttpResponseRedirect(reverse("admin:mfa_enrol", current_app=self.name))
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and request.user.is_authenticated
            and mfa_enrolment_pending(request.user)
        ):
            return HttpResponseRedirect(reverse("admin:mfa_enrol", current_app=self.name))
        return response

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("mfa/enrol/", self.mfa_enrol_view, name="mfa_enrol"),
            *super().get_urls(),
        ]

    def mfa_enrol_view(self, request: HttpRequest) -> HttpResponse:
        """Set up the authenticator app: the QR code and secret, then a first code; the
        recovery codes are shown once. Reachable signed in as staff, verified or not."""
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        user = cast(User, user)
        context: dict[str, Any] = {**self.each_context(request), "title": "Two-factor sign-in"}
        if services.mfa_enabled(user=user):
            context["already_enabled"] = True
            return TemplateResponse(request, "admin/workspace_mfa_enrol.html", context)
        form = MfaEnrolForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                codes = services.mfa_totp_confirm(
                    request=request, user=user, code=form.cleaned_data["code"]
                )
            except (MfaCodeInvalid, MfaStateConflict) as exc:
                form.add_error("code", exc.message)
            else:
                context["recovery_codes"] = codes
                return TemplateResponse(request, "admin/workspace_mfa_enrol.html", context)
        context["enrolment"] = services.mfa_totp_enrol(user=user, restart=False)
        context["form"] = form
        return TemplateResponse(request, "admin/workspace_mfa_enrol.html", context)

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The admin index with the home page's figures for the signed-in advisor's book."""
        user = cast(User, request.user)
        context = {
            "workspace": selectors.workspace_home(user=user),
            "can_view_escalations": user.has_perm("nlp.view_escalation"),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)
