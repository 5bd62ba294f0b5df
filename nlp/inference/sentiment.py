"""Financial-news sentiment predictor (negative / neutral / positive) on a fine-tuned MiniLM."""

from __future__ import annotations

import re

from nlp.inference.sequence import SequenceClassifierPredictor

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
# Bump when text_normalise changes: it is part of the training data hash and of labels.json, so a
# model is never served with a normalisation it was not trained with.
PREPROCESS_VERSION = "news-norm-v1"
MAX_CHARS = 2000

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
# Letters only after "$", so money such as "$5 billion" keeps its currency sign.
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z.]{0,9})\b")
_HASHTAG = re.compile(r"#(\w+)")
_ELLIPSIS = re.compile(r"(?:…|\.\.\.)\s*$")
_SPACE = re.compile(r"\s+")


def text_normalise(text: str) -> str:
    """Make a tweet read like a headline: drop URLs, @mentions, cashtag "$", "#" and extra space.

    Training and inference both call this, so news text and tweets meet the model in one form.
    """
    text = text[:MAX_CHARS]
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _CASHTAG.sub(r"\1", text)
    text = _HASHTAG.sub(r"\1", text)
    text = _SPACE.sub(" ", text).strip()
    # Truncated tweets end in "…" once the URL is gone; headlines never do.
    return _ELLIPSIS.sub("", text).strip()


class SentimentPredictor(SequenceClassifierPredictor):
    name = "sentiment"
    preprocess_version = PREPROCESS_VERSION

    def normalise(self, text: str) -> str:
        return text_normalise(text)
