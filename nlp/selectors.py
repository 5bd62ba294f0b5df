"""Reads: news on a client's holdings, and alerts for advisors."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from advisor.models import Client, User
from advisor.selectors import clients_visible_to
from portfolios.market import market_date_get
from portfolios.models import Position

from . import news, registry


def held_tickers(*, client: Client) -> set[str]:
    return set(
        Position.objects.filter(account__client=client, quantity__gt=0).values_list(
            "asset__ticker", flat=True
        )
    )


@dataclass(frozen=True)
class HoldingsNews:
    status: str  # "ready", or "pending" while no sentiment model is approved
    market_date: object
    model: str | None
    assets: list[news.AssetSentiment]


def holdings_news(*, client: Client) -> HoldingsNews:
    version = registry.approved("sentiment")
    by_asset = news.sentiment_by_asset(day=market_date_get(), tickers=held_tickers(client=client))
    return HoldingsNews(
        status="ready" if version else "pending",
        market_date=market_date_get(),
        model=version.label if version else None,
        assets=sorted(by_asset.values(), key=lambda a: (a.score is None, a.score or 0)),
    )


@dataclass(frozen=True)
class NewsAlert:
    sentiment: news.AssetSentiment
    clients: list[Client]


def news_alerts(*, user: User) -> list[NewsAlert]:
    """Funds held in the advisor's book whose 7-day sentiment turned strongly negative."""
    by_asset = news.sentiment_by_asset(day=market_date_get())
    alerts = []
    for ticker, sentiment in by_asset.items():
        if sentiment.score is None or sentiment.count < 3:
            continue
        if sentiment.score > settings.NEWS_ALERT_THRESHOLD:
            continue
        holders = (
            clients_visible_to(user)
            .filter(
                Q(accounts__positions__asset__ticker=ticker)
                & Q(accounts__positions__quantity__gt=0)
            )
            .distinct()
        )
        if holders:
            alerts.append(NewsAlert(sentiment=sentiment, clients=list(holders)))
    return alerts
