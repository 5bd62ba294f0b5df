"""Asset-aware impact: the written data set, the --quick model against its baselines, the issue's
fault, and the path from an ingested headline to "For your US aggregate bonds: positive"."""

import csv
import hashlib
import shutil
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from nlp import news, services
from nlp.inference.impact import ASSET_NAMES, ImpactPredictor
from nlp.inference.sentiment import SentimentPredictor
from nlp.models import NewsImpact, NewsItem
from nlp.tasks import sentiment_score_pending_task
from nlp.training import impact, linking
from portfolios import services as portfolio_services
from portfolios.models import Asset

FED_PAUSE = "Treasury yields slip as traders price a June Fed pause"


@pytest.fixture(scope="module")
def quick_impact(tmp_path_factory, quick_models):
    """The impact model trained --quick, its tone baseline read by the quick sentiment model."""
    folder = tmp_path_factory.mktemp("asset_impact")
    tone = SentimentPredictor.load(quick_models["sentiment"][0])
    return folder, impact.train(out_dir=folder, quick=True, progress=False, tone_predictor=tone)


def test_the_model_reads_a_name_for_every_asset_class_of_the_universe():
    assert set(ASSET_NAMES) == set(Asset.AssetClass.values)


def test_the_data_set_covers_every_class_both_ways_and_splits_by_headline():
    rows = list(csv.DictReader(impact.DATA_CSV.open(encoding="utf-8")))
    labels = defaultdict(set)
    impacts_of = defaultdict(set)
    for row in rows:
        labels[row["asset_class"]].add(row["impact"])
        impacts_of[row["headline"]].add(row["impact"])
    train = {r["headline"] for r in rows if r["split"] == "train"}
    test = {r["headline"] for r in rows if r["split"] == "test"}
    readme = (impact.DATA_CSV.parent / "README.md").read_text(encoding="utf-8")

    assert len(rows) >= 1200
    assert all(labels[c] == {"negative", "neutral", "positive"} for c in Asset.AssetClass.values)
    # Many headlines move asset classes in different directions: the model must read the asset.
    assert sum(len(v) > 1 for v in impacts_of.values()) >= 150
    assert train
    assert test
    assert not train & test
    assert FED_PAUSE not in train | test
    assert hashlib.sha256(impact.DATA_CSV.read_bytes()).hexdigest() in readme


def test_the_quick_model_beats_majority_and_tone_on_the_held_out_split(quick_impact):
    _, result = quick_impact
    metrics = result.metrics

    assert metrics["test_examples"] == 325  # the whole held-out split, a fixed slice
    assert metrics["test_macro_f1"] >= metrics["majority_test_macro_f1"] + 0.25
    assert metrics["test_macro_f1"] >= metrics["tone_test_macro_f1"] + 0.1
    assert metrics["test_accuracy"] >= metrics["tone_test_accuracy"] + 0.1


def test_falling_yields_are_good_news_for_treasury_funds(quick_impact):
    folder, _ = quick_impact
    predictor = ImpactPredictor.load(folder)

    treasuries, aggregate = predictor.predict_pairs(
        [("treasuries", FED_PAUSE), ("us_aggregate_bonds", FED_PAUSE)]
    )

    assert treasuries.label == "positive"
    assert aggregate.label == "positive"


@pytest.mark.django_db
def test_an_ingested_headline_is_linked_scored_per_fund_and_shown_on_holdings(
    quick_impact, served, account, settings
):
    # given: the quick impact model and the linker served beside the other models
    folder, result = quick_impact
    staging = services.staging_dir("asset_impact")
    shutil.rmtree(staging)
    shutil.copytree(folder, staging)
    impact_version = services.version_register(
        name="asset_impact", trained_in=staging, result=result, quick=True
    )
    link_staging = services.staging_dir("news_linking")
    linked: Any = linking.train(out_dir=link_staging, progress=False)
    services.version_register(
        name="news_linking", trained_in=link_staging, result=linked, quick=True
    )
    portfolio_services.deposit_make(account=account, amount=Decimal("1000.00"))  # VTI AGG BIL
    api = APIClient()
    api.force_authenticate(account.client.user)

    # when: a headline without tickers or classes arrives and the news task runs (twice)
    news.news_import([{"headline": FED_PAUSE, "published_at": "2023-06-08T16:10:00Z"}])
    sentiment_score_pending_task.delay().get()
    sentiment_score_pending_task.delay().get()
    holdings = api.get("/api/v1/news/holdings/").json()

    # then
    item = NewsItem.objects.get()
    assert {"treasuries", "us_aggregate_bonds"} <= set(item.asset_classes)
    assert "us_equity" not in item.asset_classes
    impacts = NewsImpact.objects.filter(news_item=item, model_version=impact_version)
    assert sorted(impacts.values_list("asset_class", flat=True)) == sorted(item.asset_classes)
    assert holdings["impact_model"] == impact_version.label
    agg = next(a for a in holdings["assets"] if a["ticker"] == "AGG")
    assert agg["impact_count"] == 1
    expected = {
        "headline": FED_PAUSE,
        "impact": "positive",
        "asset_class": "us_aggregate_bonds",
        "asset_class_name": "US aggregate bonds",
    }
    assert {key: agg["headlines"][0][key] for key in expected} == expected
