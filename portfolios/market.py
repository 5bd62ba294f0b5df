"""Market data: the fund universe, daily closes and total-return levels, distributions, and the
market date.

A load is checked whole before anything is written, and written in one transaction: a bad cell
anywhere refuses the lot, with the file and line. A loaded figure is never rewritten silently:
a load that would change a stored close, total-return level or distribution is refused with a
report of the changes, unless `allow_revisions`, which applies them and records each one
(`MarketDataRevision`). Reloading the same files writes nothing."""

import csv
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

from django.db import transaction
from django.db.models import Max

from config.celery import enqueue_on_commit

from .exceptions import MarketDataMissing
from .models import Asset, Distribution, MarketDataRevision, Price

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
ASSETS_FILE = DATA_DIR / "assets.csv"
PRICES_FILE = DATA_DIR / "prices.csv"
TOTAL_RETURNS_FILE = DATA_DIR / "total_returns.csv"
DISTRIBUTIONS_FILE = DATA_DIR / "distributions.csv"

# The stored precision of each figure (models.PRICE, TOTAL_RETURN, PER_UNIT): a value is rounded
# to it when read, so a reload compares like with like.
CLOSE_PLACES = Decimal("0.0001")
LEVEL_PLACES = Decimal("0.000001")
PER_UNIT_PLACES = Decimal("0.000001")
MAX_INTEGER_DIGITS = {CLOSE_PLACES: 12, LEVEL_PLACES: 14, PER_UNIT_PLACES: 10}
REPORTED = 5  # changes named in a refusal

T = TypeVar("T")


class MarketDataFileInvalid(ValueError):
    """A price or asset file that cannot be imported; the message says where and why."""


class MarketDataRevisionRefused(MarketDataFileInvalid):
    """The load would change figures already stored; nothing was written. `revisions` lists
    every change, the message the count and the first few."""

    def __init__(self, message: str, *, revisions: list["Revision"]) -> None:
        super().__init__(message)
        self.revisions = revisions


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
                "index_name": (row.get("index_name") or "").strip(),
            },
        )
    return len(rows)


# --- Reading: every cell checked, every error with its file and line ---------------------------


def figure_parse(text: str, *, places: Decimal, where: str) -> Decimal:
    """A positive finite number, rounded to the precision it is stored at."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise MarketDataFileInvalid(f"{where}: {text.strip()!r} is not a number.") from exc
    if not value.is_finite() or value <= 0:
        raise MarketDataFileInvalid(f"{where}: values must be > 0 (found {text.strip()!r}).")
    if value.adjusted() >= MAX_INTEGER_DIGITS[places]:
        raise MarketDataFileInvalid(f"{where}: {text.strip()!r} is too large.")
    return value.quantize(places)


def date_parse(text: str, *, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise MarketDataFileInvalid(
            f"{where}: {text.strip()!r} is not a date (YYYY-MM-DD)."
        ) from exc


@dataclass(frozen=True)
class PriceRow:
    day: date
    prices: dict[str, Decimal]
    line: int = 0


def prices_read(path: Path, *, places: Decimal = CLOSE_PLACES) -> tuple[list[str], list[PriceRow]]:
    """Parse a wide CSV (`date,TICKER,…`: closes, or total-return levels with `places` =
    LEVEL_PLACES); raise MarketDataFileInvalid on any bad cell or repeated date."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0].strip().lower() != "date" or len(header) < 2:
            raise MarketDataFileInvalid(f"{path.name} line 1: the header must be date,TICKER,…")
        tickers = [cell.strip().upper() for cell in header[1:]]
        if len(set(tickers)) != len(tickers) or "" in tickers:
            raise MarketDataFileInvalid(f"{path.name} line 1: a ticker is empty or repeated.")
        rows, seen = [], dict[date, int]()
        for number, cells in enumerate(reader, start=2):
            where = f"{path.name} line {number}"
            if not cells:
                continue
            if len(cells) != len(header):
                raise MarketDataFileInvalid(f"{where}: wrong number of cells.")
            day = date_parse(cells[0], where=where)
            if day in seen:
                raise MarketDataFileInvalid(f"{where}: {day} repeats line {seen[day]}.")
            seen[day] = number
            prices = {
                ticker: figure_parse(cell, places=places, where=f"{where} ({ticker})")
                for ticker, cell in zip(tickers, cells[1:], strict=True)
                if cell.strip() not in ("", "NA")
            }
            rows.append(PriceRow(day=day, prices=prices, line=number))
    return tickers, rows


