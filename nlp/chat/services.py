"""Chat writes: a client's question (web side) and the assistant's answer (ml worker side).

The web request records the question, queues `nlp.chat_answer` and waits CHAT_WAIT_SECONDS
for it; when the worker is slow or down it records and returns a holding reply instead of an
error, and the real answer joins the conversation when the worker gets to it. The worker
answers each question once (a unique reply per question), so a retried or redelivered task
writes nothing twice."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from advisor.models import Client, User
from config.celery import enqueue, result_wait

from ..exceptions import ChatInvalid, ConversationNotFound, ModelUnavailable
from ..models import Conversation, Escalation, Message
from ..notices import escalation_answered_notify
from . import answers
from .compliance import reply_check

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
FALLBACK = (
    "I'm taking longer than usual to answer. Your question is saved and my answer will appear "
    "in this conversation shortly. If it's urgent, ask to talk to your advisor."
)
COMPOSER_FAILED = (
    "Sorry, I couldn't work that out just now. Please try again in a moment, or ask to talk to "
    "your advisor."
)
NOT_READY = (
    "The assistant isn't available right now (its model hasn't been approved yet). Your "
    "question is saved; your advisor can help in the meantime."
)


def text_clean(text: str) -> str:
    """Trimmed text without control characters; stored and shown as text, never run."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return kept.strip()


def conversation_get(*, client: Client, conversation_id: int) -> Conversation:
    try:
        return Conversation.objects.get(pk=conversation_id, client=client)
    except Conversation.DoesNotExist:
        raise ConversationNotFound("No such conversation.", code="not_found") from None


def question_post(*, client: Client, text: str, conversation_id: int | None = None) -> Message:
    """Record the client's question, get the assistant's reply (or a holding reply)."""
    text = text_clean(text)
    if not text:
        raise ChatInvalid(
            "Type a question.", code="invalid", extra={"fields": {"text": ["This field is empty."]}}
        )
    if len(text) > MAX_TEXT:
        raise ChatInvalid(
            f"Questions are limited to {MAX_TEXT} characters.",
            code="invalid",
            extra={"fields": {"text": [f"Ensure this field has at most {MAX_TEXT} characters."]}},
        )
    with transaction.atomic():
        if conversation_id is None:
            conversation = Conversation.objects.create(client=client)
        else:
            conversation = conversation_get(client=client, conversation_id=conversation_id)
            conversation.save(update_fields=["updated_at"])
        question = Message.objects.create(
            conversation=conversation, role=Message.Role.CLIENT, text=text
        )
    try:
        pending = enqueue("nlp.chat_answer", message_id=question.pk)
        reply_id = result_wait(pending, timeout=settings.CHAT_WAIT_SECONDS)
        if isinstance(reply_id, int):
            return Message.objects.get(pk=reply_id)
        logger.warning("chat answer not ready in time", extra={"message_id": question.pk})
    except (BrokerDown, OSError) as exc:
        logger.warning(
            "chat answer not ready in time",
            extra={"message_id": question.pk, "error": type(exc).__name__},
        )
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        text=FALLBACK,
        reply_to=question,
        fallback=True,
    )


# --- Worker side -------------------------------------------------------------------------------


def _search(text: str) -> list[Any]:
    from ..inference.registry import knowledge_index  # torch: the ml worker only

    try:
        index = knowledge_index()
    except ModelUnavailable:
        logger.warning("knowledge index missing: run build_knowledge_index")
        return []
    return index.search(text, k=settings.CHAT_KB_TOP_K, threshold=settings.CHAT_KB_THRESHOLD)


