"""The daily price feed of a deployment: one interface, a few adapters, and the import job.

A source answers one question, `fetch(day=…)`: that day's closes by ticker (and, when it has
them, total-return levels and the distributions going ex that day), or None while the day is not
published. Adapters: a folder with one file per day, or a URL template with `{date}`, each as CSV
or JSON; configured by settings.PRICE_FEED (env PRICE_FEED_KIND, PRICE_FEED_LOCATION).

File formats (a day per file):
- CSV: a header `ticker,close` and optionally `total_return`, `distribution` (cash per unit going
  ex that day) and `pay_date` columns, then one row per fund; an empty cell means none.
- JSON: `{"date": "2023-06-12", "closes": {"VTI": "214.1", …}, "total_returns": {…},
  "distributions": [{"ticker": "VTI", "ex_date": "…", "pay_date": "…", "amount": "0.59"}]}`;
  only `date` and `closes` are required. Numbers may be JSON numbers or strings.

`prices_import` walks the weekdays after the market date that are not US market holidays, one at
a time, and imports each complete day through the loader (`market.market_data_apply`, revision
rules included), so the market date never skips a day. The first day that cannot be imported
whole stops it with a MarketDataAlert: missing (once the day is past the grace), partial (funds
without a close; nothing imported) or invalid (a malformed file, with its line). An alert is
resolved when its day later imports whole."""

import csv
import io
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.celery import enqueue_on_commit

from .market import (
    CLOSE_PLACES,
    LEVEL_PLACES,
    DistributionRow,
    MarketData,
    MarketDataFileInvalid,
    date_parse,
    distribution_row,
    distributions_check,
    figure_parse,
    market_data_apply,
    market_date_get,
)
from .models import Asset, MarketDataAlert

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = 30  # seconds


class FeedUnavailable(Exception):  # noqa: N818 - a state, not a bug
    """The feed could not be asked (network, server error): nothing is known about the day."""


@dataclass(frozen=True)
class DayCloses:
    """One published day."""

    day: date
    closes: dict[str, Decimal]
    source: str  # the file or URL it came from
    total_returns: dict[str, Decimal] = field(default_factory=dict)
    distributions: tuple[DistributionRow, ...] = ()


class PriceSource(Protocol):
    def fetch(self, *, day: date) -> DayCloses | None:
        """The day's closes, or None while it is not published. Raises MarketDataFileInvalid
        for a malformed file, FeedUnavailable when the feed cannot be reached."""


# --- Formats -----------------------------------------------------------------------------------

CSV_COLUMNS = ("ticker", "close", "total_return", "distribution", "pay_date")


