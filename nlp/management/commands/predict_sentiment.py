"""`manage.py predict_sentiment`: one text per line on stdin, one JSON object per line out."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp.exceptions import ModelUnavailable

BATCH = 64


class Command(BaseCommand):
    help = 'Read texts (one per line) from stdin; write {"label", "scores"} JSON lines.'
    model = "sentiment"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        from nlp.inference.registry import get  # torch: only when the command runs

        try:
            _, predictor = get(self.model)
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        batch: list[str] = []
        for line in sys.stdin:
            batch.append(line.rstrip("\n"))
            if len(batch) >= options["batch_size"]:
                self._write(predictor, batch)
                batch = []
        if batch:
            self._write(predictor, batch)

    def _write(self, predictor: Any, texts: list[str]) -> None:
        for prediction in predictor.predict(texts):
            self.stdout.write(json.dumps(self.line(prediction)))

    def line(self, prediction: Any) -> dict[str, Any]:
        return {"label": prediction.label, "scores": prediction.scores}
