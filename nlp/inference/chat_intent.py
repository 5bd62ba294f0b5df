"""The chat assistant's intent classifier: MiniLM fine-tuned on nlp/training/data/chat_intents.

The same text normalisation as the sentiment model, with the 15 intents (nlp.chat.intents.INTENTS)
as labels; `scores` holds every intent's probability."""

from __future__ import annotations

from nlp.inference.sentiment import PREPROCESS_VERSION, text_normalise
from nlp.inference.sequence import SequenceClassifierPredictor


class IntentPredictor(SequenceClassifierPredictor):
    name = "chat_intent"
    preprocess_version = PREPROCESS_VERSION

    def normalise(self, text: str) -> str:
        return text_normalise(text)
