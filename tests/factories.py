"""factory_boy factories; they build rows directly, for tests of reads and access control."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.test import Client as BrowserClient
from django.utils import timezone

from advisor.models import Client, Goal, User

PASSWORD = "a-long-test-passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password(PASSWORD)


class AdvisorFactory(UserFactory):
    is_staff = True


def committee_member() -> User:
    """A staff member of the investment committee (its group made by the post-migrate hook)."""
    from django.contrib.auth.models import Group

    from advisor.services.clients import COMMITTEE_GROUP

    user = AdvisorFactory()
    user.groups.add(Group.objects.get(name=COMMITTEE_GROUP))
    return User.objects.get(pk=user.pk)  # a fresh instance: no permission cache


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    user = factory.SubFactory(UserFactory)
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    client = factory.SubFactory(ClientFactory)
    goal_type = Goal.GoalType.HOME_PURCHASE
    name = "House deposit"
    target_amount = Decimal("60000.00")
    target_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=5 * 365))
    initial_amount = Decimal("5000.00")
    monthly_contribution = Decimal("500.00")


def admin_login(user: User) -> BrowserClient:
    """A browser logged into the admin through its real login form (axes, CSRF and all)."""
    browser = BrowserClient()
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]  # noqa: S101
    return browser
