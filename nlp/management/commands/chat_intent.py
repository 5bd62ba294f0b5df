"""`manage.py chat_intent`: one question per line on stdin, one JSON object per line out."""

from typing import Any

from .predict_sentiment import Command as PredictCommand


class Command(PredictCommand):
    help = 'Read questions (one per line) from stdin; write {"intent", "confidence"} JSON lines.'
    model = "chat_intent"

    def line(self, prediction: Any) -> dict[str, Any]:
        return {"intent": prediction.label, "confidence": prediction.scores[prediction.label]}
