"""`manage.py models_evaluate [NAME…] [--quick]`: every served model's evaluation report against
its baselines, with its model card, printed and saved (`make evaluate`).

Each model is evaluated by its own training module, in this run:
- sentiment: nlp.training.evaluate_sentiment.evaluate (tweets and out-of-domain news sentences,
  against the lexicon, TF-IDF and majority baselines);
- risk_profile: a fresh grouped cross-validation (nlp.training.risk_profile.evaluate): R^2, level
  exact and within one, 80% interval coverage, against the random forest, the mean and the most
  common level on the same folds;
- chat_intent: nlp.training.chat_intent.evaluate on test.csv, against TF-IDF and majority;
- asset_impact, news_linking: their module's `evaluate_served(*, model_dir, quick)` when it
  exists (the hook for nlp/training/impact.py and linking.py); until then the held-out figures
  stored with the version at training, marked as such.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp import registry
from nlp.models import ModelVersion

MODELS = ("sentiment", "risk_profile", "chat_intent", "asset_impact", "news_linking")
# Modules whose `evaluate_served(*, model_dir: Path, quick: bool) -> dict` reports a served model.
HOOKS = {"asset_impact": "nlp.training.impact", "news_linking": "nlp.training.linking"}


def _sentiment(version: ModelVersion, quick: bool) -> dict[str, Any]:
    from nlp.training.evaluate_sentiment import evaluate

    return evaluate(model_dir=registry.model_root() / version.weights_path, quick=quick)


def _risk_profile(version: ModelVersion, quick: bool) -> dict[str, Any]:
    from nlp.training.risk_profile import evaluate

    # The served model was fitted on every household, so nothing is left to test it on: the
    # same method is cross-validated afresh, grouped by household, beside its baselines.
    return {"grouped_cv": evaluate(quick=quick), "at_training": version.metrics}


def _chat_intent(version: ModelVersion, quick: bool) -> dict[str, Any]:
    from nlp.training.chat_intent import evaluate

    return evaluate(model_dir=registry.model_root() / version.weights_path)


def _hooked(name: str) -> Callable[[ModelVersion, bool], dict[str, Any]]:
    def run(version: ModelVersion, quick: bool) -> dict[str, Any]:
        module = importlib.import_module(HOOKS[name])
        evaluate_served = getattr(module, "evaluate_served", None)
        if evaluate_served is None:
            return {
                "at_training": version.metrics,
                "note": f"{HOOKS[name]}.evaluate_served does not exist yet: these are the "
                "held-out figures measured when this version was trained.",
            }
        return dict(
            evaluate_served(model_dir=registry.model_root() / version.weights_path, quick=quick)
        )

    return run


EVALUATORS: dict[str, Callable[[ModelVersion, bool], dict[str, Any]]] = {
    "sentiment": _sentiment,
    "risk_profile": _risk_profile,
    "chat_intent": _chat_intent,
    "asset_impact": _hooked("asset_impact"),
    "news_linking": _hooked("news_linking"),
}


class Command(BaseCommand):
    help = "Evaluate every served model against its baselines; print and save the report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(MODELS)}")
        parser.add_argument("--quick", action="store_true", help="evaluate on small slices")

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["names"] or list(MODELS)
        unknown = sorted(set(names) - set(MODELS))
        if unknown:
            raise CommandError(f"Unknown model(s): {', '.join(unknown)}. Known: {MODELS}.")
        report: dict[str, Any] = {"created_at": datetime.now(UTC).isoformat()}
        missing = []
        for name in names:
            version = registry.approved(name)
            if version is None:
                missing.append(name)
                continue
            started = time.perf_counter()
            self.stderr.write(f"Evaluating {version.label}…")
            report[name] = {
                "model": version.label,
                "quick_model": version.quick,
                **EVALUATORS[name](version, options["quick"]),
                "card": registry.card_of(version),
                "seconds": round(time.perf_counter() - started, 1),
            }
        if missing:
            report["not_served"] = missing
        if len(missing) == len(names):
            raise CommandError(
                f"No approved version of {', '.join(missing)}: run `manage.py train_models`."
            )
        reports = registry.model_root() / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        paths = [reports / f"evaluation-{stamp}.json", reports / "evaluation-latest.json"]
        for path in paths:
            path.write_text(json.dumps(report, indent=2, default=str))
        self.stdout.write(json.dumps(report, indent=2, default=str))
        self.stdout.write(f"Saved to {Path(paths[-1])}")
