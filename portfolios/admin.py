"""Portfolio pages of the advisor workspace: model portfolio approval, accounts of the book."""

from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from advisor.models import User
from config.admin_actions import LifecycleAdmin, decide_each

from . import services
from .models import (
    Account,
    Asset,
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
    list_display = ("version", "status", "assumptions", "created_at", "decided_by", "decided_at")
    list_filter = ("status",)
    readonly_fields = ("version", "assumptions", "status", "decided_by", "decided_at")
    inlines = (ModelPortfolioInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sets come from the allocation task

    def lifecycle_decide(self, row: Any, *, approve: bool, actor: Any) -> object:
        return services.model_portfolio_set_decide(portfolio_set=row, approve=approve, actor=actor)


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
class RebalanceProposalAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "account", "status", "drift", "market_date", "created_at")
    list_filter = ("status",)
    readonly_fields = (
        "account",
        "status",
        "market_date",
        "drift",
        "threshold",
        "reason",
        "trades",
        "before_weights",
        "after_weights",
        "decided_by",
        "decided_at",
        "executed_transaction",
    )
    actions = ("approve", "reject")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RebalanceProposal]:
        queryset = super().get_queryset(request).select_related("account__client")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(account__client__advisor=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals come from the daily drift check

    @admin.display(description="Client")
    def client(self, proposal: RebalanceProposal) -> Any:
        return proposal.account.client

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], approve: bool) -> None:
        decide_each(
            self,
            request,
            queryset,
            lambda proposal: services.rebalance_decide(
                proposal=proposal, approve=approve, actor=cast(User, request.user)
            ),
            "approved and executed" if approve else "rejected",
        )

    @admin.action(description="Approve and execute the selected proposals at the close")
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected proposals")
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._decide(request, queryset, approve=False)
