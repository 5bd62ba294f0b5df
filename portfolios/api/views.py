"""Thin views over the portfolio services and selectors."""

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from config.api import ERRORS, ApiErrorSerializer, AuthedRequest, IsAdvisor
from config.celery import enqueue_on_commit

from .. import projections, selectors, services
from ..exceptions import IdempotencyKeyMissing
from ..services.ledger import account_lot_method_set
from . import serializers as s
from .idempotency import idempotent

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per deposit, withdrawal or recurring-deposit schedule (e.g. a "
    "UUID). Retrying with the same key and body replays the first response; a different body "
    "is refused (422). Kept 24 h.",
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
        summaries = selectors.account_summaries(
            accounts=list(selectors.account_list(client=client))
        )
        return Response(s.AccountSummaryOutputSerializer(summaries, many=True).data)


class AccountDetailApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.AccountSummaryOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """Value, cash, holdings with actual vs target weight, and drift."""
        summary = selectors.account_summary(account=_account(request, account_id))
        return Response(s.AccountSummaryOutputSerializer(summary).data)

    @extend_schema(
        tags=["accounts"],
        request=s.AccountPatchInputSerializer,
        responses={200: s.AccountSummaryOutputSerializer, **ERRORS},
    )
    def patch(self, request: AuthedRequest, account_id: int) -> Response:
        """Choose the lot method its sales use from now on: `{"lot_method": "hifo"}` (fifo,
        hifo or tax_min)."""
        account = _account(request, account_id)
        payload = s.AccountPatchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        account = account_lot_method_set(account=account, **payload.validated_data)
        return Response(
            s.AccountSummaryOutputSerializer(selectors.account_summary(account=account)).data
        )


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


def _idempotency_key(request: AuthedRequest) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
        raise IdempotencyKeyMissing(
            "Send an Idempotency-Key header (1–255 printable characters), e.g. a UUID.",
            extra={"fields": {"Idempotency-Key": ["Required."]}},
        )
    return key


def _replayable(code: int, body: Any, replayed: bool) -> Response:
    response = Response(body, status=code)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class _CashFlowApi(APIView):
    operation = staticmethod(services.deposit_make)
    scope = "deposit"

    def post(self, request: AuthedRequest, account_id: int) -> Response:
        account = _account(request, account_id)  # someone else's account: 404 before anything
        key = _idempotency_key(request)
        payload = s.CashFlowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        amount = payload.validated_data["amount"]

        def run() -> tuple[int, Any]:
            # A withdrawal the risk rules hold keeps its key, so its release pays it once.
            extra = {"idempotency_key": key} if self.scope == "withdrawal" else {}
            operation: Callable[..., services.CashFlowResult] = type(self).operation
            result = operation(account=account, amount=amount, **extra)
            body = {
                "message": result.message,
                "transaction": result.transaction,
                "hold": result.hold.pk if result.hold else None,
                "account": selectors.account_summary(account=account),
            }
            code = status.HTTP_202_ACCEPTED if body["hold"] else status.HTTP_201_CREATED
            return code, s.CashFlowOutputSerializer(body).data

        code, body, replayed = idempotent(
            user=request.user,
            key=key,
            scope=f"{self.scope}:{account.pk}",
            payload={"amount": str(amount)},
            operation=run,
        )
        return _replayable(code, body, replayed)


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
        responses={
            201: s.CashFlowOutputSerializer,
            202: s.CashFlowOutputSerializer,
            **ERRORS,
        },
    )
    def post(self, request: AuthedRequest, account_id: int) -> Response:
        """Withdraw cash; if cash is short, the most overweight funds are sold first."""
        return super().post(request, account_id)


# --- Rebalancing ----------------------------------------------------------------------------


