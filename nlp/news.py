"""News: import from CSV/JSON files and RSS feeds, and sentiment aggregated per asset.

No torch here: scoring runs in the ml worker (nlp.services)."""

import csv
import hashlib
import io
import json
import logging
import urllib.request
import xml.etree.ElementTree as ET  # noqa: S405 - feeds are parsed with entity expansion off below
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portfolios.models import Asset

from . import registry
from .exceptions import NewsFileInvalid
from .models import NewsItem, SentimentScore

logger = logging.getLogger(__name__)

DEMO_NEWS = Path(__file__).resolve().parent / "data" / "news" / "demo_news.csv"
MAX_ITEMS = 5000


# Words that tie a headline without tickers to an asset class (feeds rarely carry tickers).
CLASS_KEYWORDS: dict[str, tuple[str, ...]] = {
    "us_equity": ("wall street", "s&p 500", "nasdaq", "dow jones", "us stocks", "us shares"),
    "intl_developed_equity": ("european shares", "euro zone", "eurozone", "japan", "ftse", "dax"),
    "emerging_equity": ("emerging market", "china", "india", "brazil"),
    "us_aggregate_bonds": ("bond market", "bond index", "fed ", "federal reserve"),
    "treasuries": ("treasury", "treasuries"),
    "tips": ("tips", "inflation-protected", "breakeven"),
    "corporate_bonds": ("corporate bond", "investment-grade", "credit spreads"),
    "real_estate": ("reit", "real estate", "property", "mortgage", "landlord"),
    "gold": ("gold", "bullion"),
    "cash": ("treasury bill", "t-bill", "money market"),
}


def asset_classes_guess(text: str) -> list[str]:
    lowered = f" {text.lower()} "
    return sorted(c for c, words in CLASS_KEYWORDS.items() if any(w in lowered for w in words))


def _fingerprint(row: dict[str, Any]) -> str:
    basis = row.get("url") or f"{row.get('headline', '')}|{row.get('published_at', '')}"
    return hashlib.sha256(str(basis).encode()).hexdigest()


