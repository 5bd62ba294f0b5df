"""Run predictors and hand their results to the rest of Meridian (ml worker side)."""

import logging
import time

from django.db import transaction

from .models import NewsItem, SentimentScore

logger = logging.getLogger(__name__)

BATCH = 64


def sentiment_score_pending(*, limit: int = 512) -> int:
    """Score news items the approved sentiment model has not read yet, in batches.

    Keyed by (item, model version): a rerun, or a second worker, writes nothing twice."""
    from .inference.registry import get

    version, predictor = get("sentiment")
    pending = list(NewsItem.objects.exclude(scores__model_version=version).order_by("id")[:limit])
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        began = time.perf_counter()
        predictions = predictor.predict([f"{i.headline}. {i.summary}".strip() for i in batch])
        with transaction.atomic():
            for item, prediction in zip(batch, predictions, strict=True):
                SentimentScore.objects.update_or_create(
                    news_item=item,
                    model_version=version,
                    defaults={
                        "label": prediction.label,
                        "negative": prediction.scores["negative"],
                        "neutral": prediction.scores["neutral"],
                        "positive": prediction.scores["positive"],
                    },
                )
        logger.info(
            "sentiment scored",
            extra={
                "model": version.label,
                "batch": len(batch),
                "ms": round((time.perf_counter() - began) * 1000),
            },
        )
    return len(pending)
