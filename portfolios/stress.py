"""Stress tests of today's holdings: historical scenarios replayed, hypothetical shocks applied,
the loss a client said they could bear, and the sentence a client reads.

Pure computation on numpy (no Django): a `MarketHistory` of total-return levels and a matrix of
today's weights (subjects × funds, what a row leaves below 1 is cash) in, frozen dataclasses out,
for every subject in one pass.

**Historical scenarios** (`HISTORICAL`): today's holdings are bought at the close of the window's
first day (the last close on or before it) and held, unrebalanced, to its last day; each fund
follows its own total-return path (distributions reinvested), cash stays flat. The path is the
portfolio's value each market date relative to the start (1.0 = today's value); the scenario's
loss is its lowest point, 1 − min(path), and `end_change` where it ended. A subject holding a
fund that has no level on the first day gets no result (None) for that scenario.

- 2008 financial crisis: 2008-09-01 → 2009-03-09 (Lehman's month to the S&P 500's low).
- 2013 taper tantrum: 2013-05-21 → 2013-06-24 (Bernanke's testimony to the Treasury sell-off's
  peak: bonds and emerging markets fell together).
- 2020 COVID crash: 2020-02-19 → 2020-03-23 (the S&P 500's peak to its low).
- 2022 rate shock: 2022-01-03 → 2022-10-14 (stocks and bonds fell together as rates rose).

**Hypothetical shocks** (`HYPOTHETICAL`), instantaneous, first order; funds not named are 0:

- Equities −30%: each equity and REIT fund (us_equity, intl_developed_equity, emerging_equity,
  real_estate) moves −30% × its beta to VTI (daily returns over the history, `risk.fund_betas`:
  shipped data EFA ≈ 0.99, EEM ≈ 1.18, VNQ ≈ 1.18), VTI itself −30%. Bonds, gold and cash are
  not moved: their betas are near 0 and their sign in a crash varies (Treasuries rose in 2008
  and 2020, fell in 2022), so no gain is counted.
- Rates +200 bp: a bond fund's price change ≈ −effective duration × 2% (first order, convexity
  ignored; Fabozzi, *Bond Markets, Analysis and Strategies*, ch. 4). Durations
  (`EFFECTIVE_DURATION`, years) are approximate values from the issuers' fact sheets of 2023
  (iShares: SHY 1.9, IEF 7.5, AGG 6.0, LQD 8.5, TIP 6.8; SPDR: BIL 0.1; Vanguard BND, like AGG,
  6.0); check them before relying on them, they drift as the funds' holdings change. REITs
  (VNQ, IYR) "partly": 3.0, our assumption (about half of AGG's), not a fact-sheet figure:
  REITs are rate-sensitive through their financing, less than bonds. Equities and gold: 0.
- Gold −20%: GLD −20%.

**Tolerance** (`loss_tolerance`): the largest loss the client said they could bear, from the
risk questionnaire's answers with explicit figures: `portfolio_choice` (its worst year: 0%, 8%,
18% or 28%), `loss_reaction` (a 20% fall in a month: holding or buying more means 20% is
bearable, selling everything means it is not) and `loss_impact` (losing a third: a minor or no
effect means 33% is bearable, a severe or significant one means it is not). The tolerance is
the largest loss an answer accepts (0% when none does), capped one percent below the smallest
loss an answer refuses (a refusal wins over an acceptance: the cautious reading). A scenario loss
exceeds it when, rounded to a whole percent as the client is shown it, it is larger.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from advisor.suitability import loss_percent, loss_within

from .risk import MarketHistory, RiskMeasures, levels_filled
from .targets import HOLDABLE

PATH_DECIMALS = 4
FIGURE_DECIMALS = 6


@dataclass(frozen=True)
class HistoricalScenario:
    key: str
    name: str
    start: date
    end: date
    phrase: str  # "In a year like 2008": how the client's sentence opens


HISTORICAL: tuple[HistoricalScenario, ...] = (
    HistoricalScenario(
        "crisis_2008",
        "2008 financial crisis",
        date(2008, 9, 1),
        date(2009, 3, 9),
        "In a year like 2008",
    ),
    HistoricalScenario(
        "taper_2013",
        "2013 taper tantrum",
        date(2013, 5, 21),
        date(2013, 6, 24),
        "In a bond scare like the 2013 taper tantrum",
    ),
    HistoricalScenario(
        "covid_2020",
        "2020 COVID crash",
        date(2020, 2, 19),
        date(2020, 3, 23),
        "In a crash like March 2020",
    ),
    HistoricalScenario(
        "rates_2022",
        "2022 rate shock",
        date(2022, 1, 3),
        date(2022, 10, 14),
        "In a year like 2022, when interest rates rose fast,",
    ),
)

EQUITY_CLASSES = frozenset({"us_equity", "intl_developed_equity", "emerging_equity", "real_estate"})
EQUITY_SHOCK = -0.30
RATE_SHOCK = 0.02  # +200 bp
GOLD_SHOCK = -0.20
EFFECTIVE_DURATION: dict[str, float] = {
    "BIL": 0.1,
    "SHY": 1.9,
    "AGG": 6.0,
    "BND": 6.0,
    "TIP": 6.8,
    "IEF": 7.5,
    "LQD": 8.5,
    "VNQ": 3.0,  # an assumption, see the module docstring
    "IYR": 3.0,
}


@dataclass(frozen=True)
class Shock:
    key: str
    name: str
    phrase: str
    mapping: str  # how it reaches the funds, in words


HYPOTHETICAL: tuple[Shock, ...] = (
    Shock(
        "equities_down_30",
        "Equities −30%",
        "If stock markets fell 30%",
        "each equity and REIT fund −30% × its beta to VTI; bonds, gold and cash unchanged",
    ),
    Shock(
        "rates_up_200bp",
        "Interest rates +200 bp",
        "If interest rates rose by 2 percentage points",
        "each bond fund −effective duration × 2% (issuers' fact sheets); REITs −3 × 2%",
    ),
    Shock("gold_down_20", "Gold −20%", "If gold fell 20%", "GLD −20%"),
)


def shock_moves(
    tickers: Sequence[str], betas: np.ndarray | Sequence[float]
) -> dict[str, np.ndarray]:
    """Each hypothetical shock as a fund → price change vector over `tickers`."""
    equity = np.zeros(len(tickers))
    rates = np.zeros(len(tickers))
    gold = np.zeros(len(tickers))
    for i, ticker in enumerate(tickers):
        beta = float(betas[i]) if math.isfinite(betas[i]) else 1.0
        if HOLDABLE.get(ticker) in EQUITY_CLASSES:
            equity[i] = EQUITY_SHOCK * (1.0 if ticker == "VTI" else beta)
        rates[i] = -EFFECTIVE_DURATION.get(ticker, 0.0) * RATE_SHOCK
        if HOLDABLE.get(ticker) == "gold":
            gold[i] = GOLD_SHOCK
    return {"equities_down_30": equity, "rates_up_200bp": rates, "gold_down_20": gold}


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario on one subject. Fractions of today's value; a loss is positive."""

    key: str
    name: str
    kind: str  # "historical" or "hypothetical"
    start: date | None
    end: date | None
    change: float  # at the scenario's worst point (historical) or after the shock: ≤ 0 a loss
    end_change: float | None  # historical: where the window ended
    worst_day: date | None
    dates: tuple[date, ...] = ()
    path: tuple[float, ...] = ()  # value relative to the start, one per date

    @property
    def loss(self) -> float:
        return max(0.0, -self.change)

    def as_dict(self, *, path: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "change": self.change,
            "end_change": self.end_change,
            "loss": round(self.loss, FIGURE_DECIMALS),
            "worst_day": self.worst_day.isoformat() if self.worst_day else None,
        }
        if path:
            data["dates"] = [d.isoformat() for d in self.dates]
            data["path"] = list(self.path)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScenarioResult:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            key=data["key"],
            name=data["name"],
            kind=data["kind"],
            start=day(data.get("start")),
            end=day(data.get("end")),
            change=float(data["change"]),
            end_change=data.get("end_change"),
            worst_day=day(data.get("worst_day")),
            dates=tuple(date.fromisoformat(d) for d in data.get("dates", ())),
            path=tuple(data.get("path", ())),
        )


