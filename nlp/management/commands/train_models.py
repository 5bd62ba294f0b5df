"""`manage.py train_models [NAME…] [--quick] [--missing]`: train, version and register models."""

import importlib
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp import registry, services
from nlp.exceptions import ModelUnavailable

TRAINERS = {
    "sentiment": "nlp.training.sentiment",
    # after sentiment: its tone is the impact model's baseline
    "asset_impact": "nlp.training.impact",
    "news_linking": "nlp.training.linking",
    "risk_profile": "nlp.training.risk_profile",
    "chat_intent": "nlp.training.chat_intent",
}


class Command(BaseCommand):
    help = "Train models into NLP_MODEL_DIR and register each as a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(TRAINERS)}")
        parser.add_argument("--quick", action="store_true", help="a small slice, for CI")
        parser.add_argument(
            "--missing",
            action="store_true",
            help="only models without an approved version this code can load (e.g. one trained "
            "on an older feature set)",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["names"] or list(TRAINERS)
        unknown = sorted(set(names) - set(TRAINERS))
        if unknown:
            raise CommandError(
                f"Unknown model(s): {', '.join(unknown)}. Known: {', '.join(TRAINERS)}."
            )
        if options["missing"]:
            names = [name for name in names if _unservable(name)]
            if not names:
                self.stdout.write("Every model has an approved version: nothing to train.")
                return
        for name in names:
            trainer = importlib.import_module(TRAINERS[name])
            started = time.perf_counter()
            staging = services.staging_dir(name)
            result = trainer.train(
                out_dir=staging, quick=options["quick"], progress=not options["no_progress"]
            )
            version = services.version_register(
                name=name, trained_in=staging, result=result, quick=options["quick"]
            )
            version.refresh_from_db()  # auto-approval may have changed its status
            self.stdout.write(
                f"{version}: trained in {time.perf_counter() - started:.1f} s; "
                + ", ".join(
                    f"{k}={v:.4f}"
                    for k, v in sorted(result.metrics.items())
                    if isinstance(v, float)
                )
            )


def _unservable(name: str) -> bool:
    """No approved version, or one the ml worker would refuse: files missing or changed, or
    saved by an older version of the model's code (its features, say). Loads it to find out."""
    from nlp.inference import registry as loaded  # torch: this command trains anyway

    if name in registry.missing_models():
        return True
    try:
        loaded.get(name)
    except ModelUnavailable:
        return True
    return False
