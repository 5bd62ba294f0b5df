"""The tax endpoints: an account's lots, realised gains (per account and for the client), the
tax-year summary, and the account's lot method. Market date 2023-06-09 (tests' conftest), when
VTI closes at 200 and AGG at 100."""

import importlib.util
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from advisor.models import Goal
from portfolios.models import Asset, Distribution, LotMethod, TaxHarvest, Transaction
from portfolios.services.ledger import ledger_cash

from .test_tax_lots import buy, open_account, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(account) -> APIClient:
    api = APIClient()
    api.force_authenticate(account.client.user)
    return api


@pytest.fixture
def history(account):
    """Two VTI lots and a sale, in the client's taxable account:
    A 10 @ 180 on 2022-06-08 and B 10 @ 210 on 2023-01-03; tax_min sells 5 of B at 190 on
    2023-02-01 (the loss first): proceeds 950.00, basis 1,050.00, a short-term loss of 100.00."""
    a = buy(account, "VTI", "10", "180", date(2022, 6, 8))
    b = buy(account, "VTI", "10", "210", date(2023, 1, 3))
    (sale,) = sell(account, "VTI", "5", "190", date(2023, 2, 1))
    assert (sale.lot_id, sale.gain) == (b.pk, Decimal("-100.00"))
    return a, b, sale


# --- Lots --------------------------------------------------------------------------------------


def test_lots_lists_open_lots_valued_at_the_market_date(api, account, history):
    a, b, _ = history

    response = api.get(f"/api/v1/accounts/{account.pk}/lots/")

    assert response.status_code == 200
    # A: 10 × 200 = 2,000.00 against 1,800.00: +200.00, long (a year and a day on 2023-06-09).
    # B: 5 left, 5 × 200 = 1,000.00 against 5 × 210 = 1,050.00: −50.00, short.
    assert response.json() == [
        {
            "id": a.pk,
            "ticker": "VTI",
            "acquired_on": "2022-06-08",
            "holding_from": "2022-06-08",
            "term": "long",
            "quantity": "10.00000000",
            "remaining": "10.00000000",
            "unit_cost": "180.0000",
            "cost_basis": "1800.00",
            "price": "200.0000",
            "value": "2000.00",
            "unrealised_gain": "200.00",
            "basis_adjustment": "0.00",
        },
        {
            "id": b.pk,
            "ticker": "VTI",
            "acquired_on": "2023-01-03",
            "holding_from": "2023-01-03",
            "term": "short",
            "quantity": "10.00000000",
            "remaining": "5.00000000",
            "unit_cost": "210.0000",
            "cost_basis": "1050.00",
            "price": "200.0000",
            "value": "1000.00",
            "unrealised_gain": "-50.00",
            "basis_adjustment": "0.00",
        },
    ]


def test_lots_all_includes_closed_lots(api, account, history):
    closed = buy(account, "AGG", "1", "100", date(2023, 3, 1))
    sell(account, "AGG", "1", "101", date(2023, 3, 2))

    ids = [row["id"] for row in api.get(f"/api/v1/accounts/{account.pk}/lots/").json()]
    every = api.get(f"/api/v1/accounts/{account.pk}/lots/?all=1").json()

    assert closed.pk not in ids
    row = next(r for r in every if r["id"] == closed.pk)
    assert (row["remaining"], row["value"], row["cost_basis"]) == ("0.00000000", "0.00", "0.00")


def test_another_clients_account_is_not_found(api, history):
    stranger = open_account()

    for path in ("lots/", "realized-gains/"):
        response = api.get(f"/api/v1/accounts/{stranger.pk}/{path}")
        assert response.status_code == 404, path
    assert api.patch(f"/api/v1/accounts/{stranger.pk}/", {"lot_method": "hifo"}).status_code == 404


def test_the_tax_endpoints_need_a_login(account):
    anonymous = APIClient()

    assert anonymous.get(f"/api/v1/accounts/{account.pk}/lots/").status_code in (401, 403)
    assert anonymous.get("/api/v1/realized-gains/").status_code in (401, 403)
    assert anonymous.get("/api/v1/tax/summary/").status_code in (401, 403)


