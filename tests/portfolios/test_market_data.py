"""Market data loading (closes, total-return levels, distributions; revisions refused unless
allowed), the shipped data, and model portfolios built on it."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios import market, services
from portfolios.models import (
    Distribution,
    MarketAssumptions,
    MarketDataRevision,
    ModelPortfolioSet,
    Price,
)

from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db


def test_the_shipped_prices_load_build_assumptions_and_ten_approved_model_portfolios():
    call_command("load_market_data", "--no-progress")

    portfolio_set = ModelPortfolioSet.objects.get()
    levels = list(portfolio_set.portfolios.order_by("level"))
    assert market.market_date_get() == date(2023, 6, 9)
    assert Price.objects.count() == 3918 * 15
    assert portfolio_set.status == ModelPortfolioSet.Status.APPROVED
    assert [p.level for p in levels] == list(range(1, 11))
    assert all(
        abs(sum(Decimal(w) for w in p.weights.values()) - 1) < Decimal("1e-6") for p in levels
    )
    assert levels[0].volatility < levels[-1].volatility
    assert levels[0].expected_return < levels[-1].expected_return


def test_loading_again_is_idempotent_and_a_newer_file_adds_days(tmp_path):
    call_command("load_market_data", "--no-progress")
    call_command("load_market_data", "--no-progress")
    newer = write_prices(tmp_path / "newer.csv", {date(2023, 6, 12): BASE_PRICES})

    call_command("load_market_data", str(newer), "--no-progress")

    assert Price.objects.count() == 3918 * 15 + 15
    assert market.market_date_get() == date(2023, 6, 12)
    assert MarketAssumptions.objects.count() == 2  # prices moved on: re-estimated once
    assert ModelPortfolioSet.objects.filter(status="approved").count() == 1
    assert services.allocation_refresh() is None  # nothing new to estimate


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,VTI\n2023-01-01,1\n", "header"),
        ("date,VTI\n2023-13-01,1\n", "line 2"),
        ("date,VTI\n2023-01-02,-5\n", "line 2 \\(VTI\\): values must be > 0"),
        ("date,VTI\n2023-01-02,0\n", "line 2 \\(VTI\\): values must be > 0"),
        ("date,VTI\n2023-01-02,NaN\n", "line 2"),
        ("date,VTI\n2023-01-02,5\n2023-01-02,6\n", "line 3: 2023-01-02 repeats line 2"),
        ("date,VTI,VTI\n2023-01-02,5,5\n", "line 1: a ticker is empty or repeated"),
        ("date,VTI\n2023-01-02,abc\n", "line 2"),
        ("date,XYZ\n2023-01-02,5\n", "unknown tickers XYZ"),
        ("date,VTI\n2023-01-02,5,6\n", "wrong number of cells"),
    ],
)
def test_a_bad_price_file_is_refused_with_the_line_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("load_market_data", str(path), "--no-progress")

    assert not Price.objects.exists()


# --- The shipped data ---------------------------------------------------------------------------


def test_the_shipped_files_hold_actual_closes_total_return_levels_and_distributions():
    market.market_data_load()

    vti = Price.objects.get(asset__ticker="VTI", date=date(2023, 6, 9))
    assert vti.close == Decimal("213.93")  # the fund's actual close that day
    assert vti.total_return == Decimal("554.78")  # the source's TR level (its own base)
    assert Distribution.objects.count() == 1375
    assert not Distribution.objects.filter(asset__ticker="GLD").exists()
    months = {
        d.ex_date.month
        for d in Distribution.objects.filter(asset__ticker="VTI", ex_date__year=2022)
    }
    assert months == {3, 6, 9, 12}
    assert Distribution.objects.filter(asset__ticker="AGG", ex_date__year=2022).count() == 12


def _series(ticker: str, year: int) -> list[Price]:
    return list(
        Price.objects.filter(
            asset__ticker=ticker, date__gte=date(year - 1, 12, 24), date__lte=date(year, 12, 31)
        ).order_by("date")
    )


def test_vtis_total_return_over_2022_is_the_shipped_levels_ratio_and_closes_plus_dividends():
    market.market_data_load()
    prices = [p for p in _series("VTI", 2022) if p.date >= date(2021, 12, 31)]

    # then: the level ratio is what the shipped file says, by hand: 493.82 / 613.53 - 1
    assert (prices[0].date, prices[0].total_return) == (date(2021, 12, 31), Decimal("613.53"))
    assert (prices[-1].date, prices[-1].total_return) == (date(2022, 12, 30), Decimal("493.82"))
    level_return = prices[-1].total_return / prices[0].total_return - 1
    assert level_return.quantize(Decimal("0.000001")) == Decimal("-0.195117")
    # and closes with the year's four distributions reinvested reproduce it
    paid = dict(
        Distribution.objects.filter(asset__ticker="VTI", ex_date__year=2022).values_list(
            "ex_date", "amount"
        )
    )
    assert sum(paid.values()) == Decimal("3.1813")
    growth = Decimal(1)
    for before, day in zip(prices, prices[1:], strict=False):
        growth *= (day.close + paid.get(day.date, 0)) / before.close
    assert abs((growth - 1) - level_return) < Decimal("0.0005")
    price_return = prices[-1].close / prices[0].close - 1
    assert price_return < level_return - Decimal("0.01")  # the dividends are ~1.3% of it


def test_the_shipped_distribution_yields_are_close_to_the_funds_income():
    market.market_data_load()
    for ticker, low, high in (("VTI", "0.013", "0.022"), ("AGG", "0.018", "0.032")):
        paid = sum(
            Distribution.objects.filter(
                asset__ticker=ticker, ex_date__year__gte=2009, ex_date__year__lte=2022
            ).values_list("amount", flat=True),
            Decimal(0),
        )
        closes = Price.objects.filter(
            asset__ticker=ticker, date__year__gte=2009, date__year__lte=2022
        ).values_list("close", flat=True)
        average = sum(closes, Decimal(0)) / len(closes)
        assert Decimal(low) < paid / 14 / average < Decimal(high), ticker


# --- Reloads and revisions ----------------------------------------------------------------------


def test_reloading_the_shipped_files_writes_nothing():
    market.market_data_load()

    with CaptureQueriesContext(connection) as queries:
        _, result = market.market_data_load()

    assert (result.prices_added, result.distributions_added, result.revisions) == (0, 0, ())
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
        and any(t in q["sql"] for t in ("portfolios_price", "portfolios_distribution"))
    ]
    assert writes == []
    assert not MarketDataRevision.objects.exists()


def test_a_load_that_changes_a_stored_close_is_refused_whole_with_a_report(market_data, tmp_path):
    # given: the day loaded, and a file that moves VTI on it and adds a new day
    moved = write_prices(
        tmp_path / "moved.csv",
        {market_data: {**BASE_PRICES, "VTI": "210"}, market_data + timedelta(days=3): BASE_PRICES},
    )

    # when
    with pytest.raises(market.MarketDataRevisionRefused) as refused:
        market.prices_load(path=moved)

    # then: nothing written, and the report names the change
    message = str(refused.value)
    assert "moved.csv: 2 values already loaded would change" in message
    assert "VTI 2023-06-09 close 200.0000 → 210.0000" in message
    assert "VTI 2023-06-09 total_return 200.000000 → 210.000000" in message
    assert len(refused.value.revisions) == 2
    assert Price.objects.get(asset__ticker="VTI", date=market_data).close == Decimal("200")
    assert market.market_date_get() == market_data
    assert not MarketDataRevision.objects.exists()


def test_an_allowed_revision_is_applied_recorded_and_queues_what_depends_on_it(
    market_data, tmp_path, django_capture_on_commit_callbacks
):
    moved = write_prices(tmp_path / "moved.csv", {market_data: {**BASE_PRICES, "VTI": "210"}})

    with django_capture_on_commit_callbacks() as callbacks:
        result = market.prices_load(path=moved, allow_revisions=True)

    vti = Price.objects.get(asset__ticker="VTI", date=market_data)
    assert (vti.close, vti.total_return) == (Decimal("210"), Decimal("210"))
    revisions = MarketDataRevision.objects.order_by("field")
    assert [(r.field, r.old, r.new, r.source) for r in revisions] == [
        ("close", Decimal("200"), Decimal("210"), "moved.csv"),
        ("total_return", Decimal("200"), Decimal("210"), "moved.csv"),
    ]
    assert len(result.revisions) == 2
    assert len(callbacks) == 2  # assumptions refresh (forced) and goal plan projections


def test_the_command_refuses_a_revision_and_says_how_to_accept_it(market_data, tmp_path):
    moved = write_prices(tmp_path / "moved.csv", {market_data: {**BASE_PRICES, "AGG": "99"}})

    with pytest.raises(CommandError, match="--allow-revisions") as refused:
        call_command("load_market_data", str(moved), "--no-progress", "--no-refresh")
    assert "migration 0009" in str(refused.value)

    call_command(
        "load_market_data", str(moved), "--no-progress", "--no-refresh", "--allow-revisions"
    )
    assert MarketDataRevision.objects.filter(asset__ticker="AGG").count() == 2


def _distributions(path: Path, *rows: str) -> Path:
    path.write_text("ticker,ex_date,pay_date,amount\n" + "".join(f"{r}\n" for r in rows))
    return path


def test_a_changed_distribution_is_a_revision_too(market_data, tmp_path):
    day = market_data
    prices = write_prices(tmp_path / "p.csv", {day: BASE_PRICES})
    market.prices_load(
        path=prices,
        distributions=_distributions(tmp_path / "d1.csv", "VTI,2023-06-09,2023-06-15,0.5"),
    )
    changed = _distributions(tmp_path / "d2.csv", "VTI,2023-06-09,2023-06-15,0.55")

    with pytest.raises(market.MarketDataRevisionRefused, match="VTI 2023-06-09 distribution"):
        market.prices_load(path=prices, distributions=changed)
    market.prices_load(path=prices, distributions=changed, allow_revisions=True)

    assert Distribution.objects.get().amount == Decimal("0.55")
    revision = MarketDataRevision.objects.get()
    assert (revision.field, revision.old, revision.new) == (
        "distribution",
        Decimal("0.5"),
        Decimal("0.55"),
    )


# --- Malformed files: refused whole, with the file and line --------------------------------------

GOOD_DAY = "date,VTI,AGG\n2023-06-08,200,100\n2023-06-09,201,100.5\n"


@pytest.mark.parametrize(
    ("levels", "distributions", "message"),
    [
        ("date,VTI\n2023-06-09,x\n", None, "tr.csv line 2"),
        ("date,VTI\n2023-06-09,-1\n", None, "tr.csv line 2 \\(VTI\\): values must be > 0"),
        ("date,VTI\n2023-06-09,1\n2023-06-09,2\n", None, "tr.csv line 3: 2023-06-09 repeats"),
        ("date,VTI\n2023-06-12,1\n", None, "tr.csv line 2: VTI has a total-return level"),
        ("date,XYZ\n2023-06-09,1\n", None, "tr.csv line 1: unknown tickers XYZ"),
        (None, "VTI,2023-6-9,2023-06-15,0.5", "d.csv line 2: '2023-6-9' is not a date"),
        (None, "VTI,2023-06-09,2023-06-15,half", "d.csv line 2: 'half' is not a number"),
        (None, "VTI,2023-06-09,2023-06-15,0", "d.csv line 2: values must be > 0"),
        (None, "VTI,2023-06-09,2023-06-15", "d.csv line 2: wrong number of cells"),
        (None, "XYZ,2023-06-09,2023-06-15,0.5", "d.csv line 2: unknown tickers XYZ"),
        (None, "VTI,2023-06-09,2023-06-08,0.5", "d.csv line 2: the ex-date is after the pay"),
        (
            None,
            "VTI,2023-06-09,2023-06-15,0.5\nVTI,2023-06-09,2023-06-16,0.5",
            "d.csv line 3: VTI already has a distribution ex 2023-06-09",
        ),
    ],
)
def test_a_bad_level_or_distribution_file_is_refused_whole_with_the_line(
    db, tmp_path, levels, distributions, message
):
    market.assets_sync()
    prices = tmp_path / "p.csv"
    prices.write_text(GOOD_DAY)
    args = [str(prices), "--no-progress", "--no-refresh"]
    if levels is not None:
        (tmp_path / "tr.csv").write_text(levels)
        args += ["--total-returns", str(tmp_path / "tr.csv")]
    if distributions is not None:
        _distributions(tmp_path / "d.csv", distributions)
        args += ["--distributions", str(tmp_path / "d.csv")]

    with pytest.raises(CommandError, match=message):
        call_command("load_market_data", *args)

    assert not Price.objects.exists()
    assert not Distribution.objects.exists()


# --- Total-return levels derived for a closes-only file ------------------------------------------


def test_a_closes_only_file_gets_levels_derived_from_closes_and_distributions(db, tmp_path):
    market.assets_sync()
    prices = tmp_path / "p.csv"
    prices.write_text("date,VTI\n2023-06-07,100\n2023-06-08,110\n2023-06-09,108\n")
    paid = _distributions(tmp_path / "d.csv", "VTI,2023-06-09,2023-06-15,2")

    market.prices_load(path=prices, distributions=paid)
    later = tmp_path / "later.csv"
    later.write_text("date,VTI\n2023-06-12,99\n")
    market.prices_load(path=later)

    levels = dict(Price.objects.values_list("date", "total_return"))
    assert levels == {
        date(2023, 6, 7): Decimal("100"),  # the first day: the close
        date(2023, 6, 8): Decimal("110"),  # × 110 / 100
        date(2023, 6, 9): Decimal("110"),  # × (108 + 2 paid) / 110: the holder lost nothing
        date(2023, 6, 12): Decimal("100.833333"),  # × 99 / 108, from the stored level
    }
    market.prices_load(path=prices, distributions=paid)  # again: nothing changes
    assert not MarketDataRevision.objects.exists()
