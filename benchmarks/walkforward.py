"""Time the walk-forward backtest of all ten levels over 2008–2023 (issue #16: under a minute on
2 cores) and print its out-of-sample figures.

What is timed, on the shipped total-return history (`portfolios/data/total_returns.csv`, no
database): `walkforward.walk_forward_run` (11 yearly re-estimations with production's estimator
and optimiser, ten levels held with the 3% drift band, figures and VTI/AGG benchmarks), and the
whole of a governance report's computation (that, the rolling 5-year sensitivity run and the
in-sample run of one set's weights), each RUNS times.

Run: .venv/bin/python -m benchmarks.walkforward [PRICES_CSV]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portfolios import walkforward  # noqa: E402
from portfolios.allocation import assumptions_estimate, model_portfolios_build  # noqa: E402

DEFAULT_PRICES = ROOT / "portfolios" / "data" / "total_returns.csv"
RUNS = 3


def timed(run: object, runs: int = RUNS) -> tuple[object, list[float]]:
    """Call `run` `runs` times; return the last result and each call's seconds."""
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()  # type: ignore[operator]
        seconds.append(time.perf_counter() - start)
    return result, seconds


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PRICES
    prices = pd.read_csv(path, index_col="date", parse_dates=["date"]).sort_index()
    estimate = assumptions_estimate(prices[list(walkforward.targets.UNIVERSE)])
    own = {p.level: p.weights for p in model_portfolios_build(estimate)}

    def report() -> None:
        walkforward.walk_forward_run(prices)
        walkforward.walk_forward_run(prices, lookback_years=5)
        walkforward.in_sample_run(prices, own)

    result, walk_seconds = timed(lambda: walkforward.walk_forward_run(prices))
    _, report_seconds = timed(report)
    assert isinstance(result, walkforward.WalkForward)  # noqa: S101
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"prices: {path} ({prices.index[0].date()} .. {prices.index[-1].date()}), {cores} cores",
        f"walk-forward, 10 levels, {len(result.rebuilds)} yearly rebuilds, out of sample "
        f"{result.start} .. {result.end}: median {statistics.median(walk_seconds):.2f} s over "
        f"{RUNS} runs (min {min(walk_seconds):.2f}, max {max(walk_seconds):.2f})",
        f"governance report figures (walk-forward + 5-year sensitivity + in sample): median "
        f"{statistics.median(report_seconds):.2f} s over {RUNS} runs",
        f"{'level':>5} {'return':>7} {'vol':>6} {'maxDD':>6} {'worst12':>8} {'sharpe':>6} "
        f"{'turn/yr':>7} {'bench':>6} {'diff':>6} {'TE':>6}",
    ]
    for level, f in sorted(result.levels.items()):
        lines.append(
            f"{level:>5} {f.annual_return:>7.2%} {f.volatility:>6.2%} {f.max_drawdown:>6.1%} "
            f"{(f.worst_12_months or 0):>8.1%} {(f.sharpe or 0):>6.2f} {f.turnover:>7.1%} "
            f"{(f.benchmark_return or 0):>6.2%} {(f.return_difference or 0):>+6.2%} "
            f"{(f.tracking_error or 0):>6.2%}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv)
