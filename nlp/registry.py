"""The model registry without torch: where versions live, registering and approving them.

Loading a model into memory is `nlp.inference.registry` (ml worker only)."""

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from advisor.models import User
from config.lifecycle import lifecycle_decide

from .models import ModelVersion

logger = logging.getLogger(__name__)

MODEL_NAMES = ("sentiment", "risk_profile", "chat_intent")


class TrainResultLike(Protocol):
    metrics: dict[str, float]
    data_hash: str
    files: list[str]


def model_root() -> Path:
    return Path(settings.NLP_MODEL_DIR)


def files_sha256(folder: Path) -> str:
    """One digest over every file of a saved model, in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def staging_dir(name: str) -> Path:
    path = model_root() / name / "staging"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@transaction.atomic
def version_register(
    *, name: str, trained_in: Path, result: TrainResultLike, quick: bool
) -> ModelVersion:
    """Move a freshly trained model into its version folder and record it as a candidate;
    approve it at once when NLP_AUTO_APPROVE_MODELS says so (the demo default)."""
    latest = ModelVersion.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
    version = latest + 1
    target = model_root() / name / f"v{version}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(str(trained_in), str(target))
    model_version = ModelVersion.objects.create(
        name=name,
        version=version,
        weights_path=str(target.relative_to(model_root())),
        weights_sha256=files_sha256(target),
        data_hash=result.data_hash,
        metrics=result.metrics,
        quick=quick,
    )
    logger.info("model registered", extra={"model": name, "version": version})
    if settings.NLP_AUTO_APPROVE_MODELS:
        version_decide(model_version=model_version, approve=True, actor=None)
    return model_version


def version_decide(
    *, model_version: ModelVersion, approve: bool, actor: User | None
) -> ModelVersion:
    """Approve a candidate (retiring the served one) or retire it; audited."""
    model_version = lifecycle_decide(
        row=model_version,
        approve=approve,
        actor=actor,
        rejected_status=ModelVersion.Status.RETIRED,
        peers=ModelVersion.objects.filter(name=model_version.name),
    )
    if approve:
        transaction.on_commit(lambda: _catch_up(model_version.name))
    return model_version


def _catch_up(name: str) -> None:
    """A newly served model reads what is waiting: unscored news, or every client's latest
    questionnaire response for a risk opinion from the new version."""
    from advisor.models import QuestionnaireResponse

    from . import tasks

    if name == "sentiment":
        tasks.sentiment_score_pending_task.delay()
    elif name == "risk_profile":
        latest = QuestionnaireResponse.objects.order_by(
            "client_id", "-submitted_at", "-id"
        ).values_list("client_id", "id")
        seen: set[int] = set()
        for client_id, response_id in latest:
            if client_id not in seen:
                seen.add(client_id)
                tasks.risk_profile_assess_task.delay(response_id=response_id)


def approved(name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name, status=ModelVersion.Status.APPROVED).first()


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
