"""Input serializers parse and validate; output serializers shape responses. No logic here."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import InputSerializer, MoneyField
from config.authentication import mfa_enrolment_pending

from .. import suitability
from ..models import (
    MAX_MONEY,
    Client,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    RiskOverrideRequest,
    User,
    age_on,
)
from ..services.clients import KYC_FIELD_LABELS, kyc_missing_fields
from ..services.goals import goal_account_type_suggested
from ..services.mfa import mfa_enabled

MONEY_FIELD: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


# --- Auth -----------------------------------------------------------------------------------


class RegisterInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class LoginInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenCreateInputSerializer(LoginInputSerializer):
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TokenRevokeInputSerializer(InputSerializer):
    token_key = serializers.CharField(max_length=32, required=False)
    all = serializers.BooleanField(required=False, default=False)


class UserOutputSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    client_id = serializers.SerializerMethodField()
    email_verified = serializers.BooleanField(read_only=True)
    mfa_enabled = serializers.SerializerMethodField()
    mfa_enrolment_required = serializers.SerializerMethodField(
        help_text="Staff without an authenticator app: only MFA enrolment works until they enrol."
    )

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "client_id",
            "email_verified",
            "mfa_enabled",
            "mfa_enrolment_required",
        )

    def get_mfa_enabled(self, user: User) -> bool:
        return mfa_enabled(user=user)

    def get_mfa_enrolment_required(self, user: User) -> bool:
        return mfa_enrolment_pending(user)

    def get_role(self, user: User) -> str:
        if user.is_superuser:
            return "admin"
        return "advisor" if user.is_staff else "client"

    def get_client_id(self, user: User) -> int | None:
        client = getattr(user, "client", None)
        return client.pk if client is not None else None


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
    token_key = serializers.CharField(help_text="The token's public prefix, to revoke it by.")
    expiry = serializers.DateTimeField()
    user = UserOutputSerializer()


class DeviceTokenOutputSerializer(serializers.Serializer):
    token_key = serializers.CharField()
    device_name = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField()


class RevokedOutputSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


class CsrfOutputSerializer(serializers.Serializer):
    csrf_token = serializers.CharField()


class RegisteredOutputSerializer(serializers.Serializer):
    """The same answer whether or not the address already had an account."""

    message = serializers.CharField()
    email = serializers.EmailField()


class MfaChallengeOutputSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField()
    mfa_token = serializers.CharField(
        help_text="Send with a code to POST /auth/mfa/verify/ within MFA_LOGIN_TIMEOUT seconds."
    )


class PasswordResetInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(InputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeInputSerializer(InputSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class EmailVerifyInputSerializer(InputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class DetailOutputSerializer(serializers.Serializer):
    message = serializers.CharField()


class MfaCodeInputSerializer(InputSerializer):
    code = serializers.CharField(max_length=32, help_text="A 6-digit TOTP code or a recovery code.")


class MfaVerifyInputSerializer(MfaCodeInputSerializer):
    mfa_token = serializers.CharField(max_length=1024)


class TotpEnrolmentOutputSerializer(serializers.Serializer):
    otpauth_uri = serializers.CharField()
    secret = serializers.CharField(help_text="Base32, for typing into the app by hand.")
    qr_svg_data_uri = serializers.CharField(help_text="The otpauth URI as a QR code (SVG).")


class RecoveryCodesOutputSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="One-time codes, shown only now."
    )


# --- Client profile -------------------------------------------------------------------------


def _validate_birth_date(value: date) -> None:
    age = age_on(value, timezone.localdate())
    if age < 18:
        raise serializers.ValidationError("Clients must be at least 18 years old.")
    if age > 120:
        raise serializers.ValidationError("Enter a real date of birth.")


class ClientUpdateInputSerializer(InputSerializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[_validate_birth_date]
    )
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.RegexField(
        r"^[A-Z]{2}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use a two-letter ISO 3166 country code, e.g. US."},
    )
    phone = serializers.RegexField(
        r"^\+[1-9]\d{6,14}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use international format, e.g. +14155550100."},
    )
    tax_id = serializers.RegexField(
        r"^[A-Za-z0-9-]{4,20}$",
        required=False,
        allow_blank=True,
        write_only=True,
        error_messages={"invalid": "4–20 letters, digits or dashes."},
    )
    employment_status = serializers.ChoiceField(
        Client.EmploymentStatus.choices, required=False, allow_blank=True
    )
    occupation_category = serializers.ChoiceField(
        Client.OccupationCategory.choices, required=False, allow_blank=True
    )
    annual_income = MoneyField(
        **MONEY_FIELD, min_value=Decimal("0"), max_value=MAX_MONEY, required=False, allow_null=True
    )
    net_worth = MoneyField(
        **MONEY_FIELD, min_value=-MAX_MONEY, max_value=MAX_MONEY, required=False, allow_null=True
    )
    liquid_net_worth = MoneyField(
        **MONEY_FIELD, min_value=Decimal("0"), max_value=MAX_MONEY, required=False, allow_null=True
    )
    dependents = serializers.IntegerField(
        min_value=0, max_value=20, required=False, allow_null=True
    )
    marital_status = serializers.ChoiceField(
        Client.MaritalStatus.choices, required=False, allow_blank=True
    )
    education_level = serializers.ChoiceField(
        Client.EducationLevel.choices, required=False, allow_blank=True
    )
    tax_filing_status = serializers.ChoiceField(
        Client.TaxFilingStatus.choices, required=False, allow_blank=True
    )
    investment_experience = serializers.ChoiceField(
        Client.InvestmentExperience.choices, required=False, allow_blank=True
    )
    objective = serializers.ChoiceField(Client.Objective.choices, required=False, allow_blank=True)
    time_horizon = serializers.ChoiceField(
        Client.TimeHorizon.choices, required=False, allow_blank=True
    )
    liquidity_needs = serializers.ChoiceField(
        Client.LiquidityNeeds.choices, required=False, allow_blank=True
    )
    harvest_auto = serializers.BooleanField(
        required=False,
        help_text="execute tax-loss harvests in taxable accounts as they are proposed (else each "
        "waits for approval)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        liquid, total = attrs.get("liquid_net_worth"), attrs.get("net_worth")
        if liquid is not None and total is not None and total >= 0 and liquid > total:
            raise serializers.ValidationError(
                {"liquid_net_worth": ["Liquid net worth cannot exceed net worth."]}
            )
        return attrs


class KycMissingOutputSerializer(serializers.Serializer):
    field = serializers.CharField()
    # DRF's metaclass pops declared fields out of the class, so this `label` is a field, not
    # Field.label; mypy only sees the class body.
    label = serializers.CharField(help_text="the field's name on the client's form")  # type: ignore[assignment]


class ClientOutputSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    tax_id_masked = serializers.CharField(help_text="Only the last four characters are shown.")
    advisor_name = serializers.SerializerMethodField()
    kyc_complete = serializers.SerializerMethodField()
    kyc_missing = serializers.SerializerMethodField(
        help_text="the KYC fields still to fill in; empty when KYC can complete"
    )

    class Meta:
        model = Client
        fields: tuple[str, ...] = (
            "id",
            "email",
            "first_name",
            "last_name",
            "date_of_birth",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "tax_id_masked",
            "employment_status",
            "occupation_category",
            "annual_income",
            "net_worth",
            "liquid_net_worth",
            "dependents",
            "marital_status",
            "education_level",
            "tax_filing_status",
            "investment_experience",
            "objective",
            "time_horizon",
            "liquidity_needs",
            "harvest_auto",
            "kyc_complete",
            "kyc_missing",
            "kyc_completed_at",
            "kyc_review_due",
            "kyc_review_overdue",
            "advisor_name",
            "created_at",
            "updated_at",
        )

    def get_advisor_name(self, client: Client) -> str | None:
        return client.advisor.get_full_name() if client.advisor else None

    def get_kyc_complete(self, client: Client) -> bool:
        return client.kyc_completed_at is not None

    @extend_schema_field(KycMissingOutputSerializer(many=True))
    def get_kyc_missing(self, client: Client) -> list[dict[str, str]]:
        return [
            {"field": field, "label": KYC_FIELD_LABELS[field]}
            for field in kyc_missing_fields(client=client)
        ]


class AdvisorClientOutputSerializer(ClientOutputSerializer):
    risk_level = serializers.IntegerField(allow_null=True, read_only=True)
    risk_inconsistent = serializers.BooleanField(allow_null=True, read_only=True)

    class Meta(ClientOutputSerializer.Meta):
        fields = (*ClientOutputSerializer.Meta.fields, "risk_level", "risk_inconsistent")


# --- Risk questionnaire ---------------------------------------------------------------------


class ChoiceOutputSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class QuestionOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    dimension = serializers.ChoiceField(["willingness", "capacity"])
    help_text = serializers.CharField()  # type: ignore[assignment]
    choices = ChoiceOutputSerializer(many=True)


class QuestionSetOutputSerializer(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField()
    questions = QuestionOutputSerializer(many=True)


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "string"}, "example": {"q": "a"}}
)
class AnswersField(serializers.JSONField):
    """Free-form here: the service validates answers against the questionnaire version."""


class QuestionnaireResponseInputSerializer(InputSerializer):
    version = serializers.CharField(max_length=20)
    answers = AnswersField()


class FlagOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


# Written for advisors (or holding their names and emails): never in a client's response.
ADVISOR_ONLY_DETAILS = frozenset(
    {"flags", "reviewed_flags", "decision", "overridden_by", "approved_by", "rule"}
)


class RiskAssessmentOutputSerializer(serializers.ModelSerializer):
    """One method's estimate, as a client sees it: flags in the client's words."""

    flags = serializers.SerializerMethodField()
    details = serializers.SerializerMethodField()

    class Meta:
        model = RiskAssessment
        fields = (
            "method",
            "risk_level",
            "willingness_score",
            "capacity_score",
            "inconsistent",
            "flags",
            "details",
            "created_at",
        )

    @extend_schema_field(FlagOutputSerializer(many=True))
    def get_flags(self, assessment: RiskAssessment) -> list[dict[str, str]]:
        return [
            {"code": f.code, "message": f.message}
            for f in suitability.client_flags(suitability.flags_from(assessment.flags or []))
        ]

    @extend_schema_field({"type": "object", "additionalProperties": {}})
    def get_details(self, assessment: RiskAssessment) -> dict[str, Any]:
        return {
            k: v for k, v in (assessment.details or {}).items() if k not in ADVISOR_ONLY_DETAILS
        }


class AdvisorRiskAssessmentOutputSerializer(serializers.ModelSerializer):
    """One method's estimate, as an advisor sees it: the flags' own wording, every detail."""

    flags = FlagOutputSerializer(many=True)
    details = serializers.DictField()

    class Meta:
        model = RiskAssessment
        fields = RiskAssessmentOutputSerializer.Meta.fields


class QuestionnaireResponseOutputSerializer(serializers.ModelSerializer):
    answers = serializers.DictField(child=serializers.CharField())
    assessments = RiskAssessmentOutputSerializer(many=True)

    class Meta:
        model = QuestionnaireResponse
        fields = ("id", "version", "answers", "submitted_at", "assessments")


class AdvisorQuestionnaireResponseOutputSerializer(QuestionnaireResponseOutputSerializer):
    assessments = AdvisorRiskAssessmentOutputSerializer(many=True)  # type: ignore[assignment]


class OverrideOutputSerializer(serializers.Serializer):
    """An advisor's override in the decision record, as the client sees it."""

    level = serializers.IntegerField()
    reason = serializers.CharField()
    set_by = serializers.CharField(help_text='the advisor\'s name as clients see it: "Alex M."')
    set_by_role = serializers.ChoiceField(
        ["advisor", "staff"], help_text="advisor: the client's own; staff: another advisor"
    )
    set_on = serializers.DateField(allow_null=True)
    approved_above_capacity = serializers.SerializerMethodField(
        help_text="above the capacity level, approved by a second person in compliance"
    )
    approved_on = serializers.DateField(allow_null=True)

    def get_approved_above_capacity(self, override: suitability.Override) -> bool:
        return bool(override.approved_by)


