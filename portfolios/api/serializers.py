"""Input serializers parse and validate; output serializers shape responses. No logic here."""

from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advisor.models import Goal
from config.api import InputSerializer

from ..models import (
    Asset,
    GoalProjection,
    LotMethod,
    ModelPortfolio,
    RebalanceProposal,
    RecurringDeposit,
    Transaction,
)

MONEY_OUT: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}


class AssetOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ("ticker", "name", "asset_class", "expense_ratio")


class PriceOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    close = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        coerce_to_string=True,
        help_text="the actual close: what trades fill at and holdings are valued at",
    )
    total_return = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        coerce_to_string=True,
        help_text="total-return index level (distributions reinvested; its own base)",
    )


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
    account_type = serializers.ChoiceField(
        source="account.goal.account_type",
        choices=Goal.AccountType.choices,
        help_text="the tax treatment of the account (its goal's)",
    )
    lot_method = serializers.ChoiceField(
        source="account.lot_method",
        choices=LotMethod.choices,
        help_text="which lots a sale consumes: fifo, hifo (highest cost first) or tax_min "
        "(losses first, then long-term gains, then short-term gains)",
    )


class AccountPatchInputSerializer(InputSerializer):
    lot_method = serializers.ChoiceField(
        choices=LotMethod.choices,
        error_messages={
            "invalid_choice": "Choose one of: " + ", ".join(LotMethod.values) + ".",
        },
    )


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
        fields = (
            "id",
            "kind",
            "amount",
            "market_date",
            "description",
            "tax_note",
            "created_at",
            "entries",
        )


AMOUNT_TOO_LARGE = "Enter an amount of at most $10,000,000.00."


class CashFlowInputSerializer(InputSerializer):
    # The browser mirrors these limits and messages (frontend/src/lib/format.ts, amountProblem).
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("10000000.00"),
        error_messages={
            "required": "Enter an amount.",
            "null": "Enter an amount.",
            "invalid": "Enter a number, e.g. 1000 or 250.50.",
            "min_value": "Enter an amount of at least $0.01.",
            "max_value": AMOUNT_TOO_LARGE,
            "max_digits": AMOUNT_TOO_LARGE,
            "max_whole_digits": AMOUNT_TOO_LARGE,
            "max_decimal_places": "Enter whole cents: at most 2 decimal places.",
            "max_string_length": AMOUNT_TOO_LARGE,
        },
    )


class CashFlowOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    transaction = TransactionOutputSerializer(
        allow_null=True, help_text="null when the withdrawal is held for review (202)"
    )
    hold = serializers.IntegerField(
        allow_null=True, default=None, help_text="the hold's id when held for review (202)"
    )
    account = AccountSummaryOutputSerializer()


class RebalanceTradeOutputSerializer(serializers.Serializer):
    ticker = serializers.CharField()
    side = serializers.ChoiceField(["buy", "sell"])
    units = serializers.CharField(
        allow_null=True, default=None, help_text="null on proposals older than exact trades"
    )
    price = serializers.CharField(
        allow_null=True, default=None, help_text="the close the trade executes at"
    )
    value = serializers.CharField(help_text="cash raised by a sale, or spent on a purchase")


class RebalanceOutputSerializer(serializers.ModelSerializer):
    """A proposal. `drift` is the drift when it was proposed (the reason quotes it);
    `current_drift` is the account's live drift, the figure every other surface shows."""

    trades = RebalanceTradeOutputSerializer(many=True, help_text="in execution order, sells first")
    before_weights = serializers.DictField(child=serializers.CharField())
    after_weights = serializers.DictField(child=serializers.CharField())
    client_id = serializers.IntegerField(source="account.client_id")
    drift = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        coerce_to_string=True,
        help_text="drift when proposed, a fraction (0.0412 is 4.1%)",
    )
    current_drift = serializers.SerializerMethodField(
        help_text="the account's drift now, as in the account summary; pending proposals only"
    )

    class Meta:
        model = RebalanceProposal
        fields = (
            "id",
            "account",
            "client_id",
            "status",
            "market_date",
            "drift",
            "current_drift",
            "threshold",
            "reason",
            "trades",
            "before_weights",
            "after_weights",
            "superseded_reason",
            "decided_at",
            "created_at",
        )
        extra_kwargs = {"superseded_reason": {"read_only": True}}

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_current_drift(self, proposal: RebalanceProposal) -> float | None:
        # Read by the view through selectors.rebalance_current_drifts.
        drift = self.context.get("current_drifts", {}).get(proposal.account_id)
        return float(drift) if drift is not None else None


