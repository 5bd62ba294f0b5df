"""Time the torch goal projection against the NumPy reference: 10,000 paths x 360 months; then
the daily batch's case, goals per second of `project_batch` over a book's mixed horizons at
BATCH_PATHS paths (against one `project` call per goal), on the CPU and CUDA when present. The
book's goals share one seed, as every plan does (PROJECTION_SEED), and one mix: one family,
whose draws and cumulative growth the batch computes once (nlp.inference.projection).

Run: .venv/bin/python -m benchmarks.projection   (the aim is torch/numpy <= 1.2 on the CPU)
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from collections.abc import Callable

import torch

from nlp.inference.device import cpu_threads_configure
from nlp.inference.projection import (
    ProjectionInput,
    project,
    project_batch,
    project_reference_numpy,
)

RUNS = 5
BATCH_GOALS = 40
BATCH_PATHS = (10_000, 2_000)

CASE = ProjectionInput(
    initial_value=50_000.0,
    monthly_contribution=500.0,
    months=360,
    target_amount=400_000.0,
    weights=(0.6, 0.3, 0.1),
    monthly_mean=(0.0065, 0.003, 0.0015),
    monthly_cov=((0.0020, 0.0003, 0.0), (0.0003, 0.0004, 0.00001), (0.0, 0.00001, 0.00001)),
    paths=10_000,
)


def median_seconds(runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median wall time of RUNS calls of each, after one warm-up each.

    The contenders take turns, so a noisy neighbour on a shared machine slows both alike.
    """
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(RUNS):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def main() -> None:
    cpu_threads_configure()
    runs: dict[str, Callable[[], object]] = {
        "numpy reference": lambda: project_reference_numpy(CASE),
        "torch cpu": lambda: project(CASE, device=torch.device("cpu")),
    }
    if torch.cuda.is_available():
        cuda = torch.device("cuda", torch.cuda.current_device())
        # No explicit synchronize: project() copies its results to the host before returning.
        runs[f"torch {cuda}"] = lambda: project(CASE, device=cuda)
    medians = median_seconds(runs)
    numpy_s = medians["numpy reference"]
    print(  # noqa: T201
        f"paths={CASE.paths} months={CASE.months} torch threads={torch.get_num_threads()}, "
        f"median of {RUNS} after 1 warm-up"
    )
    for name, seconds in medians.items():
        print(f"{name:16s} {seconds * 1e3:8.1f} ms  torch/numpy = {seconds / numpy_s:.2f}")  # noqa: T201

    batch_main()


def book(paths: int) -> list[ProjectionInput]:
    """BATCH_GOALS goals of a book: horizons from 1 to 40 years, one seed."""
    return [
        dataclasses.replace(CASE, months=12 * (1 + g % 40), paths=paths) for g in range(BATCH_GOALS)
    ]


def one_by_one(goals: list[ProjectionInput], device: torch.device) -> None:
    for goal in goals:
        project(goal, device=device)


def batch_main() -> None:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda", torch.cuda.current_device()))
    for paths in BATCH_PATHS:
        goals = book(paths)
        runs: dict[str, Callable[[], object]] = {}
        for device in devices:
            runs[f"batch {device}"] = functools.partial(project_batch, goals, device=device)
            runs[f"one by one {device}"] = functools.partial(one_by_one, goals, device)
        medians = median_seconds(runs)
        for name, seconds in medians.items():
            print(  # noqa: T201
                f"{BATCH_GOALS} goals x {paths} paths, 12-480 months: {name:18s} "
                f"{seconds:7.2f} s  {BATCH_GOALS / seconds:8.1f} goals/s"
            )


if __name__ == "__main__":
    main()
