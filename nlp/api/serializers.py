"""Input serializers parse and validate; output serializers shape responses. No logic here."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class HeadlineOutputSerializer(serializers.Serializer):
    headline = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    url = serializers.CharField()
    published_at = serializers.DateTimeField()
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]


class AssetSentimentOutputSerializer(serializers.Serializer):
    ticker = serializers.CharField()
    asset_class = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="7-day mean, −1 … +1")
    count = serializers.IntegerField()
    negative = serializers.IntegerField()
    positive = serializers.IntegerField()
    headlines = HeadlineOutputSerializer(many=True)


class HoldingsNewsOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["ready", "pending"])
    market_date = serializers.DateField()
    model = serializers.CharField(allow_null=True)
    policy = serializers.CharField(
        default="News sentiment explains moves and informs advisors; it never trades."
    )
    assets = AssetSentimentOutputSerializer(many=True)


class AlertClientOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class NewsAlertOutputSerializer(serializers.Serializer):
    sentiment = AssetSentimentOutputSerializer()
    clients = AlertClientOutputSerializer(many=True)


# --- Chat ------------------------------------------------------------------------------------


class ChatQuestionInputSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="omit to start a conversation"
    )
    text = serializers.CharField(max_length=1000, trim_whitespace=True)


class ChatSourceOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    excerpt = serializers.CharField()


class EscalationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField(source="conversation_id")
    status = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ChatReplyOutputSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(source="conversation_id")
    message_id = serializers.IntegerField(source="id")
    reply = serializers.CharField(source="text")
    intent = serializers.SerializerMethodField()
    confidence = serializers.FloatField(allow_null=True)
    sources = ChatSourceOutputSerializer(many=True)
    fallback = serializers.BooleanField(
        help_text="true: a holding reply; the answer joins the conversation when it is ready"
    )
    escalation = serializers.SerializerMethodField()

    def get_intent(self, message: Any) -> str | None:
        return message.intent or None

    @extend_schema_field(EscalationOutputSerializer(allow_null=True))
    def get_escalation(self, message: Any) -> dict[str, Any] | None:
        escalation = message.conversation.escalations.order_by("-created_at", "-id").first()
        return EscalationOutputSerializer(escalation).data if escalation else None


class ChatMessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    text = serializers.CharField()
    reply_to = serializers.IntegerField(source="reply_to_id", allow_null=True)
    intent = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    sources = ChatSourceOutputSerializer(many=True)
    fallback = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ConversationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ConversationDetailOutputSerializer(ConversationOutputSerializer):
    messages = ChatMessageOutputSerializer(many=True)
    escalation = serializers.SerializerMethodField()

    @extend_schema_field(EscalationOutputSerializer(allow_null=True))
    def get_escalation(self, conversation: Any) -> dict[str, Any] | None:
        escalation = conversation.escalations.order_by("-created_at", "-id").first()
        return EscalationOutputSerializer(escalation).data if escalation else None
