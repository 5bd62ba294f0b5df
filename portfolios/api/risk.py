"""Routes and views of the portfolios API's risk endpoints (issue #16): an account's risk figures
and stress tests, a model portfolio's, and the onboarding check of the worst scenario against the
loss the client said they could bear.

Figures are fractions (0.32 is 32%); a VaR, an expected shortfall or a scenario's `loss` is
positive when money is lost. Money is a string with two decimals. A client sees only their own
accounts (another's is a 404), as on the account detail endpoint."""

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from config.api import ERRORS, AuthedRequest

from .. import selectors
from ..services import risk as risk_services
from .serializers import MONEY_OUT

# --- Serializers ---------------------------------------------------------------------------------


class HorizonOutputSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="trading days: 21 (one month) or 252 (one year)")
    windows = serializers.IntegerField(
        help_text="overlapping windows of that many days in the history"
    )
    var_historical = serializers.FloatField(
        allow_null=True, help_text="95% VaR: the 5% worst window's loss (historical simulation)"
    )
    es_historical = serializers.FloatField(
        allow_null=True, help_text="95% expected shortfall: the mean loss of the 5% worst windows"
    )
    var_parametric = serializers.FloatField(allow_null=True, help_text="95% VaR, normal")
    es_parametric = serializers.FloatField(
        allow_null=True, help_text="95% expected shortfall, normal"
    )


class RiskMeasuresOutputSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True, help_text="first day of the history used")
    end = serializers.DateField(allow_null=True)
    observations = serializers.IntegerField(help_text="daily returns in the history")
    volatility = serializers.FloatField(allow_null=True, help_text="annualised")
    max_drawdown = serializers.FloatField(
        allow_null=True, help_text="largest fall from a peak of today's weights over the history"
    )
    beta = serializers.FloatField(allow_null=True, help_text="equity beta against VTI")
    one_month = HorizonOutputSerializer(source="horizons.1m")
    one_year = HorizonOutputSerializer(source="horizons.1y")


class PathPointOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.DecimalField(**MONEY_OUT)


class ScenarioOutputSerializer(serializers.Serializer):
    key = serializers.CharField(source="result.key")
    name = serializers.CharField(source="result.name")
    kind = serializers.ChoiceField(choices=("historical", "hypothetical"), source="result.kind")
    start = serializers.DateField(source="result.start", allow_null=True)
    end = serializers.DateField(source="result.end", allow_null=True)
    change = serializers.FloatField(
        source="result.change",
        help_text="at the scenario's worst point (historical) or after the shock; < 0 a loss",
    )
    end_change = serializers.FloatField(
        source="result.end_change", allow_null=True, help_text="historical: at the window's end"
    )
    loss = serializers.FloatField(source="result.loss", help_text="max(0, −change)")
    loss_amount = serializers.DecimalField(**MONEY_OUT, help_text="of today's value")
    worst_day = serializers.DateField(source="result.worst_day", allow_null=True)
    path = PathPointOutputSerializer(
        many=True, help_text="historical: the value each market date of the window, for a chart"
    )


class RiskOutputSerializer(serializers.Serializer):
    market_date = serializers.DateField(help_text="the close the figures were computed at")
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="null: computed on this request, not yet by the nightly run"
    )
    value = serializers.DecimalField(
        **MONEY_OUT, help_text="the account's value (a model portfolio: per $10,000)"
    )
    weights = serializers.DictField(child=serializers.FloatField(), help_text="ticker → weight")
    cash_weight = serializers.FloatField()
    figures = RiskMeasuresOutputSerializer(source="measures")
    stress = ScenarioOutputSerializer(source="scenarios", many=True)
    summary_text = serializers.CharField(help_text="the worst case in words, for the client")


class AccountRiskOutputSerializer(RiskOutputSerializer):
    account = serializers.IntegerField()


class ModelPortfolioRiskOutputSerializer(RiskOutputSerializer):
    level = serializers.IntegerField()


