"""Routes of the portfolios app's API."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("assets/", views.AssetListApi.as_view(), name="assets"),
    path("assets/<slug:ticker>/prices/", views.AssetPriceListApi.as_view(), name="asset-prices"),
    path("model-portfolios/", views.ModelPortfolioListApi.as_view(), name="model-portfolios"),
    path("accounts/", views.AccountListApi.as_view(), name="accounts"),
    path("accounts/<int:account_id>/", views.AccountDetailApi.as_view(), name="account-detail"),
    path(
        "accounts/<int:account_id>/transactions/",
        views.AccountTransactionListApi.as_view(),
        name="account-transactions",
    ),
    path(
        "accounts/<int:account_id>/deposits/", views.DepositApi.as_view(), name="account-deposits"
    ),
    path(
        "accounts/<int:account_id>/withdrawals/",
        views.WithdrawalApi.as_view(),
        name="account-withdrawals",
    ),
    path("portfolio/summary/", views.PortfolioSummaryApi.as_view(), name="portfolio-summary"),
    path("fees/", views.FeesSummaryApi.as_view(), name="fees"),
    path(
        "accounts/<int:account_id>/performance/",
        views.AccountPerformanceApi.as_view(),
        name="account-performance",
    ),
    path(
        "accounts/<int:account_id>/rebalances/",
        views.AccountRebalanceListApi.as_view(),
        name="account-rebalances",
    ),
    path(
        "accounts/<int:account_id>/recurring-deposits/",
        views.RecurringDepositListApi.as_view(),
        name="account-recurring-deposits",
    ),
    path(
        "accounts/<int:account_id>/recurring-deposits/<int:recurring_id>/",
        views.RecurringDepositDetailApi.as_view(),
        name="account-recurring-deposit-detail",
    ),
    path(
        "goals/<int:goal_id>/projection/", views.GoalProjectionApi.as_view(), name="goal-projection"
    ),
    path("goals/<int:goal_id>/funding/", views.GoalFundingApi.as_view(), name="goal-funding"),
    path("goals/allocations/", views.GoalAllocationListApi.as_view(), name="goal-allocations"),
    path("advisor/rebalances/", views.AdvisorRebalanceListApi.as_view(), name="advisor-rebalances"),
    path(
        "advisor/rebalances/<int:rebalance_id>/approve/",
        views.AdvisorRebalanceApproveApi.as_view(),
        name="advisor-rebalance-approve",
    ),
    path(
        "advisor/rebalances/<int:rebalance_id>/reject/",
        views.AdvisorRebalanceRejectApi.as_view(),
        name="advisor-rebalance-reject",
    ),
    path("", include("portfolios.api.tax")),
    path("", include("portfolios.api.harvests")),
    path("", include("portfolios.api.documents")),
    path("", include("portfolios.api.risk")),
    path("", include("portfolios.api.governance")),
    path("", include("portfolios.api.holds")),
]
