"""Goal projections, the ml worker's side: run the Monte Carlo for pending projections and store
their results. The inputs and the API's answer are `portfolios.projections`.

Two entry points, one engine (`nlp.inference.projection.project_batch`): `projection_compute`
for one projection someone is waiting for (a what-if, the chat), and `projections_compute_batch`
for the daily batch's chunks of plans, one vectorised Monte Carlo over all of a chunk's goals."""

import logging
from dataclasses import fields
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from advisor.models import Goal
from advisor.services.notifications import goal_tracks_record
from config.heap import heap_freeze_once
from config.postgres import rows_update
from portfolios.models import GoalProjection
from portfolios.projections import ProjectionUnavailable, inputs_hash, plan_inputs

logger = logging.getLogger(__name__)

# Stored inputs → the engine's types. Money is stored as decimal strings (exact in the hash);
# the engine works in float64, where a cent is far above the rounding.
_FLOATS = ("initial_value", "monthly_contribution", "target_amount", "annual_inflation")


def _engine_fields(inputs: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The stored inputs the engine takes, as its types (other keys describe the inputs)."""
    values = {k: v for k, v in inputs.items() if k in names}
    for name in _FLOATS:
        if name in values:
            values[name] = float(values[name])
    values["monthly_fee"] = float(values.get("monthly_fee", 0.0))
    values["weights"] = tuple(values["weights"])
    values["monthly_mean"] = tuple(values["monthly_mean"])
    values["monthly_cov"] = tuple(tuple(row) for row in values["monthly_cov"])
    values["monthly_expense"] = tuple(values.get("monthly_expense", ()))
    values["glide"] = tuple((month, tuple(w)) for month, w in values.get("glide", ()))
    return values


def _stored(result: Any) -> dict[str, Any]:
    """A result as stored: its fields, the percentiles at the knots only, under "percentiles"
    beside "knots" (`portfolios.projections.projection_outcome` draws the months between): an
    eighth of the monthly lists' JSON (1.1 KB against 9.5 KB a goal in the benchmark's book),
    and a web process of the release before still reads the final values (the lists' last)."""
    stored = {field.name: getattr(result, field.name) for field in fields(result)}
    stored["percentiles"] = stored.pop("knot_percentiles")
    return stored


def projection_compute(*, projection_id: int) -> None:
    """Run the Monte Carlo for a pending projection and store it. Safe to run twice."""
    projections_compute_batch(projection_ids=[projection_id])


def projections_compute_batch(*, projection_ids: list[int]) -> int:
    """Run one vectorised Monte Carlo over the pending projections among `projection_ids` and
    store each result (bulk writes), then record whether each plan's goal is on track. Safe to
    run twice and alongside itself: a projection no longer pending is skipped, and results are
    stored under a row lock only where the row is still pending, so each is stored once.
    Inputs the model cannot project mark their row FAILED (a retry would not help). Returns
    the projections stored."""
    # torch: imported here so the web processes that import this module never load it.
    from .inference.device import cpu_threads_configure, device_resolve
    from .inference.projection import ProjectionInput, check, project_batch

    names = {f.name for f in fields(ProjectionInput)}
    pending = GoalProjection.objects.filter(
        pk__in=projection_ids, status=GoalProjection.Status.PENDING
    ).order_by("pk")
    ready: list[tuple[int, ProjectionInput]] = []
    keys: dict[int, tuple[int, str]] = {}  # projection → its goal and inputs' hash
    failed: dict[int, str] = {}
    for projection_id, goal_id, digest, stored_inputs in pending.values_list(
        "pk", "goal_id", "inputs_hash", "inputs"
    ):
        keys[projection_id] = (goal_id, digest)
        try:
            inp = ProjectionInput(**_engine_fields(stored_inputs, names))
            check(inp)
        except (ValueError, TypeError, KeyError) as exc:  # bad inputs will not improve on a retry
            failed[projection_id] = str(exc)[:255]
            logger.warning(
                "projection failed", exc_info=True, extra={"projection_id": projection_id}
            )
            continue
        ready.append((projection_id, inp))
    for projection_id, error in failed.items():
        GoalProjection.objects.filter(
            pk=projection_id, status=GoalProjection.Status.PENDING
        ).update(status=GoalProjection.Status.FAILED, error=error)
    if not ready:
        return 0
    cpu_threads_configure()
    heap_freeze_once("torch")  # torch's objects too, from the worker's first projection on
    results = project_batch([inp for _, inp in ready], device=device_resolve(settings.NLP_DEVICE))
    computed = {pid: _stored(result) for (pid, _), result in zip(ready, results, strict=True)}
    stored = _results_store(results=computed)
    _goals_track_check(readings={pid: (*keys[pid], computed[pid]["probability"]) for pid in stored})
    logger.info(
        "projections computed",
        extra={
            "projections": len(stored),
            "asked": len(projection_ids),
            "device": results[0].device,
        },
    )
    return len(stored)


@transaction.atomic
def _results_store(*, results: dict[int, dict[str, Any]]) -> list[int]:
    """Store the results of the rows still pending, under a lock (taken in pk order), so a
    concurrent run that computed the same rows waits here and then finds them done."""
    still_pending = list(
        GoalProjection.objects.select_for_update()
        .filter(pk__in=results, status=GoalProjection.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    rows = [
        GoalProjection(
            pk=pk, status=GoalProjection.Status.READY, result=results[pk], computed_at=now
        )
        for pk in still_pending
    ]
    # One UPDATE joining arrays on PostgreSQL: bulk_update's CASE, a Django expression per row,
    # cost three times the writes themselves (measured).
    rows_update(rows, ["status", "result", "computed_at"])
    return still_pending


def _goals_track_check(*, readings: dict[int, tuple[int, str, float]]) -> None:
    """`portfolios.notices.goal_track_check` for many projections just stored (projection →
    its goal, inputs' hash and probability) in a few queries: a projection that is its goal's
    current plan records whether the goal is on track (a what-if, or a plan replaced meanwhile
    by newer inputs, says nothing about the goal)."""
    if not readings:
        return
    goals = Goal.objects.in_bulk({goal_id for goal_id, _, _ in readings.values()})
    plans = plan_inputs(goals=list(goals.values()))
    on_plan = []
    for projection_id, (goal_id, digest, probability) in readings.items():
        inputs = plans.get(goal_id)
        if inputs is None or isinstance(inputs, ProjectionUnavailable):
            continue
        if inputs_hash(inputs) == digest:
            on_plan.append((goals[goal_id], probability, f"projection:{projection_id}"))
    goal_tracks_record(readings=on_plan)
