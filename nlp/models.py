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
    quick = models.BooleanField(default=False, help_text="trained on a slice (CI)")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name", "-version")
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