# --- Realised gains ----------------------------------------------------------------------------


def test_realized_gains_default_to_the_market_dates_year(api, account, history):
    _, b, sale = history

    response = api.get("/api/v1/realized-gains/")

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2023
    assert body["short_term"] == {
        "proceeds": "950.00",
        "cost_basis": "1050.00",
        "gain": "-100.00",
        "wash_disallowed": "0.00",
        "reportable": "-100.00",
    }
    assert body["long_term"]["gain"] == "0.00"
    assert body["total"]["reportable"] == "-100.00"
    assert body["sales"] == [
        {
            "id": sale.pk,
            "account": account.pk,
            "ticker": "VTI",
            "acquired_on": "2023-01-03",
            "sold_on": "2023-02-01",
            "quantity": "5.00000000",
            "proceeds": "950.00",
            "cost_basis": "1050.00",
            "gain": "-100.00",
            "wash_disallowed": "0.00",
            "term": "short",
        }
    ]


def test_realized_gains_show_wash_sales_and_only_taxable_accounts(api, account, history):
    # 2 VTI bought in an IRA on 2023-02-10, 9 days after the loss: 2 of the 5 units sold are
    # replaced, 2/5 of 100.00 = 40.00 is disallowed: reportable −60.00. The IRA's own sale (a
    # gain) is not reported.
    ira = open_account(client=account.client, account_type=Goal.AccountType.ROTH_IRA)
    buy(ira, "VTI", "2", "195", date(2023, 2, 10))
    sell(ira, "VTI", "1", "220", date(2023, 4, 3))

    body = api.get("/api/v1/realized-gains/?year=2023").json()
    per_ira = api.get(f"/api/v1/accounts/{ira.pk}/realized-gains/?year=2023").json()
    per_account = api.get(f"/api/v1/accounts/{account.pk}/realized-gains/?year=2023").json()

    assert body["short_term"]["wash_disallowed"] == "40.00"
    assert body["short_term"]["reportable"] == "-60.00"
    assert [s["account"] for s in body["sales"]] == [account.pk]
    assert per_account["total"] == body["total"]
    assert per_ira["sales"] == []
    assert per_ira["total"]["gain"] == "0.00"


def test_another_year_has_no_sales(api, history):
    body = api.get("/api/v1/realized-gains/?year=2022").json()

    assert (body["year"], body["sales"], body["total"]["gain"]) == (2022, [], "0.00")


@pytest.mark.parametrize("year", ["abc", "10", "20230", "2023.5", ""])
def test_a_bad_year_is_a_400_with_a_field_error(api, account, year):
    for path in ("/api/v1/realized-gains/", f"/api/v1/accounts/{account.pk}/realized-gains/"):
        response = api.get(path, {"year": year})
        assert response.status_code == 400, (path, year)
        assert "year" in response.json()["extra"]["fields"]
    assert api.get("/api/v1/tax/summary/", {"year": "abc"}).status_code == 400


# --- The tax-year summary ------------------------------------------------------------------------


