"""Architecture rules, pinned: imports point down the floors (config ← advisor ← portfolios ←
nlp ← workspace), no import loops but a service ↔ its task, and web processes never load torch.

The import map is `tests/architecture.py` (`python -m tests.architecture` prints it)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests import architecture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def found() -> list[architecture.Import]:
    return architecture.imports()


def _from(found: list[architecture.Import], app: str, *, into: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{i.source} → {i.target} (line {i.line})"
        for i in found
        if i.source.partition(".")[0] == app and i.target.partition(".")[0] in into
    )


def test_the_import_map_sees_every_app_and_their_imports(found):
    apps = {i.source.partition(".")[0] for i in found}
    assert {"config", "advisor", "portfolios", "nlp", "workspace"} <= apps
    # A floor that imports nothing below it would mean the reader stopped seeing imports.
    assert _from(found, "portfolios", into=("advisor",))
    assert _from(found, "nlp", into=("portfolios",))


def test_advisor_imports_neither_portfolios_nor_nlp_nor_workspace(found):
    assert _from(found, "advisor", into=("portfolios", "nlp", "workspace")) == []


def test_portfolios_imports_neither_nlp_nor_workspace(found):
    assert _from(found, "portfolios", into=("nlp", "workspace")) == []


def test_nothing_below_workspace_imports_it(found):
    below = ("config", "advisor", "portfolios", "nlp")
    offenders = [i for i in found if i.target.startswith("workspace")]
    assert [
        f"{i.source} → {i.target}"
        for i in offenders
        if i.source.partition(".")[0] in below and i.source not in architecture.COMPOSITION_ROOTS
    ] == []


def test_config_imports_no_app_but_in_its_composition_root(found):
    apps = ("advisor", "portfolios", "nlp", "workspace", "frontend")
    assert [
        line
        for line in _from(found, "config", into=apps)
        if line.partition(" ")[0] not in architecture.COMPOSITION_ROOTS
    ] == []


def test_no_import_runs_up_a_floor(found):
    assert [f"{i.source} → {i.target}" for i in architecture.upward(found)] == []


def test_no_import_loop_but_a_service_and_its_task(found):
    loops = [g for g in architecture.loops(found) if not architecture.is_service_and_its_task(g)]
    assert loops == []


def test_the_loop_finder_finds_a_loop_made_of_function_level_imports():
    # given: a → b at the top, b → a inside a function (the kind of loop that hides)
    found = [
        architecture.Import("nlp.a", "nlp.b", 1),
        architecture.Import("nlp.b", "nlp.a", 9),
        architecture.Import("nlp.services", "nlp.tasks", 1),
        architecture.Import("nlp.tasks", "nlp.services", 1),
    ]

    loops = architecture.loops(found)

    assert loops == [["nlp.a", "nlp.b"], ["nlp.services", "nlp.tasks"]]
    assert [architecture.is_service_and_its_task(g) for g in loops] == [False, True]


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter at the repo root, with only PATH and `env` set."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_web_processes_never_load_torch_or_the_numeric_stack():
    # The URL map, every admin and the Celery task registry (what a web process imports to
    # queue work by name) load without torch, skfolio or pandas: those live in the ml worker.
    code = (
        "import django, sys; django.setup();"
        "from django.test import Client; import config.urls;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "from django.contrib import admin; admin.autodiscover();"
        "from config.celery import app; app.loader.import_default_modules(); app.tasks;"
        "print(sorted(m for m in ('torch', 'skfolio', 'pandas') if m in sys.modules))"
    )
    result = _python(code, DJANGO_SETTINGS_MODULE="config.settings.test")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_model_layer_imports_without_django_apps():
    # benchmarks.gpu_check runs the models on a GPU machine with no settings and no apps
    # loaded: the inference and training modules (whose errors come from config.errors)
    # import there. DRF's views module, imported at the top of config.errors, needed the apps.
    code = (
        "import nlp.inference.risk_profile, nlp.inference.sentiment, nlp.inference.retrieval;"
        "import nlp.training.chat_intent, nlp.training.risk_profile, benchmarks.gpu_check;"
        "import django.apps; print(django.apps.apps.ready)"
    )
    result = _python(code, HF_HUB_OFFLINE="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