class RecurringDepositInputSerializer(InputSerializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("1.00"), max_value=Decimal("1000000")
    )
    day_of_month = serializers.IntegerField(min_value=1, max_value=28)


class RecurringDepositPatchInputSerializer(InputSerializer):
    active = serializers.BooleanField(help_text="false pauses the deposits, true resumes them")


class RecurringDepositOutputSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY_OUT)

    class Meta:
        model = RecurringDeposit
        fields = ("id", "account", "amount", "day_of_month", "next_run", "active", "created_at")


class ProjectionQuerySerializer(InputSerializer):
    monthly_contribution = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        required=False,
    )
    target_date = serializers.DateField(required=False)

    def validate_target_date(self, value: date) -> date:
        from django.utils import timezone

        if value <= timezone.localdate():
            raise serializers.ValidationError("The target date must be in the future.")
        if value.year > timezone.localdate().year + 100:
            raise serializers.ValidationError("The target date must be within 100 years.")
        return value


class GlideStepOutputSerializer(serializers.Serializer):
    month = serializers.IntegerField(help_text="months after the market date")
    level = serializers.IntegerField()


PROJECTED_MONEY: dict[str, Any] = {**MONEY_OUT, "max_digits": 20, "allow_null": True}


class ProjectionOutputSerializer(serializers.Serializer):
    """A goal's projection; money as decimal strings, projected values in today's money."""

    status = serializers.ChoiceField(GoalProjection.Status.choices)
    message = serializers.CharField(allow_blank=True, help_text="why it is pending or failed")
    goal_id = serializers.IntegerField()
    is_plan = serializers.BooleanField(
        help_text="the goal's current plan (its chance of success everywhere), not a what-if"
    )
    market_date = serializers.DateField(allow_null=True, help_text="month 0 of the horizon")
    target_date = serializers.DateField(allow_null=True)
    months = serializers.IntegerField(allow_null=True)
    level = serializers.IntegerField(allow_null=True, help_text="the goal's level at month 0")
    glide = GlideStepOutputSerializer(
        many=True, help_text="the levels the account steps down to as the date nears"
    )
    initial_value = serializers.DecimalField(
        **PROJECTED_MONEY, help_text="the money in the account at the market date"
    )
    monthly_contribution = serializers.DecimalField(**PROJECTED_MONEY)
    target_amount = serializers.DecimalField(**PROJECTED_MONEY)
    probability = serializers.FloatField(allow_null=True)
    median_final_value = serializers.DecimalField(**PROJECTED_MONEY)
    expected_final_value = serializers.DecimalField(**PROJECTED_MONEY)
    required_monthly_contribution = serializers.DecimalField(
        **PROJECTED_MONEY,
        help_text="the contribution for an 80% chance; null when capped (none would do)",
    )
    required_contribution_capped = serializers.BooleanField(
        allow_null=True,
        help_text="true when no contribution up to 10x target/months reaches an 80% chance: "
        "a later date or a smaller target would",
    )
    reachable_target = serializers.DecimalField(
        **PROJECTED_MONEY,
        help_text="the largest target this contribution reaches with an 80% chance",
    )
    percentiles = serializers.DictField(
        child=serializers.ListField(
            child=serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)
        ),
        allow_null=True,
        help_text="p10, p50, p90: the value at each month 0..months",
    )
    computed_at = serializers.DateTimeField(allow_null=True)


RETURN_OUT: dict[str, Any] = {"max_digits": 12, "decimal_places": 6, "allow_null": True}


class PeriodReturnOutputSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    twr = serializers.DecimalField(
        **RETURN_OUT, help_text="time-weighted, cumulative over the period (never annualised)"
    )
    mwr = serializers.DecimalField(
        **RETURN_OUT,
        help_text="money-weighted (XIRR): cumulative under a year, annual from a year on",
    )
    mwr_annualised = serializers.BooleanField(help_text="true when mwr is a rate per year")
    benchmark = serializers.DecimalField(
        **RETURN_OUT, help_text="the 60/40 VTI/AGG reference, cumulative"
    )
    policy_benchmark = serializers.DecimalField(
        **RETURN_OUT, help_text="the account's own policy (its targets, glide path), cumulative"
    )
    start_value = serializers.DecimalField(**MONEY_OUT)
    end_value = serializers.DecimalField(**MONEY_OUT)
    net_flows = serializers.DecimalField(
        **MONEY_OUT, help_text="deposits - withdrawals in the period; fees are not flows"
    )
    market_gain = serializers.DecimalField(
        **MONEY_OUT, help_text="end value - start value - net flows (after fees)"
    )


class DailyValueOutputSerializer(serializers.Serializer):
    day = serializers.DateField()
    value = serializers.DecimalField(**MONEY_OUT)
    flow = serializers.DecimalField(**MONEY_OUT)
    net_deposits = serializers.DecimalField(
        **MONEY_OUT, help_text="deposits - withdrawals from the first day through this one"
    )


class PolicyCompositionOutputSerializer(serializers.Serializer):
    level = serializers.IntegerField(
        allow_null=True, help_text="the goal's level on the last day; null for a blend"
    )
    weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=4),
        help_text="fund → weight on the last day; each fund is its asset class's index proxy",
    )


class PerformanceOutputSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    periods = PeriodReturnOutputSerializer(many=True)
    realised_gain = serializers.DecimalField(**MONEY_OUT)
    unrealised_gain = serializers.DecimalField(**MONEY_OUT)
    history = DailyValueOutputSerializer(many=True)
    policy = PolicyCompositionOutputSerializer(
        allow_null=True, help_text="the policy benchmark's composition"
    )


class GoalSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    goal_type = serializers.CharField()
    target_amount = serializers.DecimalField(**MONEY_OUT)
    target_date = serializers.DateField()
    account_id = serializers.IntegerField()
    value = serializers.DecimalField(**MONEY_OUT)
    projection_status = serializers.ChoiceField(
        GoalProjection.Status.choices, help_text="of the goal's current plan's projection"
    )
    probability = serializers.FloatField(
        allow_null=True, help_text="chance of success of the goal's current plan"
    )
    median_final_value = serializers.DecimalField(
        **MONEY_OUT, allow_null=True, help_text="in today's money, of the current plan"
    )
    monthly_contribution = serializers.DecimalField(
        **MONEY_OUT, help_text="the plan's monthly contribution (the goal's)"
    )
    scheduled_monthly = serializers.DecimalField(
        **MONEY_OUT, help_text="the account's active recurring deposits, a month's total"
    )


class GoalFundingOutputSerializer(serializers.Serializer):
    goal_id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    currency = serializers.CharField()
    initial_amount = serializers.DecimalField(**MONEY_OUT, help_text="the plan's starting amount")
    monthly_contribution = serializers.DecimalField(
        **MONEY_OUT, help_text="the plan's monthly contribution"
    )
    scheduled_monthly = serializers.DecimalField(
        **MONEY_OUT, help_text="the account's active recurring deposits, a month's total"
    )


class PortfolioSummaryOutputSerializer(serializers.Serializer):
    market_date = serializers.DateField()
    total_value = serializers.DecimalField(**MONEY_OUT)
    cash = serializers.DecimalField(**MONEY_OUT)
    risk_level = serializers.IntegerField(allow_null=True)
    pending_rebalances = serializers.IntegerField()
    accounts = AccountSummaryOutputSerializer(many=True)
    goals = GoalSummaryOutputSerializer(many=True)
    performance = PeriodReturnOutputSerializer(many=True, help_text="all accounts together")
    performance_policy = PolicyCompositionOutputSerializer(
        allow_null=True, help_text="the accounts' policy benchmarks blended by value"
    )