class AccountRebalanceListApi(APIView):
    @extend_schema(tags=["rebalancing"], responses={200: s.RebalanceOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """The account's rebalance proposals, newest first, with trades and the reason."""
        proposals = list(selectors.rebalance_list(account=_account(request, account_id))[:50])
        return Response(_rebalances_out(proposals, many=True))


def _rebalances_out(proposals: Any, *, many: bool = False) -> Any:
    """Proposals with their account's live drift (the summary's figure) beside the stored one."""
    drifts = selectors.rebalance_current_drifts(proposals=proposals if many else [proposals])
    return s.RebalanceOutputSerializer(
        proposals, many=many, context={"current_drifts": drifts}
    ).data


class AdvisorRebalanceListApi(ListAPIView):
    permission_classes = (IsAdvisor,)
    serializer_class = s.RebalanceOutputSerializer
    filterset_fields = ("status",)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.RebalanceProposal.objects.none()
        return selectors.rebalances_for_staff(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(tags=["rebalancing"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Rebalance proposals in the advisor's book; `?status=pending` for the queue."""
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(_rebalances_out(page, many=True))


class _AdvisorRebalanceDecideApi(APIView):
    permission_classes = (IsAdvisor,)
    approve = True

    def post(self, request: AuthedRequest, rebalance_id: int) -> Response:
        proposal = selectors.rebalance_get_for_staff(user=request.user, rebalance_id=rebalance_id)
        proposal = services.rebalance_decide(
            proposal=proposal, approve=self.approve, actor=request.user
        )
        return Response(_rebalances_out(proposal))


class AdvisorRebalanceApproveApi(_AdvisorRebalanceDecideApi):
    approve = True

    @extend_schema(
        tags=["rebalancing"],
        request=None,
        responses={
            200: s.RebalanceOutputSerializer,
            **ERRORS,
            409: OpenApiResponse(
                ApiErrorSerializer, description="Stale: the proposal was superseded, not executed."
            ),
        },
    )
    def post(self, request: AuthedRequest, rebalance_id: int) -> Response:
        """Approve a pending proposal: exactly its trades execute, at the closes shown. If
        anything it was computed from changed (cash, holdings, prices, the market date, the
        goal's level or targets, the model portfolios), nothing executes: 409 `rebalance_stale`
        says what changed, the proposal is superseded and `extra.new_proposal` names the fresh
        one (null when drift is now within the threshold)."""
        return super().post(request, rebalance_id)


class AdvisorRebalanceRejectApi(_AdvisorRebalanceDecideApi):
    approve = False

    @extend_schema(
        tags=["rebalancing"], request=None, responses={200: s.RebalanceOutputSerializer, **ERRORS}
    )
    def post(self, request: AuthedRequest, rebalance_id: int) -> Response:
        """Reject a pending proposal."""
        return super().post(request, rebalance_id)


# --- Recurring deposits ---------------------------------------------------------------------


class RecurringDepositListApi(APIView):
    @extend_schema(
        tags=["accounts"], responses={200: s.RecurringDepositOutputSerializer(many=True)}
    )
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """The account's recurring deposits, running or paused (cancelled ones are gone)."""
        recurring = selectors.recurring_list(account=_account(request, account_id))
        return Response(s.RecurringDepositOutputSerializer(recurring, many=True).data)

    @extend_schema(
        tags=["accounts"],
        request=s.RecurringDepositInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.RecurringDepositOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, account_id: int) -> Response:
        """Deposit an amount every month on a day from 1 to 28. Takes an Idempotency-Key, as
        deposits do: a double-submitted schedule would pay twice a month."""
        account = _account(request, account_id)
        key = _idempotency_key(request)
        payload = s.RecurringDepositInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data

        def run() -> tuple[int, Any]:
            recurring = services.recurring_deposit_create(account=account, **data)
            return status.HTTP_201_CREATED, s.RecurringDepositOutputSerializer(recurring).data

        code, body, replayed = idempotent(
            user=request.user,
            key=key,
            scope=f"recurring:{account.pk}",
            payload={"amount": str(data["amount"]), "day_of_month": data["day_of_month"]},
            operation=run,
        )
        return _replayable(code, body, replayed)


class RecurringDepositDetailApi(APIView):
    @extend_schema(
        tags=["accounts"],
        request=s.RecurringDepositPatchInputSerializer,
        responses={200: s.RecurringDepositOutputSerializer, **ERRORS},
    )
    def patch(self, request: AuthedRequest, account_id: int, recurring_id: int) -> Response:
        """Pause (`{"active": false}`) or resume (`{"active": true}`) a recurring deposit."""
        account = _account(request, account_id)
        recurring = selectors.recurring_get(account=account, recurring_id=recurring_id)
        payload = s.RecurringDepositPatchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        recurring = services.recurring_deposit_pause(
            recurring=recurring, paused=not payload.validated_data["active"]
        )
        return Response(s.RecurringDepositOutputSerializer(recurring).data)

    @extend_schema(tags=["accounts"], responses={204: None, **ERRORS})
    def delete(self, request: AuthedRequest, account_id: int, recurring_id: int) -> Response:
        """Stop a recurring deposit."""
        account = _account(request, account_id)
        recurring = selectors.recurring_get(account=account, recurring_id=recurring_id)
        services.recurring_deposit_cancel(recurring=recurring)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Goal projections -----------------------------------------------------------------------


class GoalProjectionApi(APIView):
    @extend_schema(
        tags=["goals"],
        parameters=[
            OpenApiParameter("monthly_contribution", str, description="what-if: monthly amount"),
            OpenApiParameter("target_date", str, description="what-if: another target date"),
        ],
        responses={200: s.ProjectionOutputSerializer, 202: s.ProjectionOutputSerializer, **ERRORS},
    )
    def get(self, request: AuthedRequest, goal_id: int) -> Response:
        """Monte Carlo projection: 10th/50th/90th percentile paths in today's money, the
        probability of reaching the target, and the monthly amount for an 80% chance (or, when
        none would do, the target that is within reach). Without what-ifs it is the goal's
        current plan, the chance of success every other surface shows."""
        client = advisor_selectors.client_of_user(request.user)
        goal = advisor_selectors.goal_get(client=client, goal_id=goal_id)
        query = s.ProjectionQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        outcome = projections.projection_answer(goal=goal, **query.validated_data)
        # Accepted while the worker computes it; the client asks again.
        code = status.HTTP_202_ACCEPTED if outcome.status == "pending" else status.HTTP_200_OK
        return Response(s.ProjectionOutputSerializer(outcome).data, status=code)


class GoalFundingApi(APIView):
    @extend_schema(tags=["goals"], responses={200: s.GoalFundingOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, goal_id: int) -> Response:
        """How the goal is funded: its account, the plan's starting amount and monthly
        contribution, and the month's total of the account's active recurring deposits
        (`scheduled_monthly`), to compare with the plan."""
        client = advisor_selectors.client_of_user(request.user)
        funding = selectors.goal_funding_get(client=client, goal_id=goal_id)
        return Response(s.GoalFundingOutputSerializer(funding).data)


# --- Performance and the dashboard ----------------------------------------------------------


class AccountPerformanceApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.PerformanceOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """Time- and money-weighted returns for 1M, 3M, YTD, 1Y and since inception against a
        60/40 benchmark, realised and unrealised gains, and the daily value history."""
        account = _account(request, account_id)
        # Cached under a fingerprint of everything it shows (the account's transactions, the
        # prices, its goal and risk level, the model portfolios), so a hit is never stale.
        fingerprint = selectors.account_performance_fingerprint(account=account)
        key = f"account-performance:{account.pk}:{fingerprint}"
        body = cache.get(key)
        if body is None:
            performance = selectors.account_performance(account=account)
            body = s.PerformanceOutputSerializer(performance).data
            cache.set(key, body, selectors.PERFORMANCE_CACHE_SECONDS)
        return Response(body)


class PortfolioSummaryApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.PortfolioSummaryOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """The dashboard in one call: value, cash, accounts with drift, goals, performance."""
        client = advisor_selectors.client_of_user(request.user)
        # Cached under a fingerprint of everything it shows, so a hit is never stale.
        key = f"portfolio-summary:{client.pk}:{selectors.portfolio_fingerprint(client=client)}"
        body = cache.get(key)
        if body is None:
            summary = selectors.portfolio_summary(client=client)
            body = s.PortfolioSummaryOutputSerializer(summary).data
            cache.set(key, body, selectors.SUMMARY_CACHE_SECONDS)
            pending = [g.id for g in summary.goals if g.projection_status == "pending"]
            if pending:  # e.g. new prices since the nightly run: the worker catches up
                enqueue_on_commit("portfolios.goal_plans_project", goal_ids=pending)
        return Response(body)


class FeesSummaryApi(APIView):
    @extend_schema(tags=["accounts"], responses={200: s.FeesSummaryOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """Advisory fees: the schedule, fees paid this year and since inception per account and
        in total, the annual fee at today's value, and the funds' own expense ratios."""
        client = advisor_selectors.client_of_user(request.user)
        return Response(s.FeesSummaryOutputSerializer(selectors.fees_summary(client=client)).data)


# --- Goal allocations (the risk page) -------------------------------------------------------


class GoalAllocationListApi(APIView):
    @extend_schema(
        tags=["goals"], responses={200: s.GoalAllocationOutputSerializer(many=True), **ERRORS}
    )
    def get(self, request: AuthedRequest) -> Response:
        """Each of my goals: the level it is invested at, why, and the stock/bond split of the
        model portfolio it is rebalanced to."""
        client = advisor_selectors.client_of_user(request.user)
        rows = selectors.goal_allocations(client=client)
        return Response(s.GoalAllocationOutputSerializer(rows, many=True).data)