def _historical(
    history: MarketHistory, levels: np.ndarray, weights: np.ndarray, scenario: HistoricalScenario
) -> list[ScenarioResult | None]:
    count = weights.shape[0]
    dates = np.array(history.dates, dtype="datetime64[D]")
    start, end = np.datetime64(scenario.start), np.datetime64(scenario.end)
    if len(dates) == 0 or dates[0] > start or dates[-1] < end:
        return [None] * count  # the history does not cover the window
    first = int(np.searchsorted(dates, start, side="right")) - 1  # last close on or before start
    last = int(np.searchsorted(dates, end, side="right")) - 1
    window = levels[first : last + 1]
    base = window[0]
    missing = np.isnan(base)
    relative = np.where(missing, 0.0, window / np.where(missing, 1.0, base))
    relative = np.nan_to_num(relative, nan=0.0)
    cash = 1.0 - weights.sum(axis=1)
    paths = weights @ relative.T + cash[:, None]  # subjects × days
    usable = np.asarray(~(weights[:, missing] > 0).any(axis=1))
    worst = paths.argmin(axis=1)
    days = tuple(history.dates[first : last + 1])
    rounded = np.round(paths, PATH_DECIMALS)
    results: list[ScenarioResult | None] = []
    for i in range(count):
        if not usable[i]:
            results.append(None)
            continue
        results.append(
            ScenarioResult(
                key=scenario.key,
                name=scenario.name,
                kind="historical",
                start=scenario.start,
                end=scenario.end,
                change=round(float(paths[i, worst[i]]) - 1.0, FIGURE_DECIMALS) + 0.0,
                end_change=round(float(paths[i, -1]) - 1.0, FIGURE_DECIMALS) + 0.0,
                worst_day=days[worst[i]],
                dates=days,
                path=tuple(rounded[i].tolist()),
            )
        )
    return results


