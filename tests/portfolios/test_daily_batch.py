"""The daily batch fanned out over account ranges (`portfolios.batch`): every account in one
chunk, the same ledger as beat's serial jobs, idempotent chunks, a failing chunk recorded without
stopping the others, and chunk reads that do not grow with the chunk's size."""

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portfolios import batch, market, projections, services, tasks
from portfolios.models import (
    Account,
    Asset,
    Entry,
    GoalProjection,
    Lot,
    Position,
    RebalanceProposal,
    RiskFigures,
    TaxHarvest,
    Transaction,
)
from portfolios.services import harvesting, rebalancing

from ..factories import ClientFactory, GoalFactory
from .conftest import drifting_prices_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_months(tmp_path, approved_set, market_day):
    """Weekday closes from 1 March to 30 June 2023, each fund drifting by its own daily step
    (VTI up, AGG down, …) so that the book drifts from its targets and some lots lose."""
    return drifting_prices_load(tmp_path / "months.csv", market_day, step=Decimal("0.0008"))


@pytest.fixture
def book(four_months):
    call_command("synth_book", accounts=20, seed=7, history_months=3)
    return list(Account.objects.order_by("pk").values_list("pk", flat=True))


def _today() -> date:
    return market.market_date_get() + timedelta(days=31)


def _ledger() -> dict[str, list[tuple]]:
    """Everything the daily jobs write, keyed so that two runs compare whatever ids new rows
    got (a proposal's id is in its trade's description, so descriptions are left out)."""

    def rows(query) -> list[tuple]:
        return sorted(query, key=repr)  # None (cash entries' asset) sorts with the rest

    return {
        "cash": rows(Account.objects.values_list("pk", "cash")),
        "positions": rows(Position.objects.values_list("account_id", "asset_id", "quantity")),
        "transactions": rows(
            Transaction.objects.values_list("account_id", "kind", "amount", "market_date")
        ),
        "entries": rows(
            Entry.objects.values_list("account_id", "asset_id", "quantity", "transaction__kind")
        ),
        "lots": rows(
            Lot.objects.values_list(
                "account_id", "asset_id", "acquired_on", "quantity", "remaining", "unit_cost"
            )
        ),
        "rebalances": rows(
            RebalanceProposal.objects.values_list("account_id", "status", "fingerprint")
        ),
        # Not the fingerprint: a harvest's state names its lots by id, and on PostgreSQL ids
        # rolled back are not given again.
        "harvests": rows(
            TaxHarvest.objects.values_list(
                "account_id", "kind", "status", "sell_asset_id", "buy_asset_id", "units", "proceeds"
            )
        ),
        "risk": rows(
            RiskFigures.objects.values_list("account_id", "model_portfolio_id", "market_date")
        ),
        "projections": rows(GoalProjection.objects.values_list("goal_id", "status")),
    }


def _serial(today: date) -> None:
    """Beat's jobs as they ran before the batch: each over the whole book, in order; the
    rebalancing and the harvests account by account through their per-account services, as
    before they read chunks at once (the reference the set-based reads are checked against)."""
    services.recurring_deposits_run(today=today)
    services.dividends_pay()
    day = market.market_date_get()
    for account in Account.objects.filter(goal__account_type="taxable").order_by("pk"):
        harvesting.harvest_propose(account=account, day=day)
        harvesting.switch_back_propose(account=account, day=day)
    for account in Account.objects.order_by("pk"):
        rebalancing.rebalance_propose(account=account)
    services.fees_bill()
    services.risk_figures_compute()
    projections.plans_project()


@pytest.mark.parametrize("size", [1, 3, 7, 20, 500])
def test_the_chunks_cover_the_book_exactly_once(book, size):
    # given: a gap in the ids (an account closed and removed is not needed: skip one)
    ranges = batch.account_ranges(size=size)

    # then: ordered, disjoint, every account in one, each with at most `size` accounts and
    # all but the last with at least three quarters of them
    assert ranges == sorted(ranges)
    assert all(lo < hi for lo, hi in ranges)
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    seen = [pk for pk in book for lo, hi in ranges if lo <= pk < hi]
    assert seen == book
    counts = [sum(lo <= pk < hi for pk in book) for lo, hi in ranges]
    assert max(counts) <= size
    assert min(counts[:-1], default=size) >= size - size // 4


def test_a_clients_accounts_fall_in_one_chunk_where_a_cut_can_keep_them(db):
    # given: five clients with three accounts and one with two, opened client after client
    # (ids in order), and a later goal of the second client, opened after them all
    clients = [ClientFactory() for _ in range(6)]
    for client, goals in zip(clients, [3, 3, 3, 3, 3, 2], strict=True):
        for _ in range(goals):
            services.account_open(goal=GoalFactory(client=client))
    services.account_open(goal=GoalFactory(client=clients[1]))
    owner = dict(Account.objects.values_list("pk", "client_id"))
    ids = sorted(owner)

    # when: chunks of 8 accounts (a cut after every 8th would split the third and fifth clients)
    ranges = batch.account_ranges(size=8)

    # then: three chunks of 6, none splitting a client whose accounts were opened together;
    # the second client's late account cannot be kept with its others
    chunks = [{owner[pk] for pk in ids if lo <= pk < hi} for lo, hi in ranges]
    assert [sum(lo <= pk < hi for pk in ids) for lo, hi in ranges] == [6, 6, 6]
    split = {c for c in owner.values() if sum(c in chunk for chunk in chunks) > 1}
    assert split == {clients[1].pk}


