"""Notifications (#14): one notice per event, whatever reruns; email by preference; the API."""

from datetime import timedelta
from smtplib import SMTPException
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor.models import GoalTrack, Notification, NotificationPreference
from advisor.services import identity
from advisor.services import notifications as service
from advisor.tasks import kyc_reviews_flag_due_task
from nlp.chat.services import escalation_resolve
from nlp.models import Conversation, Escalation
from nlp.notices import escalation_answered_notify

from ..factories import AdvisorFactory, ClientFactory, GoalFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def notices(user, kind=None) -> list[Notification]:
    rows = Notification.objects.filter(user=user)
    return list(rows.filter(kind=kind) if kind else rows)


def email_off(user, kind: str) -> None:
    NotificationPreference.objects.create(user=user, kind=kind, email=False)


# --- notify: once per event; email by preference ----------------------------------------------


def test_an_event_notified_twice_is_recorded_once(client_user):
    for _ in range(2):
        service.notify(user=client_user, kind=Kind.CASH_FLOW, key="e:1", title="Done")
    assert len(notices(client_user)) == 1


def test_the_email_is_sent_after_commit_when_the_preference_is_on(
    client_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        service.notify(
            user=client_user, kind=Kind.CASH_FLOW, key="e:1", title="Deposit done", link="/money"
        )
        assert mail.outbox == []  # not in the request's transaction
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Deposit done"
    assert mail.outbox[0].to == [client_user.email]
    assert "/money" in mail.outbox[0].body
    assert Notification.objects.get(user=client_user).emailed_at is not None


def test_no_email_when_the_preference_is_off(client_user, django_capture_on_commit_callbacks):
    email_off(client_user, Kind.CASH_FLOW)
    with django_capture_on_commit_callbacks(execute=True):
        service.notify(user=client_user, kind=Kind.CASH_FLOW, key="e:1", title="Deposit done")
    assert mail.outbox == []
    assert len(notices(client_user)) == 1  # in the app: always


def test_a_preference_turned_off_before_sending_stops_the_email(client_user):
    notice = service.notify(user=client_user, kind=Kind.REBALANCE, key="r:1", title="Rebalanced")
    email_off(client_user, Kind.REBALANCE)
    assert service.notification_email_send(notification_id=notice.pk) is False
    assert mail.outbox == []


def test_a_notice_is_emailed_at_most_once(client_user):
    notice = service.notify(user=client_user, kind=Kind.REBALANCE, key="r:1", title="Rebalanced")
    assert service.notification_email_send(notification_id=notice.pk) is True
    assert service.notification_email_send(notification_id=notice.pk) is False
    assert len(mail.outbox) == 1


class _FailOn(locmem.EmailBackend):
    """Django's test backend, refusing (as an SMTP server may) mail to one address."""

    refuse = ""

    def send_messages(self, messages):
        if any(self.refuse in message.to for message in messages):
            raise SMTPException("451 try again later")
        return super().send_messages(messages)


def _chunk_notices(users, kind=Kind.CASH_FLOW) -> list[Notification]:
    return service.notify_many(
        [
            Notification(user_id=user.pk, kind=kind, key=f"e:{user.pk}", title="Deposit done")
            for user in users
        ]
    )


def test_a_chunks_emails_go_in_tasks_of_many_read_in_a_fixed_number_of_queries(
    django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    users = [ClientFactory().user for _ in range(7)]
    email_off(users[3], Kind.CASH_FLOW)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        mock.patch.object(service, "EMAILS_PER_TASK", 4),
    ):
        made = _chunk_notices(users)
    assert len(made) == 7
    assert len(callbacks) == 2  # 6 emails wanted: tasks of 4 and 2
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    # Per task: the notices with their users, the preferences, the claim (no query per email).
    assert len(queries) == 2 * 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for i, u in enumerate(users) if i != 3
    )
    assert Notification.objects.filter(emailed_at__isnull=True).get().user == users[3]


