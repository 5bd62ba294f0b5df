"""The daily price feed: complete days imported in order through the loader, and a missing,
partial or malformed day stopped with an alert, resolved once the day imports whole."""

import csv
import logging
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from portfolios import feeds, market
from portfolios.models import Distribution, MarketDataAlert, Price

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feed"
MONDAY = date(2023, 6, 12)  # the first trading day after the fixtures' market date


def _folder(tmp_path: Path, *names: str) -> feeds.FolderSource:
    """A feed folder holding the recorded files `kind/day.ext`."""
    folder = tmp_path / "feed"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, folder / Path(name).name)
    return feeds.FolderSource(location=str(folder))


def test_a_complete_day_is_imported_and_moves_the_market_date(market_data, tmp_path):
    source = _folder(tmp_path, "complete/2023-06-12.csv")

    result = feeds.prices_import(through=MONDAY, source=source)

    assert result.imported == [MONDAY]
    assert result.alert is None
    assert market.market_date_get() == MONDAY
    assert Price.objects.filter(date=MONDAY).count() == 15
    vti = Price.objects.get(asset__ticker="VTI", date=MONDAY)
    # the level derived: 200 × (201.50 + 0.5912 paid) / 200
    assert (vti.close, vti.total_return) == (Decimal("201.50"), Decimal("202.0912"))
    assert set(Distribution.objects.values_list("asset__ticker", "amount", "pay_date")) == {
        ("VTI", Decimal("0.5912"), date(2023, 6, 16)),
        ("AGG", Decimal("0.2650"), date(2023, 6, 16)),
    }
    # and again: nothing new
    assert feeds.prices_import(through=MONDAY, source=source).imported == []


def test_a_partial_day_raises_one_alert_naming_the_funds_and_imports_nothing(
    market_data, tmp_path, caplog
):
    source = _folder(tmp_path, "partial/2023-06-12.csv")

    with caplog.at_level(logging.ERROR, logger="portfolios.feeds"):
        result = feeds.prices_import(through=MONDAY, source=source)
    feeds.prices_import(through=MONDAY, source=source)  # the next run: still one open alert

    alert = MarketDataAlert.objects.get()
    assert (alert.kind, alert.day, alert.resolved_at) == ("partial", MONDAY, None)
    assert "BIL, GLD" in alert.detail
    assert result.alert == alert
    assert not Price.objects.filter(date=MONDAY).exists()
    assert market.market_date_get() == market_data
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_a_malformed_day_raises_an_invalid_alert_with_the_line(market_data, tmp_path):
    source = _folder(tmp_path, "malformed/2023-06-12.csv")

    feeds.prices_import(through=MONDAY, source=source)

    alert = MarketDataAlert.objects.get()
    assert alert.kind == "invalid"
    assert "2023-06-12.csv line 4" in alert.detail
    assert "'forty' is not a number" in alert.detail
    assert not Price.objects.filter(date=MONDAY).exists()


def test_an_alert_is_resolved_when_its_day_later_imports_whole(market_data, tmp_path):
    feeds.prices_import(through=MONDAY, source=_folder(tmp_path, "partial/2023-06-12.csv"))
    assert MarketDataAlert.objects.filter(resolved_at__isnull=True).count() == 1

    result = feeds.prices_import(
        through=MONDAY, source=_folder(tmp_path, "complete/2023-06-12.csv")
    )

    assert result.imported == [MONDAY]
    assert MarketDataAlert.objects.get().resolved_at is not None


