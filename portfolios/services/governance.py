"""The governance report of a model-portfolio set: the evidence the investment committee reads
before approving it (issue #16), and the rule that a set is not approved without it.

`governance_report_build` backtests the set's method walk-forward (re-estimated yearly from the
prices known at each date, held out of sample with the drift band; `portfolios.walkforward`
says how) and holds the set's own weights over the whole history (in sample, labelled so), then
stores the figures and a plain-language verdict once per set. The admin page of the set, the
JSON API and `manage.py governance_report` all read the stored figures through
`governance_report_get` and format them with `report_table`: one figure, one computation.

The backtest needs pandas and skfolio (the ml worker's imports); they are imported inside the
build only, so the admin and the API, which read stored figures, never load them."""

import logging
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.errors import NotFound

from ..exceptions import GovernanceHistoryInsufficient, GovernanceMethodUnknown
from ..models import GovernanceReport, ModelPortfolioSet
from .risk import market_history_read

logger = logging.getLogger(__name__)

# The estimation methods the walk-forward can replay (MarketAssumptions.method): production's.
WALK_FORWARD_METHODS = frozenset({"ledoit-wolf+equilibrium-blend"})
# The sensitivity run: the same estimator on a rolling window this many years long.
SENSITIVITY_LOOKBACK_YEARS = 5
FIGURE_DECIMALS = 6
# The extended run: the universe's older history (portfolios/data/early, from 2004-11-18, the
# first close of GLD; BIL proxied by 3-month T-bills before 2007-05-30) joined before the
# shipped one, so the walk-forward holds the 2008 crisis out of sample. Three years of history
# before the first rebuild (2007-11-19) rather than five: five would start it after the crash.
EARLY_HISTORY = Path(__file__).resolve().parent.parent / "data" / "early" / "total_returns.csv"
EXTENDED_MIN_HISTORY_YEARS = 3
EXTENDED_PROXIES = (
    "BIL (1-3 month T-bills, launched 2007-05-30): before then, the 3-month Treasury bill "
    "rate (FRED DGS3MO) compounded daily",
)


# --- Reads --------------------------------------------------------------------------------------


def governance_report_get(*, version: int) -> GovernanceReport:
    """The stored report of the set with this version; 404 when the set or its report is
    missing (the report is computed after the set is built)."""
    report = (
        GovernanceReport.objects.select_related("portfolio_set")
        .filter(portfolio_set__version=version)
        .first()
    )
    if report is None:
        raise NotFound(f"No governance report for model portfolios v{version}.")
    return report


def governance_report_require(*, portfolio_set: ModelPortfolioSet) -> GovernanceReport:
    """The set's report, or a ValidationError saying approval waits for it (the admin's approve
    path calls this before the lifecycle decision)."""
    report = GovernanceReport.objects.filter(portfolio_set=portfolio_set).first()
    if report is None:
        raise ValidationError(
            {
                "governance_report": [
                    f"Model portfolios v{portfolio_set.version} has no governance report yet: "
                    "the committee approves a set only with its walk-forward backtest. It is "
                    "computed after the set is built, or now with `python manage.py "
                    f"governance_report --version {portfolio_set.version}`."
                ]
            }
        )
    return report


@dataclass(frozen=True)
class Table:
    """A report section as display strings: a header row and one row per level."""

    title: str
    period: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (key, header, format): p = percent, s = signed percent, r = ratio, n = count
    ("annual_return", "Annual return", "p"),
    ("volatility", "Volatility", "p"),
    ("max_drawdown", "Max drawdown", "p"),
    ("worst_12_months", "Worst 12 months", "s"),
    ("sharpe", "Sharpe", "r"),
    ("turnover", "Turnover / yr", "p"),
    ("rebalances", "Rebalances", "n"),
    ("growth_share", "Stock share", "p"),
    ("benchmark_return", "Benchmark return", "p"),
    ("return_difference", "Return difference", "s"),
    ("tracking_error", "Tracking error", "p"),
)


def report_table(figures: dict[str, Any], section: str) -> Table:
    """Levels × metrics of `section` ("out_of_sample", "in_sample" or "sensitivity") as text,
    for the admin page and the command."""
    part = figures[section]
    titles = {
        "out_of_sample": "Walk-forward, out of sample (re-estimated yearly)",
        "in_sample": "This set's own weights over the whole history (IN SAMPLE: flattering)",
        "sensitivity": (
            f"Sensitivity: a rolling {SENSITIVITY_LOOKBACK_YEARS}-year estimation window, "
            "out of sample"
        ),
        "extended": (
            "Extended walk-forward through 2008, out of sample (history from "
            f"{part.get('history_start', '2004-11-18')}; PROXY: BIL before 2007-05-30 is the "
            "T-bill rate)"
        ),
    }
    rows = tuple(
        (str(row["level"]), *(_cell(row.get(key), kind) for key, _, kind in COLUMNS))
        for row in part["levels"]
    )
    return Table(
        title=titles[section],
        period=f"{part['start']} to {part['end']}",
        headers=("Level", *(header for _, header, _ in COLUMNS)),
        rows=rows,
    )


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "n":
        return str(value)
    if kind == "r":
        return f"{value:.2f}"
    if kind == "s":
        return f"{value:+.1%}"
    return f"{value:.1%}"


