from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from advisor.api.views import ERRORS, AuthedRequest, IsAdvisor

from .. import selectors
from . import serializers as s


class HoldingsNewsApi(APIView):
    @extend_schema(tags=["news"], responses={200: s.HoldingsNewsOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """News on my holdings: 7-day sentiment per fund and its latest headlines."""
        client = advisor_selectors.client_of_user(request.user)
        return Response(s.HoldingsNewsOutputSerializer(selectors.holdings_news(client=client)).data)


class AdvisorNewsAlertListApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(tags=["news"], responses={200: s.NewsAlertOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        """Funds held in my book whose 7-day sentiment turned strongly negative, with holders."""
        alerts = selectors.news_alerts(user=request.user)
        return Response(s.NewsAlertOutputSerializer(alerts, many=True).data)
