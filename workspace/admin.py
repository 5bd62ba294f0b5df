"""The Client page of the advisor workspace: the client's profile, risk, goals, portfolio and chat
in read-only panels, and the risk-level override. It composes advisor, portfolios and nlp, so it
lives here rather than in advisor.admin (which keeps the admins of advisor's other models)."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from advisor import selectors, services
from advisor.admin import GoalInline, InconsistentFilter, RiskLevelFilter
from advisor.admin_risk_control import WithdrawalHoldAdmin as AdvisorWithdrawalHoldAdmin
from advisor.models import (
    Client,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    User,
    WithdrawalHold,
    age_on,
)
from config.errors import ApplicationError
from portfolios.services import holds
from portfolios.services.cash_flows import withdrawal_release

from . import selectors as workspace

# --- Client page panels: read-only, every value escaped (client text is never HTML) ---------


def _money(value: Decimal | float | None, currency: str = "USD") -> str:
    if value is None:
        return "—"
    amount = f"{Decimal(str(value)):,.2f}"
    return f"${amount}" if currency == "USD" else f"{amount} {currency}"


def _percent(value: float | Decimal | None) -> str:
    return "—" if value is None else f"{float(value):.0%}"


def _or_dash(value: Any) -> Any:
    return "—" if value in (None, "") else value


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], empty: str) -> SafeString:
    """An admin-styled table; cells are escaped unless already marked safe (our own links)."""
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    if not body:
        return format_html('<p class="quiet">{}</p>', empty)
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _facts(pairs: Iterable[tuple[str, Any]]) -> SafeString:
    return format_html_join(
        "", "<div><strong>{}:</strong> {}</div>", ((label, value) for label, value in pairs)
    )


def _link(url_name: str, pk: Any, text: Any) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text)


class RiskOverrideForm(forms.Form):
    level = forms.IntegerField(
        min_value=1,
        max_value=10,
        help_text="1 (most conservative) to 10 (most aggressive), at most the client's capacity "
        "level unless a compliance officer approves it.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=services.OVERRIDE_REASON_MAX_LENGTH,
        help_text="Why the questionnaire's level does not fit this client; the client reads it, "
        "and it is kept in the audit trail.",
    )
    flags_reviewed = forms.BooleanField(
        required=False,
        label="Flags gone through",
        help_text="I went through this profile's flags with the client (required when it has "
        "any; they stay on the record as reviewed).",
    )
    above_capacity = forms.BooleanField(
        required=False,
        label="Above capacity",
        help_text="The level is above the client's capacity level: send it to a second person "
        "with the compliance permission to approve (four-eyes). It applies only once approved.",
    )


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
    readonly_fields = (
        "tax_id_masked",
        "kyc_completed_at",
        "created_at",
        "updated_at",
        "history",
        "profile_panel",
        "risk_panel",
        "goals_panel",
        "portfolio_panel",
        "stress_panel",
        "tax_panel",
        "chat_panel",
    )
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
    actions = ("assign_to_me",)
    # Shown above the editable fields on an existing client's page, each a collapsible section
    # (<details>) but the summary, so that the page opens short; the editable ones follow, also
    # collapsed.
    workspace_fieldsets = (
        ("Profile and KYC", {"fields": ("profile_panel",)}),
        ("Risk profile", {"fields": ("risk_panel",), "classes": ("collapse",)}),
        ("Goals and projections", {"fields": ("goals_panel",), "classes": ("collapse",)}),
        ("Portfolio", {"fields": ("portfolio_panel",), "classes": ("collapse",)}),
        ("Risk figures and stress tests", {"fields": ("stress_panel",), "classes": ("collapse",)}),
        ("Taxes and documents", {"fields": ("tax_panel",), "classes": ("collapse",)}),
        ("Chat history", {"fields": ("chat_panel",), "classes": ("collapse",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        # The advisor's book and the firm queue (unassigned clients), for them to claim.
        return selectors.clients_with_risk(selectors.clients_in_reach(cast(User, request.user)))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = tuple(super().get_fieldsets(request, obj))
        if obj is None or obj.pk is None:
            return fieldsets
        editable = tuple(
            (name, {**options, "classes": ("collapse",)}) for name, options in fieldsets[1:]
        )
        return fieldsets[:1] + self.workspace_fieldsets + editable

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "advisor":  # a book is held by an active staff member only
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).order_by(
                "email"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        """An admin moving a client to another book (or back to the firm queue) goes through
        services.client_assign_advisor: validated and in the audit trail with the actor."""
        if not (change and "advisor" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        advisor = obj.advisor
        obj.advisor_id = Client.objects.values_list("advisor_id", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        moved = services.client_assign_advisor(
            client=obj, advisor=advisor, actor=cast(User, request.user)
        )
        obj.advisor = moved.advisor

    def get_urls(self) -> list[URLPattern]:
        override = path(
            "<path:object_id>/risk-override/",
            self.admin_site.admin_view(self.risk_override_view),
            name="advisor_client_risk_override",
        )
        claim = path(
            "<path:object_id>/assign-to-me/",
            self.admin_site.admin_view(self.assign_to_me_view),  # login and CSRF checked
            name="advisor_client_assign_to_me",
        )
        return [override, claim, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        client = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if client is not None and client.advisor_id is None:
            context["client_unassigned"] = True
            if self.has_change_permission(request, client):
                context["assign_to_me_url"] = reverse(
                    "admin:advisor_client_assign_to_me", args=[client.pk]
                )
        return super().change_view(request, object_id, form_url, context)

    def _claim(self, request: HttpRequest, client: Client) -> bool:
        try:
            services.client_claim(client=client, advisor=cast(User, request.user))
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return False
        return True

    def assign_to_me_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST from an unassigned client's page: the client joins the signed-in advisor's
        book (services.client_claim, audited)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        client = self.get_object(request, object_id)  # the book and the firm queue: others 404
        if client is None:
            raise Http404("No such client in your book or the firm queue.")
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        if self._claim(request, client):
            self.message_user(request, f"{client} is now in your book.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:advisor_client_change", args=[client.pk]))

    @admin.action(
        description="Assign the selected unassigned clients to me", permissions=["change"]
    )
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = sum(self._claim(request, client) for client in queryset.order_by("pk"))
        if done:
            self.message_user(request, f"{done} client(s) now in your book.", messages.SUCCESS)

    def risk_override_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Set the client's risk level by hand, with a reason (advisor.services)."""
        client = self.get_object(request, object_id)  # scoped to the book: others 404
        if client is None:
            raise Http404("No such client in your book.")
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        profile = selectors.risk_profile_get(client=client)
        form = RiskOverrideForm(
            request.POST or None,
            initial={"level": profile.assessment.risk_level if profile else None},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            # Within capacity the override applies now; above it, it waits for a second person.
            service = (
                services.risk_override_request_create
                if data["above_capacity"]
                else services.risk_level_override
            )
            try:
                service(
                    client=client,
                    level=data["level"],
                    reason=data["reason"],
                    flags_reviewed=data["flags_reviewed"],
                    actor=cast(User, request.user),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if data["above_capacity"]:
                    message = (
                        f"Level {data['level']} sent for a compliance approval. The client's "
                        "level stays as it is until a second person approves it."
                    )
                else:
                    message = (
                        f"Risk level set to {data['level']}. Goal targets follow it; the daily "
                        "drift check proposes any trades for your approval."
                    )
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:advisor_client_change", args=[client.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Override risk level",
            "subtitle": str(client),
            "opts": self.opts,
            "original": client,
            "profile": profile,
            "explanation": workspace.risk_explanation(client=client),
            "form": form,
            "has_view_permission": self.has_view_permission(request, client),
        }
        return TemplateResponse(request, "admin/advisor/client/risk_override.html", context)

    @admin.display(description="Summary")
    def profile_panel(self, client: Client) -> str:
        born = client.date_of_birth
        age = age_on(born, timezone.localdate()) if born else None
        if client.kyc_completed_at is None:
            kyc = "incomplete"
        elif client.kyc_review_overdue:
            kyc = f"review overdue (due {client.kyc_review_due})"
        else:
            kyc = f"complete {client.kyc_completed_at:%Y-%m-%d}, review due {client.kyc_review_due}"
        return _facts(
            (
                ("Email", client.user.email),
                ("Age", _or_dash(age)),
                ("Employment", _or_dash(client.get_employment_status_display())),
                ("Annual income", _money(client.annual_income)),
                ("Net worth", _money(client.net_worth)),
                ("Liquid net worth", _money(client.liquid_net_worth)),
                ("Dependents", _or_dash(client.dependents)),
                ("Experience", _or_dash(client.get_investment_experience_display())),
                ("Objective", _or_dash(client.get_objective_display())),
                ("Time horizon", _or_dash(client.get_time_horizon_display())),
                ("Liquidity needs", _or_dash(client.get_liquidity_needs_display())),
                ("KYC", kyc),
            )
        )

    @admin.display(description="Risk level and why")
    def risk_panel(self, client: Client) -> str:
        explanation = workspace.risk_explanation(client=client)
        if explanation is None:
            return format_html(
                '<p class="quiet">{}</p>', "The client has not answered the risk questionnaire."
            )
        a, response, decision = explanation.assessment, explanation.response, explanation.decision
        facts = [
            ("Risk level", f"{a.risk_level} of 10 ({a.method})"),
            ("Decided by", f"{decision.decided_by} ({', '.join(decision.reasons)})"),
            ("Why", explanation.advisor_text),
            ("What the client reads", explanation.client_text),
            (
                "Willingness",
                f"{_or_dash(a.willingness_score)}/100, level "
                f"{_or_dash(explanation.willingness_level)}",
            ),
            (
                "Capacity",
                f"{_or_dash(a.capacity_score)}/100, level {_or_dash(explanation.capacity_level)}",
            ),
            (
                "Questionnaire",
                f"version {response.version}, submitted {response.submitted_at:%Y-%m-%d %H:%M}",
            ),
            (
                "Risk model's opinion",
                f"{response.get_model_opinion_display()}"
                + (f" ({response.model_opinion_detail})" if response.model_opinion_detail else ""),
            ),
        ]
        if explanation.model_level is not None:
            facts.append(("Model level", f"{explanation.model_level} ({explanation.model_method})"))
        if explanation.overridden:
            facts += [
                ("Overridden by", _or_dash(a.details.get("overridden_by"))),
                (
                    "Level before the override",
                    f"{_or_dash(a.details.get('previous_level'))} "
                    f"({_or_dash(a.details.get('previous_method'))})",
                ),
                ("Reason", _or_dash(a.details.get("reason"))),
            ]
            if a.details.get("approved_by"):
                facts.append(("Approved above capacity by", a.details["approved_by"]))
        flags = _table(
            ("Flag", "Why"),
            ((f.get("code", ""), f.get("message", "")) for f in explanation.flags),
            "No inconsistencies flagged.",
        )
        attributions = _table(
            ("Feature", "Effect on the model's level"),
            (
                (feature, f"{'raises' if weight > 0 else 'lowers'} it ({weight:+.3f})")
                for feature, weight in explanation.attributions
            ),
            "No attributions: the risk model has not scored this response.",
        )
        pending = _table(
            ("Level", "Capacity", "Requested by", "On", "Reason"),
            (
                (
                    _link("admin:advisor_riskoverriderequest_change", r.pk, r.level),
                    r.capacity_level,
                    r.requested_by.email,
                    f"{r.requested_at:%Y-%m-%d %H:%M}",
                    r.reason,
                )
                for r in explanation.pending_requests
            ),
            "No override above capacity is waiting for approval.",
        )
        override = format_html(
            '<p><a class="button" href="{}">Override risk level</a></p>',
            reverse("admin:advisor_client_risk_override", args=[client.pk]),
        )
        return format_html(
            "{}<h4>{}</h4>{}<h4>{}</h4>{}<h4>{}</h4>{}{}",
            _facts(facts),
            "Flags, reviewed by the override" if explanation.flags_reviewed else "Flags",
            flags,
            "Overrides above capacity awaiting a compliance approval (four-eyes)",
            pending,
            "What drives the risk model's level",
            attributions,
            override,
        )

    @admin.display(description="Goals")
    def goals_panel(self, client: Client) -> str:
        return _table(
            (
                "Goal",
                "Type",
                "Target",
                "By",
                "Monthly",
                "Status",
                "Chance of reaching it (current plan)",
                "Median final value (today's money)",
            ),
            (
                (
                    _link("admin:advisor_goal_change", row.goal.pk, row.goal.name),
                    row.goal.get_goal_type_display(),
                    _money(row.goal.target_amount, row.goal.currency),
                    row.goal.target_date,
                    _money(row.goal.monthly_contribution, row.goal.currency),
                    row.goal.get_status_display(),
                    # The client's figures: the plan's projection, or why there is none yet.
                    _percent(row.probability)
                    if row.projection_status == "ready"
                    else row.projection_status.capitalize(),
                    _money(row.median_final_value, row.goal.currency),
                )
                for row in workspace.client_goals(client=client)
            ),
            "No goals yet.",
        )

    @admin.display(description="Accounts")
    def portfolio_panel(self, client: Client) -> str:
        portfolio = workspace.client_portfolio(client=client)
        rows = (
            (
                _link("admin:portfolios_account_change", row.account.pk, row.account),
                _or_dash(row.level),
                _money(row.value, row.account.currency),
                _money(row.cash, row.account.currency),
                format_html(
                    "{}{}",
                    "—" if row.drift is None else f"{row.drift:.1%}",
                    " (over the threshold)" if row.over_threshold else "",
                ),
                _link(
                    "admin:portfolios_rebalanceproposal_change",
                    row.pending.pk,
                    f"Proposal {row.pending.pk} awaiting approval",
                )
                if row.pending
                else "—",
            )
            for row in portfolio.accounts
        )
        table = _table(
            ("Account", "Target level", "Value", "Cash", "Drift", "Rebalance"),
            rows,
            "No accounts yet.",
        )
        return format_html(
            "{}{}",
            _facts(
                (
                    ("Total value", _money(portfolio.total)),
                    ("Market date", _or_dash(portfolio.market_date)),
                    ("Rebalancing threshold", f"{portfolio.threshold:.1%} drift"),
                )
            ),
            table,
        )

    @admin.display(description="Risk and stress")
    def stress_panel(self, client: Client) -> str:
        """Each account's figures (95%, from today's weights over the history since 2008) and
        its worst scenario, and the worst scenario of the client's level against the loss the
        client said they could bear: the flag an advisor reviews."""
        risk = workspace.client_risk(client=client)

        def pct(value: float | None) -> str:
            return "—" if value is None else f"{value:.1%}"

        def row(item: workspace.AccountRisk) -> tuple[Any, ...]:
            view = item.view
            if view is None:
                return (item.account, "holds nothing yet", "", "", "", "")
            year = view.measures.horizons.get("1y")
            worst = view.worst
            return (
                item.account,
                pct(view.measures.volatility),
                pct(year.var_historical if year else None),
                pct(year.es_historical if year else None),
                pct(view.measures.max_drawdown),
                f"{worst.result.name}: −{worst.result.loss:.0%} ({_money(worst.loss_amount)})"
                if worst
                else "—",
            )

        table = _table(
            ("Account", "Volatility", "1-year VaR", "1-year ES", "Max drawdown", "Worst scenario"),
            (row(item) for item in risk.accounts),
            "No accounts yet.",
        )
        check = risk.stress_check
        if check is None:
            verdict = format_html('<p class="quiet">{}</p>', "No risk level yet: no stress check.")
        else:
            verdict = format_html(
                '<p class="{}"><strong>{}</strong> {}</p>',
                "errornote" if check.exceeds else "",
                "Over the stated tolerance:" if check.exceeds else "Stress check:",
                check.advisor_text,
            )
        return format_html("{}{}", verdict, table)

    @admin.display(description="Tax year")
    def tax_panel(self, client: Client) -> str:
        """The client's tax year so far, from the selector their tax centre and tax report read,
        their latest harvests and their documents."""
        taxes = workspace.client_taxes(client=client)
        summary = taxes.summary
        realized = summary.realized
        figures = _facts(
            (
                ("Tax year", taxes.year),
                ("Short-term gain (reportable)", _money(realized.short_term.reportable)),
                ("Long-term gain (reportable)", _money(realized.long_term.reportable)),
                (
                    "Wash sales",
                    f"{summary.wash_sales.count}, {_money(summary.wash_sales.disallowed)} "
                    "disallowed (added to the replacements' basis)",
                ),
                ("Losses harvested", _money(summary.harvested_losses)),
                ("Estimated tax saved by harvesting", _money(summary.estimated_tax_saved)),
                ("Dividends in taxable accounts", _money(summary.dividends)),
                ("Automatic harvesting", "on" if client.harvest_auto else "off (each approved)"),
            )
        )
        harvests = _table(
            ("Harvest", "Account", "Switch", "Gain (−) / loss", "Est. tax saved", "Status"),
            (
                (
                    _link("admin:portfolios_taxharvest_change", h.pk, f"{h.get_kind_display()}"),
                    h.account,
                    f"{h.sell_asset.ticker} → {h.buy_asset.ticker}",
                    _money(h.short_term_gain + h.long_term_gain),
                    _money(h.tax_saved),
                    h.get_status_display(),
                )
                for h in taxes.harvests
            ),
            "No tax-loss harvests.",
        )
        documents = _table(
            ("Document", "Period", "Download"),
            (
                (
                    d.title,
                    f"{d.period_start:%Y-%m-%d} – {d.period_end:%Y-%m-%d}",
                    format_html(
                        '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
                        reverse("admin:portfolios_document_download", args=[d.pk, "pdf"]),
                        reverse("admin:portfolios_document_download", args=[d.pk, "csv"]),
                    ),
                )
                for d in taxes.documents
            ),
            "No statements or tax reports yet.",
        )
        return format_html(
            "{}<h3>Harvests</h3>{}<h3>Documents</h3>{}", figures, harvests, documents
        )

    @admin.display(description="Latest messages")
    def chat_panel(self, client: Client) -> str:
        history = workspace.client_chat_history(client=client)
        conversations = format_html_join(
            ", ",
            "{}",
            (
                (_link("admin:nlp_conversation_change", c.pk, f"Conversation {c.pk}"),)
                for c in history.conversations
            ),
        )
        messages_table = _table(
            ("When", "Who", "Message", "Conversation"),
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    m.get_role_display(),
                    m.text,  # the client's own words: escaped like every other cell
                    _link("admin:nlp_conversation_change", m.conversation_id, m.conversation_id),
                )
                for m in history.messages
            ),
            "No chat messages.",
        )
        return format_html(
            "<p>{} {}</p>{}",
            "Conversations:",
            conversations or "none",
            messages_table,
        )

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
            | Q(  # risk levels, an advisor's overrides included
                content_type=ContentType.objects.get_for_model(RiskAssessment),
                object_pk__in=[
                    str(pk)
                    for pk in RiskAssessment.objects.filter(response__client=client).values_list(
                        "pk", flat=True
                    )
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


# --- Held withdrawals: decided here, where money-moving services may be called ---------------

admin.site.unregister(WithdrawalHold)


@admin.register(WithdrawalHold)
class WithdrawalHoldAdmin(AdvisorWithdrawalHoldAdmin):
    """Withdrawals the risk rules held, scoped like the API (the clients in reach; compliance:
    all), with Release / Reject on each pending one's page. Release pays it once at today's
    close (four-eyes from the threshold); both are recorded with the actor and a note."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[WithdrawalHold]:
        return holds.holds_for_staff(user=cast(User, request.user)).select_related(
            "first_approved_by", "decided_by"
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),  # login and CSRF checked
            name="advisor_withdrawalhold_decide",
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        hold = self.get_object(request, object_id)
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        if hold is not None and hold.status == WithdrawalHold.Status.PENDING:
            context["hold_decide_url"] = reverse(
                "admin:advisor_withdrawalhold_decide", args=[hold.pk]
            )
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        hold = self.get_object(request, object_id)  # scoped: another book's hold is a 404
        if hold is None:
            raise Http404("No such held withdrawal in your reach.")
        decision, note = request.POST.get("decision"), request.POST.get("note", "")
        actor = cast(User, request.user)
        try:
            if decision == "release":
                decided = withdrawal_release(hold=hold, actor=actor, note=note)
            elif decision == "reject":
                decided = holds.withdrawal_hold_reject(hold=hold, actor=actor, note=note)
            else:
                raise ValidationError("Release or reject.")
        except (ApplicationError, ValidationError) as exc:
            text = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            self.message_user(request, text, messages.ERROR)
        else:
            if decided.status == WithdrawalHold.Status.RELEASED:
                text = f"Released: {_money(decided.amount)} paid at today's close."
            elif decided.status == WithdrawalHold.Status.REJECTED:
                text = "Rejected: no money moved; the client is told."
            else:
                text = "First approval recorded: a second staff member must release it."
            self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:advisor_withdrawalhold_change", args=[hold.pk]))
