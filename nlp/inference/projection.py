"""Monte Carlo projection of a goal's portfolio value, in torch (CUDA or CPU) and in NumPy.

Model, per path and month t (t = 0 .. months-1):
- the portfolio holds `weights` until the first glide step, then each `glide` step's weights
  from its month on (the goal's glide path: a step wherever its level changes);
- rebalanced monthly, the funds' mix earns a gross return whose arithmetic mean and variance are
  the portfolio's, mu_t = w_t . monthly_mean and var_t = w_t' monthly_cov w_t, drawn lognormal:
  G_t = exp(m_t + s_t Z_t), Z_t ~ N(0, 1) iid, s_t^2 = ln(1 + var_t / (1 + mu_t)^2),
  m_t = ln(1 + mu_t) - s_t^2 / 2, so E[G_t] = 1 + mu_t and Var[G_t] = var_t exactly (moment
  matching; a lognormal month cannot lose more than everything, so no floor is needed);
- costs come out of the value each month: the funds' weighted expense ratio (w_t . monthly_expense,
  accrued inside the funds' prices) and the advisory fee (`monthly_fee`, billed on the month-end
  value), so the month's growth factor is g_t = G_t (1 - w_t . monthly_expense) (1 - monthly_fee);
- V_{t+1} = (V_t + c) * g_t: the contribution c is paid in at the start of each month.

The portfolio's return needs one normal draw per month and path whatever the number of funds:
w . R with R ~ N(mu, cov) is N(w . mu, w' cov w), and the lognormal is matched to those moments.

Number the months by the months remaining instead: with T = months, the month t has
r = T - t left (T .. 1); write g(r) for its growth. With S(0) = 1, S(r) = g(1) ... g(r) and
A(0) = 0, A(r) = S(1) + ... + S(r), the recursion has the closed form
- V_T = V_0 S(T) + c A(T), the final value;
- V_t = (V_0 S(T) + c (A(T) - A(T - t))) / S(T - t), the value at month t;
- being linear in c, each path's minimum contribution that reaches the target is
  (target x deflator_T - V_0 S(T)) / A(T) (0 when the start alone suffices), so the
  contribution that reaches it with 80% probability is exactly that need's 80% quantile.

Common random numbers: the normal of the month with r months remaining is the same for every
goal of a seed and path count (rows r = 1, 2, ... drawn in blocks of DRAW_BLOCK_MONTHS, each
block from its own generator seeded from (seed, block), so rows 1..R do not depend on R). Goals
whose growth parameters, read by months remaining, agree (a *family*: the same glide levels by
months remaining, fee and expenses, as every goal of a client's level and goal type has) then
share S and A: computed once per family, up to its longest horizon, they give each goal's
figures in O(paths) per figure (per knot for the percentiles). `project(inp)` is the family of
one: the same numbers as the goal gets in any `project_batch`, to the last bit on one device.

The percentiles (p10, p50, p90 of the value in today's money) are exact sample quantiles over
all paths at the yearly knots, months 0, 12, 24, ... and the final month; the months between
two knots are the straight line between them (a fan chart's resolution; selecting quantiles
every month was most of the cost). A result holds the knots only (`knots`, `knot_percentiles`:
what is stored); `ProjectionResult.percentiles` and the API draw the months between with one
function, `portfolios.fan_chart.monthly_path`. The probability of success, the contribution for
80%, the reachable target and the expected final value are exact statistics over all paths.

Precision: the draws are float32 (torch's float32 normal sampler is ~4x faster than its float64
one on CPU and halves GPU memory traffic; a z-score's 6e-8 rounding is invisible in the
statistics); growth, S, A, the values at the knots and the statistics are float64 on every
device (selecting the knots' quantiles in float32 would save a seventh of the selection's time,
measured, for a cast of every value: not worth a coarser figure).

Many goals at once (`project_batch`, the daily batch): goals are grouped into families (same
path count, seed and growth parameters by months remaining); per family S and A take
2 x months x paths float64 (1.8 GiB at MAX_MONTHS x MAX_PATHS, besides the float32 draws of
their seed and path count: 0.45 GiB), one family at a time, and a family's goals are evaluated
in slices of at most BATCH_CHUNK_ELEMENTS knots x paths, so memory stays bounded whatever the
number of goals.

Monte Carlo error, N paths (the plan's N is the setting PROJECTION_PATHS, 10,000 by default):
- the probability of success p is a share of N independent paths: standard error
  sqrt(p (1 - p) / N), at most 0.5 / sqrt(N): 0.50 points at N = 10,000, 0.71 at 5,000,
  1.12 at 2,000, 1.58 at 1,000 (p = 50%; less towards 0 or 100%);
- a sample q-quantile's standard error is sqrt(q (1 - q) / N) / f(x_q), f the density. The final
  value is close to lognormal with log-spread sigma_T (about 0.15 sqrt(years) for an equity-heavy
  mix: 0.8 over 30 years), so in relative terms it is sqrt(q (1 - q) / N) sigma_T / phi(z_q):
  the median 1.2533 sigma_T / sqrt(N), p10 and p90 1.7094 sigma_T / sqrt(N). At sigma_T = 0.8:
  median 1.0%, p10/p90 1.4% at N = 10,000; 2.2% and 3.1% at N = 2,000;
- the expected final value: the sample standard deviation / sqrt(N), sqrt(exp(sigma_T^2) - 1)
  / sqrt(N) relative for a lognormal: 1.0% at sigma_T = 0.8, N = 10,000;
- the contribution for 80% is the 80% quantile of the per-path need: as a quantile, above.
Sharing draws does not change these: each goal's figures are still an unbiased estimate from N
independent paths. What sharing does is correlate the errors *across* goals: goals of one
family err in the same direction (two goals with the same inputs get the same figures, and a
comparison between two goals, or a what-if against its plan, is not blurred by different
draws), while the paths within a goal stay independent. Every plan and what-if uses one seed
(the setting PROJECTION_SEED), so figures never move from one day to the next by resampling
alone, only by what changed in their inputs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nlp.inference.device import device_resolve
from portfolios.fan_chart import monthly_path

MAX_MONTHS = 1200
MAX_PATHS = 100_000  # a family's S and A: 2 x paths x months x 8 bytes (1.8 GiB at the limits)
TARGET_PROBABILITY_NUM, TARGET_PROBABILITY_DEN = 4, 5  # 80%, as integers to count paths exactly
CONTRIBUTION_CAP_FACTOR = 10.0  # required contribution is capped at 10x target/months (nominal)
PERCENTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
KNOT_MONTHS = 12  # percentiles are selected every KNOT_MONTHS months from the start, and at the end
# Months remaining are drawn in blocks of this many rows, each from its own generator, so the
# draws of the first R months do not depend on R (and a block's arithmetic on nothing else).
DRAW_BLOCK_MONTHS = 12
# A family's goals are evaluated in slices of at most this many knots x paths (float64: 16 MiB
# per array); a goal with more knots than that is a slice of its own. Small enough that a
# slice's knot values are selected while still in the cache and its arrays are reused from the
# heap, not mapped afresh and faulted in page by page: against 1 << 25 (256 MiB), the daily
# batch's CPU time in `project_batch` fell by a third (measured, 1,000 goals at 10,000 paths).
BATCH_CHUNK_ELEMENTS = 1 << 21
# On a GPU: 2 GiB per array, ~8 GiB at the peak, so each kernel has enough work to fill it.
BATCH_CHUNK_ELEMENTS_CUDA = 1 << 28
WEIGHTS_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ProjectionInput:
    initial_value: float  # the money in the goal's account now
    monthly_contribution: float
    months: int  # 1..1200
    target_amount: float  # in today's money
    weights: tuple[float, ...]  # portfolio weights from month 0, sum 1
    monthly_mean: tuple[float, ...]  # per fund, simple returns, before the funds' expenses
    monthly_cov: tuple[tuple[float, ...], ...]
    annual_inflation: float = 0.025
    paths: int = 10_000
    seed: int = 0
    # The glide path: (first month, weights from that month on), months ascending in
    # 1..months-1, on any month (a step wherever the level by months remaining changes).
    glide: tuple[tuple[int, tuple[float, ...]], ...] = ()
    monthly_fee: float = 0.0  # advisory fee: this share of the month-end value, every month
    # Per fund: the share of its value its expense ratio takes each month; () for none.
    monthly_expense: tuple[float, ...] = ()


@dataclass(frozen=True)
class ProjectionResult:
    months: int
    knots: list[int]  # the months whose percentiles are selected: 0, 12, 24, ... and `months`
    # "p10", "p50", "p90": the exact sample quantile at each knot, in today's money (the
    # monthly paths are `percentiles`; stored, the knots are all a result keeps of them).
    knot_percentiles: dict[str, list[float]]
    probability: float  # share of paths whose final real value >= target_amount
    # Smallest monthly contribution (total, not extra) reaching the target with >= 80% probability
    # on the same draws, rounded up to the cent; 0 when the initial value alone suffices.
    required_monthly_contribution: float
    expected_final_value: float  # mean final value in today's money
    device: str  # "cpu", "cuda:0"
    paths: int
    # True when 80% needs more than the cap; required_monthly_contribution is then the cap.
    required_contribution_capped: bool = False
    # The largest target (today's money) the given contribution reaches with >= 80% probability:
    # the final real value that 80% of paths reach, rounded down to the cent.
    reachable_target: float = 0.0

    @property
    def percentiles(self) -> dict[str, list[float]]:
        """ "p10", "p50", "p90": the value at each month 0..months in today's money (months + 1
        values), exact at the knots and the straight line between two knots between them
        (`portfolios.fan_chart.monthly_path`, as the API draws a stored result)."""
        return {
            name: monthly_path(knots=self.knots, values=values)
            for name, values in self.knot_percentiles.items()
        }


def _validate_weights(name: str, weights: tuple[float, ...], n: int) -> None:
    if len(weights) != n:
        raise ValueError(f"{name} has {len(weights)} funds but monthly_mean has {n}.")
    if not all(math.isfinite(w) for w in weights):
        raise ValueError(f"{name} must all be finite numbers.")
    if abs(math.fsum(weights) - 1.0) > WEIGHTS_SUM_TOLERANCE:
        raise ValueError(
            f"{name} must sum to 1 (within {WEIGHTS_SUM_TOLERANCE}), got {math.fsum(weights)!r}."
        )


def _validate(inp: ProjectionInput) -> None:
    """Raise ValueError, naming the field, for any input the model cannot project."""
    if isinstance(inp.months, bool) or not isinstance(inp.months, int):
        raise ValueError(f"months must be an integer, got {inp.months!r}.")
    if not 1 <= inp.months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}, got {inp.months}.")
    if isinstance(inp.paths, bool) or not isinstance(inp.paths, int):
        raise ValueError(f"paths must be an integer, got {inp.paths!r}.")
    if not 1 <= inp.paths <= MAX_PATHS:
        raise ValueError(f"paths must be between 1 and {MAX_PATHS}, got {inp.paths}.")
    if isinstance(inp.seed, bool) or not isinstance(inp.seed, int) or not 0 <= inp.seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {inp.seed!r}.")
    amounts = {
        "initial_value": inp.initial_value,
        "monthly_contribution": inp.monthly_contribution,
        "target_amount": inp.target_amount,
    }
    for name, value in amounts.items():
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite amount >= 0, got {value!r}.")
    if not math.isfinite(inp.annual_inflation) or inp.annual_inflation <= -1:
        raise ValueError(f"annual_inflation must be finite and > -1, got {inp.annual_inflation!r}.")
    if not math.isfinite(inp.monthly_fee) or not 0 <= inp.monthly_fee < 1:
        raise ValueError(f"monthly_fee must be within [0, 1), got {inp.monthly_fee!r}.")
    n = len(inp.weights)
    if n == 0:
        raise ValueError("weights must name at least one fund.")
    if len(inp.monthly_mean) != n:
        raise ValueError(f"monthly_mean has {len(inp.monthly_mean)} funds but weights has {n}.")
    if len(inp.monthly_cov) != n or any(len(row) != n for row in inp.monthly_cov):
        raise ValueError(f"monthly_cov must be {n}x{n} to match the {n} weights.")
    numbers = [*inp.monthly_mean, *(x for row in inp.monthly_cov for x in row)]
    if not all(math.isfinite(x) for x in numbers):
        raise ValueError("monthly_mean and monthly_cov must all be finite numbers.")
    if any(m <= -1 for m in inp.monthly_mean):
        raise ValueError("monthly_mean must be > -1 (a fund cannot lose more than everything).")
    _validate_weights("weights", inp.weights, n)
    if inp.monthly_expense and (
        len(inp.monthly_expense) != n
        or not all(math.isfinite(e) and 0 <= e < 1 for e in inp.monthly_expense)
    ):
        raise ValueError(f"monthly_expense must be {n} numbers within [0, 1), or empty.")
    previous = 0
    for step in inp.glide:
        if len(step) != 2:
            raise ValueError("each glide step must be (first month, weights).")
        month, weights = step
        if isinstance(month, bool) or not isinstance(month, int):
            raise ValueError(f"a glide step's month must be an integer, got {month!r}.")
        if not previous < month < inp.months:
            raise ValueError(
                f"glide months must be ascending within 1..{inp.months - 1}, got {month}."
            )
        previous = month
        _validate_weights(f"glide weights at month {month}", tuple(weights), n)


def _monthly_growth_parameters(inp: ProjectionInput) -> tuple[np.ndarray, np.ndarray]:
    """Per month t = 0..months-1: (a_t, s_t) such that month t's growth factor, costs included,
    is exp(a_t + s_t Z) with Z ~ N(0, 1). Follows the glide path segment by segment."""
    mean = np.asarray(inp.monthly_mean, dtype=np.float64)
    cov = np.asarray(inp.monthly_cov, dtype=np.float64)
    scale = float(np.abs(cov).max())
    if float(np.abs(cov - cov.T).max()) > 1e-9 * scale:
        raise ValueError("monthly_cov must be symmetric.")
    eigenvalues = np.linalg.eigvalsh(cov)
    if eigenvalues.min() < -1e-9 * max(scale, float(np.abs(eigenvalues).max())):
        raise ValueError("monthly_cov must be positive semi-definite.")
    n = len(inp.weights)
    expense = np.asarray(inp.monthly_expense or (0.0,) * n, dtype=np.float64)
    fee = math.log1p(-inp.monthly_fee)
    starts = [0, *(month for month, _ in inp.glide)]
    lengths = np.diff([*starts, inp.months])
    location, spread = [], []
    # One segment at a time, so a mix's parameters are the same bits in every goal that holds
    # it, whatever its other segments: goals then fall into families (see `project_batch`).
    for weights in (inp.weights, *(weights for _, weights in inp.glide)):
        w = np.asarray(weights, dtype=np.float64)
        mu = float(w @ mean)  # the portfolio's arithmetic monthly mean
        if mu <= -1:
            raise ValueError("the portfolio's monthly mean must be > -1.")
        # w' cov w, clipped at 0 where a singular cov rounds a riskless mix below it.
        variance = max(float(w @ cov @ w), 0.0)
        log_variance = math.log1p(variance / (1.0 + mu) ** 2)  # s^2 of the matching lognormal
        costs = math.log1p(-float(w @ expense)) + fee
        location.append(math.log1p(mu) - log_variance / 2.0 + costs)
        spread.append(math.sqrt(log_variance))
    return np.repeat(location, lengths), np.repeat(spread, lengths)


def _required_rank(paths: int) -> int:
    """1-based rank of the per-path need that makes >= 80% of paths reach the target."""
    return -(-paths * TARGET_PROBABILITY_NUM // TARGET_PROBABILITY_DEN)


def _reachable_rank(paths: int) -> int:
    """1-based rank (ascending) of the final value that >= 80% of paths reach or exceed."""
    return paths - _required_rank(paths) + 1


def _knots(months: int) -> np.ndarray:
    """The months whose percentiles are selected exactly: 0, 12, 24, ... and the final month."""
    return np.unique([*range(0, months, KNOT_MONTHS), months])


def _result(
    *,
    inp: ProjectionInput,
    nominal_knots: np.ndarray,
    deflator: np.ndarray,
    probability: float,
    need: float,
    reachable: float,
    expected_final_value: float,
    device: str,
) -> ProjectionResult:
    """Assemble the result both implementations share: deflate the percentiles at the knots,
    cap and round the contribution. `nominal_knots` is (percentiles, knots): each percentile at
    each of `_knots(inp.months)`."""
    knots = _knots(inp.months)
    real = nominal_knots / deflator[knots]  # quantiles commute with a positive per-month scale
    # Nominal cap: inflation raises what must be saved, so the cap grows with it.
    cap = CONTRIBUTION_CAP_FACTOR * inp.target_amount * float(deflator[-1]) / inp.months
    capped = need > cap
    # Rounded up to the cent so the path on the 80% boundary still reaches the target when this
    # contribution is fed back in, despite float rounding in the closed form.
    required = cap if capped else math.ceil(need * 100.0) / 100.0
    return ProjectionResult(
        months=inp.months,
        knots=knots.tolist(),
        knot_percentiles={name: real[i].tolist() for i, name in enumerate(PERCENTILES)},
        probability=probability,
        required_monthly_contribution=required,
        expected_final_value=expected_final_value,
        device=device,
        paths=inp.paths,
        required_contribution_capped=capped,
        # Rounded down, so the path on the 80% boundary still reaches it.
        reachable_target=math.floor(reachable * 100.0) / 100.0,
    )


def _order_statistics(x: torch.Tensor, ranks: list[int]) -> np.ndarray:
    """Each row's values at these 0-based ranks in ascending order, shape (len(ranks), rows).

    On the CPU, NumPy's partition in place (`x` is left reordered), one rank per call: NumPy
    selects one rank with its SIMD quickselect, several at once with its scalar introselect,
    four times slower (measured: 0.42 s against 0.095 s for six ranks of 2,000 rows of 10,000).
    The middle rank first, then each side's ranks within that side alone; a rank at a side's
    edge is that side's minimum or maximum. On a GPU, a kthvalue per rank."""
    if x.device.type != "cpu":
        ranked = [torch.kthvalue(x, rank + 1, dim=1).values for rank in ranks]
        return torch.stack(ranked).cpu().numpy()
    array = x.numpy()
    selected: dict[int, np.ndarray] = {}

    def select(lo: int, hi: int, wanted: list[int]) -> None:
        # Each row's columns lo..hi-1 hold its values of ranks lo..hi-1, in some order.
        side = array[:, lo:hi]
        if wanted == [lo]:
            selected[lo] = side.min(axis=1)
        elif wanted == [hi - 1]:
            selected[hi - 1] = side.max(axis=1)
        elif wanted:
            middle = len(wanted) // 2
            rank = wanted[middle]
            side.partition(rank - lo, axis=1)
            selected[rank] = array[:, rank].copy()
            select(lo, rank, wanted[:middle])
            select(rank + 1, hi, wanted[middle + 1 :])

    select(0, array.shape[1], sorted(set(ranks)))
    return np.stack([selected[rank] for rank in ranks])


