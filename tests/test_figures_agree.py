"""One figure, one computation: every surface shows the same numbers.

The demo book is built as `make run` builds it (shipped prices, the three demo clients, two years
of funded history, fees, rebalance proposals, projections). Then, as each demo client and as
their advisor, every figure is collected from every surface — the dashboard summary, the account
list and detail, performance, fees, each goal's projection, the chat's replies to the matching
questions, the advisor's client page and home page — and compared. Each comparison formats the
expected figure with the surface's own formatter, so a mismatch is a different number, never a
different rendering. All mismatches are reported together."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client as BrowserClient
from rest_framework.test import APIClient

from advisor.models import Client, Goal, User
from nlp.chat import answers
from workspace import admin as workspace_admin
from workspace import selectors as workspace_selectors

pytestmark = pytest.mark.django_db

DEMO_CLIENTS = ("maya", "daniel", "ruth")


@pytest.fixture
def demo_book(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.NLP_MODEL_DIR = str(tmp_path / "models")  # no chat model needed: composers only
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_market_data", "--no-progress")
        call_command("seed_demo")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_portfolios")
    return Client.objects.filter(user__email__in=[f"{n}@meridian.example" for n in DEMO_CLIENTS])


def _ask(client: Client, text: str) -> str:
    context = answers.Context(client=client, text=text, previous_intents=(), search=lambda q: [])
    return {
        "balance": answers.account_balance,
        "goals": answers.goal_progress,
        "drift": answers.rebalancing,
        "performance": answers.performance,
        "fees": answers.fees,
    }[text.split(":")[0]](context).text


def test_every_surface_shows_the_same_figures(demo_book):
    mismatches: list[str] = []
    checked: list[str] = []

    def agree(what: str, expected: object, *shown: object) -> None:
        checked.append(what)
        for value in shown:
            if value != expected:
                mismatches.append(f"{what}: expected {expected!r}, shown {value!r}")

    def says(what: str, text: str, fragment: str) -> None:
        checked.append(what)
        if fragment not in text:
            mismatches.append(f"{what}: {fragment!r} not in {text[:300]!r}…")

    assert demo_book.count() == len(DEMO_CLIENTS)
    advisor_totals = Decimal("0.00")
    for client in demo_book:
        api = APIClient()
        api.force_authenticate(client.user)
        who = client.user.email
        summary = api.get("/api/v1/portfolio/summary/").json()
        accounts = {a["id"]: a for a in api.get("/api/v1/accounts/").json()}
        fees = api.get("/api/v1/fees/").json()
        fee_rows = {row["account_id"]: row for row in fees["accounts"]}
        advisor_totals += Decimal(summary["total_value"])

        # Totals: summary = sum of accounts = fees page; the chat quotes the same.
        agree(
            f"{who} total",
            summary["total_value"],
            str(sum(Decimal(a["value"]) for a in accounts.values())),
            fees["value"],
        )
        agree(
            f"{who} cash", summary["cash"], str(sum(Decimal(a["cash"]) for a in accounts.values()))
        )
        # Fees paid: the fees page, the chat and the ledger's fee transactions.
        fees_reply = _ask(client, "fees: what have I paid in fees?")
        for field in ("paid_ytd", "paid_since_inception", "estimated_annual_fee"):
            says(f"{who} chat fees {field}", fees_reply, answers.usd(Decimal(fees[field])))
        ledger_fees = Decimal("0.00")
        for account_id in accounts:
            page = f"/api/v1/accounts/{account_id}/transactions/?page_size=1000"
            while page:
                body = api.get(page).json()
                ledger_fees -= sum(
                    (Decimal(t["amount"]) for t in body["results"] if t["kind"] == "fee"),
                    Decimal("0.00"),
                )
                page = body["next"]
        agree(f"{who} fees paid since inception", fees["paid_since_inception"], str(ledger_fees))
        # Returns of all accounts together: the dashboard and the chat.
        itd_all = next((p for p in summary["performance"] if p["period"] == "ITD"), None)
        if itd_all and itd_all["twr"] is not None:
            says(
                f"{who} chat return of all accounts",
                _ask(client, "performance: how have all my accounts done since I started?"),
                answers.pct(Decimal(itd_all["twr"])),
            )
        balance = _ask(client, "balance: what is my balance?")
        says(f"{who} chat total", balance, answers.usd(Decimal(summary["total_value"])))

        drift_reply = _ask(client, "drift: how far have my accounts drifted?")
        for row in summary["accounts"]:
            account_id = row["id"]
            detail = api.get(f"/api/v1/accounts/{account_id}/").json()
            for field in ("value", "cash", "drift", "level"):
                agree(
                    f"{who} account {account_id} {field}",
                    row[field],
                    accounts[account_id][field],
                    detail[field],
                )
            agree(
                f"{who} account {account_id} fees value",
                row["value"],
                fee_rows[account_id]["value"],
            )
            says(
                f"{who} chat balance of {row['goal_name']}",
                balance,
                f"{row['goal_name']}: {answers.usd(Decimal(row['value']))}",
            )
            if row["drift"] is not None:
                says(
                    f"{who} chat drift of {row['goal_name']}",
                    drift_reply,
                    f"{row['goal_name']} {answers.pct(row['drift'], signed=False)}",
                )
            performance = api.get(f"/api/v1/accounts/{account_id}/performance/").json()
            itd = next((p for p in performance["periods"] if p["period"] == "ITD"), None)
            if itd and itd["twr"] is not None:
                reply = _ask(
                    client, f"performance: how has {row['goal_name']} done since I started?"
                )
                says(
                    f"{who} chat return of {row['goal_name']}",
                    reply,
                    answers.pct(Decimal(itd["twr"])),
                )

        # Each goal's chance of success: the summary, the goal page and the chat agree; and
        # the level a goal is invested at: its account, the risk page's table, the projection.
        goals_reply = _ask(client, "goals: am I on track for all my goals?")
        allocations = {a["goal_id"]: a for a in api.get("/api/v1/goals/allocations/").json()}
        levels = {a["goal_id"]: a["level"] for a in summary["accounts"]}
        for goal in summary["goals"]:
            projection = api.get(f"/api/v1/goals/{goal['id']}/projection/").json()
            agree(
                f"{who} goal {goal['name']} projection's starting value",
                goal["value"],
                projection["initial_value"],
            )
            agree(
                f"{who} goal {goal['name']} level",
                levels[goal["id"]],
                allocations[goal["id"]]["level"],
                projection["level"],
            )
            agree(f"{who} goal {goal['name']} status", "ready", goal["projection_status"])
            agree(
                f"{who} goal {goal['name']} chance", goal["probability"], projection["probability"]
            )
            agree(
                f"{who} goal {goal['name']} median",
                goal["median_final_value"],
                projection["median_final_value"],
            )
            if goal["probability"] is not None:
                says(
                    f"{who} chat chance of {goal['name']}",
                    goals_reply,
                    f"{goal['name']}: a {goal['probability']:.0%} chance",
                )

        # The advisor's client page shows the same values, drifts and chances.
        advisor = client.advisor
        browser = BrowserClient()
        browser.force_login(advisor)
        page = browser.get(f"/admin/advisor/client/{client.pk}/change/").content.decode()
        for row in summary["accounts"]:
            says(
                f"{who} workspace value of {row['goal_name']}",
                page,
                workspace_admin._money(Decimal(row["value"])),
            )
            if row["drift"] is not None:
                says(f"{who} workspace drift of {row['goal_name']}", page, f"{row['drift']:.1%}")
        for goal in summary["goals"]:
            if goal["probability"] is not None:
                says(
                    f"{who} workspace chance of {goal['name']}",
                    page,
                    workspace_admin._percent(goal["probability"]),
                )

    # The advisor's home page: assets under management = the clients' totals.
    advisor = User.objects.get(email="advisor@meridian.example")
    book = workspace_selectors.book_value(user=advisor)
    agree("advisor's assets under management", advisor_totals, book.total)
    off_track = {row.goal.pk for row in workspace_selectors.off_track_goals(user=advisor)}
    for client in demo_book:
        api = APIClient()
        api.force_authenticate(client.user)
        for goal in api.get("/api/v1/portfolio/summary/").json()["goals"]:
            if goal["probability"] is not None:
                agree(
                    f"off-track list and chance of {goal['name']}",
                    not Goal.objects.get(pk=goal["id"]).on_track(goal["probability"]),
                    goal["id"] in off_track,
                )

    assert mismatches == [], "\n".join(mismatches)
    # Every kind of figure was compared (a demo book without drift or chances would pass idly).
    for kind in (
        "chat chance of",
        "workspace chance of",
        "chat drift of",
        "chat return of",
        "chat return of all accounts",
        "fees paid since inception",
    ):
        assert any(kind in what for what in checked), kind
    assert len(checked) > 100
