"""Routes and views of the portfolios API's tax endpoints (see the tax issue, #15): an
account's tax lots, realised gains by tax year, and the client's tax-year summary.

A client sees only their own accounts (another's is a 404), as on the account detail endpoint.
Money is a string with two decimals, units a string with eight."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from advisor.models import Client, age_on
from config.api import ERRORS, AuthedRequest

from .. import selectors, tax
from ..market import market_date_get
from ..models import Account
from .serializers import MONEY_OUT

UNITS_OUT: dict[str, Any] = {"max_digits": 20, "decimal_places": 8, "coerce_to_string": True}
PRICE_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 4, "coerce_to_string": True}

YEAR = OpenApiParameter(
    "year", int, description="the tax year (calendar year); default: the market date's year"
)


# --- Serializers ---------------------------------------------------------------------------------


class TaxYearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False,
        min_value=1900,
        max_value=2999,
        error_messages={
            "invalid": "Enter a year, e.g. 2023.",
            "min_value": "Enter a year from 1900 to 2999.",
            "max_value": "Enter a year from 1900 to 2999.",
        },
    )


class LotListQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(required=False, default=False)


class LotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="lot.id")
    ticker = serializers.CharField()
    acquired_on = serializers.DateField(source="lot.acquired_on")
    holding_from = serializers.DateField(
        help_text="the day the holding period counts from: the acquisition date, or an earlier "
        "one a wash sale carried over"
    )
    term = serializers.ChoiceField(
        choices=("short", "long"), help_text="the term of its units if sold at the market date"
    )
    quantity = serializers.DecimalField(source="lot.quantity", **UNITS_OUT)
    remaining = serializers.DecimalField(source="lot.remaining", **UNITS_OUT)
    unit_cost = serializers.DecimalField(source="lot.unit_cost", **PRICE_OUT)
    cost_basis = serializers.DecimalField(
        **MONEY_OUT, help_text="of the remaining units, wash-sale adjustment included"
    )
    price = serializers.DecimalField(
        **PRICE_OUT, allow_null=True, help_text="the close at the market date"
    )
    value = serializers.DecimalField(**MONEY_OUT)
    unrealised_gain = serializers.DecimalField(source="gain", **MONEY_OUT)
    basis_adjustment = serializers.DecimalField(
        source="lot.basis_adjustment",
        **MONEY_OUT,
        help_text="disallowed wash-sale losses added to the lot's basis (for all its units)",
    )


class TermTotalsOutputSerializer(serializers.Serializer):
    proceeds = serializers.DecimalField(**MONEY_OUT)
    cost_basis = serializers.DecimalField(**MONEY_OUT)
    gain = serializers.DecimalField(**MONEY_OUT, help_text="proceeds − cost basis")
    wash_disallowed = serializers.DecimalField(
        **MONEY_OUT, help_text="losses disallowed by wash sales"
    )
    reportable = serializers.DecimalField(**MONEY_OUT, help_text="gain + wash_disallowed")


class LotSaleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    ticker = serializers.CharField(source="asset.ticker")
    acquired_on = serializers.DateField(source="lot.acquired_on")
    sold_on = serializers.DateField()
    quantity = serializers.DecimalField(**UNITS_OUT)
    proceeds = serializers.DecimalField(**MONEY_OUT)
    cost_basis = serializers.DecimalField(**MONEY_OUT)
    gain = serializers.DecimalField(**MONEY_OUT)
    wash_disallowed = serializers.DecimalField(**MONEY_OUT)
    term = serializers.ChoiceField(choices=("short", "long"))


class RealisedTotalsOutputSerializer(serializers.Serializer):
    short_term = TermTotalsOutputSerializer()
    long_term = TermTotalsOutputSerializer()
    total = TermTotalsOutputSerializer()


class RealisedGainsOutputSerializer(RealisedTotalsOutputSerializer):
    year = serializers.IntegerField()
    sales = LotSaleOutputSerializer(many=True)


class WashSaleTotalsOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    disallowed = serializers.DecimalField(**MONEY_OUT)


class IraRoomOutputSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    limit = serializers.DecimalField(**MONEY_OUT)
    contributed = serializers.DecimalField(**MONEY_OUT)
    room = serializers.DecimalField(**MONEY_OUT)


class TaxSummaryOutputSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    realized = RealisedTotalsOutputSerializer(
        help_text="gains realised in taxable accounts, by term"
    )
    wash_sales = WashSaleTotalsOutputSerializer(help_text="wash sales of the year's loss sales")
    dividends = serializers.DecimalField(
        **MONEY_OUT, help_text="dividends received in taxable accounts"
    )
    fees = serializers.DecimalField(**MONEY_OUT, help_text="advisory fees paid, all accounts")
    harvested_losses = serializers.DecimalField(
        **MONEY_OUT, help_text="losses realised by executed tax-loss harvests"
    )
    estimated_tax_saved = serializers.DecimalField(
        **MONEY_OUT,
        help_text="executed harvests' estimated tax saved, less switch-backs' estimated tax",
    )
    ira = IraRoomOutputSerializer(
        allow_null=True, help_text="IRA contribution room; null without an IRA"
    )


# --- Views ---------------------------------------------------------------------------------------


def _year(request: AuthedRequest) -> int:
    query = TaxYearQuerySerializer(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    year = query.validated_data.get("year")
    return year if year is not None else tax.tax_year_default()


def _account(request: AuthedRequest, account_id: int) -> Account:
    client = advisor_selectors.client_of_user(request.user)
    return selectors.account_get(client=client, account_id=account_id)


def _ira(*, client: Client, year: int) -> dict[str, Any] | None:
    """IRA contribution room for the year, or None without an IRA (or before the IRA module)."""
    try:
        from ..services.ira import ira_contributed, ira_limit, ira_room
    except ImportError:  # written by another change of the tax issue; absent, the part is None
        return None
    if not tax.client_has_ira(client=client):
        return None
    born = client.date_of_birth
    age = age_on(born, date(year, 12, 31)) if born else None
    return {
        "year": year,
        "limit": ira_limit(year=year, age=age),
        "contributed": ira_contributed(client=client, year=year),
        "room": ira_room(client=client, year=year),
    }


class AccountLotListApi(APIView):
    @extend_schema(
        tags=["tax"],
        parameters=[
            OpenApiParameter("all", bool, description="include closed lots (no units left)")
        ],
        responses={200: LotOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """The account's open tax lots (`?all=1`: closed ones too), oldest first, valued at
        the market date: basis (wash-sale adjustments included), unrealised gain, and the term
        their units would have if sold today."""
        account = _account(request, account_id)
        query = LotListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        day = market_date_get()
        lots = tax.account_lots(account=account, closed=query.validated_data["all"])
        rows = tax.unrealised(account=account, day=day, lots=lots)
        return Response(LotOutputSerializer(rows, many=True).data)


def _realised_out(gains: tax.RealisedGains) -> Any:
    return RealisedGainsOutputSerializer(
        {
            "year": gains.year,
            "short_term": _totals(gains.short_term),
            "long_term": _totals(gains.long_term),
            "total": _totals(gains.total),
            "sales": gains.sales,
        }
    ).data


def _totals(totals: tax.TermTotals) -> dict[str, Decimal]:
    return {
        "proceeds": totals.proceeds,
        "cost_basis": totals.cost_basis,
        "gain": totals.gain,
        "wash_disallowed": totals.wash_disallowed,
        "reportable": totals.reportable,
    }


class AccountRealisedGainsApi(APIView):
    @extend_schema(
        tags=["tax"], parameters=[YEAR], responses={200: RealisedGainsOutputSerializer, **ERRORS}
    )
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """Gains and losses realised in the tax year in this account, by term, with each lot
        sale. Only taxable accounts report any: sales inside an IRA are not taxable events."""
        client = advisor_selectors.client_of_user(request.user)
        account = selectors.account_get(client=client, account_id=account_id)
        year = _year(request)
        gains = tax.realised_gains(client=client, year=year, account=account)
        return Response(_realised_out(gains))


class RealisedGainsApi(APIView):
    @extend_schema(
        tags=["tax"], parameters=[YEAR], responses={200: RealisedGainsOutputSerializer, **ERRORS}
    )
    def get(self, request: AuthedRequest) -> Response:
        """Gains and losses realised in the tax year across all my taxable accounts, by term
        (reportable = gain + the part of losses disallowed by wash sales), with each lot sale."""
        client = advisor_selectors.client_of_user(request.user)
        year = _year(request)
        return Response(_realised_out(tax.realised_gains(client=client, year=year)))


class TaxSummaryApi(APIView):
    @extend_schema(
        tags=["tax"], parameters=[YEAR], responses={200: TaxSummaryOutputSerializer, **ERRORS}
    )
    def get(self, request: AuthedRequest) -> Response:
        """My tax year: realised gains by term in taxable accounts, wash-sale adjustments,
        dividends received in taxable accounts, advisory fees, tax-loss harvesting's losses and
        estimated savings, and IRA contribution room (null without an IRA)."""
        client = advisor_selectors.client_of_user(request.user)
        year = _year(request)
        summary = tax.tax_year_summary(client=client, year=year)
        realized = summary.realized
        body = {
            "year": summary.year,
            "realized": {
                "short_term": _totals(realized.short_term),
                "long_term": _totals(realized.long_term),
                "total": _totals(realized.total),
            },
            "wash_sales": summary.wash_sales,
            "dividends": summary.dividends,
            "fees": summary.fees,
            "harvested_losses": summary.harvested_losses,
            "estimated_tax_saved": summary.estimated_tax_saved,
            "ira": _ira(client=client, year=year),
        }
        return Response(TaxSummaryOutputSerializer(body).data)


urlpatterns = [
    path("accounts/<int:account_id>/lots/", AccountLotListApi.as_view(), name="account-lots"),
    path(
        "accounts/<int:account_id>/realized-gains/",
        AccountRealisedGainsApi.as_view(),
        name="account-realized-gains",
    ),
    path("realized-gains/", RealisedGainsApi.as_view(), name="realized-gains"),
    path("tax/summary/", TaxSummaryApi.as_view(), name="tax-summary"),
]
