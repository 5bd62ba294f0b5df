"""Route and view of the governance report of a model-portfolio set (issue #16): the walk-forward
backtest the investment committee reads before approving the set, as JSON.

Who may read it: staff (advisors and the investment committee, `IsAdvisor`). It is firm-wide
evidence, not a client's data: every advisor may read it, as they may read the sets in the admin;
only the committee's permission approves. Clients get 403. Figures are fractions (0.32 is 32%);
`max_drawdown` is positive when value fell, `worst_12_months` and `return_difference` are
returns (negative is worse)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ERRORS, AuthedRequest, IsAdvisor

from ..services.governance import governance_report_get

# --- Serializers ---------------------------------------------------------------------------------


class GovernanceLevelFiguresOutputSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    annual_return = serializers.FloatField(help_text="geometric, annualised over calendar days")
    volatility = serializers.FloatField(help_text="daily standard deviation × √252")
    max_drawdown = serializers.FloatField(help_text="largest fall from a peak, positive")
    worst_12_months = serializers.FloatField(
        allow_null=True, help_text="lowest return over 12 consecutive month ends"
    )
    sharpe = serializers.FloatField(
        allow_null=True, help_text="(annual return − BIL's) / volatility"
    )
    turnover = serializers.FloatField(help_text="one-way, per year")
    rebalances = serializers.IntegerField(help_text="drift-band trades over the period")
    growth_share = serializers.FloatField(
        help_text="average target share of equities, REITs and gold"
    )
    benchmark_return = serializers.FloatField(
        allow_null=True, help_text="static VTI/AGG mix at growth_share, rebalanced monthly"
    )
    return_difference = serializers.FloatField(
        allow_null=True, help_text="annual return − benchmark_return"
    )
    tracking_error = serializers.FloatField(
        allow_null=True, help_text="std of daily active returns × √252"
    )


class GovernanceWalkForwardOutputSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="the first rebuild's close")
    end = serializers.DateField()
    rebuilds = serializers.ListField(
        child=serializers.DateField(), help_text="re-estimation dates, yearly"
    )
    settings = serializers.DictField(help_text="lookback_years, min_history_years, threshold…")
    levels = GovernanceLevelFiguresOutputSerializer(many=True)


class GovernanceExtendedOutputSerializer(GovernanceWalkForwardOutputSerializer):
    history_start = serializers.DateField(help_text="the first close of the older history")
    proxies = serializers.ListField(
        child=serializers.CharField(), help_text="funds stood in for before they existed"
    )
    data_source = serializers.CharField(source="source", help_text="where the older history is")


class GovernanceInSampleOutputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    levels = GovernanceLevelFiguresOutputSerializer(many=True)


class GovernanceVerdictOutputSerializer(serializers.Serializer):
    monotone_volatility = serializers.BooleanField(
        help_text="out of sample, volatility rises with the level"
    )
    monotone_drawdown = serializers.BooleanField(
        help_text="out of sample, max drawdown rises with the level"
    )
    lines = serializers.ListField(child=serializers.CharField(), help_text="plain language")


class GovernanceFiguresOutputSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="the backtest's version")
    method = serializers.CharField(help_text="the estimation method replayed")
    risk_free = serializers.CharField()
    benchmark = serializers.CharField()
    out_of_sample = GovernanceWalkForwardOutputSerializer(
        help_text="the walk-forward: judge the set by it"
    )
    sensitivity = GovernanceWalkForwardOutputSerializer(
        help_text="the same with a rolling 5-year window"
    )
    in_sample = GovernanceInSampleOutputSerializer(
        help_text="the set's own weights over the whole history: in sample, flattering"
    )
    extended = GovernanceExtendedOutputSerializer(
        required=False,
        allow_null=True,
        help_text="the walk-forward on the older history too (from 2004-11-18, with proxies), "
        "out of sample through 2008; absent when the loaded history does not join it",
    )
    verdict = GovernanceVerdictOutputSerializer()


class GovernanceReportOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="portfolio_set.version")
    status = serializers.CharField(source="portfolio_set.status")
    method = serializers.CharField()
    prices_through = serializers.DateField()
    computed_at = serializers.DateTimeField()
    figures = GovernanceFiguresOutputSerializer()


# --- View ----------------------------------------------------------------------------------------


class GovernanceReportApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(tags=["governance"], responses={200: GovernanceReportOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, version: int) -> Response:
        """Staff only: the governance report of model portfolios v`version`: per level, the
        walk-forward's out-of-sample figures (re-estimated yearly with the set's method, held
        with the 3% drift band), a rolling 5-year sensitivity run, the set's own weights in
        sample, and a plain-language verdict. 404 until the report is computed."""
        report = governance_report_get(version=version)
        return Response(GovernanceReportOutputSerializer(report).data)


urlpatterns = [
    path(
        "model-portfolio-sets/<int:version>/governance/",
        GovernanceReportApi.as_view(),
        name="model-portfolio-set-governance",
    ),
]
