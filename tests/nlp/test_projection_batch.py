"""Many goals in one vectorised Monte Carlo (`project_batch`) and the daily batch's task
(`nlp.projections_compute_batch`): each goal's numbers are its own whatever shares its batch,
a shorter goal of a family reads its own horizon, and every result is stored once."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from django.conf import settings

from config.celery import app, enqueue
from nlp import projections
from nlp.inference import projection
from nlp.inference.device import device_resolve
from nlp.inference.projection import (
    ProjectionInput,
    ProjectionResult,
    project,
    project_batch,
    project_reference_numpy,
)
from portfolios.models import GoalProjection

from ..factories import GoalFactory
from .test_projection import THREE_FUNDS, riskless

CPU = torch.device("cpu")


def engine(inp: ProjectionInput) -> ProjectionResult:
    """What the task computes for `inp`: on the device NLP_DEVICE names (CUDA on a GPU machine,
    whose draws are not the CPU's)."""
    return project(inp, device=device_resolve(settings.NLP_DEVICE))


# Different horizons (2, 20, 100 months), a glide path, a fee and different seeds: three
# families, each with its own draws.
SHORT = dataclasses.replace(THREE_FUNDS, months=2, paths=2_000, seed=1, target_amount=52_000.0)
GLIDING = dataclasses.replace(
    THREE_FUNDS,
    months=100,
    paths=2_000,
    seed=2,
    target_amount=150_000.0,
    glide=((40, (0.3, 0.5, 0.2)), (80, (0.0, 0.5, 0.5))),
    monthly_fee=0.0025 / 12,
    monthly_expense=(0.0003 / 12, 0.0004 / 12, 0.0001 / 12),
)
MEDIUM = dataclasses.replace(
    THREE_FUNDS, months=20, paths=2_000, seed=3, target_amount=60_000.0, initial_value=40_000.0
)


def test_each_goal_in_a_batch_gets_exactly_what_it_gets_alone():
    # given: goals of three horizons, one with a glide path and costs
    goals = [GLIDING, SHORT, MEDIUM]

    # when
    batch = project_batch(goals, device=CPU)

    # then: in the order given, the same numbers as each projected alone (own seed, own draws;
    # nothing mixes families, so the goals match to the last bit)
    assert [result.months for result in batch] == [100, 2, 20]
    for inp, result in zip(goals, batch, strict=True):
        alone = project(inp, device=CPU)
        assert result.percentiles == alone.percentiles
        assert result.probability == alone.probability
        assert result.required_monthly_contribution == alone.required_monthly_contribution
        assert result.reachable_target == alone.reachable_target
        assert result.expected_final_value == pytest.approx(alone.expected_final_value, rel=1e-12)


def test_a_goals_result_does_not_depend_on_its_batch_companions_or_the_chunking():
    companions = [dataclasses.replace(MEDIUM, seed=s, months=10 + 7 * s) for s in range(6)]

    with_others = project_batch([*companions, GLIDING], device=CPU)[-1]
    # a chunk size that cuts the batch into many chunks, one goal each at most
    chunked = project_batch([GLIDING, *companions], device=CPU, chunk_elements=100 * 2_000)[0]

    assert with_others.percentiles == chunked.percentiles
    assert with_others.probability == chunked.probability
    assert with_others.required_monthly_contribution == chunked.required_monthly_contribution


def test_goals_of_one_family_share_their_growth_and_each_gets_what_it_gets_alone(monkeypatch):
    # given: goals of one seed whose growth, read by months remaining, is a prefix of the
    # longest one's: its glide's last mix held throughout by the shorter ones, other amounts
    last_mix = (0.0, 0.5, 0.5)
    longest = dataclasses.replace(GLIDING, seed=0)  # its last 20 months hold last_mix
    holding = dataclasses.replace(longest, glide=(), weights=last_mix)
    shorter = [
        dataclasses.replace(holding, months=20, initial_value=1_000.0),
        dataclasses.replace(holding, months=13, monthly_contribution=0.0),
        dataclasses.replace(holding, months=1, target_amount=40_000.0),
    ]
    goals = [shorter[0], longest, *shorter[1:]]
    computed = []
    cumulative_growth = projection._cumulative_growth

    def counted(family, draws):
        computed.append(family)
        return cumulative_growth(family, draws)

    monkeypatch.setattr(projection, "_cumulative_growth", counted)

    # when
    batch = project_batch(goals, device=CPU)

    # then: one family, its S and A computed once, and each goal's numbers its own, to the bit
    assert len(computed) == 1
    for inp, result in zip(goals, batch, strict=True):
        assert result == project(inp, device=CPU)


def test_the_draws_of_the_first_months_do_not_depend_on_the_horizon():
    short = projection._draws(months=13, paths=50, seed=4, device=CPU)
    long = projection._draws(months=100, paths=50, seed=4, device=CPU)

    assert short.shape == (24, 50)  # whole blocks of 12 months
    assert torch.equal(short, long[:24])
    assert not torch.equal(long[:12], long[12:24])  # each block its own stream


def test_the_percentiles_are_exact_at_yearly_knots_and_straight_between():
    inp = dataclasses.replace(MEDIUM, months=30, paths=2_000)

    result = project(inp, device=CPU)
    reference = project_reference_numpy(inp)

    for name in ("p10", "p50", "p90"):
        path = result.percentiles[name]
        assert len(path) == 31
        # months 0, 12, 24 and 30 are knots; 6 is halfway between 0 and 12, 27 between 24 and 30
        assert path[6] == pytest.approx((path[0] + path[12]) / 2, rel=1e-12)
        assert path[27] == pytest.approx((path[24] + path[30]) / 2, rel=1e-12)
        assert path[12] != pytest.approx((path[0] + path[24]) / 2, rel=1e-6)
        # the reference follows the same rule
        ref = reference.percentiles[name]
        assert ref[6] == pytest.approx((ref[0] + ref[12]) / 2, rel=1e-12)
    assert result.percentiles["p50"][0] == inp.initial_value


def test_a_short_goal_of_a_long_goals_family_reads_its_own_horizon():
    # given: a riskless one-month goal in the family of a riskless 360-month goal, whose values
    # are known to the cent: 10,000 at 0.4% a month
    short = riskless(0.004, months=1, target_amount=10_040.0)
    long = riskless(0.004, months=360, target_amount=1.0)

    short_result, long_result = project_batch([short, long], device=CPU)

    # then: the short goal stops at its month 1, and its statistics are read there
    assert len(short_result.percentiles["p50"]) == 2
    assert short_result.percentiles["p50"][-1] == pytest.approx(10_040.0, abs=1e-6)
    assert short_result.expected_final_value == pytest.approx(10_040.0, abs=1e-6)
    assert short_result.probability == 1.0
    assert long_result.percentiles["p50"][-1] == pytest.approx(10_000.0 * 1.004**360, rel=1e-9)


def test_a_batch_agrees_with_the_numpy_reference_within_the_monte_carlo_error():
    # given: 20,000 paths per goal, drawn by torch in the batch and by NumPy's own generator
    paths = 20_000
    goals = [dataclasses.replace(inp, paths=paths) for inp in (GLIDING, MEDIUM)]

    batch = project_batch(goals, device=CPU)

    for inp, result in zip(goals, batch, strict=True):
        reference = project_reference_numpy(inp)
        # two independent estimates: the difference's standard error is sqrt(2) times one's,
        # sqrt(p (1 - p) / N) for the probability (module docstring); 4 of them
        p = reference.probability
        assert abs(result.probability - p) <= 4 * math.sqrt(2 * p * (1 - p) / paths) + 1e-12
        # the median's relative standard error is 1.2533 sigma_T / sqrt(N), sigma_T <= 0.5 here
        assert finals_median(result) == pytest.approx(
            finals_median(reference), rel=4 * math.sqrt(2) * 1.2533 * 0.5 / math.sqrt(paths)
        )


def finals_median(result: ProjectionResult) -> float:
    return result.percentiles["p50"][-1]


def test_one_input_the_model_cannot_project_stops_the_batch_before_it_computes():
    bad = dataclasses.replace(MEDIUM, weights=(0.6, 0.3, 0.2))

    with pytest.raises(ValueError, match="sum to 1"):
        project_batch([SHORT, bad], device=CPU)


def test_goals_with_different_path_counts_share_a_call():
    few = dataclasses.replace(MEDIUM, paths=100)

    results = project_batch([MEDIUM, few], device=CPU)

    assert [r.paths for r in results] == [2_000, 100]
    assert results[1] == project(few, device=CPU)
    assert project_batch([], device=CPU) == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_batch_matches_each_goal_alone_on_cuda():
    cuda = torch.device("cuda", torch.cuda.current_device())
    goals = [GLIDING, SHORT, MEDIUM]

    batch = project_batch(goals, device=cuda)

    for inp, result in zip(goals, batch, strict=True):
        alone = project(inp, device=cuda)
        assert result.device.startswith("cuda:")
        assert result.probability == alone.probability
        assert result.percentiles["p50"] == pytest.approx(alone.percentiles["p50"], rel=1e-12)


# --- The task: nlp.projections_compute_batch ------------------------------------------------------


def stored_inputs(inp: ProjectionInput) -> dict:
    return {**dataclasses.asdict(inp), "level": 6, "assumptions_version": 1}


def pending(inp: ProjectionInput, digest: str) -> GoalProjection:
    return GoalProjection.objects.create(
        goal=GoalFactory(), inputs_hash=digest * 64, inputs=stored_inputs(inp)
    )


@pytest.mark.django_db
def test_the_batch_task_stores_every_pending_projection_once():
    # given: two pending projections of different horizons, one already computed, one bad
    short, medium = pending(SHORT, "a"), pending(MEDIUM, "b")
    done = pending(dataclasses.replace(MEDIUM, paths=50), "c")
    projections.projections_compute_batch(projection_ids=[done.pk])
    done.refresh_from_db()
    bad = pending(dataclasses.replace(MEDIUM, monthly_fee=1.5), "d")
    ids = [short.pk, medium.pk, done.pk, bad.pk]

    # when: queued by name, as portfolios does (eager here), then run again
    stored = enqueue("nlp.projections_compute_batch", projection_ids=ids).get()
    first = {row.pk: row for row in GoalProjection.objects.filter(pk__in=ids)}
    again = projections.projections_compute_batch(projection_ids=ids)

    # then: the two pending ones stored with the engine's numbers, nothing stored twice
    assert stored == 2
    assert again == 0
    assert first[short.pk].status == GoalProjection.Status.READY
    assert first[short.pk].result["probability"] == engine(SHORT).probability
    # stored at the knots only: months 0, 12 and 20's percentiles, the engine's
    assert first[medium.pk].result["knots"] == [0, 12, 20]
    assert first[medium.pk].result["percentiles"] == engine(MEDIUM).knot_percentiles
    assert first[done.pk].computed_at == done.computed_at  # already done: left alone
    assert first[bad.pk].status == GoalProjection.Status.FAILED
    assert "monthly_fee" in first[bad.pk].error
    after = {row.pk: row.computed_at for row in GoalProjection.objects.filter(pk__in=ids)}
    assert after == {pk: row.computed_at for pk, row in first.items()}


@pytest.mark.django_db
def test_a_result_computed_twice_is_stored_by_the_first_run_only():
    # given: a run has stored the projection while a second run was computing it
    projection = pending(SHORT, "e")
    projections.projections_compute_batch(projection_ids=[projection.pk])
    projection.refresh_from_db()

    # when: the second run stores what it computed
    stored = projections._results_store(results={projection.pk: {"probability": 0.0}})

    # then: the row is no longer pending, so nothing is written
    assert stored == []
    projection.refresh_from_db()
    assert projection.result["probability"] == engine(SHORT).probability


def test_the_batch_task_is_routed_to_the_batch_queue():
    assert app.amqp.router.route({}, "nlp.projections_compute_batch")["queue"].name == "batch"
