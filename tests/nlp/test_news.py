"""News: import, deduplication, tagging, sentiment per holding and advisor alerts."""

import json
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from nlp import news
from nlp.exceptions import NewsFileInvalid
from nlp.models import ModelVersion, NewsImpact, NewsItem, SentimentScore
from portfolios import market, services

from ..factories import AdvisorFactory

pytestmark = pytest.mark.django_db

MARKET_DAY = date(2023, 6, 9)


@pytest.fixture
def universe(db):
    market.assets_sync()


@pytest.fixture
def sentiment_model(db) -> ModelVersion:
    return ModelVersion.objects.create(
        name="sentiment",
        version=1,
        status="approved",
        weights_path="x",
        weights_sha256="0",
        data_hash="0",
    )


def _score(item: NewsItem, version: ModelVersion, label: str) -> None:
    probabilities = {"negative": 0.05, "neutral": 0.05, "positive": 0.05}
    probabilities[label] = 0.9
    SentimentScore.objects.create(
        news_item=item, model_version=version, label=label, **probabilities
    )


def test_the_demo_news_file_imports_once(universe):
    rows = news.news_read("demo.csv", news.DEMO_NEWS.read_bytes())

    first = news.news_import(rows)
    second = news.news_import(rows)

    assert first == (36, 0)
    assert second == (0, 36)
    assert (
        NewsItem.objects.get(headline__startswith="Gold edges lower").assets.get().ticker == "GLD"
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"headline": "", "published_at": "2023-06-01T00:00:00Z"}, "headline"),
        ({"headline": "x", "published_at": "yesterday"}, "published_at"),
        ({"headline": "x", "published_at": "2023-06-01T00:00:00Z", "tickers": "ZZZ"}, "ZZZ"),
        (
            {"headline": "x", "published_at": "2023-06-01T00:00:00Z", "asset_classes": "crypto"},
            "crypto",
        ),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(universe, row, message):
    good = {"headline": "Fine", "published_at": "2023-06-01T00:00:00Z"}

    with pytest.raises(NewsFileInvalid, match=message):
        news.news_import([good, row])

    assert not NewsItem.objects.exists()


def test_json_uploads_and_junk_are_told_apart(universe):
    rows = [{"headline": "Gold rallies", "published_at": "2023-06-01T10:00:00Z"}]

    assert news.news_read("a.json", json.dumps(rows).encode()) == rows
    with pytest.raises(NewsFileInvalid):
        news.news_read("a.json", b"{not json")
    with pytest.raises(NewsFileInvalid):
        news.news_read("a.exe", b"MZ")