# --- The build ----------------------------------------------------------------------------------


def governance_report_build(
    *, portfolio_set: ModelPortfolioSet, extended: bool = True
) -> GovernanceReport:
    """Backtest the set's method and store its report; a set that has one keeps it (the evidence
    its approvers saw), so a rerun changes nothing. A few seconds on the shipped history.
    `extended`: add the longer run from the older history (EARLY_HISTORY) when it joins the
    loaded one; the report says so when it does not."""
    existing = GovernanceReport.objects.filter(portfolio_set=portfolio_set).first()
    if existing is not None:
        return existing
    through, figures = _figures_compute(portfolio_set=portfolio_set, extended=extended)
    return _report_store(portfolio_set=portfolio_set, through=through, figures=figures)


def governance_report_build_for(*, portfolio_set_id: int) -> GovernanceReport:
    """The task's entry: the report of the set with this id."""
    portfolio_set = ModelPortfolioSet.objects.select_related("assumptions").get(pk=portfolio_set_id)
    return governance_report_build(portfolio_set=portfolio_set)


@transaction.atomic
def _report_store(
    *, portfolio_set: ModelPortfolioSet, through: date, figures: dict[str, Any]
) -> GovernanceReport:
    """Store once: the set's row is locked, so two builds racing store one report."""
    from ..walkforward import WALK_FORWARD_VERSION

    ModelPortfolioSet.objects.select_for_update().get(pk=portfolio_set.pk)
    existing = GovernanceReport.objects.filter(portfolio_set=portfolio_set).first()
    if existing is not None:
        return existing
    report = GovernanceReport(
        portfolio_set=portfolio_set,
        method=WALK_FORWARD_VERSION,
        prices_through=through,
        figures=figures,
        computed_at=timezone.now(),
    )
    report.full_clean()
    report.save()
    logger.info("governance report stored", extra={"version": portfolio_set.version})
    return report


def _figures_compute(
    *, portfolio_set: ModelPortfolioSet, extended: bool = True
) -> tuple[date, dict[str, Any]]:
    """Walk-forward (production's lookback, and a rolling 5-year sensitivity run), optionally
    the extended walk-forward from the older history, and in-sample figures per level from the
    total-return levels up to the set's assumptions' date."""
    import pandas as pd  # the ml worker's imports: keep them out of web processes

    from .. import walkforward

    assumptions = portfolio_set.assumptions
    if assumptions.method not in WALK_FORWARD_METHODS:
        raise GovernanceMethodUnknown(
            f"Model portfolios v{portfolio_set.version} were estimated by "
            f"'{assumptions.method}', which the walk-forward cannot replay."
        )
    history = market_history_read(through=assumptions.prices_through)
    prices = pd.DataFrame(
        history.levels, index=pd.DatetimeIndex(history.dates), columns=list(history.tickers)
    )
    threshold = float(settings.REBALANCE_DRIFT_THRESHOLD)
    try:
        walk = walkforward.walk_forward_run(prices, threshold=threshold)
        rolling = walkforward.walk_forward_run(
            prices, threshold=threshold, lookback_years=SENSITIVITY_LOOKBACK_YEARS
        )
        weights = {
            p.level: {t: float(w) for t, w in p.weights.items()}
            for p in portfolio_set.portfolios.all()
        }
        own = walkforward.in_sample_run(prices, weights, threshold=threshold)
        longer = _extended_run(prices, threshold=threshold) if extended else None
    except ValueError as exc:  # too little history, a gap, a fund without prices
        raise GovernanceHistoryInsufficient(
            f"Model portfolios v{portfolio_set.version} cannot be backtested: {exc}"
        ) from exc
    start = next(iter(own.values())).start if own else walk.start
    end = next(iter(own.values())).end if own else walk.end
    out_of_sample = walk.as_dict()
    in_sample = {
        "start": start,
        "end": end,
        "levels": [{"level": lv, **f.as_dict()} for lv, f in sorted(own.items())],
    }
    figures: dict[str, Any] = {
        "version": walkforward.WALK_FORWARD_VERSION,
        "method": assumptions.method,
        "prices": {"start": prices.index[0].date().isoformat(), "end": end, "days": len(prices)},
        "risk_free": "BIL's total return (1-3 month US T-bills)",
        "benchmark": (
            "VTI/AGG at the level's average share of growth assets (equities, REITs, gold), "
            "traded back to that mix at each month's last close"
        ),
        "out_of_sample": out_of_sample,
        "sensitivity": rolling.as_dict(),
        "in_sample": in_sample,
        "verdict": _verdict(out_of_sample, rolling.as_dict(), in_sample),
    }
    if longer is not None:
        figures["extended"] = longer
        figures["verdict"]["lines"] += _extended_lines(longer)
    return assumptions.prices_through, _json_ready(figures)


