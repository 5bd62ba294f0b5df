"""Tax-loss harvesting end to end on the database: proposals with their preview, approval that
executes exactly the preview, staleness, auto-execution, idempotent daily runs, switch backs
and the wash-sale checks; the pure rule on hand-made lots; the API."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from advisor import services as advisor_services
from advisor.models import Goal, Notification
from portfolios import market, services
from portfolios.exceptions import TaxHarvestStale
from portfolios.models import Lot, LotSale, Position, TaxHarvest, Transaction
from portfolios.services import harvesting
from portfolios.services.harvesting import LotView

from ..factories import PASSWORD, AdvisorFactory, ClientFactory, GoalFactory, admin_login
from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db

DROP_DAY = date(2023, 6, 12)  # the first trading day after the fixture's market date, 2023-06-09


def _load(tmp_path, days: dict[date, dict[str, str]]) -> None:
    name = "-".join(d.isoformat() for d in sorted(days))
    market.prices_load(path=write_prices(tmp_path / f"{name}.csv", days))


def _position(account, ticker: str) -> Decimal:
    row = Position.objects.filter(account=account, asset__ticker=ticker).first()
    return row.quantity if row else Decimal(0)


@pytest.fixture
def invested(account, market_data):
    """$10,000 deposited at the 2023-06-09 close. The bold client's 25-year retirement goal is at
    level 10: VTI 60% ($6,000 = 30 units at $200), AGG 35%, BIL 5%. Income $145,000, single."""
    client = account.client
    client.annual_income = Decimal("145000.00")
    client.tax_filing_status = "single"
    client.save()
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    assert _position(account, "VTI") == Decimal("30")
    return account


@pytest.fixture
def dropped(invested, tmp_path):
    """VTI falls 20%, from $200 to $160, on 2023-06-12; everything else is unchanged."""
    _load(tmp_path, {DROP_DAY: {**BASE_PRICES, "VTI": "160"}})
    return invested


# --- Proposals ----------------------------------------------------------------------------------


def test_a_20_percent_drop_proposes_a_harvest_with_a_hand_checked_preview(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)

    # One lot of 30 VTI at $200: basis $6,000.00; sold at $160: proceeds 30 × 160 = $4,800.00, a
    # short-term loss of $1,200.00 (20% of basis: past both the $100 and the 5% thresholds).
    # The proceeds buy SPY at $430: 4800 / 430 = 11.162790697… units, rounded up to 8 decimals.
    # $145,000 single: the 24% bracket (105,700 < income ≤ 201,775), 15% long-term (49,450 <
    # income ≤ 545,500), no 3.8% surtax (≤ $200,000). Tax saved: 1,200 × 24% = $288.00.
    assert harvest.kind == TaxHarvest.Kind.HARVEST
    assert harvest.status == TaxHarvest.Status.PENDING
    assert (harvest.sell_asset.ticker, harvest.buy_asset.ticker) == ("VTI", "SPY")
    assert harvest.market_date == DROP_DAY
    assert harvest.units == Decimal("30")
    assert harvest.price == Decimal("160")
    assert harvest.proceeds == Decimal("4800.00")
    assert harvest.buy_price == Decimal("430")
    assert harvest.buy_units == Decimal("11.16279070")
    lot = Lot.objects.get(account=dropped, asset__ticker="VTI")
    assert harvest.lots == [
        {
            "lot": lot.pk,
            "acquired_on": "2023-06-09",
            "units": "30.00000000",
            "unit_cost": "200.0000",
            "cost_basis": "6000.00",
            "proceeds": "4800.00",
            "gain": "-1200.00",
            "term": "short",
        }
    ]
    assert harvest.short_term_gain == Decimal("-1200.00")
    assert harvest.long_term_gain == Decimal("0.00")
    assert (harvest.tax_rate_short, harvest.tax_rate_long) == (Decimal("0.24"), Decimal("0.15"))
    assert harvest.tax_saved == Decimal("288.00")
    assert "$1,200.00 loss" in harvest.reason
    assert "SPY" in harvest.reason
    assert len(harvest.fingerprint) == 64
    # AGG and BIL did not move: nothing else is proposed. The client is told once.
    assert TaxHarvest.objects.count() == 1
    notice = Notification.objects.get(kind=Notification.Kind.TAX_HARVEST)
    assert notice.key == f"tax_harvest:{harvest.pk}:proposed"


def test_proposing_twice_on_one_state_keeps_one_proposal(dropped):
    [first] = harvesting.harvest_propose(account=dropped)
    [second] = harvesting.harvest_propose(account=dropped)

    assert first.pk == second.pk
    assert TaxHarvest.objects.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.TAX_HARVEST).count() == 1


def test_a_loss_under_the_thresholds_is_not_harvested(invested, tmp_path):
    # 30 units × $3 = $90 of loss: under the $100 minimum (and 1.5%, under 5%).
    _load(tmp_path, {DROP_DAY: {**BASE_PRICES, "VTI": "197"}})

    assert harvesting.harvest_propose(account=invested) == []


def test_accounts_other_than_taxable_are_never_harvested(account, market_data, tmp_path):
    goal = account.goal
    goal.account_type = Goal.AccountType.ROTH_IRA
    goal.save()
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    _load(tmp_path, {DROP_DAY: {**BASE_PRICES, "VTI": "160"}})

    assert harvesting.harvest_candidates(account=account, day=DROP_DAY) == []
    assert harvesting.tax_harvests_refresh() == 0


def test_a_recent_purchase_of_the_fund_in_another_account_blocks_the_harvest(dropped):
    # The same client bought VTI in an IRA on 2023-06-12, within 30 days, and still holds it:
    # selling VTI at a loss now would be washed by that purchase (and lost for good, in an IRA).
    ira = services.account_open(
        goal=GoalFactory(client=dropped.client, account_type=Goal.AccountType.TRADITIONAL_IRA)
    )
    services.deposit_make(account=ira, amount=Decimal("1000.00"))
    assert Lot.objects.filter(account=ira, asset__ticker="VTI").exists()

    assert harvesting.harvest_propose(account=dropped) == []


def test_no_harvest_buys_back_a_fund_sold_at_a_loss_within_30_days(dropped, tmp_path):
    [harvest] = harvesting.harvest_propose(account=dropped)
    harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)
    # The next day SPY falls 20% too ($430 → $344): a loss of ~$960 on the SPY just bought. But
    # harvesting it would buy VTI, sold at a loss yesterday: that would wash yesterday's loss.
    _load(tmp_path, {DROP_DAY + timedelta(days=1): {**BASE_PRICES, "VTI": "160", "SPY": "344"}})

    assert harvesting.harvest_propose(account=dropped) == []
    assert TaxHarvest.objects.count() == 1


def test_a_changed_state_supersedes_the_pending_harvest_saying_why(dropped, tmp_path):
    [first] = harvesting.harvest_propose(account=dropped)
    _load(tmp_path, {DROP_DAY + timedelta(days=1): {**BASE_PRICES, "VTI": "150"}})

    [second] = harvesting.harvest_propose(account=dropped)

    first.refresh_from_db()
    assert first.status == TaxHarvest.Status.SUPERSEDED
    assert "market date moved from 2023-06-12 to 2023-06-13" in first.superseded_reason
    assert second.status == TaxHarvest.Status.PENDING
    assert second.price == Decimal("150")


# --- Decisions ----------------------------------------------------------------------------------


def test_approval_executes_exactly_the_preview_in_one_transaction(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    cash = dropped.cash

    harvest = harvesting.harvest_decide(harvest=harvest, approve=True, actor=dropped.client.user)

    assert harvest.status == TaxHarvest.Status.EXECUTED
    txn = harvest.executed_transaction
    assert txn.kind == Transaction.Kind.TRADE
    assert txn.description == "Tax-loss harvest: sold VTI, bought SPY"
    assert txn.market_date == DROP_DAY
    # The lot shown was sold whole, at the loss shown; the whole proceeds bought SPY.
    [sale] = LotSale.objects.filter(transaction=txn)
    assert sale.lot_id == harvest.lots[0]["lot"]
    assert (sale.quantity, sale.proceeds, sale.gain) == (
        Decimal("30"),
        Decimal("4800.00"),
        Decimal("-1200.00"),
    )
    assert sale.wash_disallowed == 0
    assert _position(dropped, "VTI") == 0
    assert _position(dropped, "SPY") == Decimal("11.16279070")
    dropped.refresh_from_db()
    assert dropped.cash == cash
    assert Notification.objects.filter(key=f"tax_harvest:{harvest.pk}:executed").exists()


def test_a_decided_harvest_cannot_be_decided_again(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    harvesting.harvest_decide(harvest=harvest, approve=False, actor=None)

    assert TaxHarvest.objects.get().status == TaxHarvest.Status.REJECTED
    with pytest.raises(ValidationError):
        harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()


def test_a_stale_approval_is_a_409_and_executes_nothing(dropped, tmp_path):
    [harvest] = harvesting.harvest_propose(account=dropped)
    # A new close arrives before the approval: VTI at $150, so the preview's $160 is gone.
    _load(tmp_path, {DROP_DAY + timedelta(days=1): {**BASE_PRICES, "VTI": "150"}})

    with pytest.raises(TaxHarvestStale) as raised:
        harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)

    assert raised.value.status_code == 409
    assert "market date moved" in raised.value.message
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRADE).exists()
    assert _position(dropped, "VTI") == Decimal("30")
    harvest.refresh_from_db()
    assert harvest.status == TaxHarvest.Status.SUPERSEDED
    fresh = TaxHarvest.objects.get(status=TaxHarvest.Status.PENDING)
    assert raised.value.extra["new_harvest"] == fresh.pk
    assert fresh.price == Decimal("150")
    assert fresh.proceeds == Decimal("4500.00")


def test_an_opted_in_client_has_harvests_executed_at_once(dropped):
    client = dropped.client
    client.harvest_auto = True
    client.save()

    [harvest] = harvesting.harvest_propose(account=dropped)

    assert harvest.status == TaxHarvest.Status.EXECUTED
    assert harvest.decided_by is None
    assert _position(dropped, "SPY") == Decimal("11.16279070")
    keys = set(Notification.objects.values_list("key", flat=True).filter(kind="tax_harvest"))
    assert keys == {f"tax_harvest:{harvest.pk}:executed"}


@pytest.mark.parametrize("auto", [False, True])
def test_the_daily_run_twice_harvests_once(dropped, auto):
    client = dropped.client
    client.harvest_auto = auto
    client.save()

    first = harvesting.tax_harvests_refresh()
    second = harvesting.tax_harvests_refresh()

    assert first == second == 1
    assert TaxHarvest.objects.count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.TRADE).count() == (1 if auto else 0)


# --- Switch back --------------------------------------------------------------------------------


def test_a_harvest_then_a_switch_back_on_day_31(dropped, tmp_path):
    [harvest] = harvesting.harvest_propose(account=dropped)
    harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)
    # Day 30 after the VTI loss sale of 2023-06-12: still inside the wash-sale window.
    day_30 = DROP_DAY + timedelta(days=30)
    _load(tmp_path, {day_30: {**BASE_PRICES, "VTI": "165"}})
    assert harvesting.tax_harvests_refresh() == 0
    assert harvesting.switch_back_candidates(account=dropped, day=day_30) == []

    # Day 31: clear. SPY is still at $430, so selling the 11.16279070 units raises
    # money_down(11.16279070 × 430) = $4,800.00 on a basis of $4,800.00: no gain, no tax.
    day_31 = DROP_DAY + timedelta(days=31)
    _load(tmp_path, {day_31: {**BASE_PRICES, "VTI": "165"}})
    assert harvesting.tax_harvests_refresh() == 1
    back = TaxHarvest.objects.get(kind=TaxHarvest.Kind.SWITCH_BACK)
    assert (back.sell_asset.ticker, back.buy_asset.ticker) == ("SPY", "VTI")
    assert back.proceeds == Decimal("4800.00")
    assert back.short_term_gain == back.tax_saved == Decimal("0.00")
    assert "2023-06-12" in back.reason

    back = harvesting.harvest_decide(harvest=back, approve=True, actor=None)

    assert back.executed_transaction.description == "Switch back: sold SPY, bought VTI"
    assert _position(dropped, "SPY") == 0
    # 4800 / 165 = 29.090909…, rounded up to 8 decimals.
    assert _position(dropped, "VTI") == Decimal("29.09090910")


def test_a_switch_back_waits_while_it_would_realise_a_short_term_gain_above_50(dropped, tmp_path):
    [harvest] = harvesting.harvest_propose(account=dropped)
    harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)
    # SPY up to $440: 11.16279070 × 440 = $4,911.62, a $111.62 short-term gain (> $50).
    day_31 = DROP_DAY + timedelta(days=31)
    _load(tmp_path, {day_31: {**BASE_PRICES, "SPY": "440"}})

    assert harvesting.switch_back_candidates(account=dropped, day=day_31) == []


def test_a_deposit_inside_the_window_buys_the_alternate(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)

    services.deposit_make(account=dropped, amount=Decimal("1000.00"))

    # Buying VTI now would wash the loss just harvested: the VTI slot buys SPY instead.
    assert not Lot.objects.filter(account=dropped, asset__ticker="VTI", remaining__gt=0).exists()
    assert _position(dropped, "SPY") > Decimal("11.16279070")
    assert not LotSale.objects.filter(wash_disallowed__gt=0).exists()


# --- The pure rule ------------------------------------------------------------------------------


def _lot(pk: int, acquired: date, units: str, basis: str) -> LotView:
    return LotView(pk, acquired, acquired, Decimal(units), Decimal(basis))


RULE = {"min_loss": Decimal("100.00"), "min_fraction": Decimal("0.05")}


def test_the_rule_sells_the_losing_lots_and_those_bought_within_30_days():
    day = date(2023, 6, 12)
    lots = [
        _lot(1, date(2021, 1, 4), "10", "800.00"),  # $80 a unit: a gain at $100, kept
        _lot(2, date(2022, 11, 1), "10", "1300.00"),  # $130: a $300 loss, sold
        _lot(3, date(2023, 6, 1), "2", "190.00"),  # $95, 11 days ago: a gain, sold (the window)
    ]

    sale = harvesting.harvest_select(lots=lots, price=Decimal("100"), day=day, **RULE)

    # 12 units × $100 = $1,200.00 on a basis of $1,490.00: a net loss of $290.00 (19.5%).
    assert sale is not None
    assert [s.lot.id for s in sale.lots] == [2, 3]
    assert (sale.units, sale.proceeds, sale.basis) == (
        Decimal("12"),
        Decimal("1200.00"),
        Decimal("1490.00"),
    )
    assert [s.gain for s in sale.lots] == [Decimal("-300.00"), Decimal("10.00")]
    assert (sale.short_gain, sale.long_gain) == (Decimal("-290.00"), Decimal("0.00"))


def test_the_rule_needs_both_thresholds_and_no_wash_sale():
    day = date(2023, 6, 12)
    big = [_lot(1, date(2022, 1, 3), "100", "10500.00")]  # $500 loss at $100, 4.8% of basis
    small = [_lot(1, date(2022, 1, 3), "10", "1099.00")]  # $99 loss at $100, 9%
    ok = [_lot(1, date(2022, 1, 3), "10", "1200.00")]  # $200 loss, 16.7%, long-term

    assert harvesting.harvest_select(lots=big, price=Decimal("100"), day=day, **RULE) is None
    assert harvesting.harvest_select(lots=small, price=Decimal("100"), day=day, **RULE) is None
    sale = harvesting.harvest_select(lots=ok, price=Decimal("100"), day=day, **RULE)
    assert sale is not None
    assert sale.long_gain == Decimal("-200.00")
    for flag in ("washed_elsewhere", "replacement_blocked"):
        assert (
            harvesting.harvest_select(
                lots=ok, price=Decimal("100"), day=day, **RULE, **{flag: True}
            )
            is None
        )


def test_the_switch_back_rule_counts_the_days_and_the_short_term_gain():
    lots = [_lot(1, date(2023, 6, 12), "10", "1000.00")]
    sold = date(2023, 6, 12)
    rule = {"lots": lots, "last_loss_sale": sold, "max_short_gain": Decimal("50.00")}

    assert (
        harvesting.switch_back_select(price=Decimal("100"), day=date(2023, 7, 12), **rule) is None
    )
    assert harvesting.switch_back_select(price=Decimal("100"), day=date(2023, 7, 13), **rule)
    # $105: a $50.00 gain is allowed, $106 ($60.00) waits.
    assert harvesting.switch_back_select(price=Decimal("105"), day=date(2023, 7, 13), **rule)
    assert (
        harvesting.switch_back_select(price=Decimal("106"), day=date(2023, 7, 13), **rule) is None
    )
    # A year and a day later the lot is long-term: the short-term cap no longer holds it back.
    later = harvesting.switch_back_select(price=Decimal("150"), day=date(2024, 6, 13), **rule)
    assert later is not None
    assert later.long_gain == Decimal("500.00")


# --- API ----------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_client_lists_and_approves_their_harvest(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    api = _api(dropped.client.user)

    listed = api.get("/api/v1/tax-harvests/?status=pending")
    by_account = api.get(f"/api/v1/accounts/{dropped.pk}/tax-harvests/")
    approved = api.post(f"/api/v1/tax-harvests/{harvest.pk}/approve/")
    again = api.post(f"/api/v1/tax-harvests/{harvest.pk}/approve/")

    assert listed.status_code == by_account.status_code == 200
    [row] = listed.json()
    assert row["id"] == by_account.json()[0]["id"] == harvest.pk
    assert (row["sell"], row["buy"], row["kind"]) == ("VTI", "SPY", "harvest")
    assert row["proceeds"] == "4800.00"
    assert row["tax_saved"] == "288.00"
    assert row["buy_units"] == "11.16279070"
    assert row["lots"][0]["gain"] == "-1200.00"
    assert approved.status_code == 200
    assert approved.json()["status"] == "executed"
    assert again.status_code == 400
    assert api.get("/api/v1/tax-harvests/?status=bogus").status_code == 400


def test_another_client_cannot_see_or_decide_a_harvest(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    stranger = _api(ClientFactory().user)

    assert stranger.get("/api/v1/tax-harvests/").json() == []
    assert stranger.post(f"/api/v1/tax-harvests/{harvest.pk}/approve/").status_code == 404
    assert stranger.get(f"/api/v1/accounts/{dropped.pk}/tax-harvests/").status_code == 404
    assert TaxHarvest.objects.get().status == TaxHarvest.Status.PENDING


def test_a_stale_approval_through_the_api_is_a_409_with_the_message(dropped, tmp_path):
    [harvest] = harvesting.harvest_propose(account=dropped)
    _load(tmp_path, {DROP_DAY + timedelta(days=1): {**BASE_PRICES, "VTI": "150"}})

    response = _api(dropped.client.user).post(f"/api/v1/tax-harvests/{harvest.pk}/approve/")

    assert response.status_code == 409
    assert response.json()["code"] == "tax_harvest_stale"
    assert "out of date" in response.json()["message"]


def test_the_advisor_sees_and_rejects_harvests_of_clients_in_reach(dropped):
    [harvest] = harvesting.harvest_propose(account=dropped)
    advisor = AdvisorFactory()
    client = dropped.client
    client.advisor = advisor
    client.save()
    outsider = AdvisorFactory()
    other = ClientFactory(advisor=outsider)
    assert other.pk != client.pk

    listed = _api(advisor).get("/api/v1/advisor/tax-harvests/?status=pending")
    rejected = _api(advisor).post(f"/api/v1/advisor/tax-harvests/{harvest.pk}/reject/")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [harvest.pk]
    assert _api(outsider).get("/api/v1/advisor/tax-harvests/").json()["results"] == []
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert _api(client.user).get("/api/v1/advisor/tax-harvests/").status_code == 403
    harvest.refresh_from_db()
    assert harvest.decided_by == advisor
    assert harvest.decided_at <= timezone.now()


def test_the_client_runs_the_check_on_demand_and_an_ira_is_refused(dropped):
    # given: the 20% drop of VTI (the `dropped` fixture) in a taxable account, and an IRA goal
    api = _api(dropped.client.user)
    ira = services.account_open(
        goal=GoalFactory(client=dropped.client, account_type=Goal.AccountType.ROTH_IRA)
    )

    # when: the client asks for the check now, twice, and on the IRA
    first = api.post(f"/api/v1/accounts/{dropped.pk}/tax-harvests/")
    second = api.post(f"/api/v1/accounts/{dropped.pk}/tax-harvests/")
    refused = api.post(f"/api/v1/accounts/{ira.pk}/tax-harvests/")

    # then: one proposal (the same state proposes once), the IRA a 400 naming why
    assert first.status_code == second.status_code == 200
    assert [h["sell"] for h in first.json()] == ["VTI"]
    assert second.json()[0]["id"] == first.json()[0]["id"]
    assert TaxHarvest.objects.filter(account=dropped).count() == 1
    assert refused.status_code == 400
    assert "taxable accounts only" in refused.json()["extra"]["fields"]["account"][0]


def test_the_advisor_approves_a_harvest_on_its_workspace_page_and_another_book_gets_a_404(dropped):
    # Advisors of the Advisors group (its permissions: advisor.services.ADVISOR_PERMISSIONS).
    [harvest] = harvesting.harvest_propose(account=dropped)
    advisor = advisor_services.advisor_create(email="alex@example.test", password=PASSWORD)
    outsider = advisor_services.advisor_create(email="sam@example.test", password=PASSWORD)
    dropped.client.advisor = advisor
    dropped.client.save()
    browser = admin_login(advisor)
    url = f"/admin/portfolios/taxharvest/{harvest.pk}/"

    page = browser.get(f"{url}change/").content.decode()
    refused = admin_login(outsider).post(f"{url}decide/", {"decision": "approve"})
    approved = browser.post(f"{url}decide/", {"decision": "approve"}, follow=True)

    assert 'id="harvest-decide"' in page
    assert "Lots sold" in page
    assert refused.status_code == 404
    assert f"Harvest {harvest.pk} executed: sold VTI, bought SPY" in approved.content.decode()
    harvest.refresh_from_db()
    assert (harvest.status, harvest.decided_by) == ("executed", advisor)
    assert 'id="harvest-decide"' not in browser.get(f"{url}change/").content.decode()


# --- Locks ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_executing_a_harvest_leaves_the_funds_rows_free_for_other_accounts_ledgers(dropped):
    # Two batch workers deadlocked on a book of 100,000 accounts: executing a harvest locked the
    # funds' rows (the harvest's SELECT … FOR UPDATE joined them), and every other account's
    # new entry, lot or position naming those funds needs a key-share lock on them (the foreign
    # key's check). Another transaction must get that lock while a harvest is executing.
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL=postgres://…)")
    [harvest] = harvesting.harvest_propose(account=dropped)
    sell, buy = harvest.sell_asset_id, harvest.buy_asset_id
    executed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def execute() -> None:
        try:
            with transaction.atomic():
                harvesting.harvest_decide(harvest=harvest, approve=True, actor=None)
                executed.set()
                release.wait(timeout=60)  # its locks held until the other transaction tried
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            executed.set()
        finally:
            connection.close()

    worker = threading.Thread(target=execute)
    worker.start()
    try:
        assert executed.wait(timeout=60)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            # What the foreign-key check of another account's entry in either fund runs.
            cursor.execute(
                "SELECT id FROM portfolios_asset WHERE id IN (%s, %s) FOR KEY SHARE", [sell, buy]
            )
            assert len(cursor.fetchall()) == 2
    finally:
        release.set()
        worker.join(timeout=60)
    assert errors == []
    harvest.refresh_from_db()
    assert harvest.status == TaxHarvest.Status.EXECUTED
