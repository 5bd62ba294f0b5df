"""`manage.py seed_demo_portfolios`: two years of deposits for the demo clients' goals.

Runs after `load_market_data` and `seed_demo`. Each demo goal's account gets its initial amount
two years before the market date and its monthly contribution on the first trading day of each of
the next twelve months, filled at those days' closes; then contributions pause. A year of markets
without cash flows lets the portfolios drift, so the daily rebalancing job finds proposals for the
advisor to approve. Markets alone drift these demo portfolios by 1–3%, under the 3% threshold, so
the demo simulates the common trigger: Maya retook the risk questionnaire last month with more
cautious answers, her targets moved, and her accounts now wait for a rebalance. In step with the
deposits, as the daily jobs would have done: the funds' distributions are paid as cash on their
pay dates to the accounts that held them (and invested), and each complete month is billed its
advisory fee, accrued daily; at each month's last close the tax-loss harvesting check runs (Maya
opted in to automatic harvesting; the others' harvests wait for approval). Then last month's
statements and last year's tax reports are made, the risk figures computed, and each goal is
projected.
Idempotent: an account that already has transactions is left alone, and a month already billed
is not billed again.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from advisor import services as advisor_services
from advisor.models import Client, Goal
from portfolios import market, projections, services, valuation
from portfolios.models import Price

DEMO_DOMAIN = "@meridian.example"
HISTORY_MONTHS = 24
CONTRIBUTING_MONTHS = 12


def _months_back(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _deposit_in(goal: Goal, month: int) -> Decimal:
    """The demo deposit in the month-th month of history: the opening amount, then twelve
    monthly contributions, then none."""
    if month == 0:
        return goal.initial_amount or goal.monthly_contribution
    return goal.monthly_contribution if month <= CONTRIBUTING_MONTHS else Decimal(0)


class Command(BaseCommand):
    help = "Fund the demo clients' goals with two years of history (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            market_date = market.market_date_get()
        except Exception:  # MarketDataMissing: nothing to invest with
            self.stdout.write("No market data: run `manage.py load_market_data` first.")
            return
        start = _months_back(market_date, HISTORY_MONTHS)
        days = sorted(set(Price.objects.filter(date__gte=start).values_list("date", flat=True)))
        firsts = sorted(
            {
                min(d for d in days if (d.year, d.month) == ym)
                for ym in {(d.year, d.month) for d in days}
            }
        )
        clients = Client.objects.filter(user__email__endswith=DEMO_DOMAIN).prefetch_related("goals")
        to_fund = []
        for client in clients:
            for goal in client.goals.all():
                account = services.account_open(goal=goal)
                if not account.transactions.exists():
                    to_fund.append((account, goal))
        funded, fees, dividends, harvests = len(to_fund), 0, 0, 0
        complete = valuation.fee_months_complete()
        # Month by month, in the order the days happened: the deposits on the month's first
        # trading day, the dividends paid during the month, then the month's fee on all of it.
        for month, day in enumerate(firsts):
            for account, goal in to_fund:
                amount = _deposit_in(goal, month)
                if amount > 0:
                    services.deposit_make(account=account, amount=amount, day=day)
            if funded:
                month_last = (
                    firsts[month + 1] - timedelta(days=1)
                    if month + 1 < len(firsts)
                    else market_date
                )
                dividends += services.dividends_pay(
                    since=day - timedelta(days=1), through=month_last
                )
                # The month's tax-loss harvests at its last close, as the daily check would have
                # found them: Maya's execute (she opted in), the others' wait for approval and
                # are superseded by the next month's state.
                harvests += services.tax_harvests_refresh(day=month_last)
            month_end = complete.get(day.replace(day=1))
            if month_end is not None:
                fees += services.fees_bill(month_end=month_end)
        if funded:
            self._maya_retakes_the_questionnaire()
        pending = services.rebalance_proposals_refresh()
        documents = 0
        if funded:
            # Last month's statements and last year's tax reports, as the beat jobs make them.
            documents += services.statements_generate_month(only_missing=True)
            documents += services.tax_reports_generate_year(only_missing=True)
            services.risk_figures_compute()  # the nightly risk figures and stress tests
        projected = 0
        for client in clients:
            for goal in client.goals.all():
                status = projections.projection_answer(goal=goal).status
                projected += status == "ready"
        self.stdout.write(
            f"Funded {funded} demo accounts since {firsts[0]}; {dividends} dividends paid; "
            f"{fees} monthly advisory fees billed; {harvests} tax-loss harvests proposed or "
            f"executed; {documents} statements and tax reports; {pending} rebalance proposals "
            "pending; "
            f"{projected} goal projections ready."
        )

    def _maya_retakes_the_questionnaire(self) -> None:
        maya = Client.objects.filter(user__email="maya" + DEMO_DOMAIN).first()
        latest = maya.questionnaire_responses.first() if maya else None
        if maya is None or latest is None:
            return
        calmer = {
            **latest.answers,
            "scf_willingness": "average",
            "loss_reaction": "hold",
            "portfolio_choice": "moderate",
            "risk_attitude": "uncertainty",
        }
        advisor_services.questionnaire_submit(client=maya, version=latest.version, answers=calmer)
