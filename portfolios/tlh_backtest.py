"""A backtest of tax-loss harvesting over the shipped market data: two accounts side by side, one
harvested and one not, with the same deposits and dividends reinvested, simulated in memory
(no database) at the daily closes of `data/prices.csv` with the cash of `data/distributions.csv`.

The harvested account follows the live rule exactly: the same pure functions
(`services.harvesting.harvest_select`, `switch_back_select`, `sale_of`) with the same thresholds
(settings TLH_*), the alternates of `targets.ALTERNATES`, the 30-day wash-sale window:
- each day, dividends are paid (units held at the close before the ex-date, cash on the pay
  date), deposits are made, then each paired fund held is checked for a harvest (its lots at a
  loss, with those bought in the last 30 days, sold when the net loss passes both thresholds; not
  when buying the partner would wash a loss of its own), then each alternate held for a switch
  back (31 days after the primary's last loss sale, no short-term gain above the cap);
- purchases (deposits, dividends, harvest proceeds) are routed as `services.purchases` does: a
  slot buys its alternate while the account holds it, and a fund sold at a loss in the last 30
  days is swapped for its partner (a "wash sale avoided": the purchase redirected);
- cash is invested like a deposit in the live system: the slots furthest below target first,
  then pro rata to target (`cash_flows._buys`); dollar buys get units rounded up to 8 decimals.

Simplifications, stated in the output too: each demo goal is its own taxable account (wash sales
across a client's accounts are not simulated), the goal's level is held fixed at its level at the
start (no glide path), contributions continue monthly for the whole period (the demo seeding
stops after a year), no periodic rebalancing and no advisory fee (the same for both accounts),
and a harvested loss counts in full in its year (the $3,000 limit against ordinary income and
carry-forwards are ignored). Tax "deferred" is −(net short-term gain × 24% + net long-term gain ×
15%) realised by the harvested account: losses taken now lower the basis, so the tax comes back
when the replacement is sold, unless it never is (held to death or given away)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from advisor.models import Goal
from advisor.tax import DEFAULT_LONG, DEFAULT_SHORT

from . import targets
from .broker import units_for_amount
from .market import DISTRIBUTIONS_FILE, PRICES_FILE, distributions_read, prices_read
from .money import money, money_down, money_value
from .services.harvesting import (
    LotView,
    Sale,
    harvest_select,
    switch_back_select,
)
from .tax import WASH_WINDOW_DAYS

ZERO = Decimal("0.00")

# The mix used when no approved model portfolio is in the database: equities rise with the level
# from 10% (level 1) to 82% (level 10), split 60/30/10 between US stocks, developed markets and
# REITs; 3% in T-bills; the rest in US aggregate bonds. Every fund but BIL has an alternate.
EQUITY_SPLIT = {"VTI": Decimal("0.60"), "EFA": Decimal("0.30"), "VNQ": Decimal("0.10")}
CASH_WEIGHT = Decimal("0.03")


def fixed_weights(level: int) -> dict[str, Decimal]:
    """The documented fallback mix for a level (1..10): see EQUITY_SPLIT."""
    equity = Decimal("0.10") + Decimal("0.08") * (level - 1)
    weights = {ticker: equity * share for ticker, share in EQUITY_SPLIT.items()}
    weights["BIL"] = CASH_WEIGHT
    weights["AGG"] = Decimal(1) - equity - CASH_WEIGHT
    return weights


# --- Inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dividend:
    ticker: str
    ex_date: date
    pay_date: date
    amount: Decimal  # cash per unit


@dataclass(frozen=True)
class MarketData:
    days: tuple[date, ...]
    closes: dict[date, dict[str, Decimal]]
    dividends: tuple[Dividend, ...] = ()


def market_data_read(
    *, prices: Path = PRICES_FILE, distributions: Path | None = DISTRIBUTIONS_FILE
) -> MarketData:
    """The shipped closes and distributions, read with the loader's own checks (no database)."""
    _, rows = prices_read(prices)
    dividends = (
        tuple(
            Dividend(r.ticker, r.ex_date, r.pay_date, r.amount)
            for r in distributions_read(distributions)
        )
        if distributions is not None
        else ()
    )
    closes = {row.day: row.prices for row in rows}
    return MarketData(tuple(sorted(closes)), closes, dividends)


