"""Portfolio pages of the advisor workspace: model portfolio approval, accounts of the book."""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from advisor.models import User
from config.admin_actions import LifecycleAdmin

from . import selectors, services
from .admin_decide import DecideOnPageAdmin
from .admin_html import money_cell as _money
from .admin_html import percent_cell as _percent
from .admin_html import table as _table
from .exceptions import RebalanceStale
from .models import (
    Account,
    Asset,
    Distribution,
    FeeOwed,
    LedgerBreak,
    MarketDataAlert,
    MarketDataRevision,
    ModelPortfolio,
    ModelPortfolioSet,
    RebalanceProposal,
    Transaction,
)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("ticker", "name", "asset_class", "expense_ratio", "active")
    list_filter = ("asset_class", "active")


class ModelPortfolioInline(admin.TabularInline):
    model = ModelPortfolio
    extra = 0
    can_delete = False
    readonly_fields = ("level", "weights", "expected_return", "volatility")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelPortfolioSet)
class ModelPortfolioSetAdmin(LifecycleAdmin):
    list_display = (
        "version",
        "status",
        "assumptions",
        "created_at",
        "first_approved_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    readonly_fields = (
        "version",
        "assumptions",
        "status",
        "first_approved_by",
        "first_approved_at",
        "decided_by",
        "decided_at",
    )
    inlines = (ModelPortfolioInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sets come from the allocation task

    def lifecycle_decide(self, row: Any, *, approve: bool, actor: Any) -> object:
        from .services.governance import governance_report_require

        if approve:  # the committee approves only with the walk-forward evidence (issue #16)
            governance_report_require(portfolio_set=row)
        return services.model_portfolio_set_decide(portfolio_set=row, approve=approve, actor=actor)

    # --- The governance report and Approve / Reject on the set's page -----------------------

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),  # login and CSRF checked
            name="portfolios_modelportfolioset_decide",
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        from .models import GovernanceReport
        from .services.governance import report_table

        portfolio_set = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        if portfolio_set is not None:
            report = GovernanceReport.objects.filter(portfolio_set=portfolio_set).first()
            context["governance_report"] = report
            if report is not None:
                figures = report.figures
                context["governance_tables"] = [
                    report_table(figures, section)
                    for section in ("out_of_sample", "extended", "in_sample", "sensitivity")
                    if figures.get(section, {}).get("levels")
                ]
                context["governance_verdict"] = figures.get("verdict", {})
            opts = self.model._meta
            if portfolio_set.status == ModelPortfolioSet.Status.CANDIDATE and request.user.has_perm(
                f"{opts.app_label}.approve_{opts.model_name}"
            ):
                context["set_decide_url"] = reverse(
                    "admin:portfolios_modelportfolioset_decide", args=[portfolio_set.pk]
                )
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST `decision=approve|reject` from the set's page: the same decision as the actions
        (committee permission, four eyes, and no approval without a governance report)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        portfolio_set = self.get_object(request, unquote(object_id))
        if portfolio_set is None:
            raise Http404("No such model-portfolio set.")
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            return HttpResponseBadRequest("decision must be approve or reject")
        self._decide(
            request,
            ModelPortfolioSet.objects.filter(pk=portfolio_set.pk),
            approve=decision == "approve",
        )
        return HttpResponseRedirect(
            reverse("admin:portfolios_modelportfolioset_change", args=[portfolio_set.pk])
        )