def _row_quantiles(x: torch.Tensor, qs: tuple[float, ...]) -> np.ndarray:
    """Linear-interpolated quantiles of each row (NumPy's default method), shape (len(qs), rows).
    Leaves `x` reordered on the CPU."""
    n = x.shape[1]
    positions = [q * (n - 1) for q in qs]
    lows = [min(int(position), n - 1) for position in positions]
    highs = [min(low + 1, n - 1) for low in lows]
    selected = _order_statistics(x, [*lows, *highs])
    low, high = selected[: len(qs)], selected[len(qs) :]
    fractions = np.asarray([p - lo for p, lo in zip(positions, lows, strict=True)])[:, None]
    return low + (high - low) * fractions


def _deflator(inp: ProjectionInput) -> np.ndarray:
    return (1.0 + inp.annual_inflation) ** (np.arange(inp.months + 1, dtype=np.float64) / 12.0)


def check(inp: ProjectionInput) -> None:
    """Raise ValueError, naming the problem, for any input the model cannot project (the checks
    `project` and `project_batch` make before they compute anything)."""
    _validate(inp)
    _monthly_growth_parameters(inp)


@torch.inference_mode()
def project(inp: ProjectionInput, *, device: torch.device | None = None) -> ProjectionResult:
    """Project a goal's value over `inp.paths` simulated markets on `device` (default: auto).

    Deterministic for a given seed and device; CPU and CUDA draw different (equally valid) paths.
    The batch of one: the same numbers as this goal gets in any `project_batch`.
    """
    return project_batch([inp], device=device)[0]