def test_an_empty_book_has_no_chunks(db):
    assert batch.account_ranges(size=10) == []


def test_the_fanned_out_batch_writes_the_ledger_the_serial_jobs_write(book):
    # given: what beat's serial jobs write, undone afterwards
    today = _today()
    before = Transaction.objects.count()
    with transaction.atomic():
        _serial(today)
        serial = _ledger()
        transaction.set_rollback(True)
    assert Transaction.objects.count() == before

    # when: the batch in chunks of 6 accounts (eager: no broker in the tests)
    chunks = tasks.daily_batch_run_task.delay(size=6, today=today.isoformat()).get()

    # then: the ranges of each job, and the models' risk figures
    assert chunks == len(batch.account_ranges(size=6)) * len(batch.JOBS) + 1
    fanned = _ledger()
    assert fanned == serial
    assert len(serial["transactions"]) > before  # the jobs had work to do
    assert serial["rebalances"]  # and drift to propose against


def test_rerunning_a_chunk_changes_nothing(book):
    today = _today().isoformat()
    lo, hi = batch.account_ranges(size=5)[1]
    for job in batch.JOBS:
        # given: the job run over the book, in chunks
        batch.daily_batch_run(jobs=[job], size=5, today=today)
        after_job = _ledger()

        # when: its chunk over the second range runs again (a redelivered message)
        outcome = batch.chunk_run(job=job, lo=lo, hi=hi, today=today)

        # then
        assert outcome["ok"], job
        assert _ledger() == after_job, job


def test_a_failing_chunk_is_recorded_and_the_others_run(book, caplog):
    # given: an account of the second range holds a fund with no close at all
    lo, hi = batch.account_ranges(size=5)[1]
    orphan = Asset.objects.create(
        ticker="ZZZ", name="Unpriced", asset_class=Asset.AssetClass.GOLD, expense_ratio="0.001"
    )
    Position.objects.create(account_id=lo, asset=orphan, quantity=Decimal("1"))
    expected = {}
    for other in batch.account_ranges(size=5):
        if other != (lo, hi):
            with transaction.atomic():
                rebalancing.rebalance_proposals_refresh(account_range=other)
                expected[other] = sorted(
                    RebalanceProposal.objects.filter(
                        account_id__gte=other[0], account_id__lt=other[1]
                    ).values_list("account_id", "fingerprint")
                )
                transaction.set_rollback(True)

    # when
    canvas, _ = batch.batch_canvas(jobs=["rebalance_proposals_refresh"], size=5)
    with caplog.at_level(logging.ERROR, logger="portfolios.batch"):
        summary = canvas.apply().get()

    # then: the failure is in the job's summary and the log, with its range
    assert summary["failed"] == [[lo, hi]]
    assert summary["chunks"] == len(batch.account_ranges(size=5))
    failures = [r for r in caplog.records if r.getMessage() == "daily batch chunk failed"]
    assert [(r.job, r.lo, r.hi) for r in failures] == [("rebalance_proposals_refresh", lo, hi)]
    # and every other range got its proposals
    for (a, b), proposals in expected.items():
        made = RebalanceProposal.objects.filter(account_id__gte=a, account_id__lt=b)
        assert sorted(made.values_list("account_id", "fingerprint")) == proposals
    assert any(expected.values())
    assert not RebalanceProposal.objects.filter(account_id__gte=lo, account_id__lt=hi).exists()


def test_the_chunk_snapshots_are_the_accounts_own(book):
    # the set-based read gives each account the state (and fingerprint) `_snapshot` gives it
    accounts = list(Account.objects.select_related("goal").order_by("pk"))
    many = rebalancing._snapshots(accounts=accounts)
    compared = 0
    for account in accounts:
        one = rebalancing._snapshot(account=account)
        if one is None:
            assert many[account.pk] is None
            continue
        assert many[account.pk] == one
        compared += 1
    assert compared > 10


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def test_rebalancing_proposes_for_a_chunk_in_queries_that_do_not_grow_with_it(book):
    # given: two chunks, of 5 and of 15 accounts, each with drifted accounts to propose for
    first, rest = (book[0], book[5]), (book[5], book[-1] + 1)

    # when
    five = _queries(lambda: rebalancing.rebalance_proposals_refresh(account_range=first))
    fifteen = _queries(lambda: rebalancing.rebalance_proposals_refresh(account_range=rest))

    # then
    proposed = RebalanceProposal.objects.values_list("account_id", flat=True)
    assert sum(pk < book[5] for pk in proposed) < sum(pk >= book[5] for pk in proposed)
    assert any(pk < book[5] for pk in proposed)
    assert fifteen == five