@dataclass(frozen=True)
class Plan:
    """A goal's money: the first deposit, then one each month on its first trading day."""

    name: str
    level: int
    initial: Decimal
    monthly: Decimal


@dataclass(frozen=True)
class Rules:
    min_loss: Decimal
    min_fraction: Decimal
    max_switch_back_gain: Decimal
    short_rate: Decimal = DEFAULT_SHORT
    long_rate: Decimal = DEFAULT_LONG


# --- The simulated account ---------------------------------------------------------------------


@dataclass
class _Lot:
    id: int
    acquired_on: date
    units: Decimal
    basis: Decimal

    def view(self) -> LotView:
        return LotView(self.id, self.acquired_on, self.acquired_on, self.units, self.basis)


@dataclass
class YearStats:
    harvests: int = 0
    switch_backs: int = 0
    harvested_short: Decimal = ZERO  # net gain (negative: a loss) realised by harvests
    harvested_long: Decimal = ZERO
    switch_back_short: Decimal = ZERO  # net gain realised by switch backs
    switch_back_long: Decimal = ZERO
    wash_sales_avoided: int = 0  # purchases redirected to the partner fund
    wash_sales: int = 0  # purchases that washed a loss (both funds blocked): should stay 0

    def as_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in self.__dict__.items()}


@dataclass
class _Account:
    harvest: bool
    cash: Decimal = ZERO
    lots: dict[str, list[_Lot]] = field(default_factory=lambda: defaultdict(list))
    last_loss_sale: dict[str, date] = field(default_factory=dict)
    years: dict[int, YearStats] = field(default_factory=lambda: defaultdict(YearStats))
    next_id: int = 1

    def units(self, ticker: str) -> Decimal:
        return sum((lot.units for lot in self.lots.get(ticker, ())), Decimal(0))

    def holds(self, ticker: str) -> bool:
        return bool(self.lots.get(ticker))

    def exact_value(self, prices: Mapping[str, Decimal]) -> Decimal:
        held = sum((self.units(t) * prices[t] for t, lots in self.lots.items() if lots), Decimal(0))
        return self.cash + held

    def blocked(self, ticker: str, day: date) -> bool:
        """Buying `ticker` on `day` would wash a loss sale of it in the last 30 days."""
        sold = self.last_loss_sale.get(ticker)
        return sold is not None and (day - sold).days <= WASH_WINDOW_DAYS

    def buy(self, ticker: str, amount: Decimal, price: Decimal, day: date) -> None:
        self.cash -= amount
        units = units_for_amount(amount, price)
        self.lots[ticker].append(_Lot(self.next_id, day, units, amount))
        self.next_id += 1

    def sell(self, ticker: str, sale: Sale, day: date) -> None:
        sold = {s.lot.id for s in sale.lots}
        self.lots[ticker] = [lot for lot in self.lots[ticker] if lot.id not in sold]
        self.cash += sale.proceeds
        if sale.gain < 0:
            self.last_loss_sale[ticker] = day

    # Routing, as services.purchases.purchase_ticker does it.
    def purchase_ticker(self, primary: str, day: date) -> str:
        alternate = targets.PRIMARIES.get(primary)
        if not self.harvest or alternate is None:
            return primary
        chosen, other = (alternate, primary) if self.holds(alternate) else (primary, alternate)
        stats = self.years[day.year]
        if self.blocked(chosen, day):
            if not self.blocked(other, day):
                if other != primary:
                    stats.wash_sales_avoided += 1
                return other
            stats.wash_sales += 1
        elif chosen != primary and self.blocked(primary, day):
            stats.wash_sales_avoided += 1  # held the alternate: the loss's window is kept clear
        return chosen

    def invest(self, weights: Mapping[str, Decimal], prices: Mapping[str, Decimal], day: date):
        """Spend the cash on the slots furthest below target first, then pro rata to target."""
        if self.cash < Decimal("1.00"):
            return
        slot_value: dict[str, Decimal] = defaultdict(Decimal)
        for ticker, lots in self.lots.items():
            if lots:
                slot_value[targets.slot(ticker)] += self.units(ticker) * prices[ticker]
        total = self.exact_value(prices)
        cash = self.cash
        shortfall = {t: max(w * total - slot_value[t], Decimal(0)) for t, w in weights.items()}
        need = sum(shortfall.values(), Decimal(0))
        if need >= cash:
            raw = {t: cash * s / need for t, s in shortfall.items()} if need else {}
        else:
            raw = {t: s + (cash - need) * weights[t] for t, s in shortfall.items()}
        for primary, value in sorted(raw.items()):
            amount = money_down(value)
            if amount < Decimal("1.00"):
                continue
            ticker = self.purchase_ticker(primary, day)
            self.buy(ticker, amount, prices[ticker], day)


