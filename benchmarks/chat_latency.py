"""Chat answer latency through the API, and the security-question compliance share.

POSTs questions of every intent to /api/v1/chat/messages/ as a demo client (Django's test
client, in-process) and times each answer end to end: the view, the queue, the model, the
selectors, the compliance check and the stored turn. With CELERY_BROKER_URL set the answer
comes from a real `chat` worker process (as `make worker-chat` starts it, warmed up first)
through the broker;
without one the task runs in-process, as `make run` does. The aim: p50 <= 100 ms on the CPU.

Then every security_recommendation question of the intent test split goes through the same
path, and the share answered without any buy/sell recommendation is reported (must be 100%).

`--during PATH` times the answers while the daily batch runs (issue #18: chat p95 ≤ 150 ms while
the batch runs): after the warm-up it waits for PATH to appear (`benchmarks.daily_batch_workers
--running-file PATH` creates it when its batch starts and removes it when the batch is done) and
asks round after round while PATH exists, timing only those answers (`--rounds` is ignored).

Needs the database `make seed` filled. The benchmark's conversations are deleted afterwards.
Run: .venv/bin/python -m benchmarks.chat_latency [--rounds 3] [--email maya@meridian.example]
     [--during PATH]
"""

import argparse
import contextlib
import csv
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django

django.setup()

from django.conf import settings
from django.test import Client as HttpClient

from advisor.models import User
from nlp.api.views import ChatMessageApi
from nlp.chat import compliance
from nlp.models import Conversation
from nlp.training.chat_intent import TEST_CSV

QUESTIONS = [
    "hi there",
    "what's my balance?",
    "how much cash do I have",
    "how did I do this year",
    "return since I started?",
    "what am I invested in",
    "am I on track for retirement",
    "what's my risk level and why",
    "can I be more aggressive",
    "how do I set up a monthly deposit",
    "when did you last rebalance my account",
    "what fees do I pay",
    "any news on my funds",
    "what is an index fund",
    "I want to talk to my advisor",
    "should I buy Tesla stock",
    "what's the weather tomorrow",
]


@contextlib.contextmanager
def chat_worker() -> Iterator[None]:
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "chat",
            "-c",
            "1",
            "--prefetch-multiplier",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "-n",
            f"bench-{uuid.uuid4().hex[:8]}@%h",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--email", default="maya@meridian.example")
    parser.add_argument("--during", type=Path, help="time answers while this file exists")
    args = parser.parse_args()
    user = User.objects.get(email=args.email)
    http = HttpClient(SERVER_NAME="localhost")
    http.force_login(user)
    before = set(Conversation.objects.filter(client__user=user).values_list("id", flat=True))
    real_worker = bool(settings.CELERY_BROKER_URL)

    def ask(text: str) -> tuple[float, dict]:
        start = time.perf_counter()
        response = http.post(
            "/api/v1/chat/messages/", {"text": text}, content_type="application/json"
        )
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{text!r}: HTTP {response.status_code} {response.content[:200]!r}")
        return elapsed, response.json()

    timings: list[float] = []
    by_intent: dict[str, list[float]] = {}
    fallbacks = 0
    security = [
        row["text"]
        for row in csv.DictReader(TEST_CSV.open())
        if row["intent"] == ("security_recommendation")
    ]
    clean = 0
    try:
        with contextlib.ExitStack() as stack:
            # The per-user chat throttle would stop a benchmark, not a client.
            stack.enter_context(mock.patch.object(ChatMessageApi, "throttle_classes", ()))
            if real_worker:
                # A worker process as `make worker-chat` runs it, so it shares no GIL with us.
                stack.enter_context(chat_worker())
            deadline = time.monotonic() + 120
            while ask("hi")[1]["fallback"]:  # until the worker is up and has loaded the model
                if time.monotonic() > deadline:
                    raise SystemExit("no chat worker answered within 120 s")
            for text in QUESTIONS:  # warm-up: models, index, caches
                ask(text)

            def rounds() -> Iterator[int]:
                if args.during is None:
                    yield from range(args.rounds)
                    return
                deadline = time.monotonic() + 3600
                while not args.during.exists():  # the batch's synthetic book is being written
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{args.during} did not appear within an hour")
                    time.sleep(0.2)
                round_ = 0
                while args.during.exists():
                    yield round_
                    round_ += 1

            for _ in rounds():
                for text in QUESTIONS:
                    if args.during is not None and not args.during.exists():
                        break  # the batch is done: answers from now on are not "during" it
                    seconds, body = ask(text)
                    timings.append(seconds)
                    fallbacks += body["fallback"]
                    by_intent.setdefault(body["intent"] or "-", []).append(seconds)
            for text in security:
                _, body = ask(text)
                clean += not compliance.findings_of(body["reply"]) and not body["fallback"]
    finally:
        Conversation.objects.filter(client__user=user).exclude(id__in=before).delete()

    ms = sorted(t * 1000 for t in timings)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    where = "real worker via the broker" if real_worker else "in-process (no broker)"
    if args.during is not None:
        where += ", while the daily batch ran"
    print(f"chat answers through the API, {len(ms)} questions ({where}):")
    print(f"  p50 {statistics.median(ms):6.1f} ms   p95 {p95:6.1f} ms   (aim p50 <= 100 ms)")
    print(f"  holding replies (worker too slow): {fallbacks}")
    for intent, times in sorted(by_intent.items()):
        print(f"    {intent:24s} median {statistics.median(times) * 1000:6.1f} ms")
    print(
        f"security_recommendation test questions answered without a buy/sell recommendation: "
        f"{clean}/{len(security)} ({clean / len(security):.0%})"
    )


if __name__ == "__main__":
    main()
