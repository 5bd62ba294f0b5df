"""Load each approved model once per worker process (torch lives here, not in web processes)."""

import functools
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from nlp import registry
from nlp.exceptions import ModelUnavailable
from nlp.models import ModelVersion

from .device import cpu_threads_configure, device_resolve

logger = logging.getLogger(__name__)


def _predictor_class(name: str) -> Any:
    if name == "sentiment":
        from .sentiment import SentimentPredictor

        return SentimentPredictor
    if name == "risk_profile":
        from .risk_profile import RiskProfilePredictor

        return RiskProfilePredictor
    if name == "chat_intent":
        from .chat_intent import IntentPredictor

        return IntentPredictor
    if name == "asset_impact":
        from .impact import ImpactPredictor

        return ImpactPredictor
    if name == "news_linking":
        from .linking import LinkingPredictor

        return LinkingPredictor
    raise ModelUnavailable(f"Unknown model {name!r}.")


@functools.cache
def _load(name: str, version: int, path: str, sha256: str) -> Any:
    folder = Path(path)
    if registry.files_sha256(folder) != sha256:
        raise ModelUnavailable(f"{name} v{version}: files do not match the registry's sha256.")
    cpu_threads_configure()
    started = time.perf_counter()
    predictor = _predictor_class(name).load(folder, device_resolve(settings.NLP_DEVICE))
    logger.info(
        "model loaded",
        extra={
            "model": name,
            "version": version,
            "ms": round((time.perf_counter() - started) * 1000),
        },
    )
    return predictor


def get(name: str) -> tuple[ModelVersion, Any]:
    """The approved version of `name` and its predictor, loaded once per process."""
    version = registry.approved(name)
    if version is None:
        raise ModelUnavailable(f"No approved {name} model yet: run `manage.py train_models`.")
    folder = registry.model_root() / version.weights_path
    if not folder.is_dir():
        raise ModelUnavailable(f"{version}: its files are missing from NLP_MODEL_DIR.")
    return version, _load(name, version.version, str(folder), version.weights_sha256)


def knowledge_folder() -> Path:
    return registry.model_root() / "knowledge"


@functools.cache
def _knowledge_load(folder: str, corpus_hash: str) -> Any:
    from .retrieval import Embedder, KnowledgeIndex

    return KnowledgeIndex.load(Path(folder), Embedder(device_resolve(settings.NLP_DEVICE)))


def knowledge_index() -> Any:
    """The knowledge-base index, loaded once per process (and again after a rebuild)."""
    from .retrieval import corpus_of

    folder = knowledge_folder()
    built_from = corpus_of(folder)
    if built_from is None:
        raise ModelUnavailable("No knowledge index yet: run `manage.py build_knowledge_index`.")
    return _knowledge_load(str(folder), built_from)
