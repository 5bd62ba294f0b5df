"""Monthly statements and annual tax reports: figures that reconcile, CSV and PDF files that show
them, stored documents, the client's notice, and the API (the client's own, advisors' reach)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from advisor.models import Notification
from portfolios import documents, market, services, valuation
from portfolios.models import (
    Asset,
    Distribution,
    Document,
    Entry,
    Lot,
    LotSale,
    Transaction,
    WashSale,
)
from portfolios.money import money_down
from portfolios.services.documents import (
    statement_generate,
    statements_generate_month,
    tax_report_generate,
    tax_reports_generate_year,
)

from ..factories import AdvisorFactory, ClientFactory, GoalFactory
from .conftest import BASE_PRICES, write_prices

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
APRIL_END = date(2023, 4, 28)  # a Friday: April's last close
MAY_DAYS = (date(2023, 5, 1), date(2023, 5, 15), date(2023, 5, 22), date(2023, 5, 24))
MAY_END = date(2023, 5, 31)
JUNE_FIRST = date(2023, 6, 1)
VTI_MAY_END = "220"  # VTI +10% (from 200) at May's last close; nothing else moves in May


def load_history(tmp_path) -> None:
    """Closes for 28 April and May 2023, all at the base prices but VTI at 220 on 31 May, and
    1 June (so May is complete); the fixture's 9 June close is the market date."""
    days = {day: BASE_PRICES for day in (APRIL_END, *MAY_DAYS, JUNE_FIRST)}
    days[MAY_END] = {**BASE_PRICES, "VTI": VTI_MAY_END}
    market.prices_load(path=write_prices(tmp_path / "history.csv", days))


def units_on(account, ticker: str, day: date) -> Decimal:
    quantities = Entry.objects.filter(
        account=account, asset__ticker=ticker, transaction__market_date__lte=day
    ).values_list("quantity", flat=True)
    return sum(quantities, Decimal(0))


@pytest.fixture
def may_history(account, tmp_path, market_data):
    """A month of a real account, booked by the services at past closes:
    28 Apr deposit 10,000 and April's fee; 15 May deposit 2,000; 22 May a VTI dividend of $0.50
    a unit (ex 15 May: the April units); 24 May withdrawal 1,000; May's fee, dated 31 May."""
    load_history(tmp_path)
    services.deposit_make(account=account, amount=Decimal("10000.00"), day=APRIL_END)
    services.fees_bill(month_end=date(2023, 4, 30))
    services.deposit_make(account=account, amount=Decimal("2000.00"), day=date(2023, 5, 15))
    Distribution.objects.create(
        asset=Asset.objects.get(ticker="VTI"),
        ex_date=date(2023, 5, 15),
        pay_date=date(2023, 5, 22),
        amount=Decimal("0.50"),
    )
    services.dividends_pay(through=date(2023, 5, 22), since=date(2023, 5, 21))
    services.withdrawal_make(account=account, amount=Decimal("1000.00"), day=date(2023, 5, 24))
    services.fees_bill(month_end=MAY_END)
    account.refresh_from_db()
    return account


# --- The statement's figures ----------------------------------------------------------------


def test_a_months_statement_reconciles_to_the_cent_and_the_change_is_the_markets_move(
    may_history,
):
    account = may_history

    statement = documents.statement_data(account=account, year=2023, month=5)

    s = statement.summary
    # then: the flows are the month's transactions, as booked
    vti_before_ex = units_on(account, "VTI", date(2023, 5, 14))
    assert s.deposits == Decimal("2000.00")
    assert s.withdrawals == Decimal("1000.00")
    assert s.dividends == money_down(vti_before_ex * Decimal("0.50")) > 0
    may_fee = Transaction.objects.get(account=account, kind="fee", fee_period=date(2023, 5, 1))
    assert s.fees == -may_fee.amount > 0
    # and: opening + deposits - withdrawals + dividends - fees + change = closing, exactly
    assert s.opening_day == APRIL_END
    assert s.closing_day == MAY_END
    assert (
        s.opening_value + s.deposits - s.withdrawals + s.dividends - s.fees + s.change
        == s.closing_value
    )
    # and: the change is the market's: only VTI moved in May, +$20 a unit at the last close, on
    # the units held going into that close (the fee's sale that day was at 220, after the move);
    # values are rounded down once at each end, and sales' proceeds down to the cent: ±3 cents
    vti_going_in = units_on(account, "VTI", date(2023, 5, 30))
    assert abs(s.change - vti_going_in * 20) <= Decimal("0.03")
    # and: the values are the ledger's at those closes, as the performance history has them
    assert s.opening_value == valuation.account_value_on(account=account, day=APRIL_END)
    assert s.closing_value == valuation.account_value_on(account=account, day=MAY_END)


