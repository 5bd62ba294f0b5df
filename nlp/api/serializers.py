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
    impact = serializers.ChoiceField(
        ["negative", "neutral", "positive"],
        allow_null=True,
        help_text="the headline's impact on this fund's asset class; null until scored",
    )
    asset_class = serializers.CharField(help_text="the fund's asset class the impact is for")
    asset_class_name = serializers.CharField(help_text='e.g. "US Treasuries"')


class AssetSentimentOutputSerializer(serializers.Serializer):
    ticker = serializers.CharField()
    asset_class = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="7-day mean, −1 … +1")
    count = serializers.IntegerField()
    negative = serializers.IntegerField()
    positive = serializers.IntegerField()
    impact_score = serializers.FloatField(
        allow_null=True, help_text="7-day mean impact on the fund's asset class, −1 … +1"
    )
    impact_count = serializers.IntegerField()
    impact_negative = serializers.IntegerField()
    impact_positive = serializers.IntegerField()
    headlines = HeadlineOutputSerializer(many=True)


class HoldingsNewsOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["ready", "pending"])
    market_date = serializers.DateField()
    model = serializers.CharField(allow_null=True)
    impact_model = serializers.CharField(allow_null=True)
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


# --- Model cards (GET /api/v1/models/) ---------------------------------------------------------


class CardDataSetOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    licence = serializers.CharField()
    used_for = serializers.CharField()


class CardBaselineOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    key = serializers.CharField()
    value = serializers.FloatField()


class CardMetricOutputSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    key = serializers.CharField()
    value = serializers.FloatField()
    higher_is_better = serializers.BooleanField()
    baselines = CardBaselineOutputSerializer(many=True)


class ModelCardOutputSerializer(serializers.Serializer):
    title = serializers.CharField()
    summary = serializers.CharField()
    intended_use = serializers.ListField(child=serializers.CharField())
    never_decides = serializers.ListField(
        child=serializers.CharField(), help_text="What this model must never decide."
    )
    known_failures = serializers.ListField(child=serializers.CharField())
    data_sets = CardDataSetOutputSerializer(many=True, help_text="Data, sources and licences.")
    metrics = CardMetricOutputSerializer(many=True, help_text="Figures against baselines.")
    all_metrics = serializers.DictField(child=serializers.FloatField())
    evaluation = serializers.CharField(help_text="How the metrics were measured.")
    quick = serializers.BooleanField(help_text="Trained on a slice (CI): not the model's figures.")


class ModelVersionOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    label = serializers.CharField(  # type: ignore[assignment]
        help_text='"name@version", as assessments cite it.'
    )
    approved_at = serializers.DateTimeField(source="decided_at", allow_null=True)
    data_hash = serializers.CharField(help_text="sha256 of the training data.")
    weights_sha256 = serializers.CharField()
    card = ModelCardOutputSerializer()
