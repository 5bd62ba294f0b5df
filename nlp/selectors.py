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
    status: str  # "ready", or "pending" while no sentiment or impact model is approved
    market_date: object
    model: str | None
    impact_model: str | None
    assets: list[news.AssetSentiment]


def holdings_news(*, client: Client) -> HoldingsNews:
    """The client's funds, most harmed by their news first (impact; tone before an impact
    model is approved)."""
    version = registry.approved("sentiment")
    impact_version = registry.approved("asset_impact")
    by_asset = news.sentiment_by_asset(day=market_date_get(), tickers=held_tickers(client=client))
    return HoldingsNews(
        status="ready" if version or impact_version else "pending",
        market_date=market_date_get(),
        model=version.label if version else None,
        impact_model=impact_version.label if impact_version else None,
        assets=sorted(
            by_asset.values(),
            key=lambda a: (a.alert_score[0] is None, a.alert_score[0] or 0),
        ),
    )


@dataclass(frozen=True)
class NewsAlert:
    sentiment: news.AssetSentiment
    clients: list[Client]


def news_alerts(*, user: User) -> list[NewsAlert]:
    """Funds held in the advisor's book whose 7-day news impact (on the fund's asset class)
    turned strongly negative; the headlines' tone while no impact model is approved."""
    by_asset = news.sentiment_by_asset(day=market_date_get())
    alerts = []
    for ticker, sentiment in by_asset.items():
        score, count = sentiment.alert_score
        if score is None or count < 3:
            continue
        if score > settings.NEWS_ALERT_THRESHOLD:
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
