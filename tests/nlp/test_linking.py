"""News linking: the labelled set, the linker against the keyword tagger it replaced, and linking
on import."""

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import news, services
from nlp.inference.linking import LinkingPredictor
from nlp.models import NewsItem
from nlp.training import linking
from portfolios import market
from portfolios.models import Asset

EM_BOND_OUTFLOWS = "Emerging market bond funds suffer outflows"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("linking")
    return out, linking.train(out_dir=out, progress=False)


def test_the_labelled_set_is_large_enough_split_by_headline_and_hashed_in_its_readme():
    rows = list(csv.DictReader(linking.DATA_CSV.open(encoding="utf-8")))
    train = {r["headline"] for r in rows if r["split"] == "train"}
    test = {r["headline"] for r in rows if r["split"] == "test"}
    readme = (linking.DATA_CSV.parent / "README.md").read_text(encoding="utf-8")

    assert len(rows) == len(train | test) >= 400
    assert not train & test
    assert {c for r in rows for c in r["asset_classes"].split()} == set(Asset.AssetClass.values)
    assert sum(len(r["asset_classes"].split()) > 1 for r in rows) >= 100  # multi-label
    assert any(r["asset_classes"] == "" for r in rows)  # and some concern no fund
    assert hashlib.sha256(linking.DATA_CSV.read_bytes()).hexdigest() in readme
    assert EM_BOND_OUTFLOWS not in train | test


def test_the_linker_beats_the_keyword_tagger_on_the_held_out_split(trained):
    _, result = trained
    metrics = result.metrics

    assert metrics["test_micro_f1"] >= metrics["keywords_test_micro_f1"] + 0.2
    assert metrics["test_macro_f1"] >= metrics["keywords_test_macro_f1"] + 0.1


def test_emerging_market_bond_news_is_not_tagged_to_the_equity_fund(trained):
    folder, _ = trained
    linker = LinkingPredictor.load(folder)

    linked = linker.predict([EM_BOND_OUTFLOWS])[0].asset_classes

    assert "emerging_equity" in news.asset_classes_guess(EM_BOND_OUTFLOWS)  # the old fault
    assert "emerging_equity" not in linked
    assert not set(linked) & {"us_equity", "intl_developed_equity"}


def test_headlines_about_several_markets_get_several_classes(trained):
    folder, _ = trained
    linker = LinkingPredictor.load(folder)

    yields, gold = linker.predict(
        ["Treasury yields slip as traders price a June Fed pause", "Gold rallies to a record high"]
    )

    assert {"treasuries", "us_aggregate_bonds"} <= set(yields.asset_classes)
    assert gold.asset_classes == ("gold",)


def test_the_saved_linker_predicts_what_the_trained_one_did(trained):
    folder, _ = trained
    texts, _ = linking.split_load("test")
    fitted = linking.fit(*linking.split_load("train"))

    loaded = LinkingPredictor.load(folder)

    assert [p.asset_classes for p in loaded.predict(texts)] == [
        p.asset_classes for p in fitted.predict(texts)
    ]


def test_loading_the_linker_imports_no_torch():
    code = "import sys, nlp.inference.linking; print('torch' in sys.modules)"
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed string
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"


@pytest.mark.django_db
def test_imported_news_is_linked_by_the_approved_linker(trained, settings, tmp_path):
    folder, result = trained
    settings.NLP_MODEL_DIR = str(tmp_path / "models")
    settings.NLP_AUTO_APPROVE_MODELS = True
    staging = services.staging_dir("news_linking")
    for name in result.files:
        (staging / name).write_bytes((folder / name).read_bytes())
    services.version_register(name="news_linking", trained_in=staging, result=result, quick=True)
    market.assets_sync()

    news.news_import(
        [
            {"headline": EM_BOND_OUTFLOWS, "published_at": "2023-06-08T09:30:00Z"},
            {
                "headline": "Gold rallies to a record high",
                "published_at": "2023-06-08T10:00:00Z",
                "asset_classes": "gold cash",  # given classes are kept
            },
        ]
    )

    assert "emerging_equity" not in NewsItem.objects.get(headline=EM_BOND_OUTFLOWS).asset_classes
    assert NewsItem.objects.get(headline__startswith="Gold").asset_classes == ["gold", "cash"]