def day_csv_parse(text: str, *, day: date, name: str) -> DayCloses:
    """A day's CSV (see the module docstring); every error names the line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header[:2] != ["ticker", "close"] or not set(header) <= set(CSV_COLUMNS):
        raise MarketDataFileInvalid(
            f"{name} line 1: the header must be ticker,close[,total_return][,distribution,pay_date]"
        )
    closes: dict[str, Decimal] = {}
    levels: dict[str, Decimal] = {}
    distributions = []
    for number, cells in enumerate(reader, start=2):
        if not cells:
            continue
        where = f"{name} line {number}"
        if len(cells) != len(header):
            raise MarketDataFileInvalid(f"{where}: wrong number of cells.")
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        ticker = row["ticker"].upper()
        if not ticker:
            raise MarketDataFileInvalid(f"{where}: the ticker is empty.")
        if ticker in closes:
            raise MarketDataFileInvalid(f"{where}: {ticker} repeats.")
        closes[ticker] = figure_parse(row["close"], places=CLOSE_PLACES, where=where)
        if row.get("total_return"):
            levels[ticker] = figure_parse(row["total_return"], places=LEVEL_PLACES, where=where)
        if row.get("distribution"):
            distributions.append(
                distribution_row(
                    ticker=ticker,
                    ex_date=day.isoformat(),
                    pay_date=row.get("pay_date", ""),
                    amount=row["distribution"],
                    where=where,
                )
            )
    return DayCloses(
        day=day,
        closes=closes,
        source=name,
        total_returns=levels,
        distributions=tuple(distributions_check(distributions)),
    )


def _line_of(text: str, key: str) -> int:
    """The first line naming the JSON key `key` (the document parsed, the line is found back)."""
    needle = json.dumps(key)
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


def day_json_parse(text: str, *, day: date, name: str) -> DayCloses:
    """A day's JSON (see the module docstring); every error names the line."""
    try:
        document = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise MarketDataFileInvalid(f"{name} line {exc.lineno}: {exc.msg}.") from exc
    if not isinstance(document, dict) or not isinstance(document.get("closes"), dict):
        raise MarketDataFileInvalid(f"{name} line 1: an object with date and closes is required.")
    where_date = f"{name} line {_line_of(text, 'date')}"
    if date_parse(str(document.get("date", "")), where=where_date) != day:
        raise MarketDataFileInvalid(f"{where_date}: the file is not for {day}.")

    def figures(key: str, places: Decimal) -> dict[str, Decimal]:
        values: Any = document.get(key) or {}
        if not isinstance(values, dict):
            raise MarketDataFileInvalid(
                f"{name} line {_line_of(text, key)}: {key} is not an object."
            )
        return {
            str(ticker).strip().upper(): figure_parse(
                str(value), places=places, where=f"{name} line {_line_of(text, str(ticker))}"
            )
            for ticker, value in values.items()
        }

    closes = figures("closes", CLOSE_PLACES)
    levels = figures("total_returns", LEVEL_PLACES)
    rows = document.get("distributions") or []
    if not isinstance(rows, list):
        raise MarketDataFileInvalid(f"{name} line {_line_of(text, 'distributions')}: not a list.")
    distributions = []
    for row in rows:
        if not isinstance(row, dict):
            raise MarketDataFileInvalid(
                f"{name} line {_line_of(text, 'distributions')}: a distribution is not an object."
            )
        ticker = str(row.get("ticker", ""))
        distributions.append(
            distribution_row(
                ticker=ticker,
                ex_date=str(row.get("ex_date", day.isoformat())),
                pay_date=str(row.get("pay_date", "")),
                amount=str(row.get("amount", "")),
                where=f"{name} line {_line_of(text, ticker) if ticker else 1}",
            )
        )
    return DayCloses(
        day=day,
        closes=closes,
        source=name,
        total_returns=levels,
        distributions=tuple(distributions_check(distributions)),
    )


PARSERS = {"csv": day_csv_parse, "json": day_json_parse}


# --- Adapters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderSource:
    """A folder with one file per day, `YYYY-MM-DD.csv` or `YYYY-MM-DD.json` (a drop folder, or
    a mounted bucket)."""

    location: str

    def fetch(self, *, day: date) -> DayCloses | None:
        for extension, parse in PARSERS.items():
            path = Path(self.location) / f"{day.isoformat()}.{extension}"
            if path.is_file():
                return parse(path.read_text(encoding="utf-8"), day=day, name=path.name)
        return None