def test_a_send_failing_mid_task_releases_the_rest_and_its_retry_sends_each_once(settings):
    settings.EMAIL_BACKEND = f"{__name__}._FailOn"
    users = [ClientFactory().user for _ in range(3)]
    made = _chunk_notices(users)
    ids = sorted(n.pk for n in made)
    second = Notification.objects.get(pk=ids[1]).user.email
    _FailOn.refuse = second
    try:
        with pytest.raises(SMTPException):
            service.notification_emails_send(notification_ids=ids)
    finally:
        _FailOn.refuse = ""
    assert [m.to[0] for m in mail.outbox] == [Notification.objects.get(pk=ids[0]).user.email]
    assert (
        list(
            Notification.objects.filter(emailed_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        == ids[1:]
    )  # the one sent stays claimed; the failed one and those after it are released
    assert service.notification_emails_send(notification_ids=ids) == 2  # the retry
    assert service.notification_emails_send(notification_ids=ids) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)


# --- Each kind, its code path run twice ------------------------------------------------------


def test_an_answered_escalation_notifies_once_and_a_bare_resolve_not_at_all():
    client = ClientFactory()
    advisor = AdvisorFactory()

    def escalation() -> Escalation:
        conversation = Conversation.objects.create(client=client)
        return Escalation.objects.create(
            conversation=conversation, client=client, reason=Escalation.Reason.REQUESTED
        )

    answered, bare = escalation(), escalation()
    escalation_resolve(escalation=answered, actor=advisor, resolution="Yes, you can.")
    escalation_resolve(escalation=answered, actor=advisor, resolution="Yes, you can.")
    escalation_answered_notify(escalation=Escalation.objects.get(pk=answered.pk))
    escalation_resolve(escalation=bare, actor=advisor)
    [notice] = notices(client.user, Kind.ESCALATION_ANSWERED)
    assert notice.body == "Yes, you can."


def test_a_due_kyc_review_notifies_once_per_review_date():
    today = timezone.localdate()
    client = ClientFactory(kyc_review_due=today - timedelta(days=1))
    ClientFactory(kyc_review_due=today + timedelta(days=30))  # not due
    kyc_reviews_flag_due_task()
    kyc_reviews_flag_due_task()
    [notice] = notices(client.user)
    assert notice.kind == Kind.KYC_REVIEW_DUE
    assert Notification.objects.count() == 1


def test_a_sign_in_from_a_new_device_notifies_once_and_its_email_is_identitys(
    client_user, django_capture_on_commit_callbacks
):
    def sign_in(agent: str) -> None:
        request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=agent)
        identity.known_device_record(request=request, user=client_user)

    with django_capture_on_commit_callbacks(execute=True):
        sign_in("laptop")  # the first device: the sign-up one, no notice
        sign_in("phone")
        sign_in("phone")
    [notice] = notices(client_user)
    assert notice.kind == Kind.NEW_DEVICE
    assert [m.subject for m in mail.outbox] == ["New sign-in to your Meridian account"]


# --- Goals moving off track ------------------------------------------------------------------


def test_a_goal_moving_below_its_band_notifies_once_per_move():
    goal = GoalFactory(priority="need")  # band 80%
    user = goal.client.user
    assert service.goal_track_record(goal=goal, probability=0.9, event="p1") is None  # first
    assert service.goal_track_record(goal=goal, probability=0.7, event="p2") is not None
    service.goal_track_record(goal=goal, probability=0.7, event="p2")  # the same projection
    service.goal_track_record(goal=goal, probability=0.6, event="p3")  # still off: no news
    assert len(notices(user, Kind.GOAL_OFF_TRACK)) == 1
    service.goal_track_record(goal=goal, probability=0.85, event="p4")  # back on track
    service.goal_track_record(goal=goal, probability=0.5, event="p5")  # off again
    assert len(notices(user, Kind.GOAL_OFF_TRACK)) == 2
    assert GoalTrack.objects.get(goal=goal).on_track is False


def test_the_band_depends_on_the_goals_priority():
    wish = GoalFactory(priority="wish")  # band 50%
    service.goal_track_record(goal=wish, probability=0.9, event="p1")
    assert service.goal_track_record(goal=wish, probability=0.6, event="p2") is None
    assert service.goal_track_record(goal=wish, probability=0.4, event="p3") is not None