# --- The simulation ------------------------------------------------------------------------------


@dataclass
class PlanResult:
    plan: Plan
    deposits: Decimal
    ending_harvested: Decimal
    ending_plain: Decimal
    return_harvested: float  # annualised time-weighted return, pre-tax
    return_plain: float
    years: dict[int, YearStats]
    unrealised_harvested: Decimal  # gain left in the harvested account's lots at the end
    unrealised_plain: Decimal

    @property
    def tracking_difference(self) -> float:
        return self.return_harvested - self.return_plain

    def tax_deferred(self, rules: Rules) -> Decimal:
        short = sum((y.harvested_short + y.switch_back_short for y in self.years.values()), ZERO)
        long = sum((y.harvested_long + y.switch_back_long for y in self.years.values()), ZERO)
        return money(-(short * rules.short_rate + long * rules.long_rate))


def _harvest_day(account: _Account, day: date, prices: Mapping[str, Decimal], rules: Rules) -> None:
    stats = account.years[day.year]
    for ticker in sorted(t for t, lots in account.lots.items() if lots):
        partner = targets.PRIMARIES.get(ticker) or targets.ALTERNATES.get(ticker)
        if partner is None or partner not in prices:
            continue
        price = prices[ticker]
        lots = account.lots[ticker]
        # Fast path: no lot at a loss, nothing to check (most days).
        if all(lot.units * price >= lot.basis for lot in lots):
            continue
        sale = harvest_select(
            lots=[lot.view() for lot in lots],
            price=price,
            day=day,
            min_loss=rules.min_loss,
            min_fraction=rules.min_fraction,
            replacement_blocked=account.blocked(partner, day),
        )
        if sale is None:
            continue
        account.sell(ticker, sale, day)
        account.buy(partner, sale.proceeds, prices[partner], day)
        stats.harvests += 1
        stats.harvested_short += sale.short_gain
        stats.harvested_long += sale.long_gain


def _switch_back_day(
    account: _Account, day: date, prices: Mapping[str, Decimal], rules: Rules
) -> None:
    stats = account.years[day.year]
    for alternate, primary in sorted(targets.ALTERNATES.items()):
        if not account.holds(alternate) or primary not in prices:
            continue
        sale = switch_back_select(
            lots=[lot.view() for lot in account.lots[alternate]],
            price=prices[alternate],
            day=day,
            last_loss_sale=account.last_loss_sale.get(primary),
            max_short_gain=rules.max_switch_back_gain,
        )
        if sale is None:
            continue
        account.sell(alternate, sale, day)
        account.buy(primary, sale.proceeds, prices[primary], day)
        stats.switch_backs += 1
        stats.switch_back_short += sale.short_gain
        stats.switch_back_long += sale.long_gain


def _annualised(growth: Decimal, days: int) -> float:
    if days <= 0 or growth <= 0:
        return 0.0
    return float(growth) ** (365.25 / days) - 1.0


def _unrealised(account: _Account, prices: Mapping[str, Decimal]) -> Decimal:
    return money(
        sum(
            (lot.units * prices[t] - lot.basis for t, lots in account.lots.items() for lot in lots),
            Decimal(0),
        )
    )


