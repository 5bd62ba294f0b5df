from django.urls import path

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
]
