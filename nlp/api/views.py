"""Thin views over the nlp selectors and chat services."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from config.api import ERRORS, AuthedRequest, IsAdvisor

from .. import registry, selectors
from ..chat import services as chat_services
from ..models import Conversation, Escalation
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


class ModelVersionListApi(APIView):
    # Any logged-in user, client or staff: the cards are for transparency, and what they say
    # (data, licences, figures, limits) is the same for everyone. Not anonymous: like the rest of
    # the API, it is for Meridian's users.

    @extend_schema(tags=["models"], responses={200: s.ModelVersionOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        """The models Meridian serves now (approved versions), each with its model card: data and
        licences, metrics against baselines, known failures, intended use, what it never decides."""
        versions = [
            {**_version_fields(version), "card": registry.card_of(version)}
            for version in registry.approved_list()
        ]
        return Response(s.ModelVersionOutputSerializer(versions, many=True).data)


def _version_fields(version: Any) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "label": version.label,
        "decided_at": version.decided_at,
        "data_hash": version.data_hash,
        "weights_sha256": version.weights_sha256,
    }


# --- Chat ------------------------------------------------------------------------------------


class ChatMessageApi(APIView):
    throttle_classes = (UserRateThrottle, ScopedRateThrottle)
    throttle_scope = "chat"

    @extend_schema(
        tags=["chat"],
        request=s.ChatQuestionInputSerializer,
        responses={200: s.ChatReplyOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Ask the assistant. Answers from my own data and the knowledge base; if the worker
        is slow, a holding reply (`fallback: true`) and the answer follows in the conversation."""
        client = advisor_selectors.client_of_user(request.user)
        payload = s.ChatQuestionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reply = chat_services.question_post(
            client=client,
            text=payload.validated_data["text"],
            conversation_id=payload.validated_data.get("conversation"),
        )
        return Response(s.ChatReplyOutputSerializer(reply).data)


class ConversationListApi(ListAPIView):
    serializer_class = s.ConversationOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Conversation.objects.none()
        client = advisor_selectors.client_of_user(self.request.user)  # type: ignore[arg-type]
        return Conversation.objects.filter(client=client)

    @extend_schema(tags=["chat"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """My conversations with the assistant, most recent first."""
        return super().get(request, *args, **kwargs)


class ConversationDetailApi(APIView):
    @extend_schema(tags=["chat"], responses={200: s.ConversationDetailOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, conversation_id: int) -> Response:
        """One conversation's messages, oldest first, and its escalation's status."""
        client = advisor_selectors.client_of_user(request.user)
        conversation = chat_services.conversation_get(
            client=client, conversation_id=conversation_id
        )
        return Response(s.ConversationDetailOutputSerializer(conversation).data)


class EscalationListApi(ListAPIView):
    serializer_class = s.EscalationOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Escalation.objects.none()
        client = advisor_selectors.client_of_user(self.request.user)  # type: ignore[arg-type]
        return Escalation.objects.filter(client=client)

    @extend_schema(tags=["chat"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """My requests to talk to my advisor, newest first, with their status."""
        return super().get(request, *args, **kwargs)
