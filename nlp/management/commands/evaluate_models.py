"""`manage.py evaluate_models`: the evaluation report of the approved models, with baselines."""

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp import registry


class Command(BaseCommand):
    help = "Evaluate the approved models against their baselines; print and save the report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="evaluate on small slices")

    def handle(self, *args: Any, **options: Any) -> None:
        from nlp.training.evaluate_sentiment import evaluate

        report: dict[str, Any] = {"created_at": datetime.now(UTC).isoformat()}
        sentiment = registry.approved("sentiment")
        if sentiment is None:
            raise CommandError("No approved sentiment model: run `manage.py train_models`.")
        report["sentiment"] = {
            "model": sentiment.label,
            **evaluate(
                model_dir=registry.model_root() / sentiment.weights_path, quick=options["quick"]
            ),
        }
        risk = registry.approved("risk_profile")
        if risk is not None:
            # Grouped 5-fold cross-validation ran at training time, against the random forest.
            report["risk_profile"] = {"model": risk.label, **risk.metrics}
        intent = registry.approved("chat_intent")
        if intent is not None:
            from nlp.training.chat_intent import evaluate as evaluate_intents

            report["chat_intent"] = {
                "model": intent.label,
                **evaluate_intents(model_dir=registry.model_root() / intent.weights_path),
            }
        reports = registry.model_root() / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for path in (reports / f"evaluation-{stamp}.json", reports / "evaluation-latest.json"):
            path.write_text(json.dumps(report, indent=2, default=str))
        self.stdout.write(json.dumps(report, indent=2, default=str))
        self.stdout.write(f"Saved to {reports / 'evaluation-latest.json'}")