class AdvisorOverrideOutputSerializer(OverrideOutputSerializer):
    approved_by = serializers.CharField(allow_null=True)
    flags_reviewed = serializers.BooleanField()


class DecisionOutputSerializer(serializers.Serializer):
    """The suitability policy's decision record behind the level (advisor.suitability)."""

    level = serializers.IntegerField()
    decided_by = serializers.ChoiceField(
        ["rules", "model", "advisor"],
        help_text="rules: the answers; model: the risk model lowered it; advisor: an override",
    )
    reasons = serializers.ListField(
        child=serializers.ChoiceField(suitability.REASONS),
        help_text="why, the deciding reason first",
    )
    set_by = serializers.SerializerMethodField(help_text="who set the level, in words")
    decided_on = serializers.DateField(allow_null=True)
    willingness_level = serializers.IntegerField(allow_null=True)
    capacity_level = serializers.IntegerField(allow_null=True)
    rules_level = serializers.IntegerField(
        allow_null=True, help_text="the lower of willingness and capacity"
    )
    model_level = serializers.IntegerField(allow_null=True)
    override = OverrideOutputSerializer(allow_null=True)
    policy = serializers.CharField()

    def get_set_by(self, decision: suitability.Decision) -> str:
        return suitability.client_set_by(decision)