def answer(*, message_id: int) -> int:
    """Classify, compose a grounded answer, check it, record it; returns the reply's id."""
    from ..inference.registry import get  # torch: the ml worker only

    question = Message.objects.select_related("conversation__client__advisor").get(
        pk=message_id, role=Message.Role.CLIENT
    )
    existing = question.replies.filter(fallback=False).first()
    if existing is not None:
        return existing.pk
    conversation = question.conversation
    client = conversation.client
    try:
        version, predictor = get("chat_intent")
    except ModelUnavailable:
        return _reply_record(question, text=NOT_READY, intent="", confidence=None).pk
    prediction = predictor.predict([question.text])[0]
    intent, confidence = prediction.label, float(prediction.scores[prediction.label])
    earlier = list(
        Message.objects.filter(
            conversation=conversation, role=Message.Role.ASSISTANT, fallback=False
        )
        .exclude(reply_to=question)
        .order_by("created_at", "id")
        .values_list("intent", "confidence")
    )
    threshold = settings.CHAT_CONFIDENCE_THRESHOLD
    if confidence < threshold:
        was_unsure = bool(earlier) and (earlier[-1][1] or 0) < threshold
        reply = answers.Answer(answers.UNSURE, escalate="low_confidence" if was_unsure else None)
        if was_unsure:
            reply.text += " I've asked your advisor to pick this conversation up."
        checked_intent = None
    else:
        context = answers.Context(
            client=client,
            text=question.text,
            previous_intents=tuple(i for i, c in earlier if (c or 0) >= threshold),
            search=_search,
        )
        try:
            reply = answers.COMPOSERS[intent](context)
        except OperationalError:
            raise  # the database is away: the task retries
        except Exception:  # a bug must not leave the client without an answer
            logger.exception("chat composer failed", extra={"intent": intent})
            reply = answers.Answer(COMPOSER_FAILED)
        checked_intent = intent
    checked = reply_check(reply.text, intent=checked_intent)
    if checked.findings and checked.findings != ["disclaimer_added"]:
        logger.warning(
            "compliance replaced a reply", extra={"message_id": message_id, "intent": intent}
        )
    return _reply_record(
        question,
        text=checked.text,
        intent=intent,
        confidence=confidence,
        version=version,
        sources=reply.sources,
        compliance=checked.findings,
        escalate=reply.escalate,
    ).pk


def _reply_record(
    question: Message,
    *,
    text: str,
    intent: str,
    confidence: float | None,
    version: Any = None,
    sources: list[dict[str, str]] | None = None,
    compliance: list[str] | None = None,
    escalate: str | None = None,
) -> Message:
    latency = round((timezone.now() - question.created_at).total_seconds() * 1000)
    try:
        with transaction.atomic():
            reply = Message.objects.create(
                conversation=question.conversation,
                role=Message.Role.ASSISTANT,
                text=text,
                reply_to=question,
                intent=intent,
                confidence=None if confidence is None else round(confidence, 4),
                model_version=version,
                sources=sources or [],
                compliance=compliance or [],
                latency_ms=max(0, latency),
            )
            if escalate:
                escalation_open(conversation=question.conversation, reason=escalate)
    except IntegrityError:  # another delivery of the task answered first
        return question.replies.get(fallback=False)
    return reply


def escalation_open(*, conversation: Conversation, reason: str) -> Escalation:
    """The conversation's open escalation, or a new one for the client's advisor."""
    open_one = conversation.escalations.filter(status=Escalation.Status.OPEN).first()
    if open_one is not None:
        return open_one
    client = conversation.client
    escalation = Escalation.objects.create(
        conversation=conversation, client=client, advisor=client.advisor, reason=reason
    )
    logger.info(
        "chat escalated",
        extra={"escalation_id": escalation.pk, "client_id": client.pk, "reason": reason},
    )
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, actor: User, resolution: str = "") -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status == Escalation.Status.RESOLVED:
        return escalation
    escalation.status = Escalation.Status.RESOLVED
    escalation.resolution = resolution
    escalation.resolved_by, escalation.resolved_at = actor, timezone.now()
    escalation.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    escalation_answered_notify(escalation=escalation)
    return escalation
