"""Tax pages of the advisor workspace: tax-loss harvests to approve (like rebalances), the
clients' documents (statements and tax reports) to download, and the lot sales and wash sales
behind every realised gain, read-only."""

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from advisor.models import User
from config.errors import ApplicationError

from .admin_decide import DecideOnPageAdmin
from .admin_html import money_cell, percent_cell, table
from .models import Document, LotSale, TaxHarvest, WashSale
from .services import harvesting


def _in_reach(queryset: QuerySet[Any], request: HttpRequest, client_path: str) -> QuerySet[Any]:
    """The advisor's book and the firm queue (advisor.selectors.clients_in_reach's rule)."""
    if request.user.is_superuser:
        return queryset
    return queryset.filter(
        Q(**{f"{client_path}__advisor": request.user})
        | Q(**{f"{client_path}__advisor__isnull": True})
    )


@admin.register(TaxHarvest)
class TaxHarvestAdmin(DecideOnPageAdmin):
    """Harvests waiting for approval (clients who did not opt in to automatic harvesting), and
    every harvest and switch-back done. A harvest's page shows the lots it sells, the loss, the
    estimated tax saved and the replacement fund, with Approve / Reject."""

    list_display = (
        "id",
        "client",
        "account",
        "kind",
        "status",
        "fund_switch",
        "loss_realised",
        "tax_saved_display",
        "market_date",
    )
    list_filter = ("status", "kind")
    fields = (
        "account",
        "client",
        "kind",
        "status",
        "market_date",
        "fund_switch",
        "reason",
        "lots_table",
        "loss_realised",
        "tax_saved_display",
        "superseded_reason",
        "decided_by",
        "decided_at",
        "executed_transaction",
    )
    readonly_fields = fields
    actions = ("approve", "reject")
    decide_context_key = "harvest_decide_url"
    not_found = "No such harvest in your book."

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaxHarvest]:
        queryset = (
            super()
            .get_queryset(request)
            .select_related("account__client", "account__goal", "sell_asset", "buy_asset")
        )
        return _in_reach(queryset, request, "account__client")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # harvests come from the daily check

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are history

    @admin.display(description="Client")
    def client(self, harvest: TaxHarvest) -> Any:
        return harvest.account.client

    @admin.display(description="Switch")
    def fund_switch(self, harvest: TaxHarvest) -> str:
        return (
            f"Sell {harvest.units.normalize():f} {harvest.sell_asset.ticker} "
            f"({money_cell(harvest.proceeds, harvest.account.currency)}), buy "
            f"{harvest.buy_units.normalize():f} {harvest.buy_asset.ticker}"
        )

    @admin.display(description="Gain (−) or loss realised")
    def loss_realised(self, harvest: TaxHarvest) -> str:
        total = harvest.short_term_gain + harvest.long_term_gain
        currency = harvest.account.currency
        short, long = harvest.short_term_gain, harvest.long_term_gain
        return (
            f"{money_cell(total, currency)} (short-term {money_cell(short, currency)}, "
            f"long-term {money_cell(long, currency)})"
        )

    @admin.display(description="Estimated tax saved")
    def tax_saved_display(self, harvest: TaxHarvest) -> str:
        return (
            f"{money_cell(harvest.tax_saved, harvest.account.currency)} at "
            f"{percent_cell(harvest.tax_rate_short)} short-term / "
            f"{percent_cell(harvest.tax_rate_long)} long-term"
        )

    @admin.display(description="Lots sold")
    def lots_table(self, harvest: TaxHarvest) -> SafeString:
        currency = harvest.account.currency
        return table(
            ("Lot", "Acquired", "Units", "Cost basis", "Proceeds", "Gain", "Term"),
            (
                (
                    lot.get("lot"),
                    lot.get("acquired_on"),
                    lot.get("units"),
                    money_cell(lot.get("cost_basis"), currency),
                    money_cell(lot.get("proceeds"), currency),
                    money_cell(lot.get("gain"), currency),
                    lot.get("term"),
                )
                for lot in harvest.lots
            ),
            "No lots.",
        )

    def _decide_one(self, request: HttpRequest, harvest: TaxHarvest, approve: bool) -> None:
        try:
            decided = harvesting.harvest_decide(
                harvest=harvest, approve=approve, actor=cast(User, request.user)
            )
        except ApplicationError as exc:  # stale: nothing executed, a fresh proposal made
            self.message_user(request, exc.message, messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, f"{harvest}: {'; '.join(exc.messages)}", messages.ERROR)
        else:
            if approve:
                text = (
                    f"Harvest {decided.pk} executed: sold {decided.sell_asset.ticker}, bought "
                    f"{decided.buy_asset.ticker} at the closes of {decided.market_date}, exactly "
                    "as shown."
                )
            else:
                text = f"Harvest {decided.pk} rejected; nothing was traded."
            self.message_user(request, text, messages.SUCCESS)

    @admin.action(description="Approve and execute the selected harvests at the closes shown")
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for harvest in queryset:
            self._decide_one(request, harvest, approve=True)

    @admin.action(description="Reject the selected harvests")
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for harvest in queryset:
            self._decide_one(request, harvest, approve=False)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LotSale)
class LotSaleAdmin(_ReadOnly):
    list_display = (
        "sold_on",
        "account",
        "asset",
        "quantity",
        "proceeds",
        "cost_basis",
        "gain",
        "wash_disallowed",
        "term",
    )
    list_filter = ("term",)
    date_hierarchy = "sold_on"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LotSale]:
        queryset = super().get_queryset(request).select_related("account__goal", "asset")
        return _in_reach(queryset, request, "account__client")


@admin.register(WashSale)
class WashSaleAdmin(_ReadOnly):
    list_display = ("created_at", "sale", "replacement", "units", "disallowed", "basis_added")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WashSale]:
        queryset = super().get_queryset(request).select_related("sale__asset", "replacement")
        return _in_reach(queryset, request, "sale__account__client")


@admin.register(Document)
class DocumentAdmin(_ReadOnly):
    """Every client's statements and tax reports, with their PDF and CSV downloads."""

    list_display = ("title", "client", "kind", "period_start", "created_at", "downloads")
    list_filter = ("kind",)
    fields = ("title", "client", "account", "kind", "period_start", "period_end", "downloads")
    readonly_fields = fields
    search_fields = ("client__first_name", "client__last_name", "client__user__email")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        queryset = super().get_queryset(request).select_related("client", "account__goal")
        return _in_reach(queryset, request, "client").defer("pdf", "csv")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)

    @admin.display(description="Download")
    def downloads(self, document: Document) -> SafeString:
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("admin:portfolios_document_download", args=[document.pk, "pdf"]),
            reverse("admin:portfolios_document_download", args=[document.pk, "csv"]),
        )

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:object_id>/download/<str:fmt>/",
            self.admin_site.admin_view(self.download_view),
            name="portfolios_document_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, object_id: int, fmt: str) -> HttpResponse:
        if fmt not in ("pdf", "csv"):
            raise Http404("PDF or CSV.")
        document = _in_reach(Document.objects.all(), request, "client").filter(pk=object_id).first()
        if document is None:
            raise Http404("No such document in your book.")
        name = f"meridian-{document.kind}-{document.period_start:%Y-%m}-{document.pk}.{fmt}"
        if fmt == "pdf":
            response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
        else:
            response = HttpResponse(document.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
