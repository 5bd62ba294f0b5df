"""Market data: the fund universe, daily prices, and the market date."""

import csv
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from .exceptions import MarketDataMissing
from .models import Asset, Price

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
ASSETS_FILE = DATA_DIR / "assets.csv"
PRICES_FILE = DATA_DIR / "prices.csv"


class MarketDataFileInvalid(ValueError):
    """A price or asset file that cannot be imported; the message says where and why."""


@transaction.atomic
def assets_sync(*, path: Path = ASSETS_FILE) -> int:
    """Create or update the fund universe from the assets CSV. Idempotent."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    classes = set(Asset.AssetClass.values)
    for line, row in enumerate(rows, start=2):
        if row.get("asset_class") not in classes:
            raise MarketDataFileInvalid(f"{path.name} line {line}: unknown asset class.")
        Asset.objects.update_or_create(
            ticker=row["ticker"].strip().upper(),
            defaults={
                "name": row["name"].strip(),
                "asset_class": row["asset_class"],
                "expense_ratio": Decimal(row["expense_ratio"]),
            },
        )
    return len(rows)


@dataclass(frozen=True)
class PriceRow:
    day: date
    prices: dict[str, Decimal]


def prices_read(path: Path) -> tuple[list[str], list[PriceRow]]:
    """Parse a wide price CSV (`date,TICKER,…`); raise MarketDataFileInvalid on any bad cell."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0].strip().lower() != "date" or len(header) < 2:
            raise MarketDataFileInvalid(f"{path.name}: the header must be date,TICKER,…")
        tickers = [cell.strip().upper() for cell in header[1:]]
        rows = []
        for number, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                raise MarketDataFileInvalid(f"{path.name} line {number}: wrong number of cells.")
            try:
                day = date.fromisoformat(cells[0].strip())
                prices = {
                    ticker: Decimal(cell.strip())
                    for ticker, cell in zip(tickers, cells[1:], strict=True)
                    if cell.strip() not in ("", "NA")
                }
            except (ValueError, InvalidOperation) as exc:
                raise MarketDataFileInvalid(f"{path.name} line {number}: {exc}") from exc
            if any(not price.is_finite() or price <= 0 for price in prices.values()):
                raise MarketDataFileInvalid(f"{path.name} line {number}: prices must be > 0.")
            rows.append(PriceRow(day=day, prices=prices))
    return tickers, rows


def prices_load(
    *,
    path: Path = PRICES_FILE,
    batch_size: int = 5000,
    progress: Callable[[Iterable[PriceRow]], Iterable[PriceRow]] = lambda rows: rows,
) -> int:
    """Upsert every price in the file (same day again = updated). Returns prices written."""
    tickers, rows = prices_read(path)
    assets = {asset.ticker: asset for asset in Asset.objects.filter(ticker__in=tickers)}
    unknown = sorted(set(tickers) - set(assets))
    if unknown:
        raise MarketDataFileInvalid(
            f"{path.name}: unknown tickers {', '.join(unknown)}; add them to the universe first."
        )
    written, batch = 0, list[Price]()
    with transaction.atomic():
        for row in progress(rows):
            batch.extend(
                Price(asset=assets[ticker], date=row.day, close=close)
                for ticker, close in row.prices.items()
            )
            if len(batch) >= batch_size:
                written += _prices_upsert(batch)
                batch = []
        written += _prices_upsert(batch)
    logger.info("prices loaded", extra={"count": written, "file": path.name})
    return written


def _prices_upsert(batch: list[Price]) -> int:
    if not batch:
        return 0
    Price.objects.bulk_create(
        batch, update_conflicts=True, unique_fields=["asset", "date"], update_fields=["close"]
    )
    return len(batch)


def market_date_get() -> date:
    """The last date with prices: what 'today' means for valuations and fills."""
    latest = Price.objects.aggregate(latest=Max("date"))["latest"]
    if latest is None:
        raise MarketDataMissing("No market data yet: run `python manage.py load_market_data`.")
    return latest


def closes_on(*, day: date, assets: Iterable[Asset] | None = None) -> dict[int, Decimal]:
    """Each asset's latest close on or before `day`, keyed by asset id."""
    wanted = Asset.objects.all() if assets is None else list(assets)
    ids = {asset.pk for asset in wanted}
    # Usually every fund has a price on the day asked: one query. Older gaps fall back per fund.
    closes = dict(Price.objects.filter(date=day, asset_id__in=ids).values_list("asset_id", "close"))
    for asset_id in ids - set(closes):
        latest = Price.objects.filter(asset_id=asset_id, date__lte=day).order_by("-date").first()
        if latest is not None:
            closes[asset_id] = latest.close
    return closes
