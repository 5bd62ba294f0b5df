"""Monte Carlo projection of a goal's portfolio value, in torch (CUDA or CPU) and in NumPy.

Model, per path and month t (t = 0 .. months-1):
- the portfolio holds `weights` until the first glide step, then each `glide` step's weights
  from its month on (the goal's glide path: one step per year whose level differs);
- rebalanced monthly, the funds' mix earns a gross return whose arithmetic mean and variance are
  the portfolio's, mu_t = w_t . monthly_mean and var_t = w_t' monthly_cov w_t, drawn lognormal:
  G_t = exp(m_t + s_t Z_t), Z_t ~ N(0, 1) iid, s_t^2 = ln(1 + var_t / (1 + mu_t)^2),
  m_t = ln(1 + mu_t) - s_t^2 / 2, so E[G_t] = 1 + mu_t and Var[G_t] = var_t exactly (moment
  matching; a lognormal month cannot lose more than everything, so no floor is needed);
- costs come out of the value each month: the funds' weighted expense ratio (w_t . monthly_expense,
  accrued inside the funds' prices) and the advisory fee (`monthly_fee`, billed on the month-end
  value), so the month's growth factor is g_t = G_t (1 - w_t . monthly_expense) (1 - monthly_fee);
- V_{t+1} = (V_t + c) * g_t: the contribution c is paid in at the start of each month.

With C_t = prod_{j<t} g_j (C_0 = 1) and D_t = sum_{k<t} 1 / C_k, the recursion has the closed
form V_t = C_t * (V_0 + c * D_t). Being linear in c, it gives each path's minimum contribution
that reaches the target, and so the contribution that reaches it with 80% probability exactly.

The portfolio's return needs one normal draw per month and path whatever the number of funds:
w . R with R ~ N(mu, cov) is N(w . mu, w' cov w), and the lognormal is matched to those moments.

Precision: the draws are float32 (torch's float32 normal sampler is ~4x faster than its float64
one on CPU and halves GPU memory traffic; a z-score's 6e-8 rounding is invisible in the
statistics); growth, contributions and statistics are float64 on every device.

Many goals at once (`project_batch`, the daily batch): one computation with a goal axis, shape
(goals, months, paths). Goals are sorted by path count and horizon and cut into chunks of at
most BATCH_CHUNK_ELEMENTS (goals x months x paths), so memory stays bounded (~4 float64 arrays
of that size at the peak: 1 GiB) and a chunk pads little: a goal shorter than its chunk's
longest horizon gets growth 1 (no draw, no cost) for the months after its own, and its
statistics are read at its own final month. Each goal draws from its own generator seeded with
its own seed, in the same slices as alone, and nothing mixes goals (cumulative products run
along months, quantiles and means along paths), so a goal's result does not depend on the
goals that share its batch: `project(inp)` is `project_batch([inp])[0]`, the same numbers.

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
A goal's seed is its id, so its plan's figures do not move from one day to the next by
resampling alone, only by what changed in its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nlp.inference.device import device_resolve

MAX_MONTHS = 1200
MAX_PATHS = 100_000  # peak memory ~ 3 x paths x months x 8 bytes (2.9 GB at the limits)
TARGET_PROBABILITY_NUM, TARGET_PROBABILITY_DEN = 4, 5  # 80%, as integers to count paths exactly
CONTRIBUTION_CAP_FACTOR = 10.0  # required contribution is capped at 10x target/months (nominal)
PERCENTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
# Draw in slices of paths so the float32 draws stay ~64 MB whatever paths x months is.
DRAW_CHUNK_ELEMENTS = 1 << 24
# A batch's chunk of goals: at most this many goals x months x paths (float64: 256 MiB per array,
# ~1 GiB at the peak); a single goal larger than this is a chunk of its own (MAX_PATHS x
# MAX_MONTHS: 2.9 GB, as alone).
BATCH_CHUNK_ELEMENTS = 1 << 25
# On a GPU: 2 GiB per array, ~8 GiB at the peak; chunks of ~75 goals at 10,000 paths x 360 months,
# so each kernel has enough work to fill the device.
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
    # The glide path: (first month, weights from that month on), months ascending in 1..months-1.
    glide: tuple[tuple[int, tuple[float, ...]], ...] = ()
    monthly_fee: float = 0.0  # advisory fee: this share of the month-end value, every month
    # Per fund: the share of its value its expense ratio takes each month; () for none.
    monthly_expense: tuple[float, ...] = ()


@dataclass(frozen=True)
class ProjectionResult:
    months: int
    # "p10", "p50", "p90": value at each month 0..months in today's money; length months + 1.
    percentiles: dict[str, list[float]]
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
    starts = [0, *(month for month, _ in inp.glide)]
    lengths = np.diff([*starts, inp.months])
    segments = np.asarray([inp.weights, *(weights for _, weights in inp.glide)], dtype=np.float64)
    mu = segments @ mean  # per segment: the portfolio's arithmetic monthly mean
    # w' cov w per segment; clipped at 0 where a singular cov rounds a riskless mix below it.
    variance = np.clip(np.einsum("si,ij,sj->s", segments, cov, segments), 0.0, None)
    if (mu <= -1).any():
        raise ValueError("the portfolio's monthly mean must be > -1.")
    log_variance = np.log1p(variance / (1.0 + mu) ** 2)  # s^2 of the matching lognormal
    costs = np.log1p(-(segments @ expense)) + math.log1p(-inp.monthly_fee)
    location = np.log1p(mu) - log_variance / 2.0 + costs
    return np.repeat(location, lengths), np.repeat(np.sqrt(log_variance), lengths)


def _required_rank(paths: int) -> int:
    """1-based rank of the per-path need that makes >= 80% of paths reach the target."""
    return -(-paths * TARGET_PROBABILITY_NUM // TARGET_PROBABILITY_DEN)


def _reachable_rank(paths: int) -> int:
    """1-based rank (ascending) of the final value that >= 80% of paths reach or exceed."""
    return paths - _required_rank(paths) + 1


def _result(
    *,
    inp: ProjectionInput,
    nominal_percentiles: np.ndarray,
    deflator: np.ndarray,
    probability: float,
    need: float,
    reachable: float,
    expected_final_value: float,
    device: str,
) -> ProjectionResult:
    """Assemble the result both implementations share: deflate, cap and round the contribution."""
    real = nominal_percentiles / deflator  # quantiles commute with a positive per-month scale
    # Nominal cap: inflation raises what must be saved, so the cap grows with it.
    cap = CONTRIBUTION_CAP_FACTOR * inp.target_amount * float(deflator[-1]) / inp.months
    capped = need > cap
    # Rounded up to the cent so the path on the 80% boundary still reaches the target when this
    # contribution is fed back in, despite float rounding in the closed form.
    required = cap if capped else math.ceil(need * 100.0) / 100.0
    return ProjectionResult(
        months=inp.months,
        percentiles={name: real[i].tolist() for i, name in enumerate(PERCENTILES)},
        probability=probability,
        required_monthly_contribution=required,
        expected_final_value=expected_final_value,
        device=device,
        paths=inp.paths,
        required_contribution_capped=capped,
        # Rounded down, so the path on the 80% boundary still reaches it.
        reachable_target=math.floor(reachable * 100.0) / 100.0,
    )


def _row_quantiles(x: torch.Tensor, qs: tuple[float, ...]) -> torch.Tensor:
    """Linear-interpolated quantiles of each row (NumPy's default method), shape (len(qs), rows).

    Two topk selections per quantile instead of torch.quantile's full sort: 2-3x faster on CPU.
    """
    n = x.shape[1]
    out = []
    for q in qs:
        position = q * (n - 1)
        lo = min(int(position), n - 1)
        hi = min(lo + 1, n - 1)
        if hi + 1 <= n - lo:  # the smaller side is cheaper to select
            part = torch.topk(x, hi + 1, dim=1, largest=False, sorted=False).values
            pair = torch.topk(part, hi - lo + 1, dim=1, largest=True, sorted=True).values
            x_lo, x_hi = pair[:, -1], pair[:, 0]
        else:
            part = torch.topk(x, n - lo, dim=1, largest=True, sorted=False).values
            pair = torch.topk(part, hi - lo + 1, dim=1, largest=False, sorted=True).values
            x_lo, x_hi = pair[:, 0], pair[:, -1]
        out.append(x_lo + (x_hi - x_lo) * (position - lo))
    return torch.stack(out)


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


@torch.inference_mode()
def project_batch(
    inputs: Sequence[ProjectionInput],
    *,
    device: torch.device | None = None,
    chunk_elements: int | None = None,
) -> list[ProjectionResult]:
    """Project many goals in one vectorised computation on `device` (default: auto), in the
    order given, in chunks of at most `chunk_elements` goals x months x paths (default:
    BATCH_CHUNK_ELEMENTS, or BATCH_CHUNK_ELEMENTS_CUDA on a GPU). Every input is checked first:
    one the model cannot project raises ValueError before anything is computed. Each goal's
    result is the one `project` gives it alone."""
    for inp in inputs:
        _validate(inp)
    device = device if device is not None else device_resolve("auto")
    if chunk_elements is None:
        cuda = device.type == "cuda"
        chunk_elements = BATCH_CHUNK_ELEMENTS_CUDA if cuda else BATCH_CHUNK_ELEMENTS
    parameters = [_monthly_growth_parameters(inp) for inp in inputs]
    # Goals of one path count together (they share a tensor), similar horizons side by side.
    order = sorted(range(len(inputs)), key=lambda i: (inputs[i].paths, inputs[i].months))
    results: list[ProjectionResult | None] = [None] * len(inputs)
    chunk: list[int] = []

    def flush() -> None:
        chunk_results = _project_chunk(
            [inputs[i] for i in chunk], [parameters[i] for i in chunk], device
        )
        for i, result in zip(chunk, chunk_results, strict=True):
            results[i] = result
        chunk.clear()

    for i in order:
        inp = inputs[i]
        # Sorted by months, so the chunk's longest horizon is this goal's.
        if chunk and (
            inputs[chunk[0]].paths != inp.paths
            or (len(chunk) + 1) * inp.months * inp.paths > chunk_elements
        ):
            flush()
        chunk.append(i)
    if chunk:
        flush()
    return [result for result in results if result is not None]


def _project_chunk(
    inputs: list[ProjectionInput],
    parameters: list[tuple[np.ndarray, np.ndarray]],
    device: torch.device,
) -> list[ProjectionResult]:
    """The Monte Carlo for goals of one path count, laid out (goals, months, paths)."""
    goals, paths = len(inputs), inputs[0].paths
    months = max(inp.months for inp in inputs)  # the chunk's horizon; shorter goals are padded
    f64 = torch.float64
    # Per goal and month: the growth's location and spread; 0 and 0 after a goal's own horizon,
    # so its padded months grow by exactly exp(0) = 1.
    location = np.zeros((goals, months))
    spread = np.zeros((goals, months))
    for g, (loc, spr) in enumerate(parameters):
        location[g, : len(loc)] = loc
        spread[g, : len(spr)] = spr

    # Growth factors laid out (goal, months, paths): cumulative products/sums then run down
    # contiguous columns and each month's quantiles over a contiguous row, both ~4x faster than
    # the transpose.
    growth = torch.zeros((goals, months, paths), dtype=f64, device=device)
    for g, inp in enumerate(inputs):
        # The goal's own generator and slices: its draws are the same in any batch.
        generator = torch.Generator(device=device)
        generator.manual_seed(inp.seed)
        step = max(1, DRAW_CHUNK_ELEMENTS // inp.months)
        for start in range(0, paths, step):
            stop = min(paths, start + step)
            growth[g, : inp.months, start:stop].copy_(
                torch.randn(
                    (inp.months, stop - start),
                    generator=generator,
                    dtype=torch.float32,
                    device=device,
                )
            )
    growth.mul_(torch.as_tensor(spread, dtype=f64, device=device).unsqueeze(2))
    growth.add_(torch.as_tensor(location, dtype=f64, device=device).unsqueeze(2)).exp_()

    cumulative = torch.cumprod(growth, dim=1)  # C_1..C_T per goal
    del growth
    # values[:, t] holds D_t first (values[:, 0] unused), then V_t = C_t * (V_0 + c * D_t).
    values = torch.empty((goals, months + 1, paths), dtype=f64, device=device)
    values[:, 1].fill_(1.0)
    if months > 1:
        inverse = cumulative[:, :-1].reciprocal()
        values[:, 2:].copy_(inverse.cumsum_(dim=1)).add_(1.0)
        del inverse
    last = torch.as_tensor([inp.months for inp in inputs], device=device)
    rows = torch.arange(goals, device=device)
    final_growth = cumulative[rows, last - 1]  # C_T at each goal's own T, (goals, paths)
    final_per_contribution = final_growth * values[rows, last]  # b in V_T = a + b * c

    def per_goal(numbers: list[float]) -> torch.Tensor:
        return torch.as_tensor(numbers, dtype=f64, device=device).unsqueeze(1)

    initial = per_goal([inp.initial_value for inp in inputs])
    contribution = per_goal([inp.monthly_contribution for inp in inputs])
    values[:, 1:].mul_(contribution.unsqueeze(2)).add_(initial.unsqueeze(2)).mul_(cumulative)
    values[:, 0].copy_(initial.expand(goals, paths))
    del cumulative

    deflators = [_deflator(inp) for inp in inputs]
    final_deflator = per_goal([float(d[-1]) for d in deflators])
    target = per_goal([inp.target_amount for inp in inputs])
    final_real = values[rows, last] / final_deflator  # (goals, paths)
    probability = (final_real >= target).to(f64).mean(dim=1)
    need = (target * final_deflator - initial * final_growth) / final_per_contribution
    # One path count per chunk, so one rank for every goal.
    need_at_rank = torch.kthvalue(need.clamp_(min=0.0), _required_rank(paths), dim=1).values
    reachable = torch.kthvalue(final_real, _reachable_rank(paths), dim=1).values
    expected = final_real.mean(dim=1)
    # Quantiles of every (goal, month) row; a goal reads its own months 0..T.
    nominal_percentiles = _row_quantiles(
        values.view(goals * (months + 1), paths), tuple(PERCENTILES.values())
    ).view(len(PERCENTILES), goals, months + 1)

    host = nominal_percentiles.cpu().numpy()
    scalars = torch.stack([probability, need_at_rank, reachable, expected]).cpu().numpy()
    return [
        _result(
            inp=inp,
            nominal_percentiles=host[:, g, : inp.months + 1],
            deflator=deflators[g],
            probability=float(scalars[0, g]),
            need=float(scalars[1, g]),
            reachable=float(scalars[2, g]),
            expected_final_value=float(scalars[3, g]),
            device=str(values.device),
        )
        for g, inp in enumerate(inputs)
    ]


def project_reference_numpy(inp: ProjectionInput) -> ProjectionResult:
    """The same model in plain vectorised NumPy (float64, its own RNG), to check and time torch."""
    _validate(inp)
    months, paths = inp.months, inp.paths
    location, spread = _monthly_growth_parameters(inp)
    rng = np.random.default_rng(inp.seed)
    growth = np.exp(location + spread * rng.standard_normal((paths, months)))  # (paths, months)
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
        nominal_percentiles=np.quantile(values, list(PERCENTILES.values()), axis=0),
        deflator=deflator,
        probability=float(np.mean(final_real >= inp.target_amount)),
        need=float(np.partition(need, rank)[rank]),
        reachable=float(np.partition(final_real, reachable_rank)[reachable_rank]),
        expected_final_value=float(final_real.mean()),
        device="cpu",
    )
