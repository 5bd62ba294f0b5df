"""A synthetic book for load tests and the daily-batch benchmark (issue #18): N clients' goals,
accounts and ledgers written with bulk inserts, fast enough for 10,000 accounts in minutes.

Everything is marked synthetic (users' emails end in `SYNTH_DOMAIN`) and removed by
`book_clear`. The ledger keeps the invariants every service keeps (see
`portfolios.services.reconciliation`): Account.cash = Σ cash entries, Position.quantity =
Σ unit entries = Σ open lots' remaining units, nothing negative; each sale consumes lots in
the account's lot method's order (`ledger.lots_order`) and records a `LotSale` per lot.

What a book looks like (drawn from `random.Random(seed)`, so a seed gives the same book):

- clients hold 1 goal (55%), 2 (30%) or 3 (15%); the last client is cut to make exactly N;
- risk: each client answers the current questionnaire around a latent appetite
  u ~ Beta(2, 2) (each answer the choice at u × (choices − 1) + N(0, 0.8), rounded and
  clipped), scored by the rules (`advisor.risk.answers_score`) into a response and its
  `rules-v1` assessment, as `questionnaire_submit` stores them: levels 1–10 follow;
- goal types: retirement 35%, general wealth 20%, home purchase 15%, education 12%,
  emergency fund 10%, major purchase 8%, with type-typical horizons; priority need/want/wish
  40/40/20%; a quarter of retirement goals are IRAs (traditional or Roth, at most one per
  client), whose deposits are cut to the IRS limit without catch-up (`services.ira_limit`);
- money: the account opens in a month drawn uniformly over the history, with an initial
  deposit ~ lognormal(median $10,000, σ 1.0) clipped to [$100, $2,000,000]; 60% of goals then
  contribute monthly ~ lognormal(median $400, σ 0.7) clipped to [$25, $20,000] on each month's
  first trading day, and 70% of those have an active `RecurringDeposit` of that amount
  (day 1–28, next run the first such day after the market date); 10% of accounts withdraw
  5–30% of their value once, in a month after opening;
- each deposit is invested at that day's closes pro rata to the approved model portfolio of
  the goal's level on that day (`targets.glide_level`), orders under the minimum trade left in
  cash (the real deposit buys the most underweight funds first: drift here comes from the
  markets alone, so some accounts pass the rebalancing threshold);
- advisory fees: every complete month but the latest is billed on its last close at
  value × annual rate × days in month / 365 (an approximation of the daily accrual), from cash
  and, where cash is short, one sale of the largest holding; the latest complete month is left
  for `fees_bill`, as on the first business day of a month;
- not simulated: distributions (left for `dividends_pay`, which pays those of the last 31
  days), wash sales between a withdrawal's losses and later deposits, rebalances and harvests
  in the past, projections and risk figures (the daily jobs make them).
"""

import calendar
import math
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from advisor import risk
from advisor.models import (
    Client,
    Goal,
    QuestionnaireResponse,
    RiskAssessment,
    User,
    WithdrawalHold,
)
from advisor.suitability import Flag

from . import targets
from .broker import UNIT, units_for_amount, units_for_value
from .models import (
    Account,
    Asset,
    Document,
    Entry,
    FeeOwed,
    LedgerBreak,
    Lot,
    LotSale,
    Position,
    Price,
    RebalanceProposal,
    RecurringDeposit,
    RiskFigures,
    TaxHarvest,
    Transaction,
    WashSale,
)
from .money import CENT, money, money_down, money_half_up
from .services.cash_flows import withdrawal_tax_note
from .services.ira import ira_limit
from .services.ledger import lots_order, proceeds_split
from .tax import lot_term, units_basis
from .valuation import advisory_fee_annual, approved_targets, fee_months_complete, min_trade

SYNTH_DOMAIN = "@synth.meridian.example"
BATCH_ACCOUNTS = 500  # accounts generated and inserted per batch: bounded memory at any N

