"""One lifecycle for what an advisor approves before clients are served by it: candidate →
approved (retiring the one approved before) → retired, or candidate → rejected.

Model versions (nlp) and model-portfolio sets (portfolios) both follow it; each model keeps its
own `Status` choices with the values "candidate", "approved", "retired" and a rejected value.

Both are firm-wide decisions: a person who decides needs the model's investment-committee
permission (advisors do not have it), and approval takes two different people — the first
approval is recorded (`first_approved_by`), the second, by someone else, puts the row in force.
Only the auto-approval of a local demo (actor None) skips both."""

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

CANDIDATE, APPROVED, RETIRED = "candidate", "approved", "retired"

Row = TypeVar("Row", bound=models.Model)


@transaction.atomic
def lifecycle_decide(
    *,
    row: Row,
    approve: bool,
    actor: Any,
    rejected_status: str,
    peers: models.QuerySet[Row],
    permission: str,
) -> Row:
    """Approve a candidate, retiring the approved row among `peers`, or reject it (as
    `rejected_status`); records who decided and when (the audit trail keeps the change).

    `actor` needs `permission`; an approval by a person is the first of two unless another
    person approved first (then it takes effect). A row that is no longer a candidate is
    refused, so two people deciding at once cannot both win: the row is locked and re-read."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(
            "Only the investment committee decides firm-wide model portfolios and models."
        )
    row = type(row)._default_manager.select_for_update().get(pk=row.pk)
    if row.status != CANDIDATE:  # type: ignore[attr-defined]
        raise ValidationError(
            {"status": [f"{row} is {row.status}: only a candidate can be approved or rejected."]}  # type: ignore[attr-defined]
        )
    if approve and actor is not None:
        first = row.first_approved_by_id  # type: ignore[attr-defined]
        if first is None:
            row.first_approved_by, row.first_approved_at = actor, timezone.now()  # type: ignore[attr-defined]
            row.save(update_fields=["first_approved_by", "first_approved_at"])
            return row
        if first == actor.pk:
            raise ValidationError(
                {"status": [f"You approved {row} already: a second committee member decides."]}
            )
    if approve:
        peers.filter(status=APPROVED).exclude(pk=row.pk).update(status=RETIRED)
    row.status = APPROVED if approve else rejected_status  # type: ignore[attr-defined]
    row.decided_by, row.decided_at = actor, timezone.now()  # type: ignore[attr-defined]
    row.save(update_fields=["status", "decided_by", "decided_at"])
    return row
