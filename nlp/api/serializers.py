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