GOAL_TYPES: tuple[tuple[str, float, tuple[int, int]], ...] = (
    # (type, share, horizon in years (min, max))
    ("retirement", 0.35, (8, 35)),
    ("general_wealth", 0.20, (5, 30)),
    ("home_purchase", 0.15, (2, 10)),
    ("education", 0.12, (3, 18)),
    ("emergency_fund", 0.10, (1, 3)),
    ("major_purchase", 0.08, (1, 6)),
)
GOALS_PER_CLIENT = ((1, 0.55), (2, 0.30), (3, 0.15))
PRIORITIES = (("need", 0.4), ("want", 0.4), ("wish", 0.2))
IRA_SHARE_OF_RETIREMENT = 0.25
INITIAL_MEDIAN, INITIAL_SIGMA = 10_000.0, 1.0
INITIAL_RANGE = (100.0, 2_000_000.0)
CONTRIBUTING_SHARE = 0.60
MONTHLY_MEDIAN, MONTHLY_SIGMA = 400.0, 0.7
MONTHLY_RANGE = (25.0, 20_000.0)
RECURRING_SHARE = 0.70  # of the contributing goals
WITHDRAWING_SHARE = 0.10
WITHDRAWAL_RANGE = (0.05, 0.30)  # share of the account's value


class SynthUnavailable(RuntimeError):
    """No prices or no approved model portfolios: nothing to invest a book with."""


@dataclass(frozen=True)
class SynthResult:
    clients: int
    accounts: int
    transactions: int
    entries: int
    lots: int
    recurring: int
    levels: dict[int, int]  # client risk level → clients


def _pick(rng: random.Random, table: Sequence[tuple[object, float]]) -> object:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


def _lognormal_money(
    rng: random.Random, median: float, sigma: float, lo: float, hi: float
) -> Decimal:
    value = min(max(rng.lognormvariate(math.log(median), sigma), lo), hi)
    return money(Decimal(str(round(value, 2))))


def _answers(rng: random.Random, question_set: risk.QuestionSet) -> dict[str, str]:
    appetite = rng.betavariate(2, 2)
    answers = {}
    for question in question_set.questions:
        ranked = sorted(question.choices, key=lambda c: c.points)
        index = round(appetite * (len(ranked) - 1) + rng.gauss(0, 0.8))
        answers[question.key] = ranked[min(max(index, 0), len(ranked) - 1)].value
    return answers


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _next_on(day: date, day_of_month: int) -> date:
    """The first date after `day` falling on `day_of_month`."""
    if day.day < day_of_month:
        return day.replace(day=day_of_month)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, day_of_month)


# --- The market the book is written against ----------------------------------------------------


