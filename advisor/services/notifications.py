"""Notifications: a notice in the app (the bell) for each event that matters to a user, and an
email too where the user's preference for that kind says so.

`notify` is the one way in (`notify_many`: its form for a daily job's chunk). Higher floors
(portfolios, nlp) call it at their hook points; it is idempotent by the event's `key` (unique
per user), so a rerun of a task, a retried request or a redelivered message notifies at most
once. Emails go through `advisor.notification_emails_send` after the commit (a daily job's
chunk: a task per EMAILS_PER_TASK notices, one mail connection each): never in the request,
never about an event that rolled back."""

import logging
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from config.errors import NotFound
from config.postgres import rows_update

from ..models import Client, Goal, GoalTrack, Notification, NotificationPreference, User

logger = logging.getLogger(__name__)

Kind = Notification.Kind

# Kinds whose email another service sends (and always sends: security notices), so a second
# email from here would repeat it and the preference cannot turn it off.
EMAIL_ELSEWHERE = frozenset({Kind.NEW_DEVICE})

# Notices emailed per task (`notification_emails_send`): a daily job's chunk queues a task per
# this many, each reading them in two queries and sending over one mail connection, instead of a
# task, three queries and a connection per email (two thirds of the recurring deposits' time in
# the daily batch, measured).
EMAILS_PER_TASK = 100


def email_wanted(*, user: User, kind: str) -> bool:
    """Whether `user` gets `kind` by email from here (no preference stored: yes)."""
    if kind in EMAIL_ELSEWHERE:
        return False
    preference = NotificationPreference.objects.filter(user=user, kind=kind).first()
    return preference is None or preference.email


def notify(
    *, user: User, kind: str, key: str, title: str, body: str = "", link: str = ""
) -> Notification | None:
    """Record the notice for event `key` unless it exists, and queue its email if wanted.
    Returns the new notice, or None when this event was already notified."""
    if Notification.objects.filter(user=user, key=key).exists():
        return None
    notification = Notification(
        user=user, kind=kind, key=key, title=title[:200], body=body, link=link[:200]
    )
    notification.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin leaves the caller's work intact
            notification.save()
    except IntegrityError:
        return None
    if email_wanted(user=user, kind=kind):
        enqueue_on_commit("advisor.notification_emails_send", notification_ids=[notification.pk])
    logger.info(
        "notification created",
        extra={"notification_id": notification.pk, "user_id": user.pk, "kind": kind},
    )
    return notification


def notify_many(notices: Sequence[Notification]) -> list[Notification]:
    """`notify` for many unsaved notices at once (a daily job's chunk), in three queries: each
    recorded unless its event was notified already (its key, per user), its email queued after
    the commit where the user's preference wants it, a log line each. The caller holds the
    locks that make its keys its own (no savepoint per notice, as `notify` takes). Returns the
    notices made."""
    if not notices:
        return []
    users = {notice.user_id for notice in notices}
    sent = set(
        Notification.objects.filter(
            user_id__in=users, key__in=[notice.key for notice in notices]
        ).values_list("user_id", "key")
    )
    made = [notice for notice in notices if (notice.user_id, notice.key) not in sent]
    for notice in made:
        notice.title, notice.link = notice.title[:200], notice.link[:200]
        # notify's full_clean, less its per-row query (the user exists: the caller read it).
        notice.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    Notification.objects.bulk_create(made, batch_size=500)
    no_email = _emails_off(made)
    emails = [
        notice.pk
        for notice in made
        if notice.kind not in EMAIL_ELSEWHERE and (notice.user_id, notice.kind) not in no_email
    ]
    for start in range(0, len(emails), EMAILS_PER_TASK):
        enqueue_on_commit(
            "advisor.notification_emails_send",
            notification_ids=emails[start : start + EMAILS_PER_TASK],
        )
    for notice in made:
        logger.info(
            "notification created",
            extra={"notification_id": notice.pk, "user_id": notice.user_id, "kind": notice.kind},
        )
    return made


