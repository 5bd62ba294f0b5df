"""Routes and views of the portfolios API's tax-loss-harvesting endpoints (the tax issue, #15).

A client sees and decides the harvests (and switch backs) of their own accounts; an advisor those
of the clients in reach (`advisor.selectors.clients_in_reach`). Approval executes exactly the
preview shown; a stale one is a 409 that says what changed, an already decided one a 400."""

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from config.api import ERRORS, ApiErrorSerializer, AuthedRequest, InputSerializer, IsAdvisor

from .. import selectors
from ..models import TaxHarvest
from ..services import harvesting

MONEY_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}
UNITS_OUT: dict[str, Any] = {"max_digits": 20, "decimal_places": 8, "coerce_to_string": True}
PRICE_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 4, "coerce_to_string": True}
RATE_OUT: dict[str, Any] = {"max_digits": 5, "decimal_places": 4, "coerce_to_string": True}
CLIENT_LIST_LIMIT = 100


# --- Serializers ------------------------------------------------------------------------------


class TaxHarvestQuerySerializer(InputSerializer):
    status = serializers.ChoiceField(choices=TaxHarvest.Status.choices, required=False)


class TaxHarvestLotOutputSerializer(serializers.Serializer):
    lot = serializers.IntegerField(help_text="the lot's id")
    acquired_on = serializers.DateField()
    units = serializers.CharField()
    unit_cost = serializers.CharField(help_text="basis per unit, wash-sale adjustments included")
    cost_basis = serializers.CharField()
    proceeds = serializers.CharField(help_text="this lot's share of the sale's proceeds")
    gain = serializers.CharField(help_text="proceeds − cost basis (negative: a loss)")
    term = serializers.ChoiceField(["short", "long"])


class TaxHarvestOutputSerializer(serializers.ModelSerializer):
    """A harvest (sell a fund's lots at a loss, buy its alternate) or a switch back (sell the
    alternate, buy the primary), with its preview: what approval executes, exactly."""

    client_id = serializers.IntegerField(source="account.client_id")
    sell = serializers.CharField(source="sell_asset.ticker", help_text="the fund sold")
    buy = serializers.CharField(source="buy_asset.ticker", help_text="the fund bought")
    units = serializers.DecimalField(**UNITS_OUT, help_text="units sold")
    price = serializers.DecimalField(**PRICE_OUT, help_text="the close the sale fills at")
    proceeds = serializers.DecimalField(**MONEY_OUT)
    buy_units = serializers.DecimalField(**UNITS_OUT)
    buy_price = serializers.DecimalField(**PRICE_OUT)
    lots = TaxHarvestLotOutputSerializer(many=True)
    short_term_gain = serializers.DecimalField(**MONEY_OUT)
    long_term_gain = serializers.DecimalField(**MONEY_OUT)
    tax_rate_short = serializers.DecimalField(**RATE_OUT, help_text="a fraction: 0.24 is 24%")
    tax_rate_long = serializers.DecimalField(**RATE_OUT)
    tax_saved = serializers.DecimalField(
        **MONEY_OUT,
        help_text="estimated federal tax saved: −(short-term gain × short rate + long-term gain "
        "× long rate); negative for a switch back that realises a gain",
    )
    executed_transaction: serializers.PrimaryKeyRelatedField[Any] = (
        serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    )

    class Meta:
        model = TaxHarvest
        fields = (
            "id",
            "account",
            "client_id",
            "kind",
            "status",
            "market_date",
            "sell",
            "buy",
            "units",
            "price",
            "proceeds",
            "buy_units",
            "buy_price",
            "lots",
            "short_term_gain",
            "long_term_gain",
            "tax_rate_short",
            "tax_rate_long",
            "tax_saved",
            "reason",
            "superseded_reason",
            "decided_at",
            "executed_transaction",
            "created_at",
        )
        read_only_fields = fields


STALE = OpenApiResponse(
    ApiErrorSerializer,
    description="Stale (`tax_harvest_stale`): nothing executed; the harvest is superseded and "
    "`extra.new_harvest` names the fresh one (null when no longer due).",
)
STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=TaxHarvest.Status.values, description="only harvests in this status"
)


def _status(request: Request) -> str | None:
    # Only `status` is read here: paging parameters belong to the paginator.
    wanted = {"status": request.query_params["status"]} if "status" in request.query_params else {}
    query = TaxHarvestQuerySerializer(data=wanted)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("status")


# --- The client's views -----------------------------------------------------------------------


