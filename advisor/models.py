"""Clients, their suitability (KYC) data, risk questionnaire responses and goals.

Data and invariants only; workflows live in services.py.
"""

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from encrypted_fields.fields import EncryptedCharField
from knox.models import AbstractAuthToken

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
MAX_MONEY = Decimal("999999999999.99")
non_negative = MinValueValidator(Decimal("0"))


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day` for someone born on `born` (the birthday counts)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are stored lower-case; logins are case-insensitive.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """Logs in with an email address. Staff users are advisors; superusers are admins."""

    email = models.EmailField(unique=True, max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Advisors and admins: may log into the advisor workspace."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner followed the verification link."
    )
    # Bumped to end every browser session of the user without changing the password (see
    # _get_session_auth_hash): "sign out everywhere".
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.email

    @property
    def is_advisor(self) -> bool:
        return self.is_staff and not self.is_superuser

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django stores this hash in each session and ends any session whose hash no longer
        matches: it covers the password, and here the session epoch too, so bumping the epoch
        signs every browser out. Epoch 0 hashes as Django does, so no session ends on deploy."""
        value = self.password if not self.session_epoch else f"{self.password}:{self.session_epoch}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Client(models.Model):
    """A client and the suitability data a regulated adviser collects (KYC)."""

    class EmploymentStatus(models.TextChoices):
        EMPLOYED = "employed", "Employed"
        SELF_EMPLOYED = "self_employed", "Self-employed"
        UNEMPLOYED = "unemployed", "Unemployed"
        RETIRED = "retired", "Retired"
        STUDENT = "student", "Student"
        HOMEMAKER = "homemaker", "Homemaker"

    class OccupationCategory(models.TextChoices):
        MANAGEMENT = "management", "Management and business"
        PROFESSIONAL = "professional", "Professional (law, medicine, engineering, science)"
        FINANCE = "finance", "Financial services"
        TECHNOLOGY = "technology", "Technology"
        EDUCATION = "education", "Education"
        HEALTHCARE = "healthcare", "Healthcare support"
        SALES_SERVICE = "sales_service", "Sales and service"
        TRADES = "trades", "Construction, production and trades"
        PUBLIC_SECTOR = "public_sector", "Government and military"
        ARTS = "arts", "Arts, media and entertainment"
        OTHER = "other", "Other"
        NONE = "none", "Not working"

    class MaritalStatus(models.TextChoices):
        SINGLE = "single", "Single"
        MARRIED = "married", "Married or civil partnership"
        DIVORCED = "divorced", "Divorced or separated"
        WIDOWED = "widowed", "Widowed"

    class EducationLevel(models.TextChoices):
        NO_HIGH_SCHOOL = "no_high_school", "No high-school diploma"
        HIGH_SCHOOL = "high_school", "High-school diploma"
        SOME_COLLEGE = "some_college", "Some college or associate degree"
        BACHELORS = "bachelors", "Bachelor's degree"
        GRADUATE = "graduate", "Graduate or professional degree"

    class TaxFilingStatus(models.TextChoices):
        SINGLE = "single", "Single"
        MARRIED_JOINT = "married_joint", "Married filing jointly"
        MARRIED_SEPARATE = "married_separate", "Married filing separately"
        HEAD_OF_HOUSEHOLD = "head_of_household", "Head of household"
        QUALIFYING_SURVIVING_SPOUSE = "qualifying_surviving_spouse", "Qualifying surviving spouse"

    class InvestmentExperience(models.TextChoices):
        NONE = "none", "None"
        LIMITED = "limited", "Limited (under 2 years)"
        MODERATE = "moderate", "Moderate (2–10 years)"
        EXTENSIVE = "extensive", "Extensive (over 10 years)"

    class Objective(models.TextChoices):
        CAPITAL_PRESERVATION = "capital_preservation", "Capital preservation"
        INCOME = "income", "Income"
        BALANCED = "balanced", "Balanced growth and income"
        GROWTH = "growth", "Growth"
        AGGRESSIVE_GROWTH = "aggressive_growth", "Aggressive growth"

    class TimeHorizon(models.TextChoices):
        UNDER_3 = "under_3", "Under 3 years"
        FROM_3_TO_5 = "3_to_5", "3 to 5 years"
        FROM_6_TO_10 = "6_to_10", "6 to 10 years"
        FROM_11_TO_20 = "11_to_20", "11 to 20 years"
        OVER_20 = "over_20", "Over 20 years"

    class LiquidityNeeds(models.TextChoices):
        LOW = "low", "Low: no withdrawals expected for years"
        MEDIUM = "medium", "Medium: occasional withdrawals"
        HIGH = "high", "High: regular or imminent withdrawals"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client"
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="book",
        limit_choices_to={"is_staff": True},
        help_text="The advisor whose book this client is in.",
    )

    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code.")],
        help_text="ISO 3166-1 alpha-2, e.g. US.",
    )
    phone = models.CharField(
        max_length=16,
        blank=True,
        validators=[
            RegexValidator(r"^\+[1-9]\d{6,14}$", "Use international format, e.g. +14155550100.")
        ],
    )
    # Encrypted at rest (Fernet); the API only ever shows the last four characters.
    tax_id = EncryptedCharField(max_length=32, blank=True, null=True)

    employment_status = models.CharField(max_length=20, choices=EmploymentStatus, blank=True)
    occupation_category = models.CharField(max_length=20, choices=OccupationCategory, blank=True)
    annual_income = models.DecimalField(**MONEY, null=True, blank=True, validators=[non_negative])
    net_worth = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(-MAX_MONEY)],
        help_text="May be negative.",
    )
    liquid_net_worth = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[non_negative]
    )
    dependents = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(20)]
    )
    marital_status = models.CharField(max_length=20, choices=MaritalStatus, blank=True)
    education_level = models.CharField(max_length=20, choices=EducationLevel, blank=True)
    tax_filing_status = models.CharField(max_length=30, choices=TaxFilingStatus, blank=True)
    investment_experience = models.CharField(
        max_length=20, choices=InvestmentExperience, blank=True
    )
    objective = models.CharField(max_length=30, choices=Objective, blank=True)
    time_horizon = models.CharField(max_length=10, choices=TimeHorizon, blank=True)
    liquidity_needs = models.CharField(max_length=10, choices=LiquidityNeeds, blank=True)

    harvest_auto = models.BooleanField(
        "execute tax-loss harvests automatically",
        default=False,
        help_text="opted in: harvests in taxable accounts execute when proposed; otherwise each "
        "waits for the client's or the advisor's approval, like a rebalance",
    )
    kyc_completed_at = models.DateTimeField(null=True, blank=True)
    kyc_review_due = models.DateField(
        "KYC review date",
        null=True,
        blank=True,
        help_text="When the KYC data must be re-confirmed.",
    )
    kyc_review_overdue = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("last_name", "first_name", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_income__isnull=True) | Q(annual_income__gte=0),
                name="client_annual_income_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(liquid_net_worth__isnull=True) | Q(liquid_net_worth__gte=0),
                name="client_liquid_net_worth_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or f"Client {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def tax_id_masked(self) -> str:
        if not self.tax_id:
            return ""
        return "•" * max(len(self.tax_id) - 4, 0) + self.tax_id[-4:]


class QuestionnaireResponse(models.Model):
    """One submission of the risk questionnaire, validated against its version."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="questionnaire_responses"
    )

    class ModelOpinion(models.TextChoices):
        """Where the risk model's second opinion on this response stands."""

        PENDING = "pending", "Pending: queued for the ml worker"
        DONE = "done", "Done"
        INCOMPLETE_PROFILE = "incomplete_profile", "Skipped: the KYC profile lacks model inputs"
        UNAVAILABLE = "unavailable", "Unavailable: no approved risk model yet"
        FAILED = "failed", "Failed after retries"

    version = models.CharField(max_length=20)
    answers = models.JSONField(help_text="{question key: choice value}")
    submitted_at = models.DateTimeField(default=timezone.now)
    model_opinion = models.CharField(
        max_length=20, choices=ModelOpinion, default=ModelOpinion.PENDING
    )
    model_opinion_detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("-submitted_at", "-id")
        get_latest_by = ("submitted_at", "id")

    def __str__(self) -> str:
        return f"Questionnaire {self.version} of client {self.client_id}"


class RiskAssessment(models.Model):
    """A risk estimate for a questionnaire response by one method.

    The deterministic rules score every response; a model (the ML risk classifier) may add its
    own opinion beside it, one row per method, so opinions can be compared, never overwritten.
    """

    RULES_METHOD = "rules-v1"
    # The final level once the risk model has spoken: rules and model combined (advisor.risk).
    COMBINED_METHOD = "combined-v1"
    # An advisor's decision, with their reason: it beats both of the above (advisor.services).
    OVERRIDE_METHOD = "advisor-override"
    # The risk model's own opinion, one method per model version: "risk_profile@3".
    MODEL_METHOD_PREFIX = "risk_profile@"

    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.CASCADE, related_name="assessments"
    )
    method = models.CharField(max_length=64, help_text="rules-v1, or a model name and version")
    willingness_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    capacity_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    risk_level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    inconsistent = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True, help_text="Why answers look inconsistent.")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["response", "method"], name="riskassessment_one_per_method"
            ),
            models.CheckConstraint(
                condition=Q(risk_level__gte=1) & Q(risk_level__lte=10),
                name="riskassessment_level_1_to_10",
            ),
            models.CheckConstraint(
                condition=(Q(willingness_score__isnull=True) | Q(willingness_score__lte=100))
                & (Q(capacity_score__isnull=True) | Q(capacity_score__lte=100)),
                name="riskassessment_scores_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"Risk level {self.risk_level} ({self.method})"

    @classmethod
    def model_method(cls, version: int) -> str:
        return f"{cls.MODEL_METHOD_PREFIX}{version}"

    @property
    def is_model_opinion(self) -> bool:
        return self.method.startswith(self.MODEL_METHOD_PREFIX)


class RiskOverrideRequest(models.Model):
    """An advisor's request to set a client's level above their capacity level, which a second
    person with the compliance permission must approve (four-eyes) before it takes effect."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: waiting for a compliance approval"
        APPROVED = "approved", "Approved: the override is in force"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn: replaced by a newer request"

    APPROVE_PERMISSION = "advisor.approve_risk_override_above_capacity"

    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.CASCADE, related_name="override_requests"
    )
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    capacity_level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="The client's capacity level when the request was made.",
    )
    reason = models.TextField(max_length=1000)
    flags_reviewed = models.BooleanField(
        default=False, help_text="The requester went through the profile's flags with the client."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_override_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=1000, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        permissions = [
            (
                "approve_risk_override_above_capacity",
                "Can approve a risk-level override above the client's capacity (four-eyes)",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["response"],
                condition=Q(status="pending"),
                name="riskoverriderequest_one_pending_per_response",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=10) & Q(level__gt=F("capacity_level")),
                name="riskoverriderequest_level_above_capacity",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="riskoverriderequest_decided_has_a_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Override to level {self.level} ({self.get_status_display()})"


class Goal(models.Model):
    class GoalType(models.TextChoices):
        RETIREMENT = "retirement", "Retirement"
        HOME_PURCHASE = "home_purchase", "Home purchase"
        EDUCATION = "education", "Education"
        EMERGENCY_FUND = "emergency_fund", "Emergency fund"
        MAJOR_PURCHASE = "major_purchase", "Major purchase"
        GENERAL_WEALTH = "general_wealth", "General wealth"

    class Priority(models.TextChoices):
        NEED = "need", "Need"
        WANT = "want", "Want"
        WISH = "wish", "Wish"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ACHIEVED = "achieved", "Achieved"
        CLOSED = "closed", "Closed"

    class AccountType(models.TextChoices):
        TAXABLE = "taxable", "Taxable"
        TRADITIONAL_IRA = "traditional_ira", "Traditional IRA"
        ROTH_IRA = "roth_ira", "Roth IRA"

    IRA_TYPES = frozenset({AccountType.TRADITIONAL_IRA, AccountType.ROTH_IRA})

    # The one definition of "on track": the goal's plan's chance of success at or above its
    # priority's band (a need must be likely, a wish may be a long shot). The workspace's
    # off-track list and the client's off-track notification both read it.
    SUCCESS_BANDS: dict[str, float] = {"need": 0.80, "want": 0.65, "wish": 0.50}

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="goals")
    goal_type = models.CharField(max_length=20, choices=GoalType)
    name = models.CharField(max_length=100)
    target_amount = models.DecimalField(
        **MONEY, validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(MAX_MONEY)]
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")],
    )
    target_date = models.DateField()
    initial_amount = models.DecimalField(
        **MONEY, default=Decimal("0.00"), validators=[non_negative]
    )
    monthly_contribution = models.DecimalField(
        **MONEY, default=Decimal("0.00"), validators=[non_negative]
    )
    priority = models.CharField(max_length=4, choices=Priority, default=Priority.WANT)
    account_type = models.CharField(
        max_length=16,
        choices=AccountType,
        default=AccountType.TAXABLE,
        help_text="the tax treatment of the goal's account; chosen when the goal is made and "
        "fixed once money is in it",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("target_date", "id")
        constraints = [
            models.CheckConstraint(condition=Q(target_amount__gt=0), name="goal_target_positive"),
            models.CheckConstraint(
                condition=Q(initial_amount__gte=0) & Q(monthly_contribution__gte=0),
                name="goal_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def on_track(self, probability: float) -> bool:
        return probability >= self.SUCCESS_BANDS[self.priority]


class DeviceToken(AbstractAuthToken):
    """A mobile device's API token (django-rest-knox): expires, revocable one by one or all."""

    device_name: "models.CharField[str, str]" = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.device_name or 'device'})"


class KnownDevice(models.Model):
    """A browser or app a user has signed in from: a hash of its client IP and user agent, so a
    sign-in from anything new can be announced by email. Only the hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "fingerprint"), name="known_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint[:8]}… (user {self.user_id})"


class Notification(models.Model):
    """Something that happened to a user's money or account, shown in the app (the bell) and,
    where the user's preference says so, emailed. `key` names the event: one notice per event,
    however often the code path that announces it runs (unique per user)."""

    class Kind(models.TextChoices):
        CASH_FLOW = "cash_flow", "Deposit or withdrawal done"
        REBALANCE = "rebalance", "Rebalance executed"
        GOAL_OFF_TRACK = "goal_off_track", "Goal moved off track"
        ESCALATION_ANSWERED = "escalation_answered", "Your advisor answered"
        KYC_REVIEW_DUE = "kyc_review_due", "Profile review due"
        NEW_DEVICE = "new_device", "Sign-in from a new device"
        TAX_HARVEST = "tax_harvest", "Tax-loss harvest proposed or done"
        DOCUMENT_READY = "document_ready", "Statement or tax report ready"
        WITHDRAWAL_HOLD = "withdrawal_hold", "Withdrawal held for review"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind)
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=200, blank=True, help_text="A path in the app, e.g. /money.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("user", "key"), name="notification_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=("user",), condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"


class NotificationPreference(models.Model):
    """Whether a user gets one kind of notification by email too (no row: yes). In-app notices
    are always on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Notification.Kind)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "kind"), name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: email {'on' if self.email else 'off'} (user {self.user_id})"


class GoalTrack(models.Model):
    """Whether a goal's current plan was last seen on track (its chance of success within its
    priority's band), so that moving off track is announced once, not at every projection."""

    goal = models.OneToOneField(Goal, on_delete=models.CASCADE, related_name="+", primary_key=True)
    on_track = models.BooleanField()
    probability = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Goal {self.goal_id} {'on' if self.on_track else 'off'} track"


# --- Risk control for money movement (advisor.risk_control, portfolios.services.holds) ---------


class RiskRule(models.Model):
    """One version of a risk-control rule: which check it runs (advisor.risk_control.CHECKS), on
    which event, with which parameters and action. Rules are data: compliance staff edit them in
    the admin, and every edit is a new version (the old ones are kept, and each evaluation names
    the versions it ran), so what decided a past withdrawal can always be read back."""

    class Event(models.TextChoices):
        WITHDRAWAL = "withdrawal", "Withdrawal"
        RECURRING_CHANGE = "recurring_change", "Recurring-deposit change"
        LOGIN = "login", "Login"

    class Action(models.TextChoices):
        HOLD = "hold", "Hold: the withdrawal waits for an advisor"
        FLAG = "flag", "Flag: recorded for review; two flags hold a withdrawal"
        ALLOW = "allow", "Allow: recorded only"

    MANAGE_PERMISSION = "advisor.manage_risk_rules"

    code = models.SlugField(max_length=50, help_text="stable name across versions")
    version = models.PositiveIntegerField(default=1)
    current = models.BooleanField(default=True, help_text="the version in force")
    event = models.CharField(max_length=20, choices=Event)
    check_name = models.CharField(
        "check", max_length=40, help_text="the evaluation function (advisor.risk_control.CHECKS)"
    )
    description = models.TextField(blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="thresholds, as strings")
    action = models.CharField(max_length=5, choices=Action, default=Action.FLAG)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="empty for the built-in rules the migration seeded",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("code", "-version")
        permissions = [
            ("manage_risk_rules", "Can edit risk-control rules (compliance)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="riskrule_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(current=True), name="riskrule_one_current_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class SecurityEvent(models.Model):
    """A change to how a user signs in (password reset or change, MFA turned off or on): the
    risk rules look for money moving shortly after one."""

    class Kind(models.TextChoices):
        PASSWORD_RESET = "password_reset", "Password reset by email link"
        PASSWORD_CHANGE = "password_change", "Password changed"
        MFA_DISABLED = "mfa_disabled", "Two-factor authentication turned off"
        MFA_ENABLED = "mfa_enabled", "Two-factor authentication turned on"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("user", "created_at"), name="securityevent_user_at")]

    def __str__(self) -> str:
        return f"{self.kind} (user {self.user_id})"


class RiskEvent(models.Model):
    """One evaluation of the risk rules (and the anomaly model) on a withdrawal, a recurring
    deposit change or a login: what was known, which rule versions fired, the score, and the
    decision. Written for every evaluation, allowed ones too."""

    class Decision(models.TextChoices):
        ALLOW = "allow", "Allowed"
        FLAG = "flag", "Flagged for review"
        HOLD = "hold", "Held"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="risk_events")
    event = models.CharField(max_length=20, choices=RiskRule.Event)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True, help_text="the facts the rules read")
    fired = models.JSONField(
        default=list, blank=True, help_text="[{code, version, action, reason}] of the rules fired"
    )
    score = models.FloatField(
        null=True, blank=True, help_text="anomaly score 0–1 (no model trained: empty)"
    )
    model_version = models.CharField(max_length=64, blank=True)
    decision = models.CharField(max_length=5, choices=Decision)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("client", "created_at"), name="riskevent_client_at")]

    def __str__(self) -> str:
        return f"{self.event} of client {self.client_id}: {self.decision}"


class WithdrawalHold(models.Model):
    """A withdrawal the risk rules held instead of executing: it waits for an advisor, who
    releases it (executed at that day's close through the normal withdrawal path, exactly once)
    or rejects it. From FOUR_EYES_THRESHOLD up, two different staff members must approve."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: waiting for an advisor"
        RELEASED = "released", "Released: the withdrawal was made"
        REJECTED = "rejected", "Rejected: no money moved"
        EXPIRED = "expired", "Expired: nobody decided in time; no money moved"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="withdrawal_holds")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="withdrawal_holds")
    # The account and transaction live on the floor above (portfolios): ids, not foreign keys.
    account_id = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="the Idempotency-Key of the request that was held"
    )
    risk_event = models.ForeignKey(
        RiskEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reasons = models.JSONField(default=list, blank=True, help_text="why it was held")
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    approvals_needed = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="four-eyes: the first of two approvals",
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="who released (the second approval) or rejected it",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=1000, blank=True)
    transaction_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="the withdrawal made on release"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    # The compliance permission: the second approval of a large hold (any client's).
    APPROVE_LARGE_PERMISSION = "advisor.approve_large_withdrawal"

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [
            (
                "approve_large_withdrawal",
                "Can give any client's held withdrawal its approval, the second one too "
                "(four-eyes)",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="withdrawalhold_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="withdrawalhold_decided_has_a_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="released") | Q(transaction_id__isnull=False),
                name="withdrawalhold_released_has_a_transaction",
            ),
            # Four eyes: the second approval is never the first approver's.
            models.CheckConstraint(
                condition=Q(first_approved_by__isnull=True)
                | Q(decided_by__isnull=True)
                | ~Q(first_approved_by=F("decided_by"))
                | ~Q(status="released"),
                name="withdrawalhold_four_eyes",
            ),
            # One withdrawal per hold, whatever concurrent releases do.
            models.UniqueConstraint(
                fields=["transaction_id"],
                condition=Q(transaction_id__isnull=False),
                name="withdrawalhold_one_transaction",
            ),
        ]
        indexes = [
            models.Index(
                fields=("client",), condition=Q(status="pending"), name="withdrawalhold_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.amount} ({self.get_status_display()})"