def plan_run(
    *,
    market: MarketData,
    plan: Plan,
    weights: Mapping[str, Decimal],
    rules: Rules,
    start: date,
    end: date,
) -> PlanResult:
    """One goal's two accounts over [start, end]: harvested and not, the same money in."""
    days = [d for d in market.days if start <= d <= end]
    if not days:
        raise ValueError(f"No market data between {start} and {end}.")
    accounts = (_Account(harvest=True), _Account(harvest=False))
    by_ex: dict[date, list[Dividend]] = defaultdict(list)
    for dividend in market.dividends:
        by_ex[dividend.ex_date].append(dividend)
    ex_dates = sorted(by_ex)
    owed: list[list[tuple[date, Decimal]]] = [[], []]  # (pay date, cash) per account
    growth = [Decimal(1), Decimal(1)]
    previous: list[Decimal | None] = [None, None]
    deposits = ZERO
    month = None
    ex_index = 0
    last_day = None
    for day in days:
        prices = market.closes[day]
        # Distributions whose ex-date fell since the last trading day: units held at that close.
        while ex_index < len(ex_dates) and ex_dates[ex_index] <= day:
            ex = ex_dates[ex_index]
            ex_index += 1
            if last_day is None or ex <= last_day:
                continue
            for dividend in by_ex[ex]:
                for i, account in enumerate(accounts):
                    units = account.units(dividend.ticker)
                    cash = money_down(units * dividend.amount)
                    if cash > 0:
                        owed[i].append((dividend.pay_date, cash))
        # Returns are measured before the day's deposit, the only money from outside. A
        # distribution counts from its ex-date (the close drops by it; the cash is owed).
        for i, account in enumerate(accounts):
            value = account.exact_value(prices) + sum((cash for _, cash in owed[i]), ZERO)
            if previous[i]:
                growth[i] *= value / previous[i]  # type: ignore[operator]
        deposit = ZERO
        if month != (day.year, day.month):
            deposit = plan.initial if month is None else plan.monthly
            month = (day.year, day.month)
        deposits += deposit
        for i, account in enumerate(accounts):
            paid = [cash for pay, cash in owed[i] if pay <= day]
            owed[i] = [(pay, cash) for pay, cash in owed[i] if pay > day]
            account.cash += deposit + sum(paid, ZERO)
            account.invest(weights, prices, day)
            if account.harvest:
                _harvest_day(account, day, prices, rules)
                _switch_back_day(account, day, prices, rules)
            previous[i] = account.exact_value(prices) + sum((cash for _, cash in owed[i]), ZERO)
        last_day = day
    final = market.closes[days[-1]]
    span = (days[-1] - days[0]).days
    harvested, plain = accounts
    return PlanResult(
        plan=plan,
        deposits=deposits,
        ending_harvested=money_value(harvested.exact_value(final)),
        ending_plain=money_value(plain.exact_value(final)),
        return_harvested=_annualised(growth[0], span),
        return_plain=_annualised(growth[1], span),
        years=dict(sorted(harvested.years.items())),
        unrealised_harvested=_unrealised(harvested, final),
        unrealised_plain=_unrealised(plain, final),
    )