def test_the_holdings_add_up_to_the_closing_value_with_their_cost_basis(may_history):
    statement = documents.statement_data(account=may_history, year=2023, month=5)

    holdings = {h.ticker: h for h in statement.holdings}
    vti = holdings["VTI"]
    assert vti.close == Decimal("220")
    assert vti.units == units_on(may_history, "VTI", MAY_END)
    # every unit was bought at the base close of 200: its basis is units × 200 (to the cent)
    assert abs(vti.cost_basis - vti.units * 200) <= Decimal("0.01")
    assert vti.unrealised_gain == vti.value - vti.cost_basis
    # each row rounds down; the total is rounded once: within a cent a row of the closing value
    total = sum((h.value for h in statement.holdings), statement.cash)
    assert statement.summary.closing_value - total < Decimal("0.01") * len(holdings)
    assert statement.summary.closing_value >= total


def test_the_months_transactions_trades_fees_and_dividend_are_listed(may_history):
    statement = documents.statement_data(account=may_history, year=2023, month=5)

    kinds = [line.kind for line in statement.transactions]
    assert kinds == ["Deposit", "Dividend", "Withdrawal", "Advisory fee"]
    assert [d.ticker for d in statement.distributions] == ["VTI"]
    assert statement.distributions[0].ex_date == date(2023, 5, 15)
    assert [f.period for f in statement.fees] == [date(2023, 5, 1)]
    # the deposit and the dividend were invested at the close: buys, cash out
    buys = [t for t in statement.trades if t.side == "Buy"]
    assert {t.day for t in buys} >= {date(2023, 5, 15), date(2023, 5, 22)}
    assert all(t.amount < 0 for t in buys)


def test_the_months_return_is_the_performance_computation_cut_at_the_months_end(
    account, tmp_path, market_data
):
    # given: 10,000 invested on 28 April and nothing else: no flow, no fee, no dividend in May
    load_history(tmp_path)
    services.deposit_make(account=account, amount=Decimal("10000.00"), day=APRIL_END)

    statement = documents.statement_data(account=account, year=2023, month=5)

    # then: the month's time-weighted return is the value's growth from the April close, which
    # is VTI's units × $20 over the opening value (only VTI moved)
    month, ytd = statement.performance
    s = statement.summary
    expected = (s.closing_value / s.opening_value - 1).quantize(Decimal("0.000001"))
    assert month.twr == expected
    vti = units_on(account, "VTI", MAY_END)
    assert abs(month.twr - vti * 20 / s.opening_value) < Decimal("0.00001")
    # the account opened on 28 April, so the year to date is the same move
    assert ytd.period == "YTD"
    assert ytd.twr == month.twr
    assert (month.start, month.end) == (APRIL_END, MAY_END)
    # and nothing happened since: the closing value is what `account_value` says at that close
    assert s.closing_value == valuation.account_value(account=account, day=MAY_END).total


# --- The files ------------------------------------------------------------------------------


