"""Withdrawal holds: the risk rules (advisor.risk_control) screen each live withdrawal; a held
one waits here for an advisor instead of executing. Release is `cash_flows.withdrawal_release`
(it executes the withdrawal); rejection and expiry are here, and move no money.

Locks: a decision locks the hold's row first, then (release only) the account's, through
`withdrawal_make`; a new withdrawal locks the account and only inserts holds. One order, so no
deadlock, and a second decision on a hold waits for the first and then finds it decided."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import status

from advisor import risk_control
from advisor.models import Client, Notification, RiskEvent, RiskRule, User, WithdrawalHold
from advisor.selectors import clients_in_reach
from advisor.services.notifications import notify
from config.errors import ApplicationError, NotFound

from ..models import Account, Transaction
from ..money import money_text
from ..valuation import account_values

logger = logging.getLogger(__name__)

Status = WithdrawalHold.Status
NOTE_MAX_LENGTH = 1000


class WithdrawalHoldConflict(ApplicationError):
    """A hold that can no longer be decided this way: already decided, the same person's second
    approval, or the money is no longer there. Nothing moved."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "withdrawal_hold_conflict"


def four_eyes_threshold() -> Decimal:
    """From this amount up a release needs two different staff members' approvals."""
    return Decimal(str(getattr(settings, "RISK_CONTROL_FOUR_EYES_THRESHOLD", "25000.00")))


def hold_expiry() -> timedelta:
    return timedelta(days=int(getattr(settings, "RISK_CONTROL_HOLD_EXPIRY_DAYS", 7)))


# --- Screening -------------------------------------------------------------------------------


def withdrawal_facts(
    *, account: Account, amount: Decimal, at: datetime
) -> risk_control.WithdrawalFacts:
    """What the rules know about a withdrawal of `amount` from `account` now: the client's
    earlier withdrawals and held attempts, new devices and credential resets, the account's
    value and the client's total (before it)."""
    since = at - timedelta(days=risk_control.HISTORY_DAYS)
    client = Client.objects.select_related("user").get(pk=account.client_id)
    done = Transaction.objects.filter(
        account__client=client, kind=Transaction.Kind.WITHDRAWAL, created_at__gte=since
    ).values_list("created_at", "amount")
    # Held attempts count too (a burst split into holds is still a burst); a released one is
    # counted once, as its transaction.
    attempts = WithdrawalHold.objects.filter(
        client=client, created_at__gte=since, transaction_id__isnull=True
    ).values_list("created_at", "amount")
    withdrawals = sorted([(at_, -amount_) for at_, amount_ in done] + list(attempts))
    accounts = list(Account.objects.filter(client=client))
    values = account_values(accounts=accounts)
    new_devices, resets = risk_control.identity_signals(user=client.user, since=since)
    return risk_control.WithdrawalFacts(
        at=at,
        amount=amount,
        account_value=values[account.pk].total,
        client_total=sum((v.total for v in values.values()), Decimal(0)),
        withdrawals=tuple(withdrawals),
        new_devices=new_devices,
        resets=resets,
    )


def withdrawal_screen(
    *, account: Account, amount: Decimal, idempotency_key: str = ""
) -> WithdrawalHold | None:
    """Evaluate the withdrawal rules (and the anomaly score) on a live withdrawal, record the
    evaluation, and hold it when they say so: the hold is returned and the client told. The
    caller holds the account's lock, so the facts cannot change under the decision."""
    now = timezone.now()
    facts = withdrawal_facts(account=account, amount=amount, at=now)
    evaluation = risk_control.withdrawal_evaluate(
        facts, risk_control.rules_in_force(event=RiskRule.Event.WITHDRAWAL)
    )
    client = Client.objects.select_related("user").get(pk=account.client_id)
    event = risk_control.risk_event_record(
        client=client,
        event=RiskRule.Event.WITHDRAWAL,
        facts=facts,
        evaluation=evaluation,
        goal=account.goal,
    )
    if not evaluation.held:
        return None
    hold = WithdrawalHold(
        client=client,
        goal_id=account.goal_id,
        account_id=account.pk,
        amount=amount,
        idempotency_key=idempotency_key[:255],
        risk_event=event,
        reasons=evaluation.reasons(),
        approvals_needed=2 if amount >= four_eyes_threshold() else 1,
        created_at=now,
        expires_at=now + hold_expiry(),
    )
    hold.full_clean()
    hold.save()
    hold_notify(hold=hold, account=account)
    logger.info(
        "withdrawal held",
        extra={"hold_id": hold.pk, "account_id": account.pk, "risk_event_id": event.pk},
    )
    return hold