@dataclass
class _Family:
    """Goals sharing draws and growth parameters by months remaining (r = 1, 2, ...): the
    first goal is the longest, and every goal's parameters are a prefix of its."""

    location: np.ndarray  # by months remaining: location[r - 1] is the month with r left
    spread: np.ndarray
    goals: list[int]


@torch.inference_mode()
def project_batch(
    inputs: Sequence[ProjectionInput],
    *,
    device: torch.device | None = None,
    chunk_elements: int | None = None,
) -> list[ProjectionResult]:
    """Project many goals on `device` (default: auto), in the order given. Goals of one family
    (module docstring) share their draws and cumulative growth; each family's goals are
    evaluated in slices of at most `chunk_elements` knots x paths (default: BATCH_CHUNK_ELEMENTS,
    or BATCH_CHUNK_ELEMENTS_CUDA on a GPU). Every input is checked first: one the model cannot
    project raises ValueError before anything is computed. Each goal's result is the one
    `project` gives it alone."""
    for inp in inputs:
        _validate(inp)
    device = device if device is not None else device_resolve("auto")
    if chunk_elements is None:
        cuda = device.type == "cuda"
        chunk_elements = BATCH_CHUNK_ELEMENTS_CUDA if cuda else BATCH_CHUNK_ELEMENTS
    parameters = [_monthly_growth_parameters(inp) for inp in inputs]
    # Longest first, so a family's first goal is its longest. A goal joins a family of its
    # path count and seed whose parameters by months remaining begin with its own; the bucket
    # (the last month's parameters) leaves a few candidates to compare at most (the client
    # levels that glide to the same floor).
    buckets: defaultdict[tuple[int, int, float, float], list[_Family]] = defaultdict(list)
    families: list[_Family] = []
    for i in sorted(range(len(inputs)), key=lambda i: -inputs[i].months):
        inp, (location, spread) = inputs[i], parameters[i]
        location, spread = location[::-1], spread[::-1]
        candidates = buckets[(inp.paths, inp.seed, float(location[0]), float(spread[0]))]
        for family in candidates:
            if np.array_equal(family.location[: inp.months], location) and np.array_equal(
                family.spread[: inp.months], spread
            ):
                family.goals.append(i)
                break
        else:
            family = _Family(location=location, spread=spread, goals=[i])
            candidates.append(family)
            families.append(family)
    # One stream of draws per path count and seed, shared by its families.
    streams: defaultdict[tuple[int, int], list[_Family]] = defaultdict(list)
    for family in families:
        first = inputs[family.goals[0]]
        streams[(first.paths, first.seed)].append(family)
    results: dict[int, ProjectionResult] = {}
    # On the CPU, one thread: the work is many small tensor operations (a block of months at a
    # time), each of which would otherwise be a parallel region whose synchronisation costs more
    # than it saves, ten times more on a busy machine (measured); the selections are NumPy's,
    # single-threaded anyway, and the daily batch runs its chunks in parallel processes.
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        for (paths, seed), members in streams.items():
            longest = max(len(family.location) for family in members)
            draws = _draws(months=longest, paths=paths, seed=seed, device=device)
            for family in members:
                results.update(_project_family(family, inputs, draws, chunk_elements))
            del draws
    finally:
        torch.set_num_threads(threads)
    return [results[i] for i in range(len(inputs))]