@dataclass(frozen=True)
class DistributionRow:
    ticker: str
    ex_date: date
    pay_date: date
    amount: Decimal  # cash per unit
    where: str = ""  # the file and line, for messages


DISTRIBUTION_HEADER = ["ticker", "ex_date", "pay_date", "amount"]


def distribution_row(
    *, ticker: str, ex_date: str, pay_date: str, amount: str, where: str
) -> DistributionRow:
    """One distribution checked: dates, a positive amount, paid on or after its ex-date."""
    if not ticker.strip():
        raise MarketDataFileInvalid(f"{where}: the ticker is empty.")
    row = DistributionRow(
        ticker=ticker.strip().upper(),
        ex_date=date_parse(ex_date, where=where),
        pay_date=date_parse(pay_date, where=where),
        amount=figure_parse(amount, places=PER_UNIT_PLACES, where=where),
        where=where,
    )
    if row.ex_date > row.pay_date:
        raise MarketDataFileInvalid(f"{where}: the ex-date is after the pay date.")
    return row


def distributions_check(rows: list[DistributionRow]) -> list[DistributionRow]:
    """Refuse a second distribution of a fund on the same ex-date."""
    seen: dict[tuple[str, date], str] = {}
    for row in rows:
        key = (row.ticker, row.ex_date)
        if key in seen:
            raise MarketDataFileInvalid(
                f"{row.where}: {row.ticker} already has a distribution ex {row.ex_date} "
                f"({seen[key]})."
            )
        seen[key] = row.where
    return rows


def distributions_read(path: Path) -> list[DistributionRow]:
    """Parse `ticker,ex_date,pay_date,amount` (amount: cash per unit)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        if header != DISTRIBUTION_HEADER:
            raise MarketDataFileInvalid(
                f"{path.name} line 1: the header must be {','.join(DISTRIBUTION_HEADER)}"
            )
        rows = []
        for number, cells in enumerate(reader, start=2):
            if not cells:
                continue
            where = f"{path.name} line {number}"
            if len(cells) != len(header):
                raise MarketDataFileInvalid(f"{where}: wrong number of cells.")
            ticker, ex_date, pay_date, amount = cells
            rows.append(
                distribution_row(
                    ticker=ticker, ex_date=ex_date, pay_date=pay_date, amount=amount, where=where
                )
            )
    return distributions_check(rows)


@dataclass
class MarketData:
    """One load's figures, parsed and checked, applied whole by `market_data_apply`.

    `closes` and `total_returns` are day → ticker → value; a close without a total-return level
    gets a derived one. `named` says where each ticker was named (for unknown-ticker errors),
    `level_lines` where each day's total-return levels were read."""

    source: str
    closes: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    total_returns: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    distributions: list[DistributionRow] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)
    level_lines: dict[date, str] = field(default_factory=dict)


def market_data_read(
    *, prices: Path, total_returns: Path | None = None, distributions: Path | None = None
) -> MarketData:
    """Parse and check the files of one load; nothing touches the database."""
    tickers, rows = prices_read(prices)
    names = [prices.name] + [p.name for p in (total_returns, distributions) if p is not None]
    data = MarketData(
        source=", ".join(names),
        closes={row.day: row.prices for row in rows},
        named={t: f"{prices.name} line 1" for t in tickers},
    )
    if total_returns is not None:
        level_tickers, level_rows = prices_read(total_returns, places=LEVEL_PLACES)
        for ticker in level_tickers:
            data.named.setdefault(ticker, f"{total_returns.name} line 1")
        data.total_returns = {row.day: row.prices for row in level_rows}
        data.level_lines = {row.day: f"{total_returns.name} line {row.line}" for row in level_rows}
    if distributions is not None:
        data.distributions = distributions_read(distributions)
        for row in data.distributions:
            data.named.setdefault(row.ticker, row.where)
    return data


# --- Applying: checked against what is stored, then written in one transaction -----------------


@dataclass(frozen=True)
class Revision:
    """A stored figure a load changes (old → new)."""

    ticker: str
    day: date  # the price day, or the distribution's ex-date
    field: str  # MarketDataRevision.Field
    old: Decimal
    new: Decimal
    note: str = ""

    def __str__(self) -> str:
        return f"{self.ticker} {self.day} {self.field} {self.old} → {self.new}{self.note}"


@dataclass(frozen=True)
class LoadResult:
    prices_added: int
    distributions_added: int
    revisions: tuple[Revision, ...] = ()