def test_tax_summary_adds_up_the_year(api, account, history):
    _, _, sale = history
    agg = Asset.objects.get(ticker="AGG")
    # A 25.00 dividend into the taxable account and 12.00 into an IRA (not counted), and a
    # 7.50 advisory fee, in 2023; a harvest executed on the loss sale's transaction.
    ira = open_account(client=account.client, account_type=Goal.AccountType.TRADITIONAL_IRA)
    for target, amount, ex in (
        (account, "25.00", date(2023, 3, 1)),
        (ira, "12.00", date(2023, 3, 2)),
    ):
        distribution = Distribution.objects.create(
            asset=agg, ex_date=ex, pay_date=ex, amount=Decimal("0.1")
        )
        txn = Transaction.objects.create(
            account=target,
            kind=Transaction.Kind.DIVIDEND,
            amount=Decimal(amount),
            market_date=ex,
            distribution=distribution,
        )
        ledger_cash(txn=txn, account=target, amount=Decimal(amount))
    fee = Transaction.objects.create(
        account=account,
        kind=Transaction.Kind.FEE,
        amount=Decimal("-7.50"),
        market_date=date(2023, 4, 3),
        fee_period=date(2023, 3, 1),
    )
    ledger_cash(txn=fee, account=account, amount=Decimal("-7.50"))
    vti, spy = Asset.objects.get(ticker="VTI"), Asset.objects.get(ticker="SPY")
    TaxHarvest.objects.create(
        account=account,
        status=TaxHarvest.Status.EXECUTED,
        market_date=sale.sold_on,
        sell_asset=vti,
        buy_asset=spy,
        units=Decimal(5),
        price=Decimal(190),
        proceeds=Decimal("950.00"),
        buy_units=Decimal("2.2"),
        buy_price=Decimal(430),
        lots=[],
        short_term_gain=Decimal("-100.00"),
        tax_rate_short=Decimal("0.24"),
        tax_rate_long=Decimal("0.15"),
        tax_saved=Decimal("24.00"),
        reason="test",
        state={},
        fingerprint="0" * 64,
        executed_transaction=sale.transaction,
    )

    body = api.get("/api/v1/tax/summary/?year=2023").json()

    assert body["year"] == 2023
    assert body["realized"]["short_term"]["gain"] == "-100.00"
    assert body["realized"]["total"]["reportable"] == "-100.00"
    assert body["wash_sales"] == {"count": 0, "disallowed": "0.00"}
    assert body["dividends"] == "25.00"
    assert body["fees"] == "7.50"
    assert body["harvested_losses"] == "100.00"
    assert body["estimated_tax_saved"] == "24.00"
    # The summary's figures are the realised-gains endpoint's: one computation.
    gains = api.get("/api/v1/realized-gains/?year=2023").json()
    assert body["realized"]["total"] == gains["total"]


def test_tax_summary_has_no_ira_part_without_an_ira(api, history):
    assert api.get("/api/v1/tax/summary/").json()["ira"] is None


@pytest.mark.skipif(
    importlib.util.find_spec("portfolios.services.ira") is None, reason="no IRA module yet"
)
def test_tax_summary_shows_the_ira_room(api, account):
    from portfolios.services.ira import ira_limit

    ira = open_account(client=account.client, account_type=Goal.AccountType.ROTH_IRA)
    txn = Transaction.objects.create(
        account=ira,
        kind=Transaction.Kind.DEPOSIT,
        amount=Decimal("1000.00"),
        market_date=date(2023, 2, 1),
    )
    ledger_cash(txn=txn, account=ira, amount=Decimal("1000.00"))

    body = api.get("/api/v1/tax/summary/?year=2023").json()

    limit = ira_limit(year=2023, age=None)  # no date of birth: no catch-up
    assert body["ira"] == {
        "year": 2023,
        "limit": f"{limit:.2f}",
        "contributed": "1000.00",
        "room": f"{limit - 1000:.2f}",
    }


# --- The lot method ------------------------------------------------------------------------------


def test_the_lot_method_is_shown_and_can_be_changed(api, account):
    detail = api.get(f"/api/v1/accounts/{account.pk}/").json()
    assert (detail["lot_method"], detail["account_type"]) == ("tax_min", "taxable")

    response = api.patch(f"/api/v1/accounts/{account.pk}/", {"lot_method": "hifo"}, format="json")

    assert response.status_code == 200
    assert response.json()["lot_method"] == "hifo"
    account.refresh_from_db()
    assert account.lot_method == LotMethod.HIFO


def test_an_unknown_lot_method_is_a_400_listing_the_choices(api, account):
    response = api.patch(f"/api/v1/accounts/{account.pk}/", {"lot_method": "lifo"}, format="json")

    assert response.status_code == 400
    (message,) = response.json()["extra"]["fields"]["lot_method"]
    assert all(choice in message for choice in ("fifo", "hifo", "tax_min"))
    account.refresh_from_db()
    assert account.lot_method == LotMethod.TAX_MIN
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {}, format="json").status_code == 400