@dataclass
class Report:
    start: date
    end: date
    rules: Rules
    weights_source: str
    results: list[PlanResult]

    def years(self) -> dict[int, YearStats]:
        """Every plan's year figures added up."""
        total: dict[int, YearStats] = defaultdict(YearStats)
        for result in self.results:
            for year, stats in result.years.items():
                into = total[year]
                for name, value in stats.__dict__.items():
                    setattr(into, name, getattr(into, name) + value)
        return dict(sorted(total.items()))

    def as_json(self) -> dict[str, Any]:
        r = self.rules
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weights": self.weights_source,
            "rules": {
                "min_loss": str(r.min_loss),
                "min_loss_fraction": str(r.min_fraction),
                "switch_back_max_short_gain": str(r.max_switch_back_gain),
                "tax_rates": {"short": str(r.short_rate), "long": str(r.long_rate)},
            },
            "plans": [
                {
                    "name": p.plan.name,
                    "level": p.plan.level,
                    "deposits": str(p.deposits),
                    "ending_value_harvested": str(p.ending_harvested),
                    "ending_value_unharvested": str(p.ending_plain),
                    "annual_return_harvested": round(p.return_harvested, 6),
                    "annual_return_unharvested": round(p.return_plain, 6),
                    "tracking_difference": round(p.tracking_difference, 6),
                    "tax_deferred": str(p.tax_deferred(r)),
                    "unrealised_gain_harvested": str(p.unrealised_harvested),
                    "unrealised_gain_unharvested": str(p.unrealised_plain),
                    "years": {str(y): s.as_json() for y, s in p.years.items()},
                }
                for p in self.results
            ],
            "years": {str(y): s.as_json() for y, s in self.years().items()},
            "total": {
                "ending_value_harvested": str(
                    sum((p.ending_harvested for p in self.results), ZERO)
                ),
                "ending_value_unharvested": str(sum((p.ending_plain for p in self.results), ZERO)),
                "tax_deferred": str(sum((p.tax_deferred(r) for p in self.results), ZERO)),
            },
        }

    def table(self) -> str:
        """The report as text: the year table (every plan added up), then one line per plan."""
        lines = [
            f"Tax-loss harvesting backtest {self.start} to {self.end} ({self.weights_source})",
            f"{'year':>4} {'harvests':>8} {'short-term':>12} {'long-term':>12} "
            f"{'switch backs':>12} {'sb gains':>10} {'redirected':>10}",
        ]
        for year, s in self.years().items():
            lines.append(
                f"{year:>4} {s.harvests:>8} {s.harvested_short:>12,.2f} "
                f"{s.harvested_long:>12,.2f} {s.switch_backs:>12} "
                f"{s.switch_back_short + s.switch_back_long:>10,.2f} {s.wash_sales_avoided:>10}"
            )
        lines.append("")
        lines.append(
            f"{'plan':<34} {'lvl':>3} {'deposits':>12} {'harvested':>12} {'unharvested':>12} "
            f"{'tracking':>9} {'tax deferred':>12}"
        )
        for p in self.results:
            lines.append(
                f"{p.plan.name[:34]:<34} {p.plan.level:>3} {p.deposits:>12,.2f} "
                f"{p.ending_harvested:>12,.2f} {p.ending_plain:>12,.2f} "
                f"{p.tracking_difference:>+9.3%} {p.tax_deferred(self.rules):>12,.2f}"
            )
        total = self.as_json()["total"]
        lines.append(
            f"{'total':<34} {'':>3} {sum((p.deposits for p in self.results), ZERO):>12,.2f} "
            f"{Decimal(total['ending_value_harvested']):>12,.2f} "
            f"{Decimal(total['ending_value_unharvested']):>12,.2f} {'':>9} "
            f"{Decimal(total['tax_deferred']):>12,.2f}"
        )
        lines.append(
            "Tracking: annualised time-weighted return, harvested minus unharvested, pre-tax. "
            "Tax deferred at 24% short-term / 15% long-term."
        )
        lines.append(
            "Each goal is one taxable account; level fixed; monthly deposits throughout; no "
            "rebalancing or fees; state taxes and the $3,000 loss limit ignored."
        )
        return "\n".join(lines)


def backtest_run(
    *,
    market: MarketData,
    plans: Sequence[Plan],
    weights_by_level: Mapping[int, Mapping[str, Decimal]],
    rules: Rules,
    start: date,
    end: date,
    weights_source: str = "",
) -> Report:
    """Every plan's side-by-side simulation."""
    results = [
        plan_run(
            market=market,
            plan=plan,
            weights=weights_by_level[plan.level],
            rules=rules,
            start=start,
            end=end,
        )
        for plan in plans
    ]
    return Report(start, end, rules, weights_source, results)


def demo_plans() -> list[Plan]:
    """The demo clients' taxable goals (`advisor/management/commands/seed_demo.py`): their opening
    amounts and monthly contributions, at each goal's level on the day the backtest starts
    (the client's risk level from their answers, glided by goal type and years to go)."""
    from advisor import risk
    from advisor.management.commands.seed_demo import DEMO_CLIENTS

    question_set = risk.question_set_get()
    plans = []
    for demo in DEMO_CLIENTS:
        level = risk.answers_score(question_set, demo.answers).risk_level
        for goal in demo.goals:
            if goal.account_type != Goal.AccountType.TAXABLE:
                continue  # no harvesting in an IRA: nothing there is taxed year by year
            goal_level = targets.glide_level(
                risk_level=level, goal_type=goal.goal_type, years_to_goal=goal.years_from_now
            )
            plans.append(
                Plan(
                    name=f"{demo.profile['first_name']}: {goal.name}",
                    level=goal_level,
                    initial=goal.initial_amount or goal.monthly_contribution,
                    monthly=goal.monthly_contribution,
                )
            )
    return plans


def weekdays(start: date, count: int) -> Iterable[date]:
    """`count` weekdays from `start` (a test's hand-made calendar)."""
    day = start
    made = 0
    while made < count:
        if day.weekday() < 5:
            yield day
            made += 1
        day += timedelta(days=1)
