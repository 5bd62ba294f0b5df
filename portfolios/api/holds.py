"""Routes and views of held withdrawals (risk control, issue #16).

A withdrawal the risk rules hold (`portfolios.services.holds`) waits for an advisor: the client
sees their holds; an advisor sees those of the clients in reach (`clients_in_reach`; with the
compliance permission, every client's) and releases or rejects them. From the four-eyes
threshold up, a release needs two different staff members: the first approval answers 200 with
the hold still pending. A decided hold answers 409."""

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from advisor.models import WithdrawalHold
from config.api import ERRORS, ApiErrorSerializer, AuthedRequest, InputSerializer, IsAdvisor

from ..services import holds
from ..services.cash_flows import withdrawal_release

MONEY_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}
LIST_LIMIT = 100

# --- Serializers ------------------------------------------------------------------------------


class WithdrawalHoldQuerySerializer(InputSerializer):
    status = serializers.ChoiceField(choices=WithdrawalHold.Status.choices, required=False)


class WithdrawalHoldDecideInputSerializer(InputSerializer):
    note = serializers.CharField(
        max_length=holds.NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class WithdrawalHoldOutputSerializer(serializers.ModelSerializer):
    """A held withdrawal as its client sees it: what, from where, and where it stands."""

    amount = serializers.DecimalField(**MONEY_OUT)
    goal_name = serializers.CharField(source="goal.name")
    approvals_given = serializers.SerializerMethodField(help_text="0, 1 or 2 of `approvals_needed`")

    class Meta:
        model = WithdrawalHold
        fields: tuple[str, ...] = (
            "id",
            "account_id",
            "goal",
            "goal_name",
            "amount",
            "status",
            "approvals_needed",
            "approvals_given",
            "created_at",
            "expires_at",
            "decided_at",
            "transaction_id",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_approvals_given(self, hold: WithdrawalHold) -> int:
        if hold.status == WithdrawalHold.Status.RELEASED:
            return hold.approvals_needed
        return int(hold.first_approved_by_id is not None)


class RuleFiredOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    action = serializers.CharField()
    reason = serializers.CharField()


class AdvisorWithdrawalHoldOutputSerializer(WithdrawalHoldOutputSerializer):
    """A held withdrawal as staff see it: the client's, why it was held (the rule versions
    fired, the anomaly score) and who approved it."""

    client_id = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    fired = RuleFiredOutputSerializer(source="risk_event.fired", many=True, default=list)
    score = serializers.FloatField(
        source="risk_event.score", allow_null=True, default=None, help_text="anomaly score 0–1"
    )
    first_approved_by = serializers.EmailField(
        source="first_approved_by.email", allow_null=True, default=None
    )
    decided_by = serializers.EmailField(source="decided_by.email", allow_null=True, default=None)

    class Meta(WithdrawalHoldOutputSerializer.Meta):
        fields = (
            *WithdrawalHoldOutputSerializer.Meta.fields,
            "client_id",
            "reasons",
            "fired",
            "score",
            "first_approved_by",
            "first_approved_at",
            "decided_by",
            "decision_note",
        )
        read_only_fields = fields


STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=WithdrawalHold.Status.values, description="only holds in this status"
)
DECIDED = OpenApiResponse(
    ApiErrorSerializer,
    description="Nothing moved: already decided or expired (`withdrawal_hold_decided`, "
    "`withdrawal_hold_expired`), your own first approval again (`withdrawal_hold_four_eyes`), "
    "or the money has left the account since (`withdrawal_hold_insufficient_funds`).",
)


def _status(request: Request) -> str | None:
    wanted = {"status": request.query_params["status"]} if "status" in request.query_params else {}
    query = WithdrawalHoldQuerySerializer(data=wanted)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("status")


# --- Views ------------------------------------------------------------------------------------


class WithdrawalHoldListApi(APIView):
    @extend_schema(
        tags=["accounts"],
        parameters=[STATUS_PARAMETER],
        responses={200: WithdrawalHoldOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """My held withdrawals, newest first (the latest 100); `?status=pending` for those
        still waiting for review."""
        client = advisor_selectors.client_of_user(request.user)
        found = holds.holds_of_client(client=client, status=_status(request))[:LIST_LIMIT]
        return Response(WithdrawalHoldOutputSerializer(found, many=True).data)


class AdvisorWithdrawalHoldListApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["accounts"],
        parameters=[STATUS_PARAMETER],
        responses={200: AdvisorWithdrawalHoldOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """Held withdrawals of the clients in reach, newest first (the latest 100);
        `?status=pending` for the review queue."""
        found = holds.holds_list_for_staff(user=request.user, status=_status(request))
        found = found.select_related("first_approved_by", "decided_by")[:LIST_LIMIT]
        return Response(AdvisorWithdrawalHoldOutputSerializer(found, many=True).data)


class AdvisorWithdrawalHoldReleaseApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["accounts"],
        request=WithdrawalHoldDecideInputSerializer,
        responses={200: AdvisorWithdrawalHoldOutputSerializer, **ERRORS, 409: DECIDED},
    )
    def post(self, request: AuthedRequest, hold_id: int) -> Response:
        """Release a held withdrawal: it is made at today's close, once. From the four-eyes
        threshold up, the first approval comes back still `pending`; a second staff member's
        makes it."""
        hold = holds.hold_get_for_staff(user=request.user, hold_id=hold_id)
        payload = WithdrawalHoldDecideInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        hold = withdrawal_release(hold=hold, actor=request.user, **payload.validated_data)
        hold = holds.hold_get_for_staff(user=request.user, hold_id=hold.pk)
        return Response(AdvisorWithdrawalHoldOutputSerializer(hold).data)


class AdvisorWithdrawalHoldRejectApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["accounts"],
        request=WithdrawalHoldDecideInputSerializer,
        responses={200: AdvisorWithdrawalHoldOutputSerializer, **ERRORS, 409: DECIDED},
    )
    def post(self, request: AuthedRequest, hold_id: int) -> Response:
        """Reject a held withdrawal: no money moves; the client is told."""
        hold = holds.hold_get_for_staff(user=request.user, hold_id=hold_id)
        payload = WithdrawalHoldDecideInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        hold = holds.withdrawal_hold_reject(hold=hold, actor=request.user, **payload.validated_data)
        hold = holds.hold_get_for_staff(user=request.user, hold_id=hold.pk)
        return Response(AdvisorWithdrawalHoldOutputSerializer(hold).data)


urlpatterns: list[URLPattern] = [
    path("withdrawal-holds/", WithdrawalHoldListApi.as_view(), name="withdrawal-holds"),
    path(
        "advisor/withdrawal-holds/",
        AdvisorWithdrawalHoldListApi.as_view(),
        name="advisor-withdrawal-holds",
    ),
    path(
        "advisor/withdrawal-holds/<int:hold_id>/release/",
        AdvisorWithdrawalHoldReleaseApi.as_view(),
        name="advisor-withdrawal-hold-release",
    ),
    path(
        "advisor/withdrawal-holds/<int:hold_id>/reject/",
        AdvisorWithdrawalHoldRejectApi.as_view(),
        name="advisor-withdrawal-hold-reject",
    ),
]
