"""The model registry without torch, reads only: where versions live and which one is served.

Registering and approving versions is `nlp.services`; loading a model into memory is
`nlp.inference.registry` (ml worker only)."""

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from .cards import card_build
from .models import ModelVersion

MODEL_NAMES = ("sentiment", "risk_profile", "chat_intent", "asset_impact", "news_linking")


def model_root() -> Path:
    return Path(settings.NLP_MODEL_DIR)


def files_sha256(folder: Path) -> str:
    """One digest over every file of a saved model, in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def approved(name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name, status=ModelVersion.Status.APPROVED).first()


def approved_list() -> QuerySet[ModelVersion]:
    """Every served (approved) version, one per name, in name order: the transparency list."""
    return ModelVersion.objects.filter(status=ModelVersion.Status.APPROVED).order_by("name")


def card_of(version: ModelVersion) -> dict[str, Any]:
    """The version's card: the one stored at registration, or, for a version registered before
    cards existed, one built now from its metrics (the static part is today's)."""
    return version.card or card_build(
        name=version.name, metrics=version.metrics, quick=version.quick
    )


def missing_models() -> list[str]:
    """Names without an approved version whose files are on disk."""
    missing = []
    for name in MODEL_NAMES:
        version = approved(name)
        if version is None or not (model_root() / version.weights_path).is_dir():
            missing.append(name)
    return missing


def summary(version: ModelVersion) -> dict[str, Any]:
    return {"name": version.name, "version": version.version, "status": version.status}
