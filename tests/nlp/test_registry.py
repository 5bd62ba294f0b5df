"""The model registry: versions, approval, sha256-checked loading."""

from dataclasses import dataclass, field

import pytest

from nlp import registry, services
from nlp.exceptions import ModelUnavailable
from nlp.inference import registry as loaded
from nlp.models import ModelVersion

from ..factories import committee_member

pytestmark = pytest.mark.django_db


@dataclass
class FakeResult:
    metrics: dict = field(default_factory=lambda: {"valid_accuracy": 0.8})
    data_hash: str = "d" * 64
    files: list = field(default_factory=lambda: ["weights.bin"])


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.NLP_MODEL_DIR = str(tmp_path / "models")
    return tmp_path / "models"


def _trained(name: str, content: bytes = b"weights") -> object:
    staging = services.staging_dir(name)
    (staging / "weights.bin").write_bytes(content)
    return staging


def test_a_trained_model_becomes_a_version_with_its_files_hash(model_dir, settings):
    settings.NLP_AUTO_APPROVE_MODELS = False

    version = services.version_register(
        name="sentiment", trained_in=_trained("sentiment"), result=FakeResult(), quick=True
    )

    assert version.version == 1
    assert version.status == ModelVersion.Status.CANDIDATE
    assert (model_dir / "sentiment" / "v1" / "weights.bin").read_bytes() == b"weights"
    assert version.weights_sha256 == registry.files_sha256(model_dir / "sentiment" / "v1")
    assert registry.missing_models() == [
        "sentiment",
        "risk_profile",
        "chat_intent",
        "asset_impact",
        "news_linking",
    ]


def test_approving_a_new_version_retires_the_served_one_and_is_recorded(model_dir):
    first = services.version_register(
        name="sentiment", trained_in=_trained("sentiment"), result=FakeResult(), quick=True
    )
    second = services.version_register(
        name="sentiment", trained_in=_trained("sentiment", b"v2"), result=FakeResult(), quick=True
    )

    first.refresh_from_db()
    assert first.status == ModelVersion.Status.RETIRED
    assert registry.approved("sentiment") == second
    assert registry.missing_models() == [
        "risk_profile",
        "chat_intent",
        "asset_impact",
        "news_linking",
    ]


def test_an_advisor_decision_on_a_decided_version_is_refused(model_dir, settings):
    from django.core.exceptions import ValidationError

    settings.NLP_AUTO_APPROVE_MODELS = False
    version = services.version_register(
        name="sentiment", trained_in=_trained("sentiment"), result=FakeResult(), quick=True
    )
    services.version_decide(model_version=version, approve=True, actor=committee_member())
    services.version_decide(model_version=version, approve=True, actor=committee_member())

    with pytest.raises(ValidationError):
        services.version_decide(model_version=version, approve=False, actor=None)


def test_without_an_approved_model_the_worker_says_unavailable(model_dir):
    with pytest.raises(ModelUnavailable, match="train_models"):
        loaded.get("sentiment")


def test_tampered_files_are_refused(model_dir):
    services.version_register(
        name="sentiment", trained_in=_trained("sentiment"), result=FakeResult(), quick=True
    )
    (model_dir / "sentiment" / "v1" / "weights.bin").write_bytes(b"tampered")
    loaded._load.cache_clear()

    with pytest.raises(ModelUnavailable, match="sha256"):
        loaded.get("sentiment")


def test_train_missing_retrains_an_approved_model_the_worker_would_refuse(model_dir):
    # given: an approved risk model, then its saved feature list changed (as after an upgrade
    # that drops a feature): the worker refuses it as unavailable
    from django.core.management import call_command

    call_command("train_models", "risk_profile", "--quick", "--no-progress")
    call_command("train_models", "risk_profile", "--missing", "--no-progress")
    assert ModelVersion.objects.filter(name="risk_profile").count() == 1  # servable: kept
    config = model_dir / "risk_profile" / "v1" / "config.json"
    config.write_text(config.read_text().replace('"age"', '"age_in_2007"'))
    loaded._load.cache_clear()
    with pytest.raises(ModelUnavailable):
        loaded.get("risk_profile")

    # when
    call_command("train_models", "risk_profile", "--missing", "--quick", "--no-progress")

    # then: a new version is trained, approved and served
    assert registry.approved("risk_profile").version == 2
    loaded._load.cache_clear()
    assert loaded.get("risk_profile")[0].version == 2
