"""The daily harvest check over a chunk of accounts at once (`tax_harvests_refresh`): the same
proposals, supersessions and notices as the per-account services, idempotent, and queries that
do not grow with the chunk."""

import logging
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from advisor.models import Client, Notification
from portfolios import market
from portfolios.models import Account, Asset, Position, TaxHarvest, Transaction
from portfolios.services import harvesting
from portfolios.targets import ALTERNATES

from .conftest import BASE_PRICES, drifting_prices_load, write_prices

pytestmark = pytest.mark.django_db

EARLIER = date(2023, 5, 22)  # 39 days before the market date: a harvest then may switch back


@pytest.fixture
def four_months(tmp_path, approved_set, market_day):
    """Weekday closes from 1 March to 30 June 2023, each fund drifting by its own daily step, so
    that some of the book's lots lose."""
    return drifting_prices_load(tmp_path / "months.csv", market_day, step=Decimal("0.0008"))


@pytest.fixture
def book(four_months):
    """80 synthetic accounts; no client has opted into harvests executed at once."""
    call_command("synth_book", accounts=80, seed=7, history_months=3)
    Client.objects.update(harvest_auto=False)
    return list(Account.objects.order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def harvested_earlier(book, four_months, tmp_path):
    """On EARLIER, half the clients had their harvests executed at once (they now hold
    alternates, and loss sales of the primaries); the others' proposals wait, pending. On the
    next market date, 3 July, the alternates are back at their EARLIER closes (a switch back
    realises little gain) and the other funds where they closed on 30 June."""
    clients = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    Client.objects.filter(pk__in=clients[::2]).update(harvest_auto=True)
    harvesting.tax_harvests_refresh(day=EARLIER)
    Client.objects.update(harvest_auto=False)
    assert TaxHarvest.objects.filter(status=TaxHarvest.Status.EXECUTED).exists()
    assert TaxHarvest.objects.filter(status=TaxHarvest.Status.PENDING).exists()
    then = {a.ticker: c for a, c in _closes(EARLIER).items()}
    now = {a.ticker: c for a, c in _closes(four_months).items()}
    closes = {t: str(then[t] if t in ALTERNATES else now[t]) for t in now}
    market.prices_load(path=write_prices(tmp_path / "july.csv", {date(2023, 7, 3): closes}))
    assert market.market_date_get() == date(2023, 7, 3)
    return book


def _closes(day: date) -> dict[Asset, Decimal]:
    assets = {a.pk: a for a in Asset.objects.filter(ticker__in=BASE_PRICES)}
    return {assets[pk]: c for pk, c in market.closes_on(day=day, assets=assets.values()).items()}


def _written() -> tuple[list[tuple], list[tuple]]:
    """Every harvest and harvest notice, without the ids and times that differ between runs: a
    notice's harvest is named by its account, fund, kind, day and status."""
    harvests = {
        h.pk: h for h in TaxHarvest.objects.select_related("sell_asset", "buy_asset").order_by("pk")
    }
    rows = sorted(
        (
            (
                h.account_id,
                h.kind,
                h.status,
                h.market_date,
                h.sell_asset.ticker,
                h.buy_asset.ticker,
                h.units,
                h.price,
                h.proceeds,
                h.buy_units,
                h.buy_price,
                repr(h.lots),
                h.short_term_gain,
                h.long_term_gain,
                h.tax_rate_short,
                h.tax_rate_long,
                h.tax_saved,
                h.reason,
                repr(sorted(h.state.items())),
                h.fingerprint,
                h.superseded_reason,
            )
            for h in harvests.values()
        ),
        key=repr,
    )
    notices = []
    for n in Notification.objects.filter(kind=Notification.Kind.TAX_HARVEST):
        _, pk, event = n.key.split(":")
        h = harvests[int(pk)]
        named = (h.account_id, h.sell_asset.ticker, h.kind, h.market_date, h.status)
        notices.append((n.user_id, named, event, n.title, n.body, n.link))
    return rows, sorted(notices, key=repr)


def _one_by_one(day: date) -> None:
    """The per-account services over the book, in id order, as the daily job ran them."""
    for account in Account.objects.filter(goal__account_type="taxable").order_by("pk"):
        harvesting.harvest_propose(account=account, day=day)
        harvesting.switch_back_propose(account=account, day=day)


def test_the_chunk_writes_what_the_per_account_services_write(harvested_earlier):
    # given: what the per-account services write at the market date, undone afterwards
    day = market.market_date_get()
    with transaction.atomic():
        _one_by_one(day)
        expected = _written()
        transaction.set_rollback(True)

    # when
    harvesting.tax_harvests_refresh(day=day)

    # then: the same proposals, supersessions (saying why) and notices, field for field
    harvests, notices = _written()
    assert harvests == expected[0]
    assert notices == expected[1]
    # and the day had every kind of work: harvests, switch backs, proposals replaced
    made = TaxHarvest.objects.filter(market_date=day)
    assert made.filter(kind=TaxHarvest.Kind.HARVEST).exists()
    assert made.filter(kind=TaxHarvest.Kind.SWITCH_BACK).exists()
    assert TaxHarvest.objects.filter(status=TaxHarvest.Status.SUPERSEDED).exists()


def test_a_second_run_on_the_same_state_proposes_nothing_new(harvested_earlier):
    day = market.market_date_get()
    harvesting.tax_harvests_refresh(day=day)
    before = _written()

    count = harvesting.tax_harvests_refresh(day=day)

    assert _written() == before
    assert count == TaxHarvest.objects.filter(market_date=day).count()
    assert not Transaction.objects.filter(market_date=day, kind=Transaction.Kind.TRADE).exists()


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def test_proposing_for_a_chunk_takes_queries_that_do_not_grow_with_it(book):
    # given: a chunk of 20 accounts and one of 60, each with harvests to propose
    day = market.market_date_get()
    small, large = (book[0], book[20]), (book[20], book[-1] + 1)

    # when
    twenty = _queries(lambda: harvesting.tax_harvests_refresh(day=day, account_range=small))
    sixty = _queries(lambda: harvesting.tax_harvests_refresh(day=day, account_range=large))

    # then
    proposed = list(TaxHarvest.objects.values_list("account_id", flat=True))
    in_small = sum(pk < book[20] for pk in proposed)
    assert 0 < in_small < len(proposed) - in_small
    assert abs(sixty - twenty) <= 3
    # and notices, one per proposal
    assert Notification.objects.filter(kind=Notification.Kind.TAX_HARVEST).count() == len(proposed)


def test_when_the_chunk_check_fails_each_account_is_checked_alone(book, caplog):
    # given: one account holds VNQ, whose pair is missing from the funds: it cannot be checked
    broken = book[0]
    Position.objects.create(
        account_id=broken, asset=Asset.objects.get(ticker="VNQ"), quantity=Decimal("1")
    )
    Asset.objects.filter(ticker="IYR").update(ticker="IYR-OLD")
    day = market.market_date_get()

    # when
    with caplog.at_level(logging.INFO, logger="portfolios.services.harvesting"):
        harvesting.tax_harvests_refresh(day=day)

    # then: the chunk failed as a whole, then each account alone: that one failed, logged, and
    # the others got their proposals
    messages = [r.getMessage() for r in caplog.records]
    assert "tax harvest check of many accounts failed; one by one instead" in messages
    failed = [r.account_id for r in caplog.records if r.getMessage() == "tax harvest check failed"]
    assert failed == [broken]
    proposed = set(TaxHarvest.objects.values_list("account_id", flat=True))
    assert broken not in proposed
    assert len(proposed) > 10
