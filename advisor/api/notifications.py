"""The notifications API: the bell's list and count, marking read, email preferences.

Serializers and views of one feature side by side (thin, as in views.py)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ERRORS, AuthedRequest, InputSerializer
from config.pagination import PageNumberPagination

from .. import selectors
from ..models import Notification, NotificationPreference, User
from ..services import notifications as services

# --- Serializers --------------------------------------------------------------------------------


class NotificationOutputSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "link", "created_at", "read_at", "read")
        read_only_fields = fields

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class UnreadCountOutputSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


class NotificationsReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread.")
    unread_count = serializers.IntegerField()


class NotificationPreferenceOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    name = serializers.CharField(help_text="What the kind is, in words.")
    in_app = serializers.BooleanField(help_text="Always on.")
    email = serializers.BooleanField()
    email_editable = serializers.BooleanField(
        help_text="False for security notices, which are always emailed."
    )


class NotificationPreferenceInputSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    email = serializers.BooleanField()


def _preferences(user: User) -> list[dict[str, Any]]:
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return [
        {
            "kind": kind,
            "name": label,
            "in_app": True,
            "email": kind in services.EMAIL_ELSEWHERE or stored.get(kind, True),
            "email_editable": kind not in services.EMAIL_ELSEWHERE,
        }
        for kind, label in Notification.Kind.choices
    ]


# --- Views --------------------------------------------------------------------------------------


class NotificationPagination(PageNumberPagination):
    """The project's pages, plus the unread count: the bell reads both from one call."""

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        request = self.request
        assert request is not None  # noqa: S101 - set by paginate_queryset
        response.data["unread_count"] = selectors.notification_unread_count(
            user=request.user  # type: ignore[arg-type]
        )
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {"type": "integer", "example": 3}
        paginated["required"] = [*paginated.get("required", []), "unread_count"]
        return paginated


class NotificationListApi(ListAPIView):
    serializer_class = NotificationOutputSerializer
    pagination_class = NotificationPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(tags=["notifications"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """My notifications, newest first, with how many are unread."""
        return super().get(request, *args, **kwargs)


class NotificationUnreadCountApi(APIView):
    @extend_schema(tags=["notifications"], responses={200: UnreadCountOutputSerializer})
    def get(self, request: AuthedRequest) -> Response:
        """How many of my notifications are unread (the bell's badge)."""
        count = selectors.notification_unread_count(user=request.user)
        return Response(UnreadCountOutputSerializer({"unread_count": count}).data)


class NotificationReadApi(APIView):
    @extend_schema(
        tags=["notifications"],
        request=None,
        responses={200: NotificationOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, notification_id: int) -> Response:
        """Mark one of my notifications read."""
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id
        )
        return Response(NotificationOutputSerializer(notification).data)


class NotificationsReadAllApi(APIView):
    @extend_schema(
        tags=["notifications"], request=None, responses={200: NotificationsReadAllOutputSerializer}
    )
    def post(self, request: AuthedRequest) -> Response:
        """Mark all my notifications read."""
        marked = services.notifications_mark_all_read(user=request.user)
        return Response(
            NotificationsReadAllOutputSerializer({"marked": marked, "unread_count": 0}).data
        )


class NotificationPreferencesApi(APIView):
    @extend_schema(
        tags=["notifications"], responses={200: NotificationPreferenceOutputSerializer(many=True)}
    )
    def get(self, request: AuthedRequest) -> Response:
        """Which notifications I get by email (in the app: all of them)."""
        return Response(
            NotificationPreferenceOutputSerializer(_preferences(request.user), many=True).data
        )

    @extend_schema(
        tags=["notifications"],
        request=NotificationPreferenceInputSerializer,
        responses={200: NotificationPreferenceOutputSerializer(many=True), **ERRORS},
    )
    def patch(self, request: AuthedRequest) -> Response:
        """Turn the email for one kind of notification on or off."""
        payload = NotificationPreferenceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.notification_preference_set(user=request.user, **payload.validated_data)
        return Response(
            NotificationPreferenceOutputSerializer(_preferences(request.user), many=True).data,
            status=status.HTTP_200_OK,
        )