def _clean(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    tickers = {a.ticker: a for a in Asset.objects.all()}
    classes = set(Asset.AssetClass.values)
    errors, cleaned = [], []
    for number, row in enumerate(rows, start=1):
        if number > MAX_ITEMS:
            errors.append(f"more than {MAX_ITEMS} items")
            break
        if not isinstance(row, dict):
            errors.append(f"item {number}: not an object")
            continue
        headline = str(row.get("headline") or "").strip()
        published = parse_datetime(str(row.get("published_at") or ""))
        wanted = str(row.get("tickers") or "").upper().split()
        item_classes = str(row.get("asset_classes") or "").split()
        problems = []
        if not headline or len(headline) > 500:
            problems.append("headline must be 1–500 characters")
        if published is None:
            problems.append("published_at must be an ISO 8601 date-time")
        elif timezone.is_naive(published):
            published = timezone.make_aware(published, UTC)
        if unknown := sorted(set(wanted) - set(tickers)):
            problems.append(f"unknown tickers {', '.join(unknown)}")
        if bad := sorted(set(item_classes) - classes):
            problems.append(f"unknown asset classes {', '.join(bad)}")
        if problems:
            errors.append(f"item {number}: " + "; ".join(problems))
            continue
        text = f"{headline} {row.get('summary') or ''}"
        cleaned.append(
            {
                "headline": headline,
                "summary": str(row.get("summary") or "")[:5000],
                "source": str(row.get("source") or "")[:120],
                "url": str(row.get("url") or "")[:1000],
                "published_at": published,
                "fingerprint": _fingerprint(row),
                "assets": [tickers[t] for t in wanted],
                "asset_classes": item_classes or asset_classes_guess(text),
            }
        )
    if errors:
        raise NewsFileInvalid(errors)
    return cleaned


@transaction.atomic
def news_import(rows: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Validate every row first, then create the new items. Returns (created, already there)."""
    created = skipped = 0
    for row in _clean(rows):
        assets = row.pop("assets")
        item, was_created = NewsItem.objects.get_or_create(
            fingerprint=row["fingerprint"], defaults=row
        )
        if was_created:
            item.assets.set(assets)
            created += 1
        else:
            skipped += 1
    logger.info("news imported", extra={"items_created": created, "items_skipped": skipped})
    return created, skipped


def news_read(name: str, content: bytes) -> list[dict[str, Any]]:
    """Rows from a CSV or JSON (a list of objects) upload or file."""
    text = content.decode("utf-8-sig")
    if name.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NewsFileInvalid([f"not valid JSON: {exc}"]) from exc
        if not isinstance(data, list):
            raise NewsFileInvalid(["a JSON news file is a list of objects"])
        return data
    if name.lower().endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    raise NewsFileInvalid(["use a .csv or .json file"])


def rss_parse(content: bytes) -> list[dict[str, Any]]:
    """RSS 2.0 items → import rows. DTDs are refused, so no entity expansion attacks."""
    if b"<!DOCTYPE" in content[:2048].upper() or b"<!ENTITY" in content.upper():
        raise NewsFileInvalid(["feeds with a DTD are refused"])
    try:
        root = ET.fromstring(content)  # noqa: S314 - DTD refused above
    except ET.ParseError as exc:
        raise NewsFileInvalid([f"not a valid feed: {exc}"]) from exc
    rows = []
    for item in root.iter("item"):
        published = item.findtext("pubDate")
        try:
            when = parsedate_to_datetime(published) if published else timezone.now()
        except (TypeError, ValueError):
            when = timezone.now()
        rows.append(
            {
                "headline": (item.findtext("title") or "").strip(),
                "summary": (item.findtext("description") or "").strip(),
                "url": (item.findtext("link") or "").strip(),
                "published_at": when.isoformat(),
                "source": (root.findtext("channel/title") or "")[:120],
            }
        )
    return rows


def feeds_poll() -> int:
    """Fetch each configured RSS feed (production beat job) and import its new items."""
    created = 0
    for url in settings.NEWS_RSS_FEEDS:
        try:
            with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - admin-set URLs
                content = response.read(5 * 1024 * 1024)
            created += news_import(rss_parse(content))[0]
        except (OSError, NewsFileInvalid):
            logger.warning("feed skipped", extra={"feed": url}, exc_info=True)
    return created


# --- Aggregation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetSentiment:
    ticker: str
    asset_class: str
    score: float | None  # mean of (positive − negative) over the window, −1…+1
    count: int
    negative: int
    positive: int
    headlines: tuple[dict[str, Any], ...]


def sentiment_by_asset(
    *, day: date, days: int = 7, tickers: Iterable[str] | None = None, headlines: int = 5
) -> dict[str, AssetSentiment]:
    """Rolling `days` sentiment per asset from the approved model's scores. An item tagged
    with an asset class counts for every fund of that class."""
    version = registry.approved("sentiment")
    assets = {a.ticker: a for a in Asset.objects.filter(active=True)}
    if tickers is not None:
        assets = {t: a for t, a in assets.items() if t in set(tickers)}
    end = datetime.combine(day, datetime.max.time(), tzinfo=UTC)
    start = end - timedelta(days=days)
    items = (
        NewsItem.objects.filter(published_at__gt=start, published_at__lte=end)
        .prefetch_related("assets")
        .order_by("-published_at")
    )
    scores = (
        {
            s.news_item_id: s
            for s in SentimentScore.objects.filter(model_version=version, news_item__in=items)
        }
        if version
        else {}
    )
    per_asset: dict[str, list[tuple[NewsItem, SentimentScore | None]]] = defaultdict(list)
    for item in items:
        tagged = {a.ticker for a in item.assets.all()} | {
            t for t, a in assets.items() if a.asset_class in item.asset_classes
        }
        for ticker in tagged & set(assets):
            per_asset[ticker].append((item, scores.get(item.pk)))
    result = {}
    for ticker, asset in assets.items():
        rows = per_asset.get(ticker, [])
        scored = [s for _, s in rows if s is not None]
        result[ticker] = AssetSentiment(
            ticker=ticker,
            asset_class=asset.asset_class,
            score=round(sum(s.score for s in scored) / len(scored), 4) if scored else None,
            count=len(scored),
            negative=sum(s.label == "negative" for s in scored),
            positive=sum(s.label == "positive" for s in scored),
            headlines=tuple(
                {
                    "headline": item.headline,
                    "source": item.source,
                    "url": item.url,
                    "published_at": item.published_at,
                    "label": score.label if score else None,
                }
                for item, score in rows[:headlines]
            ),
        )
    return result