def test_an_rss_feed_is_parsed_and_tagged_by_keywords(universe):
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
    <item><title>Gold hits a record as bullion demand soars</title><link>https://n.example/1</link>
    <pubDate>Fri, 09 Jun 2023 10:00:00 GMT</pubDate></item></channel></rss>"""

    created, _ = news.news_import(news.rss_parse(feed))

    item = NewsItem.objects.get()
    assert created == 1
    assert item.asset_classes == ["gold"]
    assert item.source == "Wire"


def test_a_feed_with_a_dtd_is_refused():
    with pytest.raises(NewsFileInvalid):
        news.rss_parse(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><rss/>')


def test_sentiment_is_averaged_per_fund_over_seven_days(universe, sentiment_model):
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))
    for item in NewsItem.objects.all():
        if "gold" in item.asset_classes:
            _score(item, sentiment_model, "negative")

    gold = news.sentiment_by_asset(day=MARKET_DAY)["GLD"]

    assert gold.count == 1  # one gold item in the last 7 days; the 22 May one is older
    assert gold.score == pytest.approx(-0.85)
    assert gold.headlines[0]["label"] == "negative"


def test_news_on_holdings_says_pending_without_a_model_and_alerts_reach_advisors(
    account, sentiment_model
):
    news.news_import(news.news_read("demo.csv", news.DEMO_NEWS.read_bytes()))
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    for item in NewsItem.objects.filter(published_at__date__gte=date(2023, 6, 3)):
        _score(item, sentiment_model, "negative")
    advisor = AdvisorFactory()
    account.client.advisor = advisor
    account.client.save()
    client_api, advisor_api = APIClient(), APIClient()
    client_api.force_authenticate(account.client.user)
    advisor_api.force_authenticate(advisor)

    holdings = client_api.get("/api/v1/news/holdings/").json()
    alerts = advisor_api.get("/api/v1/advisor/news-alerts/").json()

    assert holdings["status"] == "ready"
    assert {a["ticker"] for a in holdings["assets"]} == {"VTI", "AGG", "BIL"}
    vti = next(a for a in alerts if a["sentiment"]["ticker"] == "VTI")
    assert vti["sentiment"]["score"] <= -0.4
    assert [c["id"] for c in vti["clients"]] == [account.client_id]


def test_without_an_approved_model_news_is_pending(account):
    client_api = APIClient()
    client_api.force_authenticate(account.client.user)

    assert client_api.get("/api/v1/news/holdings/").json()["status"] == "pending"


def _impact(item: NewsItem, version: ModelVersion, asset_class: str, label: str) -> None:
    probabilities = {"negative": 0.05, "neutral": 0.05, "positive": 0.05}
    probabilities[label] = 0.9
    NewsImpact.objects.create(
        news_item=item,
        model_version=version,
        asset_class=asset_class,
        label=label,
        **probabilities,
    )


@pytest.fixture
def impact_model(db) -> ModelVersion:
    return ModelVersion.objects.create(
        name="asset_impact",
        version=1,
        status="approved",
        weights_path="x",
        weights_sha256="0",
        data_hash="0",
    )


def test_alerts_and_holdings_read_the_impact_on_the_fund_not_the_tone(
    account, sentiment_model, impact_model
):
    # given: three bond headlines that read negative but are good for aggregate bonds, and three
    # that read neutral but are bad for US stocks
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    for day in (6, 7, 8):
        bonds = NewsItem.objects.create(
            headline=f"Yields tumble as growth fears mount ({day})",
            published_at=f"2023-06-0{day}T12:00:00Z",
            fingerprint=f"b{day}",
            asset_classes=["us_aggregate_bonds"],
        )
        _score(bonds, sentiment_model, "negative")
        _impact(bonds, impact_model, "us_aggregate_bonds", "positive")
        stocks = NewsItem.objects.create(
            headline=f"Fed signals one more hike ({day})",
            published_at=f"2023-06-0{day}T13:00:00Z",
            fingerprint=f"s{day}",
            asset_classes=["us_equity"],
        )
        _score(stocks, sentiment_model, "neutral")
        _impact(stocks, impact_model, "us_equity", "negative")
    advisor = AdvisorFactory()
    account.client.advisor = advisor
    account.client.save()
    client_api, advisor_api = APIClient(), APIClient()
    client_api.force_authenticate(account.client.user)
    advisor_api.force_authenticate(advisor)

    # when
    holdings = client_api.get("/api/v1/news/holdings/").json()
    alerts = advisor_api.get("/api/v1/advisor/news-alerts/").json()

    # then
    assert {a["sentiment"]["ticker"] for a in alerts} == {"VTI"}
    agg = next(a for a in holdings["assets"] if a["ticker"] == "AGG")
    assert agg["score"] == pytest.approx(-0.85)  # the tone
    assert agg["impact_score"] == pytest.approx(0.85)  # what it means for the fund
    assert agg["headlines"][0]["impact"] == "positive"
    assert agg["headlines"][0]["asset_class_name"] == "US aggregate bonds"
    assert holdings["assets"][0]["ticker"] == "VTI"  # the most harmed fund first
    assert holdings["impact_model"] == "asset_impact@1"


def test_without_a_linker_headlines_are_tagged_by_keywords(universe):
    news.news_import([{"headline": "Gold hits a record", "published_at": "2023-06-01T10:00:00Z"}])

    assert NewsItem.objects.get().asset_classes == ["gold"]