def early_history_read() -> Any:
    """The older total-return levels shipped in portfolios/data/early (a pandas DataFrame)."""
    import pandas as pd

    return pd.read_csv(EARLY_HISTORY, index_col="date", parse_dates=["date"]).astype(float)


def _extended_run(prices: Any, *, threshold: float) -> dict[str, Any] | None:
    """The walk-forward on the older history joined before `prices`; None when the two do not
    join (a history loaded from another source, or not starting on 2008-01-02)."""
    from .. import walkforward

    joined = walkforward.history_extend(early_history_read(), prices)
    if joined is None:
        logger.info("extended walk-forward skipped: the early history does not join")
        return None
    run = walkforward.walk_forward_run(
        joined, threshold=threshold, min_history_years=EXTENDED_MIN_HISTORY_YEARS
    )
    return {
        **run.as_dict(),
        "history_start": joined.index[0].date().isoformat(),
        "proxies": list(EXTENDED_PROXIES),
        "source": "portfolios/data/early (AssetAllocation R package data, GPL >= 3)",
    }


def _extended_lines(extended: dict[str, Any]) -> list[str]:
    """The extended run in words, labelled with its proxy."""
    from ..walkforward import is_monotone

    rows = sorted(extended["levels"], key=lambda row: row["level"])
    first, last = rows[0], rows[-1]
    vols = [row["volatility"] for row in rows]
    rises = "rising with every level" if is_monotone(vols) else "NOT rising with every level"
    worst = last.get("worst_12_months")
    worst_text = f"; worst 12 months {worst:+.1%} at level {last['level']}" if worst else ""
    return [
        f"In the extended run (out of sample {extended['start']} to {extended['end']}, through "
        "the 2008 crisis; history from "
        f"{extended['history_start']}, BIL proxied by T-bills before 2007-05-30): volatility "
        f"from {first['volatility']:.1%} (level {first['level']}) to {last['volatility']:.1%} "
        f"(level {last['level']}), {rises}; largest fall from a peak "
        f"{first['max_drawdown']:.0%} at level {first['level']} to {last['max_drawdown']:.0%} "
        f"at level {last['level']}{worst_text}."
    ]


def _verdict(
    out_of_sample: dict[str, Any], rolling: dict[str, Any], in_sample: dict[str, Any]
) -> dict[str, Any]:
    """Plain-language lines and the two checks an approver looks at first."""
    from ..walkforward import is_monotone, verdict_lines

    levels = {row["level"]: row for row in out_of_sample["levels"]}
    order = sorted(levels)
    vols = [levels[lv]["volatility"] for lv in order]
    falls = [levels[lv]["max_drawdown"] for lv in order]
    period = f"out of sample ({out_of_sample['start']} to {out_of_sample['end']}, rebuilt yearly)"
    lines = verdict_lines(levels, period=period)
    rolling_vols = [row["volatility"] for row in rolling["levels"]]
    rises = "also rises" if is_monotone(rolling_vols) else "does NOT rise"
    lines.append(
        f"With a rolling {SENSITIVITY_LOOKBACK_YEARS}-year estimation window instead, volatility "
        f"{rises} with every level ({rolling_vols[0]:.1%} to {rolling_vols[-1]:.1%})."
    )
    if in_sample["levels"]:
        lines.append(
            f"This set's own weights over {in_sample['start']} to {in_sample['end']} are in "
            "sample: chosen knowing that history, their figures flatter them; judge the set by "
            "the walk-forward above."
        )
    return {
        "monotone_volatility": is_monotone(vols),
        "monotone_drawdown": is_monotone(falls),
        "lines": lines,
    }


def _json_ready(value: Any) -> Any:
    """Floats rounded to 6 places, non-finite ones as None (JSON has no NaN)."""
    if isinstance(value, float):
        return round(value, FIGURE_DECIMALS) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