def test_rebalancing_reads_a_chunk_in_queries_that_do_not_grow_with_it(book):
    # given: today's proposals made (the per-account path writes them)
    services.rebalance_proposals_refresh()
    assert RebalanceProposal.objects.exists()

    # when: the check runs again over 5 accounts, then over 20
    five = _queries(
        lambda: rebalancing.rebalance_proposals_refresh(account_range=(book[0], book[5]))
    )
    twenty = _queries(
        lambda: rebalancing.rebalance_proposals_refresh(account_range=(book[0], book[-1] + 1))
    )

    # then
    assert twenty == five


def test_harvesting_reads_a_chunk_in_queries_that_do_not_grow_with_it(book, settings):
    # given: lots at a loss that stay below the thresholds (nothing to propose)
    settings.TLH_MIN_LOSS = 10**9
    day = market.market_date_get()

    # when
    five = _queries(
        lambda: harvesting.tax_harvests_refresh(day=day, account_range=(book[0], book[5]))
    )
    twenty = _queries(
        lambda: harvesting.tax_harvests_refresh(day=day, account_range=(book[0], book[-1] + 1))
    )

    # then
    assert twenty == five
    assert not TaxHarvest.objects.exists()


def test_the_jobs_run_in_the_order_beat_ran_them():
    # deposits and dividends before the harvests, harvests before drift is measured, fees on
    # the day's holdings, then the risk figures and the projections of the new plans
    assert list(batch.JOBS) == [
        "recurring_deposits_run",
        "dividends_pay",
        "tax_harvests_refresh",
        "rebalance_proposals_refresh",
        "fees_bill",
        "risk_figures_compute",
        "plans_project",
    ]
    assert tasks.daily_batch_run_task.name == "portfolios.daily_batch_run"
    assert tasks.daily_batch_chunk_task.name == "portfolios.daily_batch_chunk"


def test_a_broker_reset_while_sending_the_batch_retries_the_launch(db, monkeypatch):
    # the canvas is sent from a worker's pooled connection, which Redis may have reset: the
    # launch is retried (its chunks are idempotent) instead of the night's batch being lost
    from celery.exceptions import Retry
    from kombu.exceptions import OperationalError as BrokerDown

    calls: list[int] = []

    def launch(**kwargs) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise BrokerDown("Error 104 while writing to socket. Connection reset by peer.")
        return 7

    monkeypatch.setattr(batch, "daily_batch_run", launch)

    # a Retry (sent again with backoff by a worker), not the broker's error: not a failure
    with pytest.raises(Retry):
        tasks.daily_batch_run_task.apply()
    assert tasks.daily_batch_run_task.apply().get() == 7
    assert len(calls) == 2


@pytest.mark.services
def test_each_message_the_batch_sends_holds_one_chunk_whatever_the_jobs(book, through_broker):
    # A chain of the jobs' chords put the rest of the chain into every chunk's message, once per
    # job: 48 MB a message for these 4 ranges, 4.2 GB for 11 (Redis reset the connection).
    import redis
    from django.conf import settings

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("batch")
    try:
        # given: the whole batch over 4 or 5 ranges; when: its first job is sent (no worker
        # runs it)
        ranges = len(batch.account_ranges(size=5))
        canvas, chunks = batch.batch_canvas(size=5, today=_today().isoformat())
        canvas.apply_async()

        # then: the first job's chunks are queued, each a message of a few kB
        messages = broker.lrange("batch", 0, -1)
        assert ranges >= 4
        assert chunks == ranges * len(batch.JOBS) + 1
        assert len(messages) == ranges
        assert max(len(m) for m in messages) < 8_000
    finally:
        broker.delete("batch")


def test_each_job_done_sends_the_next_job_and_names_its_result(book, monkeypatch):
    # given: the chords sent, recorded instead of run
    sent: list[str] = []
    monkeypatch.setattr(
        batch.chord, "apply_async", lambda self, *a, **k: sent.append(self.body) or _Sent("b")
    )
    outcome = batch.ChunkOutcome(job="fees_bill", lo=1, hi=6, ok=True, result=3, error="")

    # when: the fees job is done, with the risk figures and the projections after it
    summary = batch.job_done(
        job="fees_bill", outcomes=[outcome], then=["risk_figures_compute", "plans_project"]
    )
    last = batch.job_done(job="plans_project", outcomes=[outcome], then=[])

    # then: the risk job's chord is sent, its body to send the projections; the last sends none
    assert summary == {"job": "fees_bill", "chunks": 1, "failed": [], "total": 3, "next": "b"}
    assert [(b["kwargs"]["job"], b["kwargs"]["then"]) for b in sent] == [
        ("risk_figures_compute", ["plans_project"])
    ]
    assert last["next"] is None


class _Sent:
    def __init__(self, id_: str) -> None:
        self.id = id_