def held_message(*, hold: WithdrawalHold, account: Account) -> str:
    """What the client reads when their withdrawal is held."""
    return (
        f"Your withdrawal of {money_text(hold.amount, account.currency)} is held for review: "
        "for your security, an advisor checks it before any money leaves. You will be notified "
        f"when it is released or rejected, within {hold_expiry().days} days."
    )


def hold_notify(*, hold: WithdrawalHold, account: Account | None = None) -> Notification | None:
    """Tell the client where their held withdrawal stands (one notice per status)."""
    account = account or Account.objects.select_related("goal").get(pk=hold.account_id)
    amount = money_text(hold.amount, account.currency)
    text = {
        Status.PENDING: (
            f"Withdrawal of {amount} held for review",
            held_message(hold=hold, account=account)
            + " If you did not ask for it, contact us and change your password at once.",
        ),
        Status.RELEASED: (
            f"Withdrawal of {amount} released",
            f"Your held withdrawal of {amount} from “{account.goal.name}” was approved and is "
            "made at today's close.",
        ),
        Status.REJECTED: (
            f"Withdrawal of {amount} not made",
            f"Your held withdrawal of {amount} from “{account.goal.name}” was not approved: no "
            "money moved. Your advisor will contact you.",
        ),
        Status.EXPIRED: (
            f"Withdrawal of {amount} not made",
            f"Your held withdrawal of {amount} from “{account.goal.name}” expired before it "
            "was reviewed: no money moved. Ask for it again, or contact your advisor.",
        ),
    }
    title, body = text[Status(hold.status)]
    return notify(
        user=User.objects.get(client__pk=hold.client_id),
        kind=Notification.Kind.WITHDRAWAL_HOLD,
        key=f"withdrawal_hold:{hold.pk}:{hold.status}",
        title=title,
        body=body,
        link="/money",
    )


# --- Deciding --------------------------------------------------------------------------------


def holds_for_staff(*, user: User) -> QuerySet[WithdrawalHold]:
    """Holds a staff member may see and decide: those of the clients in reach
    (advisor.selectors.clients_in_reach); with the compliance permission, every client's."""
    holds = WithdrawalHold.objects.select_related("client", "goal", "risk_event")
    if not user.is_staff:
        return holds.none()
    if user.is_superuser or user.has_perm(WithdrawalHold.APPROVE_LARGE_PERMISSION):
        return holds
    return holds.filter(client__in=clients_in_reach(user))


def hold_get_for_staff(*, user: User, hold_id: int) -> WithdrawalHold:
    hold = holds_for_staff(user=user).filter(pk=hold_id).first()
    if hold is None:
        raise NotFound
    return hold


def holds_of_client(*, client: Client, status: str | None = None) -> QuerySet[WithdrawalHold]:
    holds = WithdrawalHold.objects.filter(client=client).select_related("goal")
    return holds.filter(status=status) if status else holds


def holds_list_for_staff(*, user: User, status: str | None = None) -> QuerySet[WithdrawalHold]:
    holds = holds_for_staff(user=user)
    return holds.filter(status=status) if status else holds


def _note(note: object) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [f"Keep the note under {NOTE_MAX_LENGTH} characters."]})
    return note