@dataclass
class Market:
    days: list[date]  # trading days of the history, ascending
    firsts: list[date]  # each month's first trading day
    closes: dict[date, dict[int, Decimal]]  # day → asset id → close
    assets: dict[str, int]  # ticker → id
    by_level: dict[int, dict[str, Decimal]]  # approved targets
    fee_months: dict[date, date]  # month → its last close: the months billed in history
    market_date: date

    @classmethod
    def read(cls, *, history_months: int) -> "Market":
        months = fee_months_complete()
        latest = Price.objects.order_by("-date").values_list("date", flat=True).first()
        if latest is None:
            raise SynthUnavailable("No market data: run `manage.py load_market_data` first.")
        by_level = approved_targets()
        if not by_level:
            raise SynthUnavailable("No approved model portfolios to invest with.")
        month = latest.month - history_months
        start = date(latest.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        closes: dict[date, dict[int, Decimal]] = defaultdict(dict)
        for day, asset_id, close in Price.objects.filter(date__gte=start).values_list(
            "date", "asset_id", "close"
        ):
            closes[day][asset_id] = close
        days = sorted(closes)
        firsts = sorted(
            {
                min(d for d in days if (d.year, d.month) == ym)
                for ym in {(d.year, d.month) for d in days}
            }
        )
        billed = sorted(m for m in months if m >= start)[:-1]  # the latest is left for fees_bill
        return cls(
            days=days,
            firsts=firsts,
            closes=closes,
            assets=dict(Asset.objects.values_list("ticker", "pk")),
            by_level=by_level,
            fee_months={m: months[m] for m in billed},
            market_date=latest,
        )


# --- One account's history, in memory ----------------------------------------------------------


@dataclass
class Book:
    """What one batch inserts, rows linked by objects until their ids exist."""

    transactions: list[Transaction] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    sales: list[LotSale] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    recurring: list[RecurringDeposit] = field(default_factory=list)


class Ledger:
    """One account's ledger as it is written: the rules of `services.ledger`, in memory."""

    def __init__(self, *, account: Account, book: Book, market: Market) -> None:
        self.account = account
        self.book = book
        self.market = market
        self.units: dict[int, Decimal] = defaultdict(Decimal)
        self.lots: dict[int, list[Lot]] = defaultdict(list)

    def _txn(self, *, kind: str, amount: Decimal, day: date, **extra: object) -> Transaction:
        txn = Transaction(account=self.account, kind=kind, amount=amount, market_date=day, **extra)
        self.book.transactions.append(txn)
        return txn

    def _cash(self, txn: Transaction, amount: Decimal) -> None:
        self.book.entries.append(Entry(transaction=txn, account=self.account, quantity=amount))
        self.account.cash += amount

    def _buy(self, txn: Transaction, asset_id: int, amount: Decimal, price: Decimal) -> None:
        quantity = units_for_amount(amount, price)
        self.book.entries.append(
            Entry(
                transaction=txn,
                account=self.account,
                asset_id=asset_id,
                quantity=quantity,
                price=price,
            )
        )
        self.units[asset_id] += quantity
        lot = Lot(
            account=self.account,
            asset_id=asset_id,
            opened_by=txn,
            acquired_on=txn.market_date,
            quantity=quantity,
            remaining=quantity,
            unit_cost=price,
        )
        self.book.lots.append(lot)
        self.lots[asset_id].append(lot)
        self._cash(txn, -amount)

    def _sell(self, txn: Transaction, asset_id: int, quantity: Decimal, price: Decimal) -> None:
        proceeds = money_down(quantity * price)
        self.book.entries.append(
            Entry(
                transaction=txn,
                account=self.account,
                asset_id=asset_id,
                quantity=-quantity,
                price=price,
            )
        )
        self.units[asset_id] -= quantity
        day = txn.market_date
        held = [lot for lot in self.lots[asset_id] if lot.remaining > 0]
        ordered = lots_order(held, method=self.account.lot_method, price=price, day=day)
        taken, left = [], quantity
        for lot in ordered:
            if left <= 0:
                break
            units = min(lot.remaining, left)
            taken.append((lot, units))
            left -= units
        for (lot, units), cash in zip(
            taken, proceeds_split(proceeds, [u for _, u in taken]), strict=True
        ):
            basis = units_basis(lot, units)
            self.book.sales.append(
                LotSale(
                    lot=lot,
                    transaction=txn,
                    account=self.account,
                    asset_id=asset_id,
                    sold_on=day,
                    quantity=units,
                    proceeds=cash,
                    cost_basis=basis,
                    gain=cash - basis,
                    term=lot_term(lot, day),
                )
            )
            lot.remaining -= units
            lot.realised_gain += cash - basis
        self._cash(txn, proceeds)

    def value(self, day: date) -> Decimal:
        closes = self.market.closes[day]
        return self.account.cash + sum(
            (q * closes[a] for a, q in self.units.items() if q > 0), Decimal(0)
        )

    def deposit(self, *, amount: Decimal, day: date, weights: dict[str, Decimal]) -> None:
        shown = f"${amount:,.2f}"
        txn = self._txn(
            kind=Transaction.Kind.DEPOSIT, amount=amount, day=day, description=f"Deposit of {shown}"
        )
        self._cash(txn, amount)
        closes = self.market.closes[day]
        budget = self.account.cash
        for ticker, weight in sorted(weights.items()):
            order = money_down(budget * weight)
            asset_id = self.market.assets[ticker]
            if order >= min_trade() and order <= self.account.cash and asset_id in closes:
                self._buy(txn, asset_id, order, closes[asset_id])

    def withdraw(self, *, share: Decimal, day: date, account_type: str) -> None:
        closes = self.market.closes[day]
        txn = self._txn(
            kind=Transaction.Kind.WITHDRAWAL,
            amount=Decimal(0),
            day=day,
            tax_note=withdrawal_tax_note(account_type=account_type, born=None, day=day),
        )
        before = self.account.cash
        for asset_id, held in sorted(self.units.items()):
            quantity = (held * share).quantize(UNIT, rounding=ROUND_DOWN)
            if quantity > 0 and money_down(quantity * closes[asset_id]) > 0:
                self._sell(txn, asset_id, quantity, closes[asset_id])
        amount = self.account.cash - before
        if amount <= 0:
            self.book.transactions.remove(txn)
            return
        txn.amount = -amount
        txn.description = f"Withdrawal of ${amount:,.2f}"
        self._cash(txn, -amount)

    def fee(self, *, period: date, day: date, rate: Decimal) -> None:
        days = calendar.monthrange(period.year, period.month)[1]
        fee = money_half_up(self.value(day) * rate * days / 365)
        if fee < CENT:
            return
        closes = self.market.closes[day]
        need = fee - self.account.cash
        if need > 0:
            held = [(q * closes[a], a) for a, q in self.units.items() if q > 0]
            if not held:
                return
            _, asset_id = max(held)
            quantity = min(
                units_for_value(need * Decimal("1.0001") + CENT, closes[asset_id]),
                self.units[asset_id],
            )
            if money_down(quantity * closes[asset_id]) < need:
                return  # too small an account to pay (the real billing would record it owed)
        txn = self._txn(
            kind=Transaction.Kind.FEE,
            amount=-fee,
            day=day,
            fee_period=period,
            description=f"Advisory fee for {period:%B %Y}",
        )
        if need > 0:
            self._sell(txn, asset_id, quantity, closes[asset_id])
        self._cash(txn, -fee)

    def positions(self) -> None:
        for asset_id, quantity in sorted(self.units.items()):
            self.book.positions.append(
                Position(account=self.account, asset_id=asset_id, quantity=quantity)
            )


# --- The book -------------------------------------------------------------------------------


@dataclass
class _Plan:
    goal: Goal
    level: int
    opens: int  # index in market.firsts
    initial: Decimal
    monthly: Decimal
    recurring_day: int | None
    withdraws_in: int | None
    ira: bool


def _horizon(rng: random.Random, goal_type: str) -> int:
    for name, _, (lo, hi) in GOAL_TYPES:
        if name == goal_type:
            return rng.randint(lo, hi)
    raise ValueError(goal_type)


def _clients(rng: random.Random, accounts: int) -> Iterator[int]:
    """Goals per client until `accounts` goals in all."""
    left = accounts
    while left > 0:
        goals = min(int(_pick(rng, GOALS_PER_CLIENT)), left)  # type: ignore[call-overload]
        left -= goals
        yield goals


def book_synthesize(
    *, accounts: int, seed: int = 0, history_months: int = 24, progress: object = None
) -> SynthResult:
    """Write `accounts` synthetic goals (one account each) with their clients, questionnaires
    and `history_months` of ledger history, in batches of bulk inserts (see the module's
    docstring for the distributions). Each batch commits on its own; the tables' planner
    statistics are refreshed at the end (`ANALYZE`), as after any bulk load: until autovacuum
    gets to them, PostgreSQL plans a book of 1,000 accounts as if it were empty (the harvest
    check's read of 500 accounts' lots took 5.8 s instead of 0.04 s)."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - a reproducible book, not a secret
    market = Market.read(history_months=history_months)
    question_set = risk.question_set_get()
    rate = advisory_fee_annual()
    start = User.objects.filter(email__endswith=SYNTH_DOMAIN).count()
    counts: dict[str, int] = defaultdict(int)
    levels: dict[int, int] = defaultdict(int)
    sizes = list(_clients(rng, accounts))
    for first in range(0, len(sizes), max(BATCH_ACCOUNTS // 2, 1)):
        batch = sizes[first : first + max(BATCH_ACCOUNTS // 2, 1)]
        _batch_write(
            rng=rng,
            market=market,
            question_set=question_set,
            rate=rate,
            sizes=batch,
            number=start + first,
            counts=counts,
            levels=levels,
        )
        if callable(progress):
            progress(counts["accounts"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return SynthResult(
        clients=len(sizes),
        accounts=counts["accounts"],
        transactions=counts["transactions"],
        entries=counts["entries"],
        lots=counts["lots"],
        recurring=counts["recurring"],
        levels=dict(sorted(levels.items())),
    )


@transaction.atomic
def _batch_write(
    *,
    rng: random.Random,
    market: Market,
    question_set: risk.QuestionSet,
    rate: Decimal,
    sizes: list[int],
    number: int,
    counts: dict[str, int],
    levels: dict[int, int],
) -> None:
    opened_at = timezone.make_aware(datetime.combine(market.firsts[0], time(12)))
    password = make_password(None)  # unusable: synthetic clients never log in
    users = [
        User(
            email=f"synth{number + i:07d}{SYNTH_DOMAIN}",
            password=password,
            first_name="Synthetic",
            last_name=f"Client {number + i}",
            date_joined=opened_at,
        )
        for i in range(len(sizes))
    ]
    User.objects.bulk_create(users)
    clients = [
        Client(
            user=user,
            first_name=user.first_name,
            last_name=user.last_name,
            date_of_birth=date(
                market.market_date.year - rng.randint(22, 70), rng.randint(1, 12), 1
            ),
            kyc_completed_at=opened_at,
            harvest_auto=rng.random() < 0.2,
        )
        for user in users
    ]
    Client.objects.bulk_create(clients)
    responses, assessments, client_level = [], [], {}
    for client in clients:
        answers = _answers(rng, question_set)
        score = risk.answers_score(question_set, answers)
        decision = score.decision
        response = QuestionnaireResponse(
            client=client,
            version=question_set.version,
            answers=answers,
            submitted_at=opened_at,
            model_opinion=QuestionnaireResponse.ModelOpinion.UNAVAILABLE,
        )
        responses.append(response)
        flags: Sequence[Flag] = decision.flags
        assessments.append(
            RiskAssessment(
                response=response,
                method=RiskAssessment.RULES_METHOD,
                risk_level=decision.level,
                willingness_score=score.willingness_score,
                capacity_score=score.capacity_score,
                inconsistent=score.inconsistent,
                flags=[{"code": f.code, "message": f.message} for f in flags],
                details=score.as_details(),
            )
        )
        client_level[id(client)] = decision.level
        levels[decision.level] += 1
    QuestionnaireResponse.objects.bulk_create(responses)
    RiskAssessment.objects.bulk_create(assessments)

    plans: list[_Plan] = []
    today = market.market_date
    for client, goals in zip(clients, sizes, strict=True):
        has_ira = False
        for index in range(goals):
            goal_type = str(_pick(rng, [(t, s) for t, s, _ in GOAL_TYPES]))
            ira = (
                goal_type == "retirement" and not has_ira and rng.random() < IRA_SHARE_OF_RETIREMENT
            )
            has_ira = has_ira or ira
            account_type = (
                rng.choice([Goal.AccountType.TRADITIONAL_IRA, Goal.AccountType.ROTH_IRA])
                if ira
                else Goal.AccountType.TAXABLE
            )
            initial = _lognormal_money(rng, INITIAL_MEDIAN, INITIAL_SIGMA, *INITIAL_RANGE)
            contributes = rng.random() < CONTRIBUTING_SHARE
            monthly = (
                _lognormal_money(rng, MONTHLY_MEDIAN, MONTHLY_SIGMA, *MONTHLY_RANGE)
                if contributes
                else Decimal("0.00")
            )
            target_date = _add_years(today, _horizon(rng, goal_type))
            goal = Goal(
                client=client,
                goal_type=goal_type,
                name=f"{goal_type.replace('_', ' ').capitalize()} {index + 1}",
                target_amount=money(
                    max(initial * 3, (initial + monthly * 12 * (target_date.year - today.year)))
                    * Decimal("1.2")
                ),
                target_date=target_date,
                initial_amount=initial,
                monthly_contribution=monthly,
                priority=str(_pick(rng, PRIORITIES)),
                account_type=account_type,
            )
            opens = rng.randrange(len(market.firsts))
            withdraws = rng.random() < WITHDRAWING_SHARE and opens + 1 < len(market.firsts)
            plans.append(
                _Plan(
                    goal=goal,
                    level=client_level[id(client)],
                    opens=opens,
                    initial=initial,
                    monthly=monthly,
                    recurring_day=(
                        rng.randint(1, 28)
                        if contributes and rng.random() < RECURRING_SHARE
                        else None
                    ),
                    withdraws_in=rng.randrange(opens + 1, len(market.firsts))
                    if withdraws
                    else None,
                    ira=ira,
                )
            )
    Goal.objects.bulk_create([p.goal for p in plans])
    accounts = [Account(client=p.goal.client, goal=p.goal, currency="USD") for p in plans]
    Account.objects.bulk_create(accounts)

    book = Book()
    ira_used: dict[tuple[int, int], Decimal] = defaultdict(Decimal)  # (client id, year)
    fee_days = {day: period for period, day in market.fee_months.items()}
    for plan, account in zip(plans, accounts, strict=True):
        ledger = Ledger(account=account, book=book, market=market)
        opened = market.firsts[plan.opens]
        withdraw_day = market.firsts[plan.withdraws_in] if plan.withdraws_in is not None else None
        events: list[tuple[date, int, str]] = [
            (day, 1, "deposit") for day in market.firsts[plan.opens :]
        ]
        events += [(day, 0, "fee") for day in fee_days if day >= opened]
        if withdraw_day is not None:
            events.append((withdraw_day, 2, "withdraw"))
        for day, _, kind in sorted(events):
            if kind == "fee":
                ledger.fee(period=fee_days[day], day=day, rate=rate)
            elif kind == "withdraw":
                share = Decimal(str(round(rng.uniform(*WITHDRAWAL_RANGE), 4)))
                ledger.withdraw(share=share, day=day, account_type=plan.goal.account_type)
            else:
                amount = plan.initial if day == opened else plan.monthly
                if plan.ira:
                    key = (account.client_id, day.year)
                    room = ira_limit(year=day.year, age=None) - ira_used[key]
                    amount = min(amount, room)
                    ira_used[key] += max(amount, Decimal(0))
                if amount >= CENT:
                    years = max((plan.goal.target_date - day).days / 365.25, 0.0)
                    level = targets.glide_level(
                        risk_level=plan.level, goal_type=plan.goal.goal_type, years_to_goal=years
                    )
                    ledger.deposit(amount=amount, day=day, weights=market.by_level[level])
        ledger.positions()
        if plan.recurring_day is not None:
            book.recurring.append(
                RecurringDeposit(
                    account=account,
                    amount=plan.monthly,
                    day_of_month=plan.recurring_day,
                    next_run=_next_on(today, plan.recurring_day),
                )
            )
    Transaction.objects.bulk_create(book.transactions, batch_size=2000)
    Entry.objects.bulk_create(book.entries, batch_size=2000)
    Lot.objects.bulk_create(book.lots, batch_size=2000)
    LotSale.objects.bulk_create(book.sales, batch_size=2000)
    Position.objects.bulk_create(book.positions, batch_size=2000)
    RecurringDeposit.objects.bulk_create(book.recurring, batch_size=2000)
    for account in accounts:  # the cash written above was the materialised balance's default
        account.cash = money(account.cash)
    Account.objects.bulk_update(accounts, ["cash"], batch_size=2000)
    counts["accounts"] += len(accounts)
    counts["transactions"] += len(book.transactions)
    counts["entries"] += len(book.entries)
    counts["lots"] += len(book.lots)
    counts["recurring"] += len(book.recurring)


@transaction.atomic
def book_clear() -> int:
    """Delete every synthetic client and all that hangs off them (their ledgers included), in
    dependency order. Idempotent. Returns the clients removed."""
    users = User.objects.filter(email__endswith=SYNTH_DOMAIN)
    clients = Client.objects.filter(user__in=users)
    accounts = Account.objects.filter(client__in=clients)
    WashSale.objects.filter(sale__account__in=accounts).delete()
    WashSale.objects.filter(replacement__account__in=accounts).delete()
    LotSale.objects.filter(account__in=accounts).delete()
    FeeOwed.objects.filter(account__in=accounts).delete()
    RebalanceProposal.objects.filter(account__in=accounts).delete()
    TaxHarvest.objects.filter(account__in=accounts).delete()
    RiskFigures.objects.filter(account__in=accounts).delete()
    LedgerBreak.objects.filter(account__in=accounts).delete()
    Lot.objects.filter(account__in=accounts).delete()
    Entry.objects.filter(account__in=accounts).delete()
    Position.objects.filter(account__in=accounts).delete()
    RecurringDeposit.objects.filter(account__in=accounts).delete()
    WithdrawalHold.objects.filter(client__in=clients).delete()
    Document.objects.filter(client__in=clients).delete()
    Transaction.objects.filter(account__in=accounts).delete()
    accounts.delete()
    removed = clients.count()
    users.delete()  # cascades to clients, goals, questionnaires, notifications
    return removed
