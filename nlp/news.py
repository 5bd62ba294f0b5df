"""News: import from CSV/JSON files and RSS feeds, linked to asset classes, and sentiment and
asset-aware impact aggregated per asset.

No torch here: scoring runs in the ml worker (nlp.services). Linking runs here, on import: the
linker (nlp.inference.linking) is TF-IDF and logistic regression saved as JSON."""

import csv
import functools
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
from .exceptions import ModelUnavailable, NewsFileInvalid
from .models import ModelVersion, NewsImpact, NewsItem, SentimentScore

logger = logging.getLogger(__name__)

DEMO_NEWS = Path(__file__).resolve().parent / "data" / "news" / "demo_news.csv"
MAX_ITEMS = 5000


# The keyword tagger the linker replaced: kept as its baseline (nlp.training.linking) and as the
# fallback while no news_linking model is approved.
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


@functools.cache
def _linker_load(path: str, sha256: str) -> Any:
    from .inference.linking import LinkingPredictor

    if registry.files_sha256(Path(path)) != sha256:
        raise ModelUnavailable(f"news_linking at {path}: files do not match the registry's sha256.")
    return LinkingPredictor.load(Path(path))


def linker_served() -> tuple[ModelVersion, Any] | None:
    """The approved news linker and its predictor, or None while there is none."""
    version = registry.approved("news_linking")
    if version is None:
        return None
    folder = registry.model_root() / version.weights_path
    if not folder.is_dir():
        logger.warning("news_linking files missing", extra={"model": version.label})
        return None
    try:
        return version, _linker_load(str(folder), version.weights_sha256)
    except (ModelUnavailable, ValueError, OSError):
        logger.warning("news_linking unservable", extra={"model": version.label}, exc_info=True)
        return None


def asset_classes_link(texts: list[str]) -> list[list[str]]:
    """The asset classes each text concerns (multi-label, possibly none): the approved linker's
    answer, or the keyword tagger's while no linker is served."""
    served = linker_served()
    if served is None:
        return [asset_classes_guess(text) for text in texts]
    return [sorted(p.asset_classes) for p in served[1].predict(texts)]


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
        cleaned.append(
            {
                "headline": headline,
                "summary": str(row.get("summary") or "")[:5000],
                "source": str(row.get("source") or "")[:120],
                "url": str(row.get("url") or "")[:1000],
                "published_at": published,
                "fingerprint": _fingerprint(row),
                "assets": [tickers[t] for t in wanted],
                "asset_classes": item_classes,
            }
        )
    if errors:
        raise NewsFileInvalid(errors)
    # Rows without asset classes get the linker's, in one batch. The headline alone: summaries
    # of feeds wander (and the linker was trained on headlines).
    unlinked = [row for row in cleaned if not row["asset_classes"]]
    for row, linked in zip(
        unlinked, asset_classes_link([str(r["headline"]) for r in unlinked]), strict=True
    ):
        row["asset_classes"] = linked
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
    """A fund's news over the window: the headlines' tone, and their impact on the fund's asset
    class (the approved asset_impact model's reading), which is what alerts and the UI use."""

    ticker: str
    asset_class: str
    score: float | None  # tone: mean of (positive − negative) over the window, −1…+1
    count: int
    negative: int
    positive: int
    headlines: tuple[dict[str, Any], ...]
    impact_score: float | None = None  # impact on this asset class: mean (positive − negative)
    impact_count: int = 0
    impact_negative: int = 0
    impact_positive: int = 0
    impact_served: bool = False  # an asset_impact model is approved

    @property
    def alert_score(self) -> tuple[float | None, int]:
        """(score, count) alerts and ordering read: impact once an impact model is approved,
        tone before (the behaviour of releases without one)."""
        if self.impact_served:
            return self.impact_score, self.impact_count
        return self.score, self.count


def _mean_score(scores: list[Any]) -> float | None:
    return round(sum(s.score for s in scores) / len(scores), 4) if scores else None


def sentiment_by_asset(
    *, day: date, days: int = 7, tickers: Iterable[str] | None = None, headlines: int = 5
) -> dict[str, AssetSentiment]:
    """Rolling `days` tone and impact per asset from the approved models' scores. An item linked
    to an asset class counts for every fund of that class; its impact on a fund is the impact
    model's reading for that fund's asset class."""
    version = registry.approved("sentiment")
    impact_version = registry.approved("asset_impact")
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
    impacts = (
        {
            (i.news_item_id, i.asset_class): i
            for i in NewsImpact.objects.filter(model_version=impact_version, news_item__in=items)
        }
        if impact_version
        else {}
    )
    per_asset: dict[str, list[tuple[NewsItem, SentimentScore | None, NewsImpact | None]]]
    per_asset = defaultdict(list)
    for item in items:
        tagged = {a.ticker for a in item.assets.all()} | {
            t for t, a in assets.items() if a.asset_class in item.asset_classes
        }
        for ticker in tagged & set(assets):
            impact = impacts.get((item.pk, assets[ticker].asset_class))
            per_asset[ticker].append((item, scores.get(item.pk), impact))
    result = {}
    for ticker, asset in assets.items():
        rows = per_asset.get(ticker, [])
        scored = [s for _, s, _ in rows if s is not None]
        impacted = [i for _, _, i in rows if i is not None]
        result[ticker] = AssetSentiment(
            ticker=ticker,
            asset_class=asset.asset_class,
            score=_mean_score(scored),
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
                    "impact": impact.label if impact else None,
                    "asset_class": asset.asset_class,
                    "asset_class_name": asset.get_asset_class_display(),
                }
                for item, score, impact in rows[:headlines]
            ),
            impact_score=_mean_score(impacted),
            impact_count=len(impacted),
            impact_negative=sum(i.label == "negative" for i in impacted),
            impact_positive=sum(i.label == "positive" for i in impacted),
            impact_served=impact_version is not None,
        )
    return result
