"""The chat assistant's intent classifier: MiniLM fine-tuned on nlp/training/data/chat_intents.

The same preprocess → forward → postprocess path as the sentiment model, with the 15 intents
(nlp.chat.intents.INTENTS) as labels; `scores` holds every intent's probability."""

from __future__ import annotations

from nlp.inference.sentiment import SentimentPredictor


class IntentPredictor(SentimentPredictor):
    name = "chat_intent"