class TaxHarvestListApi(APIView):
    @extend_schema(
        tags=["tax"],
        parameters=[STATUS_PARAMETER],
        responses={200: TaxHarvestOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """My tax-loss harvests and switch backs, newest first (the latest 100);
        `?status=pending` for those waiting for my approval."""
        client = advisor_selectors.client_of_user(request.user)
        harvests = harvesting.tax_harvest_list(client=client, status=_status(request))
        return Response(TaxHarvestOutputSerializer(harvests[:CLIENT_LIST_LIMIT], many=True).data)


class AccountTaxHarvestListApi(APIView):
    @extend_schema(
        tags=["tax"],
        parameters=[STATUS_PARAMETER],
        responses={200: TaxHarvestOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """One account's tax-loss harvests and switch backs, newest first (the latest 100)."""
        client = advisor_selectors.client_of_user(request.user)
        account = selectors.account_get(client=client, account_id=account_id)
        harvests = harvesting.tax_harvest_list(
            client=client, account=account, status=_status(request)
        )
        return Response(TaxHarvestOutputSerializer(harvests[:CLIENT_LIST_LIMIT], many=True).data)

    @extend_schema(
        tags=["tax"],
        request=None,
        responses={200: TaxHarvestOutputSerializer(many=True), **ERRORS},
    )
    def post(self, request: AuthedRequest, account_id: int) -> Response:
        """Run the daily harvesting check on this taxable account now, at the market date's
        closes: what it proposes (or executes, where I opted in) comes back; an empty list when
        no fund qualifies. An IRA: 400."""
        client = advisor_selectors.client_of_user(request.user)
        account = selectors.account_get(client=client, account_id=account_id)
        harvests = harvesting.harvest_check(account=account)
        return Response(TaxHarvestOutputSerializer(harvests, many=True).data)


class _TaxHarvestDecideApi(APIView):
    approve = True

    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        client = advisor_selectors.client_of_user(request.user)
        harvest = harvesting.tax_harvest_get(client=client, harvest_id=harvest_id)
        harvest = harvesting.harvest_decide(
            harvest=harvest, approve=self.approve, actor=request.user
        )
        return Response(TaxHarvestOutputSerializer(harvest).data)


class TaxHarvestApproveApi(_TaxHarvestDecideApi):
    approve = True

    @extend_schema(
        tags=["tax"],
        request=None,
        responses={200: TaxHarvestOutputSerializer, **ERRORS, 409: STALE},
    )
    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        """Approve one of my pending harvests: exactly the lots shown are sold and the fund shown
        bought, at the closes shown, in one transaction. If anything it was computed from
        changed, nothing executes (409). Already decided: 400."""
        return super().post(request, harvest_id)


class TaxHarvestRejectApi(_TaxHarvestDecideApi):
    approve = False

    @extend_schema(
        tags=["tax"], request=None, responses={200: TaxHarvestOutputSerializer, **ERRORS}
    )
    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        """Reject one of my pending harvests. Already decided: 400."""
        return super().post(request, harvest_id)


# --- The advisor's views ----------------------------------------------------------------------


class AdvisorTaxHarvestListApi(ListAPIView):
    permission_classes = (IsAdvisor,)
    serializer_class = TaxHarvestOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return TaxHarvest.objects.none()
        return harvesting.tax_harvests_for_staff(
            user=self.request.user,  # type: ignore[arg-type]
            status=_status(self.request),
        )

    @extend_schema(tags=["tax"], parameters=[STATUS_PARAMETER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Harvests of the clients in the advisor's book and the firm queue, newest first;
        `?status=pending` for those waiting for approval."""
        return super().get(request, *args, **kwargs)


class _AdvisorTaxHarvestDecideApi(APIView):
    permission_classes = (IsAdvisor,)
    approve = True

    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        harvest = harvesting.tax_harvest_get_for_staff(user=request.user, harvest_id=harvest_id)
        harvest = harvesting.harvest_decide(
            harvest=harvest, approve=self.approve, actor=request.user
        )
        return Response(TaxHarvestOutputSerializer(harvest).data)


class AdvisorTaxHarvestApproveApi(_AdvisorTaxHarvestDecideApi):
    approve = True

    @extend_schema(
        tags=["tax"],
        request=None,
        responses={200: TaxHarvestOutputSerializer, **ERRORS, 409: STALE},
    )
    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        """Approve a client's pending harvest: exactly its preview executes, or nothing (409
        when stale). Already decided: 400."""
        return super().post(request, harvest_id)


class AdvisorTaxHarvestRejectApi(_AdvisorTaxHarvestDecideApi):
    approve = False

    @extend_schema(
        tags=["tax"], request=None, responses={200: TaxHarvestOutputSerializer, **ERRORS}
    )
    def post(self, request: AuthedRequest, harvest_id: int) -> Response:
        """Reject a client's pending harvest. Already decided: 400."""
        return super().post(request, harvest_id)


urlpatterns: list[URLPattern] = [
    path("tax-harvests/", TaxHarvestListApi.as_view(), name="tax-harvests"),
    path(
        "tax-harvests/<int:harvest_id>/approve/",
        TaxHarvestApproveApi.as_view(),
        name="tax-harvest-approve",
    ),
    path(
        "tax-harvests/<int:harvest_id>/reject/",
        TaxHarvestRejectApi.as_view(),
        name="tax-harvest-reject",
    ),
    path(
        "accounts/<int:account_id>/tax-harvests/",
        AccountTaxHarvestListApi.as_view(),
        name="account-tax-harvests",
    ),
    path("advisor/tax-harvests/", AdvisorTaxHarvestListApi.as_view(), name="advisor-tax-harvests"),
    path(
        "advisor/tax-harvests/<int:harvest_id>/approve/",
        AdvisorTaxHarvestApproveApi.as_view(),
        name="advisor-tax-harvest-approve",
    ),
    path(
        "advisor/tax-harvests/<int:harvest_id>/reject/",
        AdvisorTaxHarvestRejectApi.as_view(),
        name="advisor-tax-harvest-reject",
    ),
]