class FeeScheduleOutputSerializer(serializers.Serializer):
    annual_rate = serializers.DecimalField(
        max_digits=8, decimal_places=6, coerce_to_string=True, help_text="0.0025 is 0.25% a year"
    )
    billing = serializers.CharField(help_text="how and when the fee is billed")
    fund_expenses = serializers.CharField(help_text="why fund expense ratios are not billed")


class AccountFeesOutputSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    goal_name = serializers.CharField()
    value = serializers.DecimalField(**MONEY_OUT)
    paid_ytd = serializers.DecimalField(**MONEY_OUT)
    paid_since_inception = serializers.DecimalField(**MONEY_OUT)
    last_fee_month = serializers.DateField(allow_null=True, help_text="first day of the month")
    last_fee_amount = serializers.DecimalField(**MONEY_OUT, allow_null=True)
    owed = serializers.DecimalField(
        **MONEY_OUT, help_text="fees the account could not pay, taken from its next deposit"
    )
    accrued_this_month = serializers.DecimalField(
        **MONEY_OUT,
        help_text="accrued from the month's first day to the market date; not billed yet",
    )
    estimated_annual_fee = serializers.DecimalField(**MONEY_OUT, help_text="at today's value")
    fund_expense_ratio = serializers.DecimalField(
        max_digits=8,
        decimal_places=6,
        coerce_to_string=True,
        allow_null=True,
        help_text="value-weighted over the funds held; paid inside the funds, not billed",
    )
    estimated_annual_fund_expenses = serializers.DecimalField(**MONEY_OUT)


class FeesSummaryOutputSerializer(serializers.Serializer):
    market_date = serializers.DateField()
    year = serializers.IntegerField(help_text="the year `paid_ytd` covers")
    schedule = FeeScheduleOutputSerializer()
    value = serializers.DecimalField(**MONEY_OUT)
    paid_ytd = serializers.DecimalField(**MONEY_OUT)
    paid_since_inception = serializers.DecimalField(**MONEY_OUT)
    owed = serializers.DecimalField(**MONEY_OUT, help_text="fees owed, not yet collected")
    accrued_this_month = serializers.DecimalField(
        **MONEY_OUT, help_text="accrued this month so far; billed after the month ends"
    )
    estimated_annual_fee = serializers.DecimalField(**MONEY_OUT)
    fund_expense_ratio = serializers.DecimalField(
        max_digits=8, decimal_places=6, coerce_to_string=True, allow_null=True
    )
    estimated_annual_fund_expenses = serializers.DecimalField(**MONEY_OUT)
    accounts = AccountFeesOutputSerializer(many=True)


class GoalAllocationOutputSerializer(serializers.Serializer):
    goal_id = serializers.IntegerField(source="goal.id")
    goal_name = serializers.CharField(source="goal.name")
    goal_type = serializers.CharField(source="goal.goal_type")
    target_date = serializers.DateField(source="goal.target_date")
    client_level = serializers.IntegerField(allow_null=True, help_text="the client's risk level")
    level = serializers.IntegerField(
        allow_null=True, help_text="the level the goal is invested at (goal type, glide path)"
    )
    level_reason = serializers.CharField(help_text="why, in the client's words")
    equity = serializers.DecimalField(
        max_digits=6, decimal_places=4, coerce_to_string=True, allow_null=True, help_text="stocks"
    )
    fixed_income = serializers.DecimalField(
        max_digits=6, decimal_places=4, coerce_to_string=True, allow_null=True, help_text="bonds"
    )
    other = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        coerce_to_string=True,
        allow_null=True,
        help_text="real estate, gold and cash",
    )
    classes = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=4, coerce_to_string=True),
        help_text="asset class → target weight",
    )