def _emails_off(notices: Sequence[Notification]) -> set[tuple[int, str]]:
    """(user id, kind) of these notices whose user turned that kind's email off."""
    return set(
        NotificationPreference.objects.filter(
            user_id__in={notice.user_id for notice in notices},
            kind__in={notice.kind for notice in notices},
            email=False,
        ).values_list("user_id", "kind")
    )


def notification_email_send(*, notification_id: int) -> bool:
    """`notification_emails_send` of one notice: whether it was emailed now."""
    return notification_emails_send(notification_ids=[notification_id]) == 1


def notification_emails_send(*, notification_ids: Sequence[int]) -> int:
    """Email each of these notices once, over one mail connection. The preferences are read
    now, at send time. Each notice is claimed by compare-and-set on `emailed_at` (one UPDATE …
    RETURNING for all: a concurrent run claims the others, or none), and a send that fails
    releases the notices not sent yet and raises, so that the retry sends those and only those.
    Returns the emails sent."""
    notices = {
        notice.pk: notice
        for notice in Notification.objects.select_related("user")
        .filter(pk__in=notification_ids, emailed_at__isnull=True, user__is_active=True)
        .exclude(kind__in=EMAIL_ELSEWHERE)
    }
    off = _emails_off(list(notices.values())) if notices else set()
    wanted = sorted(pk for pk, n in notices.items() if (n.user_id, n.kind) not in off)
    claimed = sorted(_emails_claim(wanted))
    if not claimed:
        return 0
    messages = [_email(notices[pk]) for pk in claimed]
    mail = get_connection()
    sent = 0
    try:
        with mail:  # opened once, closed whatever happens
            for message in messages:
                message.connection = mail
                message.send()
                sent += 1
    except Exception:
        Notification.objects.filter(pk__in=claimed[sent:]).update(emailed_at=None)
        raise
    for pk in claimed:
        logger.info("notification emailed", extra={"notification_id": pk, "kind": notices[pk].kind})
    return sent


def _emails_claim(ids: list[int]) -> list[int]:
    """Set `emailed_at` on those of `ids` that have none, in one statement; their ids (PostgreSQL
    and SQLite ≥ 3.35 both return the rows an UPDATE changed)."""
    if not ids:
        return []
    table = connection.ops.quote_name(Notification._meta.db_table)
    column = connection.ops.quote_name(Notification._meta.get_field("emailed_at").column)
    pk = connection.ops.quote_name(Notification._meta.pk.column)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {pk} IN ({placeholders}) "  # noqa: S608 - names quoted, values bound
            f"AND {column} IS NULL RETURNING {pk}",
            [timezone.now(), *ids],
        )
        return [row[0] for row in cursor.fetchall()]


def _email(notification: Notification) -> EmailMessage:
    user = notification.user
    text = f"Hello {user.first_name or 'there'},\n\n{notification.body}\n"
    if notification.link:
        text += f"\n{settings.FRONTEND_BASE_URL}{notification.link}\n"
    text += (
        f"\nYou get this email because of your notification settings; change them at "
        f"{settings.FRONTEND_BASE_URL}/settings\n"
    )
    return EmailMessage(notification.title, text, None, [user.email])


# --- Reading and preferences --------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notices read (again: no change)."""
    notification = (
        Notification.objects.select_for_update().filter(user=user, pk=notification_id).first()
    )
    if notification is None:
        raise NotFound
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notice of the user read. Returns how many were unread."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_preference_set(*, user: User, kind: str, email: bool) -> NotificationPreference:
    """Turn the email for one kind on or off (in-app notices stay on)."""
    if kind not in Kind.values or kind in EMAIL_ELSEWHERE:
        raise ValidationError({"kind": ["This kind's email cannot be changed."]})
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email}
    )
    return preference


# --- Hooks within the advisor floor -------------------------------------------------------------


