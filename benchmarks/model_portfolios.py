"""Time the ten model portfolios on real prices and print their risk, return and top weights.

Usage: python benchmarks/model_portfolios.py [PRICES_CSV]
PRICES_CSV defaults to portfolios/data/total_returns.csv (wide: date,VTI,EFA,... with ISO dates):
total-return levels, as the app estimates from (prices.csv holds actual closes, which drop on
every ex-date); a path ending in ETFs_TotalReturnIndices.csv is read in that file's M/D/YYYY +
"NA" format.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# Run as a plain script, so the repo root is not on sys.path by default.
sys.path.insert(0, str(ROOT))

from portfolios.allocation import (  # noqa: E402
    UNIVERSE,
    MarketAssumptions,
    ModelPortfolio,
    assumptions_estimate,
    model_portfolios_build,
)

DEFAULT_PRICES = ROOT / "portfolios" / "data" / "total_returns.csv"
RUNS = 5
TOP_WEIGHTS = 4


def prices_read(path: Path) -> pd.DataFrame:
    """Universe price levels indexed by date, from either supported CSV layout."""
    if path.name.endswith("ETFs_TotalReturnIndices.csv"):
        frame = pd.read_csv(path, na_values=["NA"])
        frame["Date"] = pd.to_datetime(frame["Date"], format="%m/%d/%Y")
        frame = frame.set_index("Date")
    else:
        frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    return frame.sort_index()[list(UNIVERSE)]


def build_timed(assumptions: MarketAssumptions) -> tuple[list[ModelPortfolio], list[float]]:
    """Build the ten levels RUNS times; return the last result and each run's seconds."""
    seconds = []
    portfolios: list[ModelPortfolio] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        portfolios = model_portfolios_build(assumptions)
        seconds.append(time.perf_counter() - start)
    return portfolios, seconds


def table(portfolios: list[ModelPortfolio]) -> list[str]:
    """One line per level: vol, expected return and the largest holdings."""
    lines = [f"{'level':>5} {'vol':>7} {'return':>7}  top weights"]
    for p in portfolios:
        top = sorted(p.weights.items(), key=lambda kv: -kv[1])[:TOP_WEIGHTS]
        held = ", ".join(f"{t} {w:.1%}" for t, w in top if w > 0)
        lines.append(f"{p.level:>5} {p.volatility:>7.2%} {p.expected_return:>7.2%}  {held}")
    return lines


def main(argv: list[str]) -> None:
    """Estimate assumptions, time the build, and write the report to stdout."""
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PRICES
    assumptions = assumptions_estimate(prices_read(path))
    portfolios, seconds = build_timed(assumptions)
    lines = [
        f"prices: {path}",
        f"window: {assumptions.start} .. {assumptions.end}, {assumptions.observations} days",
        f"build 10 levels: median {statistics.median(seconds) * 1000:.1f} ms over {RUNS} runs "
        f"(min {min(seconds) * 1000:.1f}, max {max(seconds) * 1000:.1f})",
        *table(portfolios),
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv)