def test_the_csv_has_one_section_per_table_with_the_same_figures(may_history):
    _, text, title = documents.statement_build(account=may_history, year=2023, month=5)

    sections = documents.csv_sections(text)
    assert title == f"Statement May 2023: {may_history.goal.name} (account {may_history.pk})"
    assert {"Summary", "Transactions", "Advisory fees", "Performance"} <= set(sections)
    assert any(name.startswith("Holdings at the") for name in sections)
    summary = {row[0]: row[1] for row in sections["Summary"][1:]}
    s = documents.statement_data(account=may_history, year=2023, month=5).summary
    assert summary["Deposits"] == "2000.00"
    assert summary["Withdrawals"] == "-1000.00"
    assert summary["Change in value (market)"] == f"{s.change:.2f}"
    assert summary["Closing value (31 May 2023 close)"] == f"{s.closing_value:.2f}"
    # money has two decimals, in every money column
    header, *rows = sections["Transactions"]
    assert header == ["Date", "Kind", "Description", "Amount"]
    assert all(len(row[3].split(".")[1]) == 2 for row in rows)


def test_the_pdf_renders_a_readable_first_page(may_history):
    import pypdfium2

    pdf, _, _ = documents.statement_build(account=may_history, year=2023, month=5)

    assert pdf.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    text = page.get_textpage().get_text_range()
    assert "Meridian" in text
    assert "Paper trading: simulated, no real securities." in text
    assert "Page 1 of" in text
    assert "$" in text
    assert "Closing value" in text
    image = page.render(scale=2).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / "statement.png")
    # not blank: a good share of the page is ink
    histogram = image.convert("L").histogram()
    dark = sum(histogram[:200])
    assert dark / (image.width * image.height) > 0.02


# --- Stored documents and the notice --------------------------------------------------------


def test_a_statement_is_stored_once_and_its_client_told_once(may_history):
    first = statement_generate(account=may_history, year=2023, month=5)
    again = statement_generate(account=may_history, year=2023, month=5)

    assert again.pk == first.pk
    assert Document.objects.count() == 1
    assert (first.period_start, first.period_end) == (date(2023, 5, 1), MAY_END)
    notices = Notification.objects.filter(
        user=may_history.client.user, kind=Notification.Kind.DOCUMENT_READY
    )
    assert [n.title for n in notices] == ["Your May 2023 statement is ready"]


def test_the_monthly_run_makes_last_months_statement_of_each_open_account(may_history):
    # the market date is 9 June 2023: the month before is May
    assert statements_generate_month() == 1
    assert statements_generate_month(only_missing=True) == 0
    # April: the account opened on its last day
    assert statements_generate_month(year=2023, month=4) == 1
    # March: nothing yet
    assert statements_generate_month(year=2023, month=3) == 0
    assert Document.objects.filter(kind="statement").count() == 2


def test_a_month_not_over_or_before_the_account_is_refused(may_history):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as current:
        statement_generate(account=may_history, year=2023, month=6)
    assert "month" in current.value.message_dict
    with pytest.raises(ValidationError) as before:
        statement_generate(account=may_history, year=2023, month=2)
    assert "month" in before.value.message_dict


# --- The tax report -------------------------------------------------------------------------


def _sale(account, lot, *, sold_on, units, proceeds, basis, term, wash="0.00") -> LotSale:
    txn = Transaction.objects.create(
        account=account, kind="trade", amount=Decimal("0.00"), market_date=sold_on
    )
    proceeds, basis = Decimal(proceeds), Decimal(basis)
    return LotSale.objects.create(
        lot=lot,
        transaction=txn,
        account=account,
        asset=lot.asset,
        sold_on=sold_on,
        quantity=Decimal(units),
        proceeds=proceeds,
        cost_basis=basis,
        gain=proceeds - basis,
        term=term,
        wash_disallowed=Decimal(wash),
    )


def _lot(account, ticker: str, *, acquired_on, units, unit_cost) -> Lot:
    txn = Transaction.objects.create(
        account=account, kind="trade", amount=Decimal("0.00"), market_date=acquired_on
    )
    return Lot.objects.create(
        account=account,
        asset=Asset.objects.get(ticker=ticker),
        opened_by=txn,
        acquired_on=acquired_on,
        quantity=Decimal(units),
        remaining=Decimal(0),
        unit_cost=Decimal(unit_cost),
    )