def _readings(goals, probability: float, event: str):
    return [(goal, probability, f"{event}:{goal.pk}") for goal in goals]


def test_many_goals_read_at_once_are_recorded_as_one_by_one_in_a_fixed_number_of_queries():
    # given: goals seen on track (the first reading sets the state only)
    few, many = GoalFactory.create_batch(3), GoalFactory.create_batch(12)
    for goals in (few, many):
        assert service.goal_tracks_record(readings=_readings(goals, 0.9, "p1")) == []
    alone = GoalFactory(priority=few[0].priority)
    service.goal_track_record(goal=alone, probability=0.9, event="p1")

    # when: all of them fall below their band, in one call per set (and one goal alone)
    with CaptureQueriesContext(connection) as three:
        made_few = service.goal_tracks_record(readings=_readings(few, 0.1, "p2"))
    with CaptureQueriesContext(connection) as twelve:
        made_many = service.goal_tracks_record(readings=_readings(many, 0.1, "p2"))
    made_alone = service.goal_track_record(goal=alone, probability=0.1, event="p2:x")

    # then: each goal is off track and notified once, as when recorded alone, with as many
    # queries for twelve goals as for three
    assert (len(made_few), len(made_many)) == (3, 12)
    assert made_alone is not None
    for goal in [*few, *many, alone]:
        assert GoalTrack.objects.get(goal=goal).on_track is False
        (notice,) = notices(goal.client.user, Kind.GOAL_OFF_TRACK)
        assert notice.title == made_alone.title.replace(alone.name, goal.name)
    assert len(twelve.captured_queries) == len(three.captured_queries)
    # a rerun on the same readings notifies no one again
    assert service.goal_tracks_record(readings=_readings(many, 0.1, "p2")) == []


# --- The API ---------------------------------------------------------------------------------


def test_the_list_shows_only_my_notices_newest_first_with_the_unread_count(
    client_api, client_user, other_client_user
):
    service.notify(user=client_user, kind=Kind.CASH_FLOW, key="a", title="First")
    service.notify(user=client_user, kind=Kind.REBALANCE, key="b", title="Second")
    service.notify(user=other_client_user, kind=Kind.CASH_FLOW, key="a", title="Not mine")
    body = client_api.get("/api/v1/notifications/").json()
    assert [n["title"] for n in body["results"]] == ["Second", "First"]
    assert body["count"] == 2
    assert body["unread_count"] == 2
    assert client_api.get("/api/v1/notifications/unread-count/").json() == {"unread_count": 2}


def test_marking_one_read_and_all_read(client_api, client_user, other_client_user):
    first = service.notify(user=client_user, kind=Kind.CASH_FLOW, key="a", title="First")
    service.notify(user=client_user, kind=Kind.CASH_FLOW, key="b", title="Second")
    theirs = service.notify(user=other_client_user, kind=Kind.CASH_FLOW, key="a", title="X")
    response = client_api.post(f"/api/v1/notifications/{first.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read"] is True
    assert client_api.get("/api/v1/notifications/").json()["unread_count"] == 1
    assert client_api.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    response = client_api.post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread_count": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_api_needs_a_login(api_client):
    assert api_client.get("/api/v1/notifications/").status_code in (401, 403)


def test_email_preferences_per_kind(client_api, client_user):
    prefs = {p["kind"]: p for p in client_api.get("/api/v1/notifications/preferences/").json()}
    assert set(prefs) == set(Kind.values)
    assert all(p["email"] and p["in_app"] for p in prefs.values())
    assert prefs[Kind.NEW_DEVICE]["email_editable"] is False
    response = client_api.patch(
        "/api/v1/notifications/preferences/", {"kind": "rebalance", "email": False}, format="json"
    )
    assert response.status_code == 200
    assert {p["kind"]: p["email"] for p in response.json()}["rebalance"] is False
    assert service.email_wanted(user=client_user, kind=Kind.REBALANCE) is False
    refused = client_api.patch(
        "/api/v1/notifications/preferences/", {"kind": "new_device", "email": False}, format="json"
    )
    assert refused.status_code == 400