class AdvisorDecisionOutputSerializer(DecisionOutputSerializer):
    override = AdvisorOverrideOutputSerializer(allow_null=True)
    flags_reviewed = serializers.BooleanField()


class RiskProfileOutputSerializer(serializers.Serializer):
    """A client's risk profile as the client sees it: every text from the decision record, in
    the client's words."""

    risk_level = serializers.IntegerField(source="assessment.risk_level")
    willingness_score = serializers.IntegerField(source="assessment.willingness_score")
    capacity_score = serializers.IntegerField(source="assessment.capacity_score")
    willingness_level = serializers.IntegerField(
        source="decision.willingness_level", allow_null=True
    )
    capacity_level = serializers.IntegerField(source="decision.capacity_level", allow_null=True)
    inconsistent = serializers.BooleanField(source="assessment.inconsistent")
    flags = serializers.SerializerMethodField(help_text="open flags, in the client's words")
    method = serializers.CharField(source="assessment.method")
    model_opinion = serializers.ChoiceField(
        source="response.model_opinion",
        choices=QuestionnaireResponse.ModelOpinion.choices,
        help_text="the risk model's second opinion: pending until the ml worker has read it",
    )
    model_opinion_detail = serializers.CharField(source="response.model_opinion_detail")
    questionnaire_version = serializers.CharField(source="response.version")
    response_id = serializers.IntegerField(source="response.id")
    assessed_at = serializers.DateTimeField(source="assessment.created_at")
    explanation = serializers.CharField(
        source="client_explanation", help_text="the level, who set it, when and why"
    )
    decision = DecisionOutputSerializer()
    second_opinions = RiskAssessmentOutputSerializer(many=True)

    @extend_schema_field(FlagOutputSerializer(many=True))
    def get_flags(self, profile: Any) -> list[dict[str, str]]:
        return [{"code": f.code, "message": f.message} for f in profile.decision.client_flags]


