"""Headlines per second scored through the Celery task against the bare model, in one run.

The bare model: the approved sentiment predictor's `predict` on batches of 64, nothing else.
The task: `nlp.sentiment_score_pending` scoring the same texts as NewsItems, which adds the
query for pending items, one transaction per batch and a SentimentScore row per item. With
CELERY_BROKER_URL set, the task runs in a real worker (solo pool, in this process) reached
through the broker; without one it runs in-process, as `make run` does. The aim: task / bare
>= 0.8.

Needs the database that `make seed` (or `make run`) filled, with an approved sentiment model.
Run: .venv/bin/python -m benchmarks.sentiment_throughput [--items 512] [--rounds 3]

`--model-dir DIR` times only the bare model saved in DIR (no database, no task), e.g. to compare
two trainings before one is approved.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django

django.setup()

from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from config.celery import app
from nlp import services
from nlp.exceptions import ModelUnavailable
from nlp.inference.registry import get
from nlp.models import NewsItem
from nlp.tasks import sentiment_score_pending_task

SUBJECTS = ("US stocks", "Treasury yields", "Gold", "Emerging markets", "REITs", "Corporate bonds")
EVENTS = (
    "rally after the Fed holds rates",
    "slide as inflation surprises to the upside",
    "trade flat ahead of the jobs report",
    "post their best week since March on strong earnings",
    "fall for a third day as recession fears grow",
    "are little changed as investors await guidance",
)


def texts(count: int) -> list[str]:
    """Distinct headline-length texts (about 12 words), as the news feed delivers them."""
    return [
        f"{SUBJECTS[i % len(SUBJECTS)]} {EVENTS[(i // len(SUBJECTS)) % len(EVENTS)]} (item {i})"
        for i in range(count)
    ]


def bare_seconds(predictor, batch_texts: list[str]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(batch_texts), services.BATCH):
        predictor.predict(batch_texts[offset : offset + services.BATCH])
    return time.perf_counter() - start


def task_seconds(batch_texts: list[str], tag: str) -> float:
    now = timezone.now()
    NewsItem.objects.bulk_create(
        NewsItem(headline=text, published_at=now, fingerprint=f"{tag}-{i}", source=tag)
        for i, text in enumerate(batch_texts)
    )
    try:
        start = time.perf_counter()
        scored = sentiment_score_pending_task.delay().get(timeout=600)
        elapsed = time.perf_counter() - start
    finally:
        NewsItem.objects.filter(source=tag).delete()
    if scored != len(batch_texts):
        raise SystemExit(f"the task scored {scored} items, expected {len(batch_texts)}")
    return elapsed


def bare_only(model_dir: Path, items: int, rounds: int) -> None:
    from nlp.inference.sentiment import SentimentPredictor

    predictor = SentimentPredictor.load(model_dir)
    sample = texts(items)
    bare_seconds(predictor, sample[: services.BATCH])  # warm-up
    rate = items / statistics.median(bare_seconds(predictor, sample) for _ in range(rounds))
    print(f"sentiment model {model_dir}, {items} headlines x {rounds} rounds")
    print(f"  bare model       {rate:8.1f} headlines/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model-dir", type=Path, help="time only this saved model, bare")
    args = parser.parse_args()
    if args.model_dir is not None:
        bare_only(args.model_dir, args.items, args.rounds)
        return
    try:
        version, predictor = get("sentiment")
    except ModelUnavailable as exc:
        raise SystemExit(f"{exc} (run `make seed` first)") from exc
    real_worker = bool(settings.CELERY_BROKER_URL)
    sample = texts(args.items)
    bare_seconds(predictor, sample[: services.BATCH])  # warm-up

    bare: list[float] = []
    task: list[float] = []
    with contextlib.ExitStack() as stack:
        if real_worker:
            app.conf.CELERY_TASK_ALWAYS_EAGER = False  # the Django-named key wins
            stack.enter_context(
                start_worker(app, pool="solo", perform_ping_check=False, queues=["ml"])
            )
        sentiment_score_pending_task.delay().get(timeout=600)  # score what waits, warm up
        for round_ in range(args.rounds):  # alternate, so a noisy neighbour slows both alike
            bare.append(bare_seconds(predictor, sample))
            task.append(task_seconds(sample, f"bench-{uuid.uuid4().hex[:8]}-{round_}"))

    bare_rate = args.items / statistics.median(bare)
    task_rate = args.items / statistics.median(task)
    print(f"sentiment model {version.label}, {args.items} headlines x {args.rounds} rounds")
    print(f"  bare model       {bare_rate:8.1f} headlines/s")
    where = "real worker via the broker" if real_worker else "in-process (no broker)"
    print(f"  Celery task      {task_rate:8.1f} headlines/s  ({where})")
    print(f"  task / bare      {task_rate / bare_rate:8.2f}   (aim >= 0.8)")


if __name__ == "__main__":
    main()
