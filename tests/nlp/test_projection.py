"""Goal projection: exact cases, agreement with the NumPy reference, seeds, validation, devices."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from config.celery import app, enqueue
from nlp.inference.device import device_resolve
from nlp.inference.projection import (
    ProjectionInput,
    ProjectionResult,
    project,
    project_reference_numpy,
)
from portfolios.models import GoalProjection

from ..factories import GoalFactory

CPU = torch.device("cpu")

# Equities, bonds, cash: realistic monthly capital market assumptions.
THREE_FUNDS = ProjectionInput(
    initial_value=50_000.0,
    monthly_contribution=500.0,
    months=240,
    target_amount=250_000.0,
    weights=(0.6, 0.3, 0.1),
    monthly_mean=(0.0065, 0.003, 0.0015),
    monthly_cov=((0.0020, 0.0003, 0.0), (0.0003, 0.0004, 0.00001), (0.0, 0.00001, 0.00001)),
    annual_inflation=0.025,
    paths=10_000,
    seed=7,
)


def riskless(rate: float, **changes: float) -> ProjectionInput:
    """A one-fund portfolio earning `rate` every month."""
    base = ProjectionInput(
        initial_value=10_000.0,
        monthly_contribution=0.0,
        months=120,
        target_amount=1.0,
        weights=(1.0,),
        monthly_mean=(rate,),
        monthly_cov=((0.0,),),
        annual_inflation=0.0,
        paths=100,
    )
    return dataclasses.replace(base, **changes)


def finals(result: ProjectionResult) -> list[float]:
    return [result.percentiles[name][-1] for name in ("p10", "p50", "p90")]


def test_without_returns_or_inflation_the_value_is_savings_plus_contributions():
    inp = riskless(0.0, initial_value=1_000.0, monthly_contribution=250.0, months=360)
    expected = 1_000.0 + 360 * 250.0

    result = project(dataclasses.replace(inp, target_amount=expected), device=CPU)

    for name in ("p10", "p50", "p90"):
        assert len(result.percentiles[name]) == 361
        assert result.percentiles[name][0] == pytest.approx(1_000.0, rel=1e-12)
        assert result.percentiles[name][-1] == pytest.approx(expected, rel=1e-9)
    assert result.expected_final_value == pytest.approx(expected, rel=1e-9)
    assert result.probability == 1.0
    below = project(dataclasses.replace(inp, target_amount=expected - 1), device=CPU)
    above = project(dataclasses.replace(inp, target_amount=expected + 1), device=CPU)
    assert below.probability == 1.0
    assert above.probability == 0.0


def test_a_steady_return_compounds_the_initial_value():
    result = project(riskless(0.004), device=CPU)

    assert finals(result) == pytest.approx([10_000.0 * 1.004**120] * 3, rel=1e-9)
    assert result.percentiles["p50"][12] == pytest.approx(10_000.0 * 1.004**12, rel=1e-9)


def test_inflation_equal_to_the_return_keeps_the_real_value_flat():
    inp = riskless(0.004, annual_inflation=1.004**12 - 1)

    result = project(inp, device=CPU)

    for name in ("p10", "p50", "p90"):
        assert result.percentiles[name] == pytest.approx([10_000.0] * 121, rel=1e-9)


def test_statistics_match_the_numpy_reference_on_a_three_fund_portfolio():
    result = project(THREE_FUNDS, device=CPU)
    reference = project_reference_numpy(THREE_FUNDS)

    p10, p50, p90 = finals(result)
    ref10, ref50, ref90 = finals(reference)
    assert p50 == pytest.approx(ref50, rel=0.02)
    assert p10 == pytest.approx(ref10, rel=0.04)
    assert p90 == pytest.approx(ref90, rel=0.04)
    assert result.probability == pytest.approx(reference.probability, abs=0.02)
    assert 0.1 < result.probability < 0.9  # the target is neither trivial nor hopeless
    assert result.expected_final_value == pytest.approx(reference.expected_final_value, rel=0.03)
    assert result.required_monthly_contribution == pytest.approx(
        reference.required_monthly_contribution, rel=0.05
    )
    assert result.device == "cpu"
    assert result.paths == 10_000


def test_the_same_seed_gives_the_same_result_and_another_seed_a_close_one():
    inp = dataclasses.replace(THREE_FUNDS, paths=5_000)

    first = project(inp, device=CPU)
    again = project(inp, device=CPU)
    other = project(dataclasses.replace(inp, seed=8), device=CPU)

    assert first == again
    assert first != other
    assert finals(other)[1] == pytest.approx(finals(first)[1], rel=0.03)
    assert other.probability == pytest.approx(first.probability, abs=0.03)


def test_the_required_contribution_reaches_the_target_four_times_in_five():
    result = project(THREE_FUNDS, device=CPU)
    assert result.probability < 0.8
    assert not result.required_contribution_capped

    plugged = dataclasses.replace(
        THREE_FUNDS, monthly_contribution=result.required_monthly_contribution
    )

    assert project(plugged, device=CPU).probability >= 0.79
    assert result.required_monthly_contribution > THREE_FUNDS.monthly_contribution


def test_no_contribution_is_required_when_savings_alone_reach_the_target():
    result = project(dataclasses.replace(THREE_FUNDS, target_amount=1_000.0), device=CPU)

    assert result.required_monthly_contribution == 0.0
    assert result.probability == 1.0


def test_an_unreachable_target_reports_the_capped_contribution():
    inp = riskless(-0.5, target_amount=1_000_000.0, months=12)

    result = project(inp, device=CPU)

    assert result.required_contribution_capped
    assert result.required_monthly_contribution == pytest.approx(10 * 1_000_000.0 / 12)


# --- Closed forms: the engine against formulas worked by hand -----------------------------------


def annuity_due_future_value(
    value: float, contribution: float, growth: float, months: int
) -> float:
    """V_n of V_{t+1} = (V_t + c) * g: V_0 g^n + c g (g^n - 1) / (g - 1), the future value of an
    annuity due (payments at the start of each period), e.g. Brealey, Myers & Allen, Principles
    of Corporate Finance, ch. 2; for g = 1 it is V_0 + n c."""
    if growth == 1.0:
        return value + months * contribution
    return value * growth**months + contribution * growth * (growth**months - 1) / (growth - 1)


def test_zero_volatility_gives_the_deterministic_future_value_to_the_cent():
    # given: a riskless fund at 0.5% a month for 25 years, an advisory fee of 0.25% a year billed
    # monthly and a 0.09% expense ratio, and contributions at the start of each month
    fee, expense = 0.0025 / 12, 0.0009 / 12
    inp = riskless(
        0.005,
        initial_value=12_345.67,
        monthly_contribution=321.09,
        months=300,
        monthly_fee=fee,
        monthly_expense=(expense,),
    )

    result = project(inp, device=CPU)

    growth = 1.005 * (1 - expense) * (1 - fee)
    expected = annuity_due_future_value(12_345.67, 321.09, growth, 300)
    assert expected == pytest.approx(262_798.54, abs=0.01)  # the formula, evaluated once by hand
    for name in ("p10", "p50", "p90"):
        assert result.percentiles[name][-1] == pytest.approx(expected, abs=0.005)
    assert result.expected_final_value == pytest.approx(expected, abs=0.005)
    assert project_reference_numpy(inp).percentiles["p50"][-1] == pytest.approx(expected, abs=0.005)


def test_zero_volatility_follows_the_glide_path_segment_by_segment():
    # given: all in a 0.6%/month fund for 10 years, half and half for the next 10, then all in a
    # 0.2%/month fund for the last 10; riskless, so each segment is an annuity due of its own
    inp = ProjectionInput(
        initial_value=20_000.0,
        monthly_contribution=250.0,
        months=360,
        target_amount=1.0,
        weights=(1.0, 0.0),
        monthly_mean=(0.006, 0.002),
        monthly_cov=((0.0, 0.0), (0.0, 0.0)),
        annual_inflation=0.0,
        paths=50,
        glide=((120, (0.5, 0.5)), (240, (0.0, 1.0))),
        monthly_fee=0.0025 / 12,
    )

    result = project(inp, device=CPU)

    value = 20_000.0
    for rate in (0.006, 0.004, 0.002):  # the mix's return in each ten-year segment
        value = annuity_due_future_value(value, 250.0, (1 + rate) * (1 - 0.0025 / 12), 120)
    assert result.percentiles["p50"][-1] == pytest.approx(value, abs=0.005)
    month_120 = annuity_due_future_value(20_000.0, 250.0, 1.006 * (1 - 0.0025 / 12), 120)
    assert result.percentiles["p50"][120] == pytest.approx(month_120, abs=0.005)


def lognormal_moments(mean: float, variance: float) -> tuple[float, float]:
    """(m, s^2) of the lognormal growth exp(m + s Z) with E = 1 + mean and Var = variance."""
    s2 = math.log1p(variance / (1 + mean) ** 2)
    return math.log1p(mean) - s2 / 2, s2


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def test_a_lump_sum_reaches_the_target_with_the_analytic_lognormal_probability():
    # given: a lump sum in one fund for 15 years, fee and expenses deducted, 2.5% inflation
    months, paths, fee, expense = 180, 40_000, 0.0025 / 12, 0.0005 / 12
    inp = ProjectionInput(
        initial_value=100_000.0,
        monthly_contribution=0.0,
        months=months,
        target_amount=150_000.0,
        weights=(1.0,),
        monthly_mean=(0.006,),
        monthly_cov=((0.0020,),),
        annual_inflation=0.025,
        paths=paths,
        seed=11,
        monthly_fee=fee,
        monthly_expense=(expense,),
    )

    result = project(inp, device=CPU)

    # then: ln V_T ~ N(ln V_0 + T (m + ln k), T s^2) with k = (1 - expense)(1 - fee), so
    # P(V_T >= K) = Phi((ln(V_0 / K) + T (m + ln k)) / (s sqrt T)): the lognormal property of
    # prices (Hull, Options, Futures, and Other Derivatives, ch. 15) with the real-world drift.
    m, s2 = lognormal_moments(0.006, 0.0020)
    drift = months * (m + math.log1p(-expense) + math.log1p(-fee))
    nominal_target = 150_000.0 * 1.025 ** (months / 12)
    analytic = normal_cdf((math.log(100_000.0 / nominal_target) + drift) / math.sqrt(months * s2))
    assert 0.3 < analytic < 0.7  # a case where the probability is informative
    monte_carlo_error = math.sqrt(analytic * (1 - analytic) / paths)
    assert abs(result.probability - analytic) <= 3 * monte_carlo_error
    # and the median is the lognormal's, exp(mean of the log), within 3 standard errors of a
    # sample median (sqrt(pi / 2) sigma / sqrt(N) in log space)
    median = 100_000.0 * math.exp(drift) / 1.025 ** (months / 12)
    median_error = math.sqrt(math.pi / 2) * math.sqrt(months * s2) / math.sqrt(paths)
    assert abs(math.log(result.percentiles["p50"][-1] / median)) <= 3 * median_error


def test_the_glide_path_and_the_fee_lower_the_median_as_worked_by_hand():
    # given: $100,000 for 20 years in stocks (0.7%/month, variance 0.0020) or gliding to bonds
    # (0.3%/month, variance 0.0001) for the last 10 years, with and without a 0.25% fee
    stocks_only = ProjectionInput(
        initial_value=100_000.0,
        monthly_contribution=0.0,
        months=240,
        target_amount=1.0,
        weights=(1.0, 0.0),
        monthly_mean=(0.007, 0.003),
        monthly_cov=((0.0020, 0.0), (0.0, 0.0001)),
        annual_inflation=0.0,
        paths=40_000,
        seed=5,
    )
    gliding = dataclasses.replace(stocks_only, glide=((120, (0.0, 1.0)),))
    gliding_with_fee = dataclasses.replace(gliding, monthly_fee=0.0025 / 12)

    medians = [
        project(inp, device=CPU).percentiles["p50"][-1]
        for inp in (stocks_only, gliding, gliding_with_fee)
    ]

    # then: the median of a lump sum is V_0 exp(sum of the monthly log drifts m_t + ln k_t).
    # Worked by hand: stocks m = ln 1.007 - s^2/2 with s^2 = ln(1 + 0.0020 / 1.007^2)
    # = 0.0019704, so m = 0.0069756 - 0.0009852 = 0.0059904; bonds s^2 = ln(1 + 0.0001 / 1.003^2)
    # = 0.0000994, m = 0.0029955 - 0.0000497 = 0.0029458; the fee's ln(1 - 0.0025/12) = -0.0002084.
    # Stocks only: 100,000 e^(240 x 0.0059904) = 100,000 e^1.43770 = $421,100.
    # Gliding: 100,000 e^(120 x 0.0059904 + 120 x 0.0029458) = 100,000 e^1.07234 = $292,200.
    # Gliding with the fee: 100,000 e^(1.07234 - 240 x 0.0002084) = 100,000 e^1.02232 = $278,000.
    hand_worked = [421_100.0, 292_200.0, 278_000.0]
    # Within 3 standard errors of a sample median: 3 sqrt(pi/2) sigma_T / sqrt(N) in log space,
    # sigma_T = sqrt(240 x 0.0019704) = 0.688 for stocks only: 1.3%; the rounding above: 0.02%.
    for median, expected in zip(medians, hand_worked, strict=True):
        assert median == pytest.approx(expected, rel=0.015)
    assert medians[0] > medians[1] > medians[2]
    # The fee's effect has no market noise (same draws): exactly (1 - 0.0025/12)^240.
    assert medians[2] / medians[1] == pytest.approx((1 - 0.0025 / 12) ** 240, rel=1e-9)


def test_the_reachable_target_is_reached_four_times_in_five():
    result = project(THREE_FUNDS, device=CPU)
    assert result.reachable_target < THREE_FUNDS.target_amount  # under 80% for this target

    smaller = dataclasses.replace(THREE_FUNDS, target_amount=result.reachable_target)

    assert project(smaller, device=CPU).probability >= 0.8


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"months": 0}, "months"),
        ({"months": -3}, "months"),
        ({"months": 1201}, "months"),
        ({"weights": (0.6, 0.3, 0.2)}, "sum to 1"),
        ({"monthly_mean": (0.005, 0.003)}, "monthly_mean"),
        ({"monthly_cov": ((0.002, 0.0), (0.0, 0.001))}, "monthly_cov"),
        ({"initial_value": -1.0}, "initial_value"),
        ({"monthly_contribution": -50.0}, "monthly_contribution"),
        ({"target_amount": -1.0}, "target_amount"),
        ({"paths": 0}, "paths"),
        ({"monthly_cov": ((1.0, 2.0, 0.0), (2.0, 1.0, 0.0), (0.0, 0.0, 1.0))}, "semi-definite"),
        ({"monthly_fee": 1.0}, "monthly_fee"),
        ({"monthly_fee": -0.001}, "monthly_fee"),
        ({"monthly_expense": (0.001, 0.001)}, "monthly_expense"),
        ({"glide": ((0, (0.6, 0.3, 0.1)),)}, "glide months"),
        ({"glide": ((120, (0.6, 0.3, 0.1)), (60, (0.6, 0.3, 0.1)))}, "glide months"),
        ({"glide": ((240, (0.6, 0.3, 0.1)),)}, "glide months"),
        ({"glide": ((120, (0.6, 0.3, 0.2)),)}, "sum to 1"),
        ({"monthly_mean": (-1.5, 0.003, 0.0015)}, "monthly_mean"),
    ],
)
def test_it_rejects_inputs_it_cannot_project(changes, message):
    inp = dataclasses.replace(THREE_FUNDS, **changes)

    with pytest.raises(ValueError, match=message):
        project(inp, device=CPU)
    with pytest.raises(ValueError, match=message):
        project_reference_numpy(inp)


def test_weights_within_the_tolerance_are_accepted():
    inp = dataclasses.replace(THREE_FUNDS, weights=(0.6, 0.3, 0.1 + 5e-7), paths=10)

    assert project(inp, device=CPU).paths == 10


def test_device_resolve_gives_the_cpu_when_asked():
    assert device_resolve("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_device_resolve_refuses_cuda_when_there_is_none():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        device_resolve("cuda")
    assert device_resolve("auto") == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_statistics_match_the_cpu():
    on_cpu = project(THREE_FUNDS, device=CPU)
    on_cuda = project(THREE_FUNDS, device=device_resolve("cuda"))

    assert on_cuda.device.startswith("cuda:")
    assert finals(on_cuda)[1] == pytest.approx(finals(on_cpu)[1], rel=0.02)
    assert finals(on_cuda)[0] == pytest.approx(finals(on_cpu)[0], rel=0.04)
    assert finals(on_cuda)[2] == pytest.approx(finals(on_cpu)[2], rel=0.04)
    assert on_cuda.probability == pytest.approx(on_cpu.probability, abs=0.02)
    assert math.isfinite(on_cuda.required_monthly_contribution)
    again = project(THREE_FUNDS, device=device_resolve("cuda"))
    assert again.probability == on_cuda.probability
    assert again.percentiles["p50"] == pytest.approx(on_cuda.percentiles["p50"], rel=1e-9)


# --- The task: nlp.projection_compute, and its old name for one release --------------------------


def pending_projection() -> GoalProjection:
    inputs = {
        **dataclasses.asdict(dataclasses.replace(THREE_FUNDS, paths=50, months=24)),
        "level": 6,
        "assumptions_version": 1,
    }
    return GoalProjection.objects.create(goal=GoalFactory(), inputs_hash="h" * 64, inputs=inputs)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["nlp.projection_compute", "portfolios.projection_compute"])
def test_a_projection_message_runs_under_the_new_name_and_the_old_one(name):
    # given: a message queued under either name, the old one by a web process of the last release
    projection = pending_projection()

    # when: queued by name, as portfolios does (eager here: the name must find its task)
    enqueue(name, projection_id=projection.pk).get()

    # then
    projection.refresh_from_db()
    assert projection.status == GoalProjection.Status.READY
    assert projection.result["knots"] == [0, 12, 24]  # stored at the knots only
    assert len(projection.result["percentiles"]["p50"]) == 3
    assert projection.computed_at is not None


@pytest.mark.parametrize("name", ["nlp.projection_compute", "portfolios.projection_compute"])
def test_both_projection_task_names_are_routed_to_the_batch_queue(name):
    # The daily projections are batch work; an interactive what-if asks for the `ml` lane
    # (portfolios.projections.projection_answer) so it never waits behind them.
    assert app.amqp.router.route({}, name)["queue"].name == "batch"
