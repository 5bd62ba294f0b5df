"""Thin views over the portfolio services and selectors."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from advisor.api.views import ERRORS, AuthedRequest

from .. import selectors, services
from ..exceptions import IdempotencyKeyMissing
from . import serializers as s

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per deposit or withdrawal (e.g. a UUID). Retrying with the same "
    "key and body replays the first response; a different body is refused (422). Kept 24 h.",
)


class AssetListApi(ListAPIView):
    serializer_class = s.AssetOutputSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.asset_list()

    @extend_schema(tags=["market"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The fund universe."""
        return super().get(request, *args, **kwargs)


class AssetPriceListApi(ListAPIView):
    serializer_class = s.PriceOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.Price.objects.none()
        return selectors.price_list(asset=selectors.asset_get(ticker=self.kwargs["ticker"]))

    @extend_schema(tags=["market"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Daily closes of one fund, oldest first (paginated)."""
        return super().get(request, *args, **kwargs)


class ModelPortfolioListApi(ListAPIView):
    serializer_class = s.ModelPortfolioOutputSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.model_portfolios_approved()

    @extend_schema(tags=["market"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The approved model portfolios, levels 1 to 10."""
        return super().get(request, *args, **kwargs)


def _account(request: AuthedRequest, account_id: int) -> Any:
    client = advisor_selectors.client_of_user(request.user)
    return selectors.account_get(client=client, account_id=account_id)


class AccountListApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.AccountSummaryOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        """My accounts (one per goal), valued at the market date."""
        client = advisor_selectors.client_of_user(request.user)
        for goal in client.goals.exclude(status="closed"):
            services.account_open(goal=goal)
        summaries = [
            selectors.account_summary(account=a) for a in selectors.account_list(client=client)
        ]
        return Response(s.AccountSummaryOutputSerializer(summaries, many=True).data)


class AccountDetailApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.AccountSummaryOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """Value, cash, holdings with actual vs target weight, and drift."""
        summary = selectors.account_summary(account=_account(request, account_id))
        return Response(s.AccountSummaryOutputSerializer(summary).data)


class AccountTransactionListApi(ListAPIView):
    serializer_class = s.TransactionOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.Transaction.objects.none()
        return selectors.transaction_list(
            account=_account(self.request, self.kwargs["account_id"])  # type: ignore[arg-type]
        )

    @extend_schema(tags=["accounts"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The account's transactions, newest first, with their ledger entries."""
        return super().get(request, *args, **kwargs)


class _CashFlowApi(APIView):
    operation = staticmethod(services.deposit_make)
    scope = "deposit"

    def post(self, request: AuthedRequest, account_id: int) -> Response:
        account = _account(request, account_id)  # someone else's account: 404 before anything
        key = request.headers.get("Idempotency-Key", "")
        if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
            raise IdempotencyKeyMissing(
                "Send an Idempotency-Key header (1–255 printable characters), e.g. a UUID.",
                extra={"fields": {"Idempotency-Key": ["Required."]}},
            )
        payload = s.CashFlowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        amount = payload.validated_data["amount"]

        def run() -> tuple[int, Any]:
            result = type(self).operation(account=account, amount=amount)
            body = {
                "message": result.message,
                "transaction": result.transaction,
                "account": selectors.account_summary(account=account),
            }
            return status.HTTP_201_CREATED, s.CashFlowOutputSerializer(body).data

        code, body, replayed = services.idempotent(
            user=request.user,
            key=key,
            scope=f"{self.scope}:{account.pk}",
            payload={"amount": str(amount)},
            operation=run,
        )
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class DepositApi(_CashFlowApi):
    operation = staticmethod(services.deposit_make)
    scope = "deposit"

    @extend_schema(
        tags=["accounts"],
        parameters=[IDEMPOTENCY_KEY],
        request=s.CashFlowInputSerializer,
        responses={201: s.CashFlowOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, account_id: int) -> Response:
        """Deposit cash; it is invested at the close, most underweight funds first."""
        return super().post(request, account_id)


class WithdrawalApi(_CashFlowApi):
    operation = staticmethod(services.withdrawal_make)
    scope = "withdrawal"

    @extend_schema(
        tags=["accounts"],
        parameters=[IDEMPOTENCY_KEY],
        request=s.CashFlowInputSerializer,
        responses={201: s.CashFlowOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, account_id: int) -> Response:
        """Withdraw cash; if cash is short, the most overweight funds are sold first."""
        return super().post(request, account_id)