def stress_tests(
    history: MarketHistory, weights: np.ndarray, betas: np.ndarray | Sequence[float]
) -> list[list[ScenarioResult]]:
    """Every scenario on every subject (a row of `weights`, columns as `history.tickers`); a
    historical scenario the history cannot replay for a subject is left out of its list."""
    if weights.ndim != 2 or weights.shape[1] != len(history.tickers):
        raise ValueError("weights must be subjects × the history's tickers")
    levels = levels_filled(history.levels)
    per_subject: list[list[ScenarioResult]] = [[] for _ in range(weights.shape[0])]
    for scenario in HISTORICAL:
        for i, result in enumerate(_historical(history, levels, weights, scenario)):
            if result is not None:
                per_subject[i].append(result)
    moves = shock_moves(history.tickers, betas)
    for shock in HYPOTHETICAL:
        changes = weights @ moves[shock.key]
        for i in range(weights.shape[0]):
            per_subject[i].append(
                ScenarioResult(
                    key=shock.key,
                    name=shock.name,
                    kind="hypothetical",
                    start=None,
                    end=None,
                    change=round(float(changes[i]), FIGURE_DECIMALS) + 0.0,
                    end_change=None,
                    worst_day=None,
                )
            )
    return per_subject


def worst_scenario(results: Sequence[ScenarioResult]) -> ScenarioResult | None:
    """The scenario with the largest loss (the first listed on a tie)."""
    return max(results, key=lambda r: r.loss, default=None)


# --- In words ---------------------------------------------------------------------------------

PHRASES: dict[str, str] = {s.key: s.phrase for s in HISTORICAL} | {
    s.key: s.phrase for s in HYPOTHETICAL
}