@pytest.fixture
def tax_year_2022(account, bold_client):
    """2022 in a taxable account and a traditional IRA. The lot sales are rows here: the
    ledger's sales write them (the "lots" work), which this report only reads."""
    ira = services.account_open(
        goal=GoalFactory(client=bold_client, goal_type="retirement", account_type="traditional_ira")
    )
    # Long-term: 10 VTI bought at 200 in March 2021, sold for 1,800 in June 2022: -200
    vti_2021 = _lot(account, "VTI", acquired_on=date(2021, 3, 1), units="10", unit_cost="200")
    _sale(account, vti_2021, sold_on=date(2022, 6, 1), units="10", proceeds="1800.00",
          basis="2000.00", term="long")  # fmt: skip
    # Short-term: 5 AGG bought at 100 in January, sold for 550 in March: +50
    agg = _lot(account, "AGG", acquired_on=date(2022, 1, 10), units="5", unit_cost="100")
    _sale(account, agg, sold_on=date(2022, 3, 1), units="5", proceeds="550.00",
          basis="500.00", term="short")  # fmt: skip
    # Short-term: 4 VTI bought at 210 on 1 May, sold for 760 on 20 May: -80, of which 30 is
    # disallowed by 1.5 VTI bought again on 5 June (a wash sale): reportable -50
    vti_may = _lot(account, "VTI", acquired_on=date(2022, 5, 1), units="4", unit_cost="210")
    washed = _sale(account, vti_may, sold_on=date(2022, 5, 20), units="4", proceeds="760.00",
                   basis="840.00", term="short", wash="30.00")  # fmt: skip
    replacement = _lot(account, "VTI", acquired_on=date(2022, 6, 5), units="1.5", unit_cost="190")
    WashSale.objects.create(
        sale=washed,
        replacement=replacement,
        units=Decimal("1.5"),
        disallowed=Decimal("30.00"),
        basis_added=Decimal("30.00"),
    )
    # Not in the report: a sale in the IRA, and a sale in 2021
    ira_lot = _lot(ira, "AGG", acquired_on=date(2022, 2, 1), units="3", unit_cost="100")
    _sale(ira, ira_lot, sold_on=date(2022, 7, 1), units="3", proceeds="250.00",
          basis="300.00", term="short")  # fmt: skip
    _sale(account, vti_2021, sold_on=date(2021, 12, 1), units="1", proceeds="230.00",
          basis="200.00", term="short")  # fmt: skip
    # Dividends: 12.34 in the taxable account (reported), 7.00 in the IRA (not)
    vti = Asset.objects.get(ticker="VTI")
    for target, amount, ex in (
        (account, "12.34", date(2022, 6, 10)),
        (ira, "7.00", date(2022, 9, 9)),
    ):
        distribution = Distribution.objects.create(
            asset=vti, ex_date=ex, pay_date=ex, amount=Decimal("0.50")
        )
        Transaction.objects.create(
            account=target, kind="dividend", amount=Decimal(amount), market_date=ex,
            distribution=distribution, description="VTI dividend",
        )  # fmt: skip
    # Fees: 2.50 from each account; IRA contributions: 6,000 into the IRA (the taxable
    # account's deposit is not one)
    for target in (account, ira):
        Transaction.objects.create(
            account=target, kind="fee", amount=Decimal("-2.50"), market_date=date(2022, 5, 31),
            fee_period=date(2022, 5, 1), description="Advisory fee",
        )  # fmt: skip
    Transaction.objects.create(
        account=ira, kind="deposit", amount=Decimal("6000.00"), market_date=date(2022, 4, 1)
    )
    Transaction.objects.create(
        account=account, kind="deposit", amount=Decimal("500.00"), market_date=date(2022, 4, 1)
    )
    return account, ira