def test_a_missing_day_is_alerted_once_past_the_grace_and_stops_the_import(
    market_data, tmp_path, monkeypatch
):
    # given: Monday missing, Tuesday published
    folder = tmp_path / "feed"
    folder.mkdir()
    shutil.copy(FIXTURES / "json/2023-06-13.json", folder)
    source = feeds.FolderSource(location=str(folder))

    # while Monday is recent: nothing, no alert
    monkeypatch.setattr(feeds.timezone, "localdate", lambda: MONDAY + timedelta(days=1))
    assert feeds.prices_import(source=source).imported == []
    assert not MarketDataAlert.objects.exists()

    # past the grace: an alert, and Tuesday is not imported over the gap
    monkeypatch.setattr(feeds.timezone, "localdate", lambda: MONDAY + timedelta(days=2))
    result = feeds.prices_import(source=source)

    assert result.imported == []
    assert result.alert is not None
    assert (result.alert.kind, result.alert.day) == ("missing", MONDAY)
    assert market.market_date_get() == market_data


def test_the_json_variant_over_a_file_url_imports_day_after_day(market_data):
    template = (FIXTURES / "json").as_uri() + "/{date}.json"
    source = feeds.JsonUrlSource(location=template)

    result = feeds.prices_import(through=date(2023, 6, 13), source=source)

    assert result.imported == [MONDAY, date(2023, 6, 13)]
    vti = Price.objects.get(asset__ticker="VTI", date=MONDAY)
    assert vti.total_return == Decimal("202.0912")  # given by the file
    assert Price.objects.get(asset__ticker="EEM", date=date(2023, 6, 13)).close == Decimal("40.3")
    assert Distribution.objects.get().ex_date == MONDAY


def test_the_csv_variant_over_a_file_url(market_data):
    template = (FIXTURES / "complete").as_uri() + "/{date}.csv"

    result = feeds.prices_import(through=MONDAY, source=feeds.CsvUrlSource(location=template))

    assert result.imported == [MONDAY]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"date": "2023-06-12", "closes": {"VTI": 1,}}', "line 1"),
        ('{\n "date": "2023-06-12",\n "closes": {\n  "VTI": -1\n }\n}', "line 4"),
        ('{"date": "2023-06-13", "closes": {}}', "not for 2023-06-12"),
        ('{"date": "2023-06-12"}', "date and closes"),
    ],
)
def test_a_malformed_json_day_names_the_line(text, message):
    with pytest.raises(market.MarketDataFileInvalid, match=message):
        feeds.day_json_parse(text, day=MONDAY, name="2023-06-12.json")


@override_settings(PRICE_FEED={"kind": "", "location": ""})
def test_without_a_configured_feed_the_job_does_nothing_and_says_so(market_data):
    result = feeds.prices_import()

    assert result.imported == []
    assert "disabled" in result.message


def test_the_configured_feed_is_built_from_settings(tmp_path):
    with override_settings(PRICE_FEED={"kind": "folder", "location": str(tmp_path)}):
        assert feeds.price_source_get() == feeds.FolderSource(location=str(tmp_path))
    with override_settings(PRICE_FEED={"kind": "json_url", "location": "https://x/{date}"}):
        assert isinstance(feeds.price_source_get(), feeds.JsonUrlSource)


def test_the_calendar_skips_weekends_and_us_market_holidays():
    assert feeds.trading_day_next(date(2023, 6, 9)) == MONDAY
    assert feeds.trading_day_next(date(2023, 7, 3)) == date(2023, 7, 5)  # Independence Day
    assert feeds.trading_day_next(date(2023, 4, 6)) == date(2023, 4, 10)  # Good Friday
    assert feeds.trading_day_next(date(2022, 12, 23)) == date(2022, 12, 27)  # observed Xmas
    # every weekday the shipped data has no row for is a holiday by rule, or Hurricane Sandy
    with (Path(market.PRICES_FILE)).open() as handle:
        days = {date.fromisoformat(row[0]) for row in list(csv.reader(handle))[1:]}
    holidays = {h for year in range(2008, 2024) for h in feeds.us_market_holidays(year)}
    day, gaps = date(2008, 1, 2), set()
    while day <= date(2023, 6, 9):
        if day.weekday() < 5 and day not in days:
            gaps.add(day)
        day += timedelta(days=1)
    assert gaps - holidays == {date(2012, 10, 29), date(2012, 10, 30)}
