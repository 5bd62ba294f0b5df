"""Shared fixtures: portfolios' market data, and every model trained --quick once per run."""

import shutil

import pytest

from nlp import services
from nlp.inference import registry as loaded

from ..portfolios.conftest import (  # noqa: F401 - shared fixtures
    account,
    approved_set,
    bold_client,
    market_data,
    market_day,
)


@pytest.fixture(scope="session")
def quick_models(tmp_path_factory, django_db_blocker):
    """Every model trained once per run on their --quick slices (files only)."""
    from nlp.training import chat_intent, risk_profile, sentiment

    root = tmp_path_factory.mktemp("trained")
    results = {}
    for name, trainer in (
        ("sentiment", sentiment),
        ("risk_profile", risk_profile),
        ("chat_intent", chat_intent),
    ):
        results[name] = (
            root / name,
            trainer.train(out_dir=root / name, quick=True, progress=False),
        )
    return results


@pytest.fixture
def served(quick_models, settings, tmp_path):
    """Register the quick models as approved versions in this test's NLP_MODEL_DIR."""
    settings.NLP_MODEL_DIR = str(tmp_path / "models")
    settings.NLP_AUTO_APPROVE_MODELS = True
    loaded._load.cache_clear()
    versions = {}
    for name, (folder, result) in quick_models.items():
        staging = services.staging_dir(name)
        shutil.rmtree(staging)
        shutil.copytree(folder, staging)
        versions[name] = services.version_register(
            name=name, trained_in=staging, result=result, quick=True
        )
    yield versions
    loaded._load.cache_clear()