def hold_lock_for_decision(*, hold: WithdrawalHold, actor: User) -> WithdrawalHold:
    """The hold's row, locked, once the actor may decide it and it is still pending (409 if
    not). The first step of every decision."""
    if not holds_for_staff(user=actor).filter(pk=hold.pk).exists():
        raise PermissionDenied("This client is not one you work on.")
    locked = WithdrawalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.status != Status.PENDING:
        raise WithdrawalHoldConflict(
            f"This withdrawal is already {locked.get_status_display().split(':')[0].lower()}.",
            code="withdrawal_hold_decided",
            extra={"status": locked.status},
        )
    if locked.expires_at <= timezone.now():
        raise WithdrawalHoldConflict(
            "This hold has expired: no money moved. The client can ask again.",
            code="withdrawal_hold_expired",
        )
    return locked


def hold_first_approval(*, hold: WithdrawalHold, actor: User, note: str) -> bool:
    """Four-eyes: record the first of two approvals on a locked hold; True when this was it
    (nothing executes yet). The same person twice is refused."""
    if hold.approvals_needed < 2:
        return False
    if hold.first_approved_by_id is None:
        hold.first_approved_by = actor
        hold.first_approved_at = timezone.now()
        hold.decision_note = _note(note)
        hold.full_clean()
        hold.save(update_fields=["first_approved_by", "first_approved_at", "decision_note"])
        logger.info("withdrawal hold approved once", extra={"hold_id": hold.pk})
        return True
    if hold.first_approved_by_id == actor.pk:
        raise WithdrawalHoldConflict(
            "Four eyes: you gave the first approval; someone else must give the second.",
            code="withdrawal_hold_four_eyes",
        )
    return False


def hold_released(*, hold: WithdrawalHold, actor: User, txn: Transaction, note: str) -> None:
    """Mark a locked hold released with the withdrawal its release made."""
    hold.status = Status.RELEASED
    hold.decided_by = actor
    hold.decided_at = timezone.now()
    hold.transaction_id = txn.pk
    if note:
        hold.decision_note = (f"{hold.decision_note}\n{note}" if hold.decision_note else note)[
            :NOTE_MAX_LENGTH
        ]
    hold.full_clean()
    hold.save()
    hold_notify(hold=hold)


@transaction.atomic
def withdrawal_hold_reject(*, hold: WithdrawalHold, actor: User, note: str = "") -> WithdrawalHold:
    """An advisor turns a held withdrawal down: no money moves; the client is told. One staff
    member is enough to reject, whatever the amount."""
    note = _note(note)
    with risk_control.audit_actor(actor):
        hold = hold_lock_for_decision(hold=hold, actor=actor)
        hold.status = Status.REJECTED
        hold.decided_by = actor
        hold.decided_at = timezone.now()
        hold.decision_note = note
        hold.full_clean()
        hold.save()
    hold_notify(hold=hold)
    logger.info("withdrawal hold rejected", extra={"hold_id": hold.pk, "actor_id": actor.pk})
    return hold


def withdrawal_holds_expire(*, now: datetime | None = None) -> int:
    """Expire the holds nobody decided in time (no money moves; the client is told). Each is
    claimed by compare-and-set, so a decision in flight wins. Safe to run twice."""
    now = now or timezone.now()
    expired = 0
    due = WithdrawalHold.objects.filter(status=Status.PENDING, expires_at__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = WithdrawalHold.objects.filter(pk=pk, status=Status.PENDING).update(
                status=Status.EXPIRED, decided_at=now
            )
            if claimed:
                hold_notify(hold=WithdrawalHold.objects.get(pk=pk))
                expired += 1
    return expired


def hold_summary(hold: WithdrawalHold) -> dict[str, Any]:
    """For the advisor: why it was held (rules and score) beside the hold itself."""
    event: RiskEvent | None = hold.risk_event
    return {
        "fired": event.fired if event else [],
        "score": event.score if event else None,
        "context": event.context if event else {},
    }