class TransactionInline(admin.TabularInline):
    model = Transaction
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "amount", "market_date", "fee_period", "description")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "goal", "cash", "opened_at")
    readonly_fields = ("client", "goal", "currency", "cash", "opened_at")
    inlines = (TransactionInline,)
    search_fields = ("client__first_name", "client__last_name", "client__user__email")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(client__advisor=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # money moves only through deposits and withdrawals


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger's transactions, read-only; `?kind=fee` lists the advisory fees billed."""

    list_display = ("id", "account", "kind", "amount", "market_date", "fee_period", "created_at")
    list_filter = ("kind", "fee_period")
    readonly_fields = (
        "account",
        "kind",
        "amount",
        "market_date",
        "fee_period",
        "description",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        queryset = super().get_queryset(request).select_related("account__goal")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(account__client__advisor=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # money moves only through the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is append-only


@admin.register(RebalanceProposal)
class RebalanceProposalAdmin(DecideOnPageAdmin):
    """The approval queue. A proposal's page shows its exact trades and weights, and Approve /
    Reject buttons; approval executes exactly those trades, or says why the proposal is stale."""

    list_display = (
        "id",
        "client",
        "account",
        "status",
        "drift_when_proposed",
        "market_date",
        "created_at",
    )
    list_filter = ("status",)
    fields = (
        "account",
        "client",
        "status",
        "market_date",
        "drift_when_proposed",
        "drift_now",
        "threshold_percent",
        "reason",
        "trades_table",
        "weights_table",
        "computed_from",
        "superseded_reason",
        "decided_by",
        "decided_at",
        "executed_transaction",
    )
    readonly_fields = fields
    actions = ("approve", "reject")
    decide_context_key = "rebalance_decide_url"
    not_found = "No such proposal in your book."

    def get_queryset(self, request: HttpRequest) -> QuerySet[RebalanceProposal]:
        queryset = super().get_queryset(request).select_related("account__client", "account__goal")
        if request.user.is_superuser:
            return queryset
        # The book and the firm queue (advisor.selectors.clients_in_reach): an unassigned
        # client's proposal waits for whichever advisor picks it up, never for no one.
        return queryset.filter(
            Q(account__client__advisor=request.user) | Q(account__client__advisor__isnull=True)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals come from the daily drift check

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are history

    # --- Displays -------------------------------------------------------------------------

    @admin.display(description="Client")
    def client(self, proposal: RebalanceProposal) -> Any:
        return proposal.account.client

    @admin.display(description="Drift when proposed", ordering="drift")
    def drift_when_proposed(self, proposal: RebalanceProposal) -> str:
        return _percent(proposal.drift)

    @admin.display(description="Account's drift now")
    def drift_now(self, proposal: RebalanceProposal) -> str:
        # The live figure the client's dashboard and the client page show (one selector).
        return _percent(selectors.account_drift(account=proposal.account))

    @admin.display(description="Threshold")
    def threshold_percent(self, proposal: RebalanceProposal) -> str:
        return _percent(proposal.threshold)

    @admin.display(description="Trades, in execution order")
    def trades_table(self, proposal: RebalanceProposal) -> SafeString:
        currency = proposal.account.currency
        return _table(
            ("Action", "Fund", "Units", "Price", "Amount"),
            (
                (
                    "Sell" if trade.get("side") == "sell" else "Buy",
                    trade.get("ticker", ""),
                    trade.get("units") or "—",
                    _money(trade.get("price"), currency, places=4),
                    _money(trade.get("value"), currency),
                )
                for trade in proposal.trades
            ),
            "No trades.",
        )

    @admin.display(description="Weights")
    def weights_table(self, proposal: RebalanceProposal) -> SafeString:
        before, after = proposal.before_weights or {}, proposal.after_weights or {}
        target = (proposal.state or {}).get("targets", {})
        tickers = sorted(set(before) | set(after) | set(target))
        return _table(
            ("Fund", "Before", "After the trades", "Target"),
            (
                (t, _percent(before.get(t, 0)), _percent(after.get(t, 0)), _percent(target.get(t)))
                for t in tickers
            ),
            "No holdings.",
        )

    @admin.display(description="Computed from")
    def computed_from(self, proposal: RebalanceProposal) -> SafeString:
        state = proposal.state
        if not state:
            return format_html(
                '<p class="quiet">{}</p>',
                "No record: this proposal predates exact trades; approving it makes a fresh one.",
            )
        return format_html_join(
            "",
            "<div><strong>{}:</strong> {}</div>",
            (
                ("Closes of", state.get("market_date")),
                ("Cash", _money(state.get("cash"), proposal.account.currency)),
                ("Goal's risk level", state.get("level")),
                ("Model portfolios", f"v{state.get('model_portfolio_set')}"),
            ),
        )

    # --- Approve / reject on the proposal's page -------------------------------------------

    def _decide_one(self, request: HttpRequest, proposal: RebalanceProposal, approve: bool) -> None:
        """Run the service; say how it went (a stale or already-decided proposal is an error)."""
        try:
            decided = services.rebalance_decide(
                proposal=proposal, approve=approve, actor=cast(User, request.user)
            )
        except RebalanceStale as exc:
            self.message_user(request, exc.message, messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, f"{proposal}: {'; '.join(exc.messages)}", messages.ERROR)
        else:
            if approve:
                count = len(decided.trades)
                text = (
                    f"Proposal {decided.pk} approved and executed: {count} "
                    f"trade{'s' if count != 1 else ''} at the closes of {decided.market_date}, "
                    "exactly as shown."
                )
            else:
                text = f"Proposal {decided.pk} rejected; nothing was traded."
            self.message_user(request, text, messages.SUCCESS)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], approve: bool) -> None:
        for proposal in queryset:
            self._decide_one(request, proposal, approve)

    @admin.action(description="Approve and execute the selected proposals at the closes shown")
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected proposals")
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=False)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the jobs write and nobody edits: the history they keep is the point."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerBreak)
class LedgerBreakAdmin(ReadOnlyAdmin):
    """Balances the daily reconciliation found out of step with their ledger: read-only, a
    break closes itself when the account adds up again."""

    list_display = ("account", "kind", "asset", "expected", "found", "detected_at", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = list_display


@admin.register(MarketDataAlert)
class MarketDataAlertAdmin(ReadOnlyAdmin):
    """Price-feed days that could not be imported whole; the market date waits for them, and an
    alert closes itself when its day imports complete."""

    list_display = ("day", "kind", "detail", "source", "detected_at", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = list_display


@admin.register(MarketDataRevision)
class MarketDataRevisionAdmin(ReadOnlyAdmin):
    """Past closes, total-return levels and distributions a reload changed (`--allow-revisions`)."""

    list_display = ("asset", "date", "field", "old", "new", "source", "revised_at")
    list_filter = ("field", "asset")
    readonly_fields = list_display


@admin.register(Distribution)
class DistributionAdmin(ReadOnlyAdmin):
    """Cash distributions per unit, paid to holders at the close before the ex-date."""

    list_display = ("asset", "ex_date", "pay_date", "amount")
    list_filter = ("asset",)
    date_hierarchy = "ex_date"
    readonly_fields = list_display


@admin.register(FeeOwed)
class FeeOwedAdmin(ReadOnlyAdmin):
    """Advisory fees an account could not pay when billed; its next inflow pays them."""

    list_display = ("account", "period", "amount", "billed_on", "collected_by", "created_at")
    list_filter = (("collected_by", admin.EmptyFieldListFilter),)
    readonly_fields = list_display


from . import admin_tax  # noqa: E402, F401  (registers the tax pages)