# A fraction as the whole percent a client is shown (half up): the suitability policy's own
# function, so the stress check and the stress cap compare the same numbers.
percent = loss_percent


def _money(amount: Decimal) -> str:
    return f"${amount:,.0f}"


def risk_text(
    figures: RiskMeasures | None,
    stress: Sequence[ScenarioResult],
    *,
    value: Decimal | None = None,
    subject: str = "this goal's portfolio",
) -> str:
    """What a client reads: the worst historical scenario replayed on today's holdings and,
    from the same history, the one-year loss exceeded in one year out of twenty."""
    sentences: list[str] = []
    historical = [r for r in stress if r.kind == "historical"]
    worst = worst_scenario(historical) or worst_scenario(stress)
    if worst is not None:
        phrase = PHRASES.get(worst.key, f"In a scenario like the {worst.name}")
        if percent(worst.loss) == 0:
            sentences.append(f"{phrase} {subject} would have held its value.")
        else:
            amount = ""
            if value is not None and value > 0:
                lost = value * Decimal(str(worst.loss))
                amount = f", about {_money(lost)} of today's {_money(value)}"
            verb = "could have fallen" if worst.kind == "historical" else "could fall"
            sentences.append(f"{phrase} {subject} {verb} about {percent(worst.loss)}%{amount}.")
    year = figures.horizons.get("1y") if figures is not None else None
    var = None
    if year is not None:
        var = year.var_historical if year.var_historical is not None else year.var_parametric
    if var is not None and figures is not None and figures.start and figures.end:
        span = f"{figures.start.year}–{figures.end.year}"
        if percent(var) == 0 or var < 0:
            sentences.append(
                f"Judged by {span}, even its worst year in twenty ended about level or up."
            )
        else:
            sentences.append(
                f"Judged by {span}, in about one year out of twenty it could lose "
                f"{percent(var)}% or more."
            )
    return " ".join(sentences)


# --- The loss a client said they could bear ---------------------------------------------------

# answer → (a loss it accepts, a loss it refuses); None where the answer says neither.
TOLERANCE_ANSWERS: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "portfolio_choice": {
        "capital_stable": (0.0, None),
        "moderate": (0.08, None),
        "growth": (0.18, None),
        "high_growth": (0.28, None),
    },
    "loss_reaction": {
        "sell_all": (None, 0.20),
        "sell_some": (None, None),
        "hold": (0.20, None),
        "buy_more": (0.20, None),
    },
    "loss_impact": {
        "severe": (None, 0.33),
        "significant": (None, 0.33),
        "minor": (0.33, None),
        "none": (0.33, None),
    },
}


REFUSED_MARGIN = 0.01


@dataclass(frozen=True)
class Tolerance:
    loss: float  # the largest loss the answers accept, as a fraction
    basis: tuple[str, ...]  # the answers it was read from, "question=choice"


def loss_tolerance(answers: Mapping[str, str]) -> Tolerance | None:
    """The loss a client can bear, read from their questionnaire answers (module docstring);
    None when none of the questions with figures was answered."""
    accepted: list[float] = []
    refused: list[float] = []
    basis: list[str] = []
    for question, choices in TOLERANCE_ANSWERS.items():
        answer = answers.get(question)
        if answer not in choices:
            continue
        basis.append(f"{question}={answer}")
        accepts, refuses = choices[answer]
        if accepts is not None:
            accepted.append(accepts)
        if refuses is not None:
            refused.append(refuses)
    if not basis:
        return None
    loss = max(accepted, default=0.0)
    if refused:  # a refused loss caps the tolerance one percent below it
        loss = min(loss, min(refused) - REFUSED_MARGIN)
    return Tolerance(loss=loss, basis=tuple(basis))


def exceeds(loss: float, tolerance: Tolerance) -> bool:
    """Whether a scenario loss is above the tolerance, both as whole percents shown (the rule
    the suitability policy's stress cap applies)."""
    return not loss_within(loss, tolerance.loss)
