"""The model registry, news items and their sentiment scores."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portfolios.models import Asset


class ModelVersion(models.Model):
    """A trained model: workers serve only the approved version of each name."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        APPROVED = "approved", "Approved"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status, default=Status.CANDIDATE)
    weights_path = models.CharField(max_length=500, help_text="folder under NLP_MODEL_DIR")
    weights_sha256 = models.CharField(max_length=64)
    data_hash = models.CharField(max_length=64, help_text="sha256 of the training data")
    metrics = models.JSONField(default=dict)
    # nlp.cards.card_build: data and licences, metrics against baselines, intended use, what
    # the model must never decide, known failure cases; written once at registration.
    card = models.JSONField(default=dict, blank=True)
    quick = models.BooleanField(default=False, help_text="trained on a slice (CI)")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="the first of the two committee approvals (four eyes)",
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name", "-version")
        permissions = [("approve_modelversion", "Approve model versions (investment committee)")]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="modelversion_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(status="approved"), name="modelversion_one_approved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.status})"

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class NewsItem(models.Model):
    headline = models.CharField(max_length=500)
    summary = models.TextField(blank=True)
    source = models.CharField(max_length=120, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    published_at = models.DateTimeField(db_index=True)
    fingerprint = models.CharField(max_length=64, unique=True, help_text="dedupes re-imports")
    assets = models.ManyToManyField(Asset, blank=True, related_name="news")
    asset_classes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-published_at", "-id")

    def __str__(self) -> str:
        return self.headline[:80]


class SentimentScore(models.Model):
    """One model version's reading of one news item; a rerun of that version replaces it."""

    news_item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="scores")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT)
    label = models.CharField(max_length=8)
    negative = models.FloatField()
    neutral = models.FloatField()
    positive = models.FloatField()
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-scored_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["news_item", "model_version"], name="sentimentscore_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.model_version_id})"

    @property
    def score(self) -> float:
        """−1 (surely negative) … +1 (surely positive)."""
        return self.positive - self.negative


# --- Chat assistant ----------------------------------------------------------------------------


class Conversation(models.Model):
    client = models.ForeignKey(
        "advisor.Client", on_delete=models.CASCADE, related_name="conversations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at", "-id")

    def __str__(self) -> str:
        return f"Conversation {self.pk} of client {self.client_id}"


class Message(models.Model):
    """One turn. Every turn is kept: the client's text, the reply, how it was reached."""

    class Role(models.TextChoices):
        CLIENT = "client", "Client"
        ASSISTANT = "assistant", "Assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role)
    text = models.TextField()
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    intent = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sources = models.JSONField(default=list, blank=True, help_text="[{slug, title, excerpt}]")
    compliance = models.JSONField(
        default=list, blank=True, help_text="what the compliance check changed, if anything"
    )
    fallback = models.BooleanField(
        default=False, help_text="a holding reply sent while the ml worker was slow or down"
    )
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            # The worker answers each question once, however often the task runs.
            models.UniqueConstraint(
                fields=["reply_to"], condition=Q(fallback=False), name="message_one_answer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Escalation(models.Model):
    """A conversation handed to the client's advisor."""

    class Reason(models.TextChoices):
        REQUESTED = "requested", "The client asked for their advisor"
        LOW_CONFIDENCE = "low_confidence", "The assistant was unsure twice in a row"
        SECURITY_FOLLOW_UP = "security_follow_up", "Repeated questions about a security"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="escalations"
    )
    client = models.ForeignKey("advisor.Client", on_delete=models.CASCADE, related_name="+")
    advisor = models.ForeignKey(
        "advisor.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        "advisor.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(status="open"), name="escalation_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} ({self.status})"


# --- Model monitoring ------------------------------------------------------------------------


class ModelMonitorReport(models.Model):
    """One day's drift figures of an approved model version (nlp.monitoring); an alert stays
    listed in the admin (filter by status)."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        WATCH = "watch", "Watch"
        ALERT = "alert", "Alert"

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="monitor_reports"
    )
    day = models.DateField(help_text="the day the report is for: one per version and day")
    period_start = models.DateField(help_text="first day of the data read")
    period_end = models.DateField(help_text="last day of the data read")
    computed_at = models.DateTimeField()
    metrics = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status, db_index=True)

    class Meta:
        ordering = ("-day", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "day"], name="modelmonitorreport_one_per_version_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version.label} on {self.day}: {self.status}"


# --- Asset-aware impact -----------------------------------------------------------------------


class NewsImpact(models.Model):
    """One impact model version's reading of how one news item bears on one asset class
    ("for your US Treasuries: positive"); a rerun of that version replaces it."""

    news_item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="impacts")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    asset_class = models.CharField(max_length=30, choices=Asset.AssetClass)
    label = models.CharField(max_length=8)
    negative = models.FloatField()
    neutral = models.FloatField()
    positive = models.FloatField()
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-scored_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["news_item", "model_version", "asset_class"],
                name="newsimpact_one_per_version_class",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_class}: {self.label} ({self.model_version_id})"

    @property
    def score(self) -> float:
        """−1 (surely bad for the asset) … +1 (surely good for it)."""
        return self.positive - self.negative
