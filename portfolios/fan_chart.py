"""A projection's percentile paths month by month, from their values at the knots (the months
whose percentiles the Monte Carlo selects exactly: 0, 12, 24, ... and the final month).

Standard library only and no Django: the engine (`nlp.inference.projection`, which also runs
without Django, as in benchmarks/gpu_check.py) and the API (`portfolios.projections`, in web
processes that load no numpy) draw the same straight lines with this one function.
"""

from collections.abc import Sequence
from itertools import pairwise


def monthly_path(*, knots: Sequence[int], values: Sequence[float]) -> list[float]:
    """The value at each month 0..knots[-1] (knots[-1] + 1 values): `values[i]` at month
    `knots[i]` exactly (knots ascending from 0), the straight line between two knots at the
    months between them."""
    path: list[float] = []
    for (start, low), (stop, high) in pairwise(zip(knots, values, strict=True)):
        step = (high - low) / (stop - start)
        path += [low + step * (month - start) for month in range(start, stop)]
    path.append(values[-1])
    return path