class AdvisorRiskProfileOutputSerializer(RiskProfileOutputSerializer):
    """The same profile for an advisor: the flags' own wording, the advisor's explanation, and
    the client's explanation (what the client reads) beside it."""

    flags = FlagOutputSerializer(source="assessment.flags", many=True)  # type: ignore[assignment]
    advisor_explanation = serializers.CharField()
    decision = AdvisorDecisionOutputSerializer()
    second_opinions = AdvisorRiskAssessmentOutputSerializer(many=True)  # type: ignore[assignment]


class RiskOverrideInputSerializer(InputSerializer):
    level = serializers.IntegerField(min_value=1, max_value=10)
    reason = serializers.CharField(max_length=1000)
    flags_reviewed = serializers.BooleanField(
        required=False,
        default=False,
        help_text="confirms the advisor went through the profile's flags with the client",
    )


class RiskOverrideDecisionInputSerializer(InputSerializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RiskOverrideRequestOutputSerializer(serializers.ModelSerializer):
    client_id = serializers.IntegerField(source="response.client_id")
    requested_by = serializers.EmailField(source="requested_by.email")
    decided_by = serializers.EmailField(source="decided_by.email", allow_null=True, default=None)
    # A plain string in the schema: another enum named "status" would need a settings entry.
    status = serializers.CharField(help_text="pending, approved, rejected or withdrawn")

    class Meta:
        model = RiskOverrideRequest
        fields = (
            "id",
            "client_id",
            "response_id",
            "level",
            "capacity_level",
            "reason",
            "flags_reviewed",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        )


# --- Goals ----------------------------------------------------------------------------------


class GoalInputSerializer(InputSerializer):
    goal_type = serializers.ChoiceField(Goal.GoalType.choices)
    name = serializers.CharField(max_length=100)
    target_amount = MoneyField(**MONEY_FIELD, min_value=Decimal("1.00"), max_value=MAX_MONEY)
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. USD."},
    )
    target_date = serializers.DateField()
    initial_amount = MoneyField(
        **MONEY_FIELD, min_value=Decimal("0"), max_value=MAX_MONEY, required=False
    )
    monthly_contribution = MoneyField(
        **MONEY_FIELD, min_value=Decimal("0"), max_value=MAX_MONEY, required=False
    )
    priority = serializers.ChoiceField(Goal.Priority.choices, required=False)
    status = serializers.ChoiceField(Goal.Status.choices, required=False)
    account_type = serializers.ChoiceField(
        Goal.AccountType.choices,
        required=False,
        help_text="taxable (the default), traditional_ira or roth_ira; fixed once money is in "
        "the goal's account",
    )


class GoalOutputSerializer(serializers.ModelSerializer):
    target_amount = serializers.DecimalField(**MONEY_FIELD)
    initial_amount = serializers.DecimalField(**MONEY_FIELD)
    monthly_contribution = serializers.DecimalField(**MONEY_FIELD)
    suggested_account_type = serializers.SerializerMethodField(
        help_text="the account type to offer for this kind of goal: traditional_ira for "
        "retirement, taxable otherwise"
    )

    class Meta:
        model = Goal
        fields = (
            "id",
            "goal_type",
            "name",
            "target_amount",
            "currency",
            "target_date",
            "initial_amount",
            "monthly_contribution",
            "priority",
            "status",
            "account_type",
            "suggested_account_type",
            "created_at",
            "updated_at",
        )

    @extend_schema_field(serializers.ChoiceField(choices=Goal.AccountType.choices))
    def get_suggested_account_type(self, goal: Goal) -> str:
        return goal_account_type_suggested(goal.goal_type)
