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
    assert len(projection.result["percentiles"]["p50"]) == 25
    assert projection.computed_at is not None


@pytest.mark.parametrize("name", ["nlp.projection_compute", "portfolios.projection_compute"])
def test_both_projection_task_names_are_routed_to_the_ml_queue(name):
    assert app.amqp.router.route({}, name)["queue"].name == "ml"