def _draws(*, months: int, paths: int, seed: int, device: torch.device) -> torch.Tensor:
    """The normals by months remaining, float32, (rows, paths): row r - 1 for the month with r
    months remaining, rows up to the end of the last block of DRAW_BLOCK_MONTHS that `months`
    needs. Each block from its own generator, seeded from (seed, block), so the first rows are
    the same whatever `months` is."""
    blocks = -(-months // DRAW_BLOCK_MONTHS)
    draws = torch.empty((blocks * DRAW_BLOCK_MONTHS, paths), dtype=torch.float32, device=device)
    generator = torch.Generator(device=device)
    for block in range(blocks):
        start = block * DRAW_BLOCK_MONTHS
        seed_sequence = np.random.SeedSequence(seed, spawn_key=(block,))
        generator.manual_seed(int(seed_sequence.generate_state(1, np.uint64)[0]))
        torch.randn(
            (DRAW_BLOCK_MONTHS, paths),
            generator=generator,
            dtype=torch.float32,
            device=device,
            out=draws[start : start + DRAW_BLOCK_MONTHS],
        )
    return draws


def _cumulative_growth(family: _Family, draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """S(r) and A(r) (module docstring) for r = 0..the family's longest horizon (and up to the
    end of its last block of draws), each (rows, paths) float64.

    Built block by block with tensors of one shape whatever the family's length, so S(r) and
    A(r) are the same bits in any family that holds month r (a vectorised exp and its scalar
    tail may differ in the last bit, and where the tail falls depends on a tensor's size)."""
    months = len(family.location)
    blocks = -(-months // DRAW_BLOCK_MONTHS)
    rows = blocks * DRAW_BLOCK_MONTHS
    # Months past the longest horizon (the last block's rest) grow by exp(0) = 1.
    location = np.zeros(rows)
    spread = np.zeros(rows)
    location[:months], spread[:months] = family.location, family.spread
    f64, device, paths = torch.float64, draws.device, draws.shape[1]
    location_t = torch.as_tensor(location, dtype=f64, device=device).unsqueeze(1)
    spread_t = torch.as_tensor(spread, dtype=f64, device=device).unsqueeze(1)
    cumulative = torch.empty((rows + 1, paths), dtype=f64, device=device)  # S
    accumulated = torch.empty((rows + 1, paths), dtype=f64, device=device)  # A
    cumulative[0].fill_(1.0)
    accumulated[0].fill_(0.0)
    for start in range(0, rows, DRAW_BLOCK_MONTHS):
        stop = start + DRAW_BLOCK_MONTHS
        # float32 draws promoted to float64 inside the kernel (exact), without a copy
        growth = torch.addcmul(location_t[start:stop], spread_t[start:stop], draws[start:stop])
        growth.exp_()
        block_s = cumulative[start + 1 : stop + 1]
        torch.cumprod(growth, dim=0, out=block_s)
        block_s.mul_(cumulative[start])
        block_a = accumulated[start + 1 : stop + 1]
        torch.cumsum(block_s, dim=0, out=block_a)
        block_a.add_(accumulated[start])
    return cumulative, accumulated


def _project_family(
    family: _Family,
    inputs: Sequence[ProjectionInput],
    draws: torch.Tensor,
    chunk_elements: int,
) -> dict[int, ProjectionResult]:
    """Every goal of one family from its shared S and A: per goal, the final statistics and the
    percentiles at its knots, goals in slices of at most `chunk_elements` knots x paths."""
    paths, device = draws.shape[1], draws.device
    cumulative, accumulated = _cumulative_growth(family, draws)
    results: dict[int, ProjectionResult] = {}
    chunk: list[int] = []
    knots = 0
    for i in family.goals:
        # a row per knot after month 0 (at month 0 every path holds the initial value), and
        # one of final statistics
        rows = len(_knots(inputs[i].months))
        if chunk and (knots + rows) * paths > chunk_elements:
            results.update(_project_goals(chunk, inputs, cumulative, accumulated, device))
            chunk, knots = [], 0
        chunk.append(i)
        knots += rows
    if chunk:
        results.update(_project_goals(chunk, inputs, cumulative, accumulated, device))
    return results


def _project_goals(
    goals: list[int],
    inputs: Sequence[ProjectionInput],
    cumulative: torch.Tensor,
    accumulated: torch.Tensor,
    device: torch.device,
) -> dict[int, ProjectionResult]:
    """The figures of some goals of one family, from its S (`cumulative`) and A (`accumulated`)."""
    f64 = torch.float64
    chosen = [inputs[i] for i in goals]
    paths = chosen[0].paths

    def per_goal(numbers: list[float]) -> torch.Tensor:
        return torch.as_tensor(numbers, dtype=f64, device=device).unsqueeze(1)

    horizon = torch.as_tensor([inp.months for inp in chosen], device=device)
    final_a = accumulated.index_select(0, horizon)  # A(T) per goal, (goals, paths)
    start_part = cumulative.index_select(0, horizon).mul_(
        per_goal([inp.initial_value for inp in chosen])
    )  # V_0 S(T)
    final_nominal = final_a * per_goal([inp.monthly_contribution for inp in chosen])
    final_nominal.add_(start_part)  # V_T
    deflators = [_deflator(inp) for inp in chosen]
    final_deflator = per_goal([float(d[-1]) for d in deflators])
    target = per_goal([inp.target_amount for inp in chosen])
    final_real = final_nominal / final_deflator
    probability = (final_real >= target).to(f64).mean(dim=1)
    expected = final_real.mean(dim=1)
    need = ((target * final_deflator - start_part) / final_a).clamp_(min=0.0)
    # One path count per family, so one rank for every goal.
    need_at_rank = _order_statistics(need, [_required_rank(paths) - 1])[0]
    reachable = _order_statistics(final_real, [_reachable_rank(paths) - 1])[0]
    scalars = torch.stack([probability, expected]).cpu().numpy()

    # One row per (goal, interior knot): the months t = 12k, 12(k - 1), ..., 12, where
    # V_t = (V_T - c A(T - t)) / S(T - t) (module docstring, V_T = V_0 S(T) + c A(T)), whose
    # months remaining T - t = T - 12k, ..., T - 12 are every 12th row of S and A: two passes.
    interior = [len(_knots(inp.months)) - 2 for inp in chosen]
    values = torch.empty((sum(interior), paths), dtype=f64, device=device)
    row = 0
    for g, (inp, k) in enumerate(zip(chosen, interior, strict=True)):
        every_year = slice(inp.months - 12 * k, inp.months - 11, 12)
        out = values[row : row + k]
        torch.sub(
            final_nominal[g], accumulated[every_year], alpha=inp.monthly_contribution, out=out
        )
        out.div_(cumulative[every_year])
        row += k
    qs = tuple(PERCENTILES.values())
    yearly = _row_quantiles(values, qs)
    del values
    final = _row_quantiles(final_nominal, qs)  # last: it reorders V_T

    results: dict[int, ProjectionResult] = {}
    row = 0
    for g, (i, inp, k) in enumerate(zip(goals, chosen, interior, strict=True)):
        at_start = np.full((len(PERCENTILES), 1), inp.initial_value)
        knots = [at_start, yearly[:, row : row + k][:, ::-1], final[:, g : g + 1]]  # 0, 12, ..., T
        results[i] = _result(
            inp=inp,
            nominal_knots=np.concatenate(knots, axis=1),
            deflator=deflators[g],
            probability=float(scalars[0, g]),
            need=float(need_at_rank[g]),
            reachable=float(reachable[g]),
            expected_final_value=float(scalars[1, g]),
            device=str(cumulative.device),
        )
        row += k
    return results


def project_reference_numpy(inp: ProjectionInput) -> ProjectionResult:
    """The same model in plain vectorised NumPy (float64, its own RNG, months counted from the
    start), to check and time torch; the same knots rule for the percentiles."""
    _validate(inp)
    months, paths = inp.months, inp.paths
    location, spread = _monthly_growth_parameters(inp)
    rng = np.random.default_rng(inp.seed)
    growth = np.exp(location + spread * rng.standard_normal((paths, months)))  # (paths, months)
    # With C_t = g_0 ... g_{t-1} (C_0 = 1) and D_t = 1 / C_0 + ... + 1 / C_{t-1}:
    # V_t = C_t (V_0 + c D_t).
    cumulative = np.cumprod(growth, axis=1)
    sum_inverse = np.cumsum(1.0 / cumulative[:, :-1], axis=1)
    contributions_factor = np.concatenate(
        [np.zeros((paths, 1)), np.ones((paths, 1)), 1.0 + sum_inverse], axis=1
    )  # D_t for t = 0..months
    cumulative = np.concatenate([np.ones((paths, 1)), cumulative], axis=1)
    values = cumulative * (inp.initial_value + inp.monthly_contribution * contributions_factor)

    deflator = _deflator(inp)
    final_real = values[:, -1] / deflator[-1]
    final_per_contribution = cumulative[:, -1] * contributions_factor[:, -1]
    need = np.maximum(
        (inp.target_amount * deflator[-1] - inp.initial_value * cumulative[:, -1])
        / final_per_contribution,
        0.0,
    )
    rank = _required_rank(paths) - 1
    reachable_rank = _reachable_rank(paths) - 1
    return _result(
        inp=inp,
        nominal_knots=np.quantile(values[:, _knots(months)], list(PERCENTILES.values()), axis=0),
        deflator=deflator,
        probability=float(np.mean(final_real >= inp.target_amount)),
        need=float(np.partition(need, rank)[rank]),
        reachable=float(np.partition(final_real, reachable_rank)[reachable_rank]),
        expected_final_value=float(final_real.mean()),
        device="cpu",
    )