def test_the_tax_report_totals_are_the_sums_of_its_lot_sales(bold_client, tax_year_2022):
    report = documents.tax_report_data(client=bold_client, year=2022)

    short, long = report.terms
    # short: proceeds 550 + 760 = 1,310; basis 500 + 840 = 1,340; gain 50 - 80 = -30; 30 of the
    # loss disallowed, so reportable 0.00
    assert (short.term, len(short.sales)) == ("short", 2)
    assert (short.proceeds, short.cost_basis, short.gain) == (
        Decimal("1310.00"),
        Decimal("1340.00"),
        Decimal("-30.00"),
    )
    assert (short.wash_disallowed, short.reportable) == (Decimal("30.00"), Decimal("0.00"))
    # long: the one sale, -200
    assert (long.term, long.reportable) == ("long", Decimal("-200.00"))
    for totals in report.terms:
        assert totals.proceeds == sum(s.proceeds for s in totals.sales)
        assert totals.reportable == sum(s.reportable for s in totals.sales)
    assert [(w.ticker, w.disallowed, w.basis_added) for w in report.washes] == [
        ("VTI", Decimal("30.00"), Decimal("30.00"))
    ]
    assert [d.amount for d in report.dividends] == [Decimal("12.34")]
    assert sum(f.amount for f in report.fees) == Decimal("5.00")
    assert [c.amount for c in report.ira_contributions] == [Decimal("6000.00")]


def test_the_tax_reports_csv_and_pdf_show_the_same_totals(bold_client, tax_year_2022):
    import pypdfium2

    pdf, text, title = documents.tax_report_build(client=bold_client, year=2022)

    sections = documents.csv_sections(text)
    header, *rows = sections["Short-term gains and losses"]
    assert header[-1] == "Reportable"
    *sales, total = rows
    assert total[0] == "Total"
    assert total[-1] == f"{sum(Decimal(r[-1]) for r in sales):.2f}" == "0.00"
    totals = {row[0]: row for row in sections["Realised gains: totals"][1:]}
    assert totals["Total"][-1] == "-200.00"
    assert "not a Form 1099-B" in text
    pages = pypdfium2.PdfDocument(pdf)
    shown = "".join(page.get_textpage().get_text_range() for page in pages)
    assert "not a Form 1099-B" in shown.replace("\r\n", " ").replace("\n", " ")
    assert "-$200.00" in shown
    assert title.startswith("Tax report 2022")


def test_the_yearly_run_makes_a_tax_report_per_client_with_activity(bold_client, tax_year_2022):
    assert tax_reports_generate_year() == 1  # the market date is in 2023: 2022's
    document = Document.objects.get(kind="tax_report")
    assert (document.client, document.account) == (bold_client, None)
    assert (document.period_start, document.period_end) == (date(2022, 1, 1), date(2022, 12, 31))
    assert tax_reports_generate_year(only_missing=True) == 0


# --- The API --------------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_client_lists_and_downloads_their_documents(may_history, bold_client, tax_year_2022):
    statement = statement_generate(account=may_history, year=2023, month=5)
    tax_report_generate(client=bold_client, year=2022)
    api = _api(bold_client.user)

    listed = api.get("/api/v1/documents/")
    only_statements = api.get("/api/v1/documents/", {"kind": "statement"})
    pdf = api.get(f"/api/v1/documents/{statement.pk}/pdf/")
    csv_file = api.get(f"/api/v1/documents/{statement.pk}/csv/", HTTP_ACCEPT="text/csv")

    assert listed.status_code == 200
    assert [d["kind"] for d in listed.json()] == ["statement", "tax_report"]
    row = only_statements.json()[0]
    assert len(only_statements.json()) == 1
    assert row == {
        "id": statement.pk,
        "kind": "statement",
        "title": statement.title,
        "account": may_history.pk,
        "period_start": "2023-05-01",
        "period_end": "2023-05-31",
        "created_at": row["created_at"],
        "pdf_url": f"/api/v1/documents/{statement.pk}/pdf/",
        "csv_url": f"/api/v1/documents/{statement.pk}/csv/",
    }
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == (
        f'attachment; filename="meridian-statement-2023-05-account-{may_history.pk}.pdf"'
    )
    assert pdf.content.startswith(b"%PDF")
    assert csv_file.status_code == 200
    assert csv_file["Content-Type"].startswith("text/csv")
    assert "Summary" in csv_file.content.decode()
    assert api.get("/api/v1/documents/", {"kind": "letter"}).status_code == 400


