"""The sweeper: what was asked for and never done is queued again, once, and done once.

Tasks run eagerly here (no broker in unit tests): "queued again" means run in-process. The same
sweep through a real broker and worker after a Redis outage is tests/test_faults.py."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from nlp import services, sweeper
from nlp.chat import services as chat_services
from nlp.models import Conversation, Message, NewsItem, SentimentScore
from nlp.tasks import pending_sweep_task, sentiment_score_pending_task
from portfolios.models import GoalProjection

from ..factories import ClientFactory
from .test_projection import pending_projection

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_claims_left_over():
    cache.clear()
    yield
    cache.clear()


def _question(text: str, *, seconds_ago: int, holding_reply: bool = True) -> Message:
    """A question as the web leaves it when the broker was down: a holding reply, no answer."""
    client: Any = ClientFactory()
    conversation = Conversation.objects.create(client=client)
    question = Message.objects.create(
        conversation=conversation, role=Message.Role.CLIENT, text=text
    )
    if holding_reply:
        Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            text=chat_services.FALLBACK,
            reply_to=question,
            fallback=True,
        )
    Message.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds_ago)
    )
    return question


def test_a_question_left_with_a_holding_reply_is_answered_once_by_the_sweep():
    # given: a question from a minute ago with only the holding reply, and one just asked
    lost = _question("what is my balance", seconds_ago=60)
    just_asked = _question("and my goals", seconds_ago=1, holding_reply=False)

    # when: two sweeps (beat runs one a minute; a second must change nothing)
    first = pending_sweep_task.delay().get()
    second = pending_sweep_task.delay().get()

    # then: the lost question has exactly one real answer (no model is approved here, so it is
    # the assistant's "not available" answer, a real one: fallback false); the new one waits
    # for its own request
    assert first["questions"] == 1
    assert second["questions"] == 0
    answers = lost.replies.filter(fallback=False)
    assert answers.count() == 1
    assert answers.get().text == chat_services.NOT_READY
    assert not just_asked.replies.exists()


def test_a_question_older_than_the_lookback_is_left_alone(settings):
    settings.SWEEP_CHAT_LOOKBACK_HOURS = 1
    old = _question("from yesterday", seconds_ago=2 * 3600)

    assert sweeper.unanswered_question_ids() == []
    assert not old.replies.filter(fallback=False).exists()


def test_an_item_is_claimed_once_per_window():
    assert sweeper._claim("chat", 42) is True
    assert sweeper._claim("chat", 42) is False
    assert sweeper._claim("chat", 43) is True


def test_a_claimed_question_is_not_queued_again_within_the_window():
    # given: a sweep already queued this question (its worker is slow), so it holds the claim
    lost = _question("what is my balance", seconds_ago=60)
    assert sweeper._claim("chat", lost.pk)

    # when
    result = sweeper.pending_sweep()

    # then
    assert result.questions == 0
    assert not lost.replies.filter(fallback=False).exists()


def test_a_projection_pending_for_minutes_is_computed_by_the_sweep(settings):
    # given: one projection pending for ten minutes (its message was lost), one just asked
    settings.SWEEP_PROJECTION_AFTER_MINUTES = 5
    stale = pending_projection()
    GoalProjection.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    # when
    result = sweeper.pending_sweep()

    # then
    stale.refresh_from_db()
    assert result.projections == 1
    assert stale.status == GoalProjection.Status.READY
    assert stale.computed_at is not None


def test_stale_projections_are_swept_in_batches_and_claimed_once(settings):
    # given: three projections pending for ten minutes, batches of two per task, and no
    # claims left in the cache by an earlier test (ids may repeat after a rollback)
    cache.clear()
    settings.SWEEP_PROJECTION_AFTER_MINUTES = 5
    settings.PROJECTION_BATCH_GOALS = 2
    stale = [pending_projection() for _ in range(3)]
    GoalProjection.objects.filter(pk__in=[p.pk for p in stale]).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    # when: swept (eager: the two batch tasks run here), then swept again at once
    result = sweeper.pending_sweep()
    again = sweeper.pending_sweep()

    # then: all three computed; none left to queue
    assert result.projections == 3
    assert again.projections == 0
    ready = GoalProjection.objects.filter(status=GoalProjection.Status.READY)
    assert set(ready.values_list("pk", flat=True)) == {p.pk for p in stale}


def test_news_is_not_swept_without_an_approved_sentiment_model():
    NewsItem.objects.create(
        headline="Funds rally", published_at=timezone.now(), fingerprint="f" * 64
    )

    assert sweeper.news_unscored() is False
    assert sweeper.pending_sweep().news == 0


def test_scoring_continues_until_no_news_is_pending(served, monkeypatch):
    # given: five unscored items and a chunk of two per task (the 3,024 items with a
    # chunk of 512: one task scored 512 and nothing queued the rest)
    monkeypatch.setattr(services, "SENTIMENT_CHUNK", 2)
    for n in range(5):
        NewsItem.objects.create(
            headline=f"Item {n}", published_at=timezone.now(), fingerprint=f"{n:064d}"
        )
    assert sweeper.news_unscored() is True

    # when: one task is queued, as the feed poll or the sweeper does
    sentiment_score_pending_task.delay().get()

    # then: 2 + 2 + 1, each item once by the approved version
    version = served["sentiment"]
    assert SentimentScore.objects.filter(model_version=version).count() == 5
    assert sweeper.news_unscored() is False