def _identity(items: Iterable[T]) -> Iterable[T]:
    return items


@dataclass
class _Stored:
    pk: int
    close: Decimal
    level: Decimal


def market_data_apply(
    *,
    data: MarketData,
    allow_revisions: bool = False,
    progress: Callable[[Iterable[Asset]], Iterable[Asset]] = _identity,
) -> LoadResult:
    """Insert the new days and distributions of `data`; refuse (or, with `allow_revisions`,
    apply and record) changes to stored ones. All or nothing, in one transaction.

    A close without a total-return level gets one derived from the previous day's:
    level × (close + the distribution going ex that day) / previous close; a fund's first day
    is its close. A stored day given again without a level keeps its stored level while its close
    is unchanged (a derived level is not recomputed because a distribution was added later).

    Applied revisions recompute what depends on them: queued once committed, market assumptions
    and model portfolios are re-estimated (`portfolios.allocation_refresh`, forced: the market
    date may not have moved) and goal plans projected again (`portfolios.goal_plans_project`).
    Valuations, performance and benchmarks are computed from stored prices on read, so they follow
    on their own. Fills, cost basis, fees and dividends already paid are history: they happened
    at the figures of their day and are not rewritten."""
    with transaction.atomic():
        return _apply(data=data, allow_revisions=allow_revisions, progress=progress)


