"""Goal projections, the ml worker's side: run the Monte Carlo for a pending projection and
store its result. The inputs and the API's answer are `portfolios.projections`."""

import logging
from dataclasses import asdict, fields
from typing import Any

from django.conf import settings
from django.utils import timezone

from portfolios.models import GoalProjection
from portfolios.notices import goal_track_check

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


def projection_compute(*, projection_id: int) -> None:
    """Run the Monte Carlo for a pending projection and store it. Safe to run twice."""
    # torch: imported here so the web processes that import this module never load it.
    from .inference.device import cpu_threads_configure, device_resolve
    from .inference.projection import ProjectionInput, project

    projection = GoalProjection.objects.get(pk=projection_id)
    if projection.status == GoalProjection.Status.READY:
        return
    try:
        values = _engine_fields(projection.inputs, {f.name for f in fields(ProjectionInput)})
        cpu_threads_configure()
        result = project(ProjectionInput(**values), device=device_resolve(settings.NLP_DEVICE))
    except (ValueError, TypeError, KeyError) as exc:  # bad inputs will not improve on a retry
        GoalProjection.objects.filter(pk=projection_id).update(
            status=GoalProjection.Status.FAILED, error=str(exc)[:255]
        )
        logger.warning("projection failed", exc_info=True, extra={"projection_id": projection_id})
        return
    GoalProjection.objects.filter(pk=projection_id).update(
        status=GoalProjection.Status.READY, result=asdict(result), computed_at=timezone.now()
    )
    goal_track_check(projection_id=projection_id)
