"""Every client has an advisor (issue 14): sign-up assigns the least-loaded advisor, or leaves
the client in the firm queue, which every advisor sees and claims from; moves are audited."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from advisor import selectors, services
from advisor.models import Client, User

from ..factories import PASSWORD, AdvisorFactory, ClientFactory, UserFactory, admin_login

pytestmark = pytest.mark.django_db


def _advisor(email: str) -> User:
    return services.advisor_create(email=email, password=PASSWORD)


def _register(api_client, email: str) -> Client:
    response = api_client.post(
        "/api/v1/auth/register/", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 202, response.content
    return Client.objects.select_related("advisor").get(user__email=email)


def _audit_entries(client: Client) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Client), object_pk=str(client.pk)
        ).order_by("pk")
    )


def test_a_client_who_signs_up_through_the_api_gets_an_advisor(api_client):
    advisor = _advisor("alex@example.test")

    client = _register(api_client, "new@example.test")

    assert client.advisor == advisor


def test_sign_up_picks_the_advisor_with_the_fewest_active_clients_ties_by_id(api_client):
    # given: the first advisor has two active clients, the second one, the third one too
    busy, second, third = (_advisor(f"a{i}@example.test") for i in range(3))
    ClientFactory.create_batch(2, advisor=busy)
    ClientFactory(advisor=second)
    ClientFactory(advisor=third)
    # an inactive client does not count towards the load
    ClientFactory(advisor=second, user=UserFactory(is_active=False))

    # when / then: the tie between the second and third goes to the lower id
    assert _register(api_client, "one@example.test").advisor == second
    assert _register(api_client, "two@example.test").advisor == third
    # now all three hold two: the first again, by id
    assert _register(api_client, "three@example.test").advisor == busy


def test_only_active_staff_in_the_advisors_group_take_new_clients(api_client):
    inactive = _advisor("gone@example.test")
    inactive.is_active = False
    inactive.save()
    AdvisorFactory()  # staff, but not in the Advisors group
    User.objects.create_superuser(email="root@example.test", password=None)

    client = _register(api_client, "new@example.test")

    assert client.advisor is None  # the firm queue


def test_without_an_advisor_the_client_waits_in_the_queue_every_advisor_sees(api_client):
    client = _register(api_client, "new@example.test")
    advisor = _advisor("alex@example.test")
    other_book = ClientFactory(advisor=_advisor("blair@example.test"))

    reach = set(selectors.clients_in_reach(advisor))

    assert client.advisor is None
    assert client in reach
    assert other_book not in reach
    assert client not in set(selectors.clients_visible_to(advisor))  # not in the book yet


def test_an_advisor_claims_an_unassigned_client_and_the_claim_is_audited():
    advisor = _advisor("alex@example.test")
    client = ClientFactory()

    services.client_claim(client=client, advisor=advisor)

    client.refresh_from_db()
    assert client.advisor == advisor
    entry = _audit_entries(client)[-1]
    assert entry.actor == advisor
    assert "advisor" in entry.changes_dict


def test_a_client_someone_else_claimed_first_is_not_taken_over():
    first, second = _advisor("a@example.test"), _advisor("b@example.test")
    client = ClientFactory(advisor=first)

    with pytest.raises(ValidationError):
        services.client_claim(client=client, advisor=second)

    client.refresh_from_db()
    assert client.advisor == first


def test_a_client_cannot_claim_anyone():
    with pytest.raises(PermissionDenied):
        services.client_claim(client=ClientFactory(), advisor=UserFactory())


def test_assign_to_me_on_the_client_page_puts_the_client_in_the_book():
    advisor = _advisor("alex@example.test")
    client = ClientFactory()
    browser = admin_login(advisor)
    page = browser.get(f"/admin/advisor/client/{client.pk}/change/").content.decode()
    assert "Assign to me" in page

    response = browser.post(f"/admin/advisor/client/{client.pk}/assign-to-me/", follow=True)

    client.refresh_from_db()
    assert response.status_code == 200
    assert client.advisor == advisor
    assert "Assign to me" not in response.content.decode()
    assert _audit_entries(client)[-1].actor == advisor


def test_the_assign_to_me_action_claims_only_unassigned_clients():
    advisor, other = _advisor("alex@example.test"), _advisor("blair@example.test")
    free = ClientFactory()
    taken = ClientFactory(advisor=other)

    admin_login(advisor).post(
        "/admin/advisor/client/",
        {"action": "assign_to_me", "_selected_action": [free.pk, taken.pk]},
    )

    free.refresh_from_db()
    taken.refresh_from_db()
    assert free.advisor == advisor
    assert taken.advisor == other  # not in reach: never touched


def test_an_admin_reassigns_a_client_from_its_page_and_it_is_audited():
    first, second = _advisor("a@example.test"), _advisor("b@example.test")
    root = User.objects.create_superuser(email="root@example.test", password=PASSWORD)
    client = ClientFactory(advisor=first)
    browser = admin_login(root)
    url = f"/admin/advisor/client/{client.pk}/change/"
    form = browser.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "advisor": second.pk,
            "user": client.user_id,
            "goals-TOTAL_FORMS": 0,
            "goals-INITIAL_FORMS": 0,
        }
    )

    response = browser.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    client.refresh_from_db()
    assert client.advisor == second
    entry = _audit_entries(client)[-1]
    assert entry.actor == root
    assert entry.changes_dict["advisor"][1] == str(second.pk)