def test_another_clients_document_is_not_found(may_history):
    statement = statement_generate(account=may_history, year=2023, month=5)
    stranger = _api(ClientFactory().user)

    assert stranger.get("/api/v1/documents/").json() == []
    for fmt in ("pdf", "csv"):
        response = stranger.get(f"/api/v1/documents/{statement.pk}/{fmt}/")
        assert response.status_code == 404
        assert set(response.json()) == {"message", "code", "extra"}
    asked_as_pdf = stranger.get(
        f"/api/v1/documents/{statement.pk}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert asked_as_pdf.status_code == 404
    assert asked_as_pdf.json()["code"] == "not_found"


def test_a_client_generates_a_statement_on_demand(may_history, bold_client):
    api = _api(bold_client.user)
    body = {"kind": "statement", "account": may_history.pk, "year": 2023, "month": 5}

    response = api.post("/api/v1/documents/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["period_start"] == "2023-05-01"
    assert Document.objects.filter(account=may_history, kind="statement").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "statement", "year": 2023, "month": 13}, "month"),  # no such month
        ({"kind": "statement", "year": 2023, "month": 6}, "month"),  # not over: the market's
        ({"kind": "statement", "year": 2031, "month": 1}, "month"),  # the future
        ({"kind": "statement", "year": 2023}, "month"),
        ({"kind": "tax_report", "year": 2023}, "year"),  # not over
        ({"kind": "tax_report", "year": 2022, "month": 5}, "month"),
        ({"kind": "report", "year": 2022}, "kind"),
        ({"kind": "tax_report", "year": 2022, "colour": "blue"}, "colour"),
    ],
)
def test_an_on_demand_request_for_a_bad_period_is_a_400_with_field_errors(
    may_history, bold_client, body, field
):
    if body["kind"] == "statement":
        body = {**body, "account": may_history.pk}

    response = _api(bold_client.user).post("/api/v1/documents/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["extra"]["fields"]
    assert not Document.objects.exists()


def test_a_statement_of_someone_elses_account_is_not_found(may_history):
    body = {"kind": "statement", "account": may_history.pk, "year": 2023, "month": 5}

    response = _api(ClientFactory().user).post("/api/v1/documents/", body, format="json")

    assert response.status_code == 404
    assert "account" in response.json()["extra"]["fields"]
    assert not Document.objects.exists()


def test_an_advisor_reads_the_documents_of_clients_in_reach_only(may_history, bold_client):
    statement = statement_generate(account=may_history, year=2023, month=5)
    advisor, other = AdvisorFactory(), AdvisorFactory()
    bold_client.advisor = advisor
    bold_client.save(update_fields=["advisor"])
    base = f"/api/v1/advisor/clients/{bold_client.pk}/documents/"

    listed = _api(advisor).get(base)
    pdf = _api(advisor).get(f"{base}{statement.pk}/pdf/")

    assert listed.status_code == 200
    assert listed.json()[0]["pdf_url"] == f"{base}{statement.pk}/pdf/"
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert _api(other).get(base).status_code == 404
    assert _api(other).get(f"{base}{statement.pk}/csv/").status_code == 404
    assert _api(bold_client.user).get(base).status_code == 403
    # the document of another client, asked for under this client, is not found
    stranger = ClientFactory(advisor=advisor)
    assert (
        _api(advisor)
        .get(f"/api/v1/advisor/clients/{stranger.pk}/documents/{statement.pk}/pdf/")
        .status_code
        == 404
    )
