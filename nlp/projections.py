"""Goal projections, the ml worker's side: run the Monte Carlo for a pending projection and
store its result. The inputs and the API's answer are `portfolios.projections`."""

import logging
from dataclasses import asdict

from django.conf import settings
from django.utils import timezone

from portfolios.models import GoalProjection

logger = logging.getLogger(__name__)


def projection_compute(*, projection_id: int) -> None:
    """Run the Monte Carlo for a pending projection and store it. Safe to run twice."""
    # torch: imported here so the web processes that import this module never load it.
    from .inference.device import cpu_threads_configure, device_resolve
    from .inference.projection import ProjectionInput, project

    projection = GoalProjection.objects.get(pk=projection_id)
    if projection.status == GoalProjection.Status.READY:
        return
    fields = {
        k: v for k, v in projection.inputs.items() if k not in ("level", "assumptions_version")
    }
    fields["weights"] = tuple(fields["weights"])
    fields["monthly_mean"] = tuple(fields["monthly_mean"])
    fields["monthly_cov"] = tuple(tuple(row) for row in fields["monthly_cov"])
    try:
        cpu_threads_configure()
        result = project(ProjectionInput(**fields), device=device_resolve(settings.NLP_DEVICE))
    except ValueError as exc:  # bad inputs will not improve on a retry: record it
        GoalProjection.objects.filter(pk=projection_id).update(
            status=GoalProjection.Status.FAILED, error=str(exc)[:255]
        )
        logger.warning("projection failed", extra={"projection_id": projection_id})
        return
    GoalProjection.objects.filter(pk=projection_id).update(
        status=GoalProjection.Status.READY, result=asdict(result), computed_at=timezone.now()
    )