def new_device_notify(*, user: User, fingerprint: str) -> Notification | None:
    """A sign-in from a device not seen before (its email is identity's, always sent)."""
    return notify(
        user=user,
        kind=Kind.NEW_DEVICE,
        key=f"new_device:{fingerprint}",
        title="New sign-in to your account",
        body=(
            "Your account was just signed in to from a device we have not seen before. If this "
            "wasn't you, reset your password at once and contact us."
        ),
        link="/settings",
    )


def kyc_reviews_notify_due(*, today: date | None = None) -> int:
    """Tell each client whose KYC review is overdue to review their profile: once per review
    date (a new review date is a new event). Safe to run twice. Returns notices created."""
    today = today or timezone.localdate()
    created = 0
    clients = Client.objects.filter(
        kyc_review_overdue=True, kyc_review_due__lt=today, user__is_active=True
    ).select_related("user")
    for client in clients.iterator():
        assert client.kyc_review_due is not None  # noqa: S101 - filtered on it above
        notice = notify(
            user=client.user,
            kind=Kind.KYC_REVIEW_DUE,
            key=f"kyc_review_due:{client.pk}:{client.kyc_review_due.isoformat()}",
            title="Time to review your profile",
            body=(
                "Your financial profile was due for its periodic review on "
                f"{client.kyc_review_due:%d %B %Y}. Please check that your details are still "
                "right, so our advice stays suitable for you."
            ),
            link="/settings",
        )
        created += notice is not None
    return created


@transaction.atomic
def goal_track_record(*, goal: Goal, probability: float, event: str) -> Notification | None:
    """Record where the goal's current plan stands against its priority's band and notify when
    it has moved off track (was on track, now below). The first reading sets the state only.
    `event` names the projection read, so a rerun on it changes nothing."""
    made = goal_tracks_record(readings=[(goal, probability, event)])
    return made[0] if made else None


def goal_tracks_record(*, readings: Sequence[tuple[Goal, float, str]]) -> list[Notification]:
    """`goal_track_record` for many goals (goal, probability, event) at once, in a few queries
    (the daily batch's projections): the goals' track rows locked and read in one statement,
    created and updated in bulk, the goals moved off track notified (`notify_many`). Returns
    the notices made."""
    latest = {goal.pk: (goal, probability, event) for goal, probability, event in readings}
    if not latest:
        return []
    with transaction.atomic():
        tracks = {
            t.goal_id: t
            for t in GoalTrack.objects.select_for_update().filter(goal_id__in=latest).order_by("pk")
        }
        now = timezone.now()
        new, changed, moved_off = [], [], []
        for goal_id, (goal, probability, event) in latest.items():
            on_track = goal.on_track(probability)
            track = tracks.get(goal_id)
            if track is None:  # the first reading sets the state only
                new.append(GoalTrack(goal=goal, on_track=on_track, probability=probability))
                continue
            if track.on_track and not on_track:
                moved_off.append((goal, probability, event))
            track.on_track, track.probability, track.updated_at = on_track, probability, now
            changed.append(track)
        GoalTrack.objects.bulk_create(new, ignore_conflicts=True)
        rows_update(changed, ["on_track", "probability", "updated_at"])
        if not moved_off:
            return []
        users = dict(
            Client.objects.filter(pk__in={g.client_id for g, _, _ in moved_off}).values_list(
                "pk", "user"
            )
        )
        return notify_many(
            [
                Notification(
                    user_id=users[goal.client_id],
                    kind=Kind.GOAL_OFF_TRACK,
                    key=f"goal_off_track:{goal.pk}:{event}",
                    title=f"“{goal.name}” has moved off track",
                    body=(
                        f"The chance of reaching “{goal.name}” is now {probability:.0%}, below "
                        f"the {Goal.SUCCESS_BANDS[goal.priority]:.0%} we aim for with a goal of "
                        "this priority. A larger monthly deposit, a later date or a smaller "
                        "target can bring it back on track."
                    ),
                    link=f"/goals/{goal.pk}",
                )
                for goal, probability, event in moved_off
            ]
        )
