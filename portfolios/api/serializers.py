from decimal import Decimal
from typing import Any

from rest_framework import serializers

from advisor.api.serializers import InputSerializer

from ..models import Asset, ModelPortfolio, Transaction

MONEY_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}


class AssetOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ("ticker", "name", "asset_class", "expense_ratio")


class PriceOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    close = serializers.DecimalField(max_digits=16, decimal_places=4, coerce_to_string=True)


class ModelPortfolioOutputSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="portfolio_set.version")
    weights = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = ModelPortfolio
        fields = ("version", "level", "weights", "expected_return", "volatility")


class HoldingOutputSerializer(serializers.Serializer):
    ticker = serializers.CharField()
    name = serializers.CharField()
    asset_class = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=True)
    price = serializers.DecimalField(max_digits=16, decimal_places=4, coerce_to_string=True)
    value = serializers.DecimalField(**MONEY_OUT)
    weight = serializers.DecimalField(max_digits=6, decimal_places=4, coerce_to_string=True)
    target_weight = serializers.DecimalField(max_digits=6, decimal_places=4, coerce_to_string=True)


class AccountSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="account.id")
    goal_id = serializers.IntegerField(source="account.goal_id")
    goal_name = serializers.CharField(source="account.goal.name")
    currency = serializers.CharField(source="account.currency")
    market_date = serializers.DateField()
    value = serializers.DecimalField(**MONEY_OUT)
    cash = serializers.DecimalField(**MONEY_OUT)
    invested = serializers.DecimalField(**MONEY_OUT)
    level = serializers.IntegerField(allow_null=True, help_text="the goal-adjusted risk level")
    drift = serializers.FloatField(allow_null=True, help_text="½·Σ|actual − target| by class")
    holdings = HoldingOutputSerializer(many=True)


class EntryOutputSerializer(serializers.Serializer):
    ticker = serializers.CharField(source="asset.ticker", allow_null=True, default=None)
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=True)
    price = serializers.DecimalField(
        max_digits=16, decimal_places=4, coerce_to_string=True, allow_null=True
    )


class TransactionOutputSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY_OUT)
    entries = EntryOutputSerializer(many=True)

    class Meta:
        model = Transaction
        fields = ("id", "kind", "amount", "market_date", "description", "created_at", "entries")


class CashFlowInputSerializer(InputSerializer):
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("10000000.00"),
    )


class CashFlowOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    transaction = TransactionOutputSerializer()
    account = AccountSummaryOutputSerializer()