def _url_read(template: str, day: date) -> tuple[str, str] | None:
    """(url, text) of the day's document, or None when it is not there (404, no such file)."""
    url = template.format(date=day.isoformat())
    if url.split(":", 1)[0].lower() not in ("http", "https", "file"):
        raise FeedUnavailable(f"unsupported URL scheme in {url}")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - checked
            return url, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return None
        raise FeedUnavailable(f"{url}: HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            return None
        raise FeedUnavailable(f"{url}: {exc.reason}") from exc
    except (TimeoutError, UnicodeDecodeError) as exc:
        raise FeedUnavailable(f"{url}: {exc}") from exc


@dataclass(frozen=True)
class CsvUrlSource:
    """A URL template with `{date}` (ISO) answering a day's CSV; http(s) or file://."""

    location: str

    def fetch(self, *, day: date) -> DayCloses | None:
        found = _url_read(self.location, day)
        return None if found is None else day_csv_parse(found[1], day=day, name=found[0])


@dataclass(frozen=True)
class JsonUrlSource:
    """A URL template with `{date}` (ISO) answering a day's JSON; http(s) or file://."""

    location: str

    def fetch(self, *, day: date) -> DayCloses | None:
        found = _url_read(self.location, day)
        return None if found is None else day_json_parse(found[1], day=day, name=found[0])


SOURCES: dict[str, type[FolderSource] | type[CsvUrlSource] | type[JsonUrlSource]] = {
    "folder": FolderSource,
    "csv_url": CsvUrlSource,
    "json_url": JsonUrlSource,
}


def price_source_get() -> PriceSource | None:
    """The configured feed, or None when PRICE_FEED_KIND is empty (the feed is disabled)."""
    config = settings.PRICE_FEED
    kind = (config.get("kind") or "").strip()
    if not kind:
        return None
    if kind not in SOURCES:
        raise ValueError(f"PRICE_FEED_KIND must be one of {', '.join(SOURCES)}, not {kind!r}.")
    return SOURCES[kind](location=config["location"])


# --- The US market calendar --------------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * j) // 433
    month = (h + j - 7 * m + 90) // 25
    return date(year, month, (h + j - 7 * m + 33 * month + 19) % 32)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of the month; n = -1 is the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


def us_market_holidays(year: int) -> set[date]:
    """NYSE full-day holidays by rule. Unscheduled closures (2012-10-29/30, 2018-12-05) are not
    rules: a feed that skips such a day raises a missing alert, and an admin resolves it."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # on a Saturday it is not observed on the Friday before
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    return days


def trading_day_next(day: date) -> date:
    """The next weekday after `day` that is not a US market holiday."""
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in us_market_holidays(day.year):
        day += timedelta(days=1)
    return day


# --- The import job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    imported: list[date]
    message: str
    alert: MarketDataAlert | None = None


def _alert(*, kind: str, day: date, detail: str, source: str) -> MarketDataAlert:
    """Raise (or refresh) the open alert of this kind for the day: one open per kind and day."""
    with transaction.atomic():
        alert = (
            MarketDataAlert.objects.select_for_update()
            .filter(kind=kind, day=day, resolved_at__isnull=True)
            .first()
        )
        if alert is None:
            alert = MarketDataAlert.objects.create(
                kind=kind, day=day, detail=detail, source=source[:255]
            )
        elif alert.detail != detail:
            alert.detail = detail
            alert.save(update_fields=["detail"])
    logger.error(
        "market data alert",
        extra={"kind": kind, "day": day.isoformat(), "detail": detail, "alert_id": alert.pk},
    )
    return alert


def prices_import(
    *, through: date | None = None, source: PriceSource | None = None
) -> ImportResult:
    """Import each published trading day after the market date up to `through` (default:
    today), in order, stopping at the first that cannot be imported whole (see the module
    docstring). Once anything is imported, market assumptions are refreshed after commit."""
    source = source if source is not None else price_source_get()
    if source is None:
        message = "Price feed disabled (PRICE_FEED_KIND is empty): nothing imported."
        logger.info("price feed disabled")
        return ImportResult(imported=[], message=message)
    today = timezone.localdate()
    through = through or today
    grace = timedelta(days=settings.PRICE_FEED_MISSING_AFTER_DAYS)
    active = set(Asset.objects.filter(active=True).values_list("ticker", flat=True))
    imported: list[date] = []
    day = trading_day_next(market_date_get())
    alert = None
    message = ""
    while day <= through:
        label = getattr(source, "location", type(source).__name__)
        try:
            fetched = source.fetch(day=day)
        except FeedUnavailable as exc:
            message = f"Feed unavailable at {day}: {exc}"
            logger.warning("price feed unavailable", extra={"day": day.isoformat()})
            break
        except MarketDataFileInvalid as exc:
            alert = _alert(kind="invalid", day=day, detail=str(exc), source=label)
            break
        if fetched is None:
            if today > day + grace:
                alert = _alert(
                    kind="missing",
                    day=day,
                    detail=f"No file for {day} from the price feed.",
                    source=label,
                )
            else:
                message = f"{day} not published yet."
            break
        missing = sorted(active - set(fetched.closes))
        if missing:
            alert = _alert(
                kind="partial",
                day=day,
                detail=f"No close for {', '.join(missing)} on {day}: nothing imported.",
                source=fetched.source,
            )
            break
        data = MarketData(
            source=fetched.source,
            closes={day: fetched.closes},
            total_returns={day: fetched.total_returns} if fetched.total_returns else {},
            distributions=list(fetched.distributions),
            named={ticker: fetched.source for ticker in fetched.closes},
        )
        try:
            with transaction.atomic():
                market_data_apply(data=data)
                MarketDataAlert.objects.filter(day=day, resolved_at__isnull=True).update(
                    resolved_at=timezone.now()
                )
        except MarketDataFileInvalid as exc:
            alert = _alert(kind="invalid", day=day, detail=str(exc), source=fetched.source)
            break
        imported.append(day)
        day = trading_day_next(day)
    if imported:
        enqueue_on_commit("portfolios.allocation_refresh")
    if alert is not None:
        message = f"Stopped at {alert.day}: {alert.detail}"
    summary = f"Imported {len(imported)} day(s)" + (f"; {message}" if message else ".")
    logger.info("price feed import", extra={"days": len(imported)})
    return ImportResult(imported=imported, message=summary, alert=alert)
