"""What the nlp floor tells a client: the notifications its events raise (recorded by the
advisor floor's `notify`, idempotent by each event's key, emailed if wanted)."""

from advisor.models import Notification, User
from advisor.services.notifications import notify

from .models import Escalation

Kind = Notification.Kind


def escalation_answered_notify(*, escalation: Escalation) -> Notification | None:
    """The advisor resolved the client's escalation with an answer (a resolution note)."""
    if escalation.status != Escalation.Status.RESOLVED or not escalation.resolution.strip():
        return None
    return notify(
        user=User.objects.get(client__pk=escalation.client_id),
        kind=Kind.ESCALATION_ANSWERED,
        key=f"escalation:{escalation.pk}",
        title="Your advisor answered your question",
        body=escalation.resolution,
        link="/dashboard",
    )
