"""One lifecycle for what an advisor approves before clients are served by it: candidate →
approved (retiring the one approved before) → retired, or candidate → rejected.

Model versions (nlp) and model-portfolio sets (portfolios) both follow it; each model keeps its
own `Status` choices with the values "candidate", "approved", "retired" and a rejected value."""

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

CANDIDATE, APPROVED, RETIRED = "candidate", "approved", "retired"

Row = TypeVar("Row", bound=models.Model)


@transaction.atomic
def lifecycle_decide(
    *, row: Row, approve: bool, actor: Any, rejected_status: str, peers: models.QuerySet[Row]
) -> Row:
    """Approve a candidate, retiring the approved row among `peers`, or reject it (as
    `rejected_status`); records who decided and when (the audit trail keeps the change).

    A row that is no longer a candidate is refused, so two advisors deciding at once cannot both
    win: the row is locked and re-read first."""
    row = type(row)._default_manager.select_for_update().get(pk=row.pk)
    if row.status != CANDIDATE:  # type: ignore[attr-defined]
        raise ValidationError(
            {"status": [f"{row} is {row.status}: only a candidate can be approved or rejected."]}  # type: ignore[attr-defined]
        )
    if approve:
        peers.filter(status=APPROVED).exclude(pk=row.pk).update(status=RETIRED)
    row.status = APPROVED if approve else rejected_status  # type: ignore[attr-defined]
    row.decided_by, row.decided_at = actor, timezone.now()  # type: ignore[attr-defined]
    row.save(update_fields=["status", "decided_by", "decided_at"])
    return row