def _apply(
    *,
    data: MarketData,
    allow_revisions: bool,
    progress: Callable[[Iterable[Asset]], Iterable[Asset]],
) -> LoadResult:
    tickers = (
        {t for closes in data.closes.values() for t in closes}
        | {t for levels in data.total_returns.values() for t in levels}
        | {row.ticker for row in data.distributions}
        | set(data.named)
    )
    assets = {asset.ticker: asset for asset in Asset.objects.filter(ticker__in=tickers)}
    unknown = sorted(tickers - set(assets))
    if unknown:
        where = data.named.get(unknown[0], data.source)
        raise MarketDataFileInvalid(
            f"{where}: unknown tickers {', '.join(unknown)}; add them to the universe first."
        )
    days = sorted(set(data.closes) | set(data.total_returns))
    firsts = days[:1] + [row.ex_date for row in data.distributions]
    if not firsts:
        return LoadResult(prices_added=0, distributions_added=0)
    first = min(firsts)
    ids = [asset.pk for asset in assets.values()]

    # What is stored from the first day of the load on, and each fund's day before it.
    stored: dict[int, dict[date, _Stored]] = defaultdict(dict)
    rows = Price.objects.filter(asset_id__in=ids, date__gte=first)
    for pk, asset_id, day, close, level in rows.values_list(
        "pk", "asset_id", "date", "close", "total_return"
    ):
        stored[asset_id][day] = _Stored(pk=pk, close=close, level=level)
    stored_distributions = {
        (d.asset_id, d.ex_date): d
        for d in Distribution.objects.filter(asset_id__in=ids, ex_date__gte=first)
    }

    revisions: list[Revision] = []
    new_distributions, changed_distributions = [], []
    per_unit = {key: d.amount for key, d in stored_distributions.items()}
    for row in data.distributions:
        asset = assets[row.ticker]
        known = stored_distributions.get((asset.pk, row.ex_date))
        per_unit[(asset.pk, row.ex_date)] = row.amount
        if known is None:
            new_distributions.append(
                Distribution(
                    asset=asset, ex_date=row.ex_date, pay_date=row.pay_date, amount=row.amount
                )
            )
        elif known.amount != row.amount or known.pay_date != row.pay_date:
            note = (
                f" (paid {known.pay_date} → {row.pay_date})"
                if known.pay_date != row.pay_date
                else ""
            )
            revisions.append(
                Revision(row.ticker, row.ex_date, "distribution", known.amount, row.amount, note)
            )
            known.amount, known.pay_date = row.amount, row.pay_date
            changed_distributions.append(known)

    new_prices: list[Price] = []
    changed_prices: list[Price] = []
    for asset in progress(sorted(assets.values(), key=lambda a: a.ticker)):
        mine = stored[asset.pk]
        closes = {
            day: data.closes[day][asset.ticker]
            for day in days
            if asset.ticker in data.closes.get(day, {})
        }
        levels = {
            day: data.total_returns[day][asset.ticker]
            for day in days
            if asset.ticker in data.total_returns.get(day, {})
        }
        for day in levels.keys() - closes.keys():  # a level alone: for a stored close only
            if day not in mine:
                where = data.level_lines.get(day, data.source)
                raise MarketDataFileInvalid(
                    f"{where}: {asset.ticker} has a total-return level on {day} but no close."
                )
            closes[day] = mine[day].close
        if not closes:
            continue
        before = (
            Price.objects.filter(asset=asset, date__lt=first)
            .order_by("-date")
            .values_list("close", "total_return")
            .first()
        )
        previous: tuple[Decimal, Decimal] | None = before
        for day in sorted(closes.keys() | mine.keys()):
            old = mine.get(day)
            if day not in closes:  # stored, not in this load: the chain goes through it
                previous = (mine[day].close, mine[day].level)
                continue
            close = closes[day]
            given = levels.get(day)
            if given is not None:
                level = given
            else:
                if old is not None and old.close == close:
                    level = old.level
                elif previous is None:
                    level = close.quantize(LEVEL_PLACES)
                else:
                    paid = per_unit.get((asset.pk, day), Decimal(0))
                    level = (previous[1] * (close + paid) / previous[0]).quantize(LEVEL_PLACES)
            if old is None:
                new_prices.append(Price(asset=asset, date=day, close=close, total_return=level))
            elif old.close != close or old.level != level:
                if old.close != close:
                    revisions.append(Revision(asset.ticker, day, "close", old.close, close))
                if old.level != level:
                    revisions.append(Revision(asset.ticker, day, "total_return", old.level, level))
                changed_prices.append(
                    Price(pk=old.pk, asset=asset, date=day, close=close, total_return=level)
                )
            previous = (close, level)

    if revisions and not allow_revisions:
        shown = "; ".join(str(r) for r in revisions[:REPORTED])
        more = f"; and {len(revisions) - REPORTED} more" if len(revisions) > REPORTED else ""
        raise MarketDataRevisionRefused(
            f"{data.source}: {len(revisions)} values already loaded would change: {shown}{more}. "
            "Nothing was imported; load with allow_revisions (--allow-revisions) to apply them "
            "and record each one.",
            revisions=revisions,
        )
    Price.objects.bulk_create(new_prices, batch_size=5000)
    Price.objects.bulk_update(changed_prices, ["close", "total_return"], batch_size=1000)
    Distribution.objects.bulk_create(new_distributions)
    for distribution in changed_distributions:
        distribution.save(update_fields=["amount", "pay_date"])
    if revisions:
        MarketDataRevision.objects.bulk_create(
            MarketDataRevision(
                asset=assets[r.ticker],
                date=r.day,
                field=r.field,
                old=r.old,
                new=r.new,
                source=data.source[:255],
            )
            for r in revisions
        )
        enqueue_on_commit("portfolios.allocation_refresh", force=True)
        enqueue_on_commit("portfolios.goal_plans_project")
        logger.warning(
            "market data revised", extra={"count": len(revisions), "source": data.source}
        )
    logger.info(
        "market data loaded",
        extra={
            "prices": len(new_prices),
            "distributions": len(new_distributions),
            "source": data.source,
        },
    )
    return LoadResult(
        prices_added=len(new_prices),
        distributions_added=len(new_distributions),
        revisions=tuple(revisions),
    )


def prices_load(
    *,
    path: Path = PRICES_FILE,
    total_returns: Path | None = None,
    distributions: Path | None = None,
    allow_revisions: bool = False,
    progress: Callable[[Iterable[Asset]], Iterable[Asset]] = _identity,
) -> LoadResult:
    """Load a closes file, with its total-return levels and distributions when given (without
    levels, they are derived from the closes and distributions). See `market_data_apply`."""
    data = market_data_read(prices=path, total_returns=total_returns, distributions=distributions)
    return market_data_apply(data=data, allow_revisions=allow_revisions, progress=progress)


@transaction.atomic
def market_data_load(
    *,
    prices: Path = PRICES_FILE,
    total_returns: Path | None = TOTAL_RETURNS_FILE,
    distributions: Path | None = DISTRIBUTIONS_FILE,
    allow_revisions: bool = False,
    progress: Callable[[Iterable[Asset]], Iterable[Asset]] = _identity,
) -> tuple[int, LoadResult]:
    """The fund universe and the shipped (or given) market data, in one transaction.
    Returns (assets, result)."""
    assets = assets_sync()
    result = prices_load(
        path=prices,
        total_returns=total_returns,
        distributions=distributions,
        allow_revisions=allow_revisions,
        progress=progress,
    )
    return assets, result


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