class StressCheckQuerySerializer(serializers.Serializer):
    level = serializers.IntegerField(required=False, min_value=1, max_value=10)


class ToleranceOutputSerializer(serializers.Serializer):
    loss = serializers.FloatField(help_text="the largest loss the client said they could bear")
    basis = serializers.ListField(
        child=serializers.CharField(), help_text="the answers it was read from"
    )


class StressFlagOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class StressCheckOutputSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    market_date = serializers.DateField()
    worst = ScenarioOutputSerializer(allow_null=True)
    tolerance = ToleranceOutputSerializer(
        allow_null=True, help_text="null: no questionnaire answers with a stated loss"
    )
    exceeds = serializers.BooleanField()
    advisor_flag = StressFlagOutputSerializer(
        source="flag",
        allow_null=True,
        help_text="set when the worst loss exceeds the tolerance; code stress_floor when even "
        "the lowest level's does and the client's level is floored there",
    )
    capped_from = serializers.IntegerField(
        allow_null=True,
        help_text="the stress cap lowered the client's level to this one from this level",
    )
    client_text = serializers.CharField()


# --- Views ---------------------------------------------------------------------------------------


def _with(view: risk_services.RiskView, **extra: Any) -> dict[str, Any]:
    return {
        "market_date": view.market_date,
        "computed_at": view.computed_at,
        "value": view.value,
        "weights": view.weights,
        "cash_weight": view.cash_weight,
        "measures": view.measures,
        "scenarios": view.scenarios,
        "summary_text": view.summary_text,
        **extra,
    }


class AccountRiskApi(APIView):
    @extend_schema(tags=["risk"], responses={200: AccountRiskOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, account_id: int) -> Response:
        """The account's risk figures at the latest market date computed: volatility, VaR and
        expected shortfall (historical and normal, 95%, one month and one year), maximum
        drawdown and beta, each from today's weights over the history since 2008; its stress
        scenarios (2008, 2013, 2020, 2022 replayed, with daily values for a chart, and
        hypothetical shocks); and the worst case in words. 409 while it holds nothing."""
        client = advisor_selectors.client_of_user(request.user)
        account = selectors.account_get(client=client, account_id=account_id)
        view = risk_services.risk_figures_get(account=account)
        return Response(AccountRiskOutputSerializer(_with(view, account=account.pk)).data)


class ModelPortfolioRiskApi(APIView):
    @extend_schema(tags=["risk"], responses={200: ModelPortfolioRiskOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, level: int) -> Response:
        """The approved model portfolio's risk figures and stress scenarios at a level (1–10),
        money per $10,000 invested."""
        view = risk_services.model_portfolio_risk_get(level=level)
        return Response(ModelPortfolioRiskOutputSerializer(_with(view, level=level)).data)


class StressCheckApi(APIView):
    @extend_schema(
        tags=["risk"],
        parameters=[
            OpenApiParameter(
                "level", int, description="the level about to be held (default: my current one)"
            )
        ],
        responses={200: StressCheckOutputSerializer, **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """For onboarding and risk changes: the worst scenario of the model portfolio at a level
        beside the loss I said in the questionnaire I could bear; when it is larger,
        `advisor_flag` is set and my advisor's queue lists it. When the suitability policy's
        stress cap lowered my level to this one, `capped_from` says from which."""
        client = advisor_selectors.client_of_user(request.user)
        query = StressCheckQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        check = risk_services.stress_vs_tolerance(
            client=client, level=query.validated_data.get("level")
        )
        return Response(StressCheckOutputSerializer(check).data)


urlpatterns = [
    path("accounts/<int:account_id>/risk/", AccountRiskApi.as_view(), name="account-risk"),
    path(
        "model-portfolios/<int:level>/risk/",
        ModelPortfolioRiskApi.as_view(),
        name="model-portfolio-risk",
    ),
    path("risk/stress-check/", StressCheckApi.as_view(), name="risk-stress-check"),
]
