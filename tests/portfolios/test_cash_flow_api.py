"""Deposits and withdrawals through the API: validation, idempotency keys, overdrafts."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from portfolios import services
from portfolios.models import Account, Position, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(account) -> APIClient:
    api = APIClient()
    api.force_authenticate(account.client.user)
    return api


def _deposit(api, account, amount="100.00", key=None):
    return api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_a_deposit_over_the_api_returns_the_transaction_and_the_new_summary(owner_api, account):
    response = _deposit(owner_api, account, "2500.00")

    body = response.json()
    assert response.status_code == 201, body
    assert body["transaction"]["kind"] == "deposit"
    assert body["transaction"]["amount"] == "2500.00"
    assert Decimal(body["account"]["value"]) > Decimal("2499")
    assert body["account"]["drift"] < 0.01


def test_the_same_key_and_body_replays_the_first_response_and_pays_once(owner_api, account):
    first = _deposit(owner_api, account, "100.00", key="double-click")
    second = _deposit(owner_api, account, "100.00", key="double-click")

    assert second.status_code == first.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(kind="deposit").count() == 1


def test_the_same_key_with_another_body_is_a_422(owner_api, account):
    _deposit(owner_api, account, "100.00", key="k1")

    response = _deposit(owner_api, account, "200.00", key="k1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Transaction.objects.count() == 1


def test_a_deposit_without_an_idempotency_key_is_refused(owner_api, account):
    response = owner_api.post(
        f"/api/v1/accounts/{account.pk}/deposits/", {"amount": "10.00"}, format="json"
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["extra"]["fields"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", "1e12", None, [], {"a": 1}])
def test_bad_amounts_are_400s_with_field_errors_and_write_nothing(owner_api, account, amount):
    response = _deposit(owner_api, account, amount)

    assert response.status_code == 400
    assert "amount" in response.json()["extra"]["fields"]
    assert not Transaction.objects.exists()


def test_a_withdrawal_beyond_the_account_is_a_400_with_what_is_available(owner_api, account):
    _deposit(owner_api, account, "100.00")

    response = owner_api.post(
        f"/api/v1/accounts/{account.pk}/withdrawals/",
        {"amount": "5000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="w1",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_funds"
    assert not Transaction.objects.filter(kind="withdrawal").exists()


def test_accounts_list_opens_one_account_per_goal(owner_api, account):
    body = owner_api.get("/api/v1/accounts/").json()

    assert [a["goal_id"] for a in body] == [account.goal_id]


def _concurrently(count: int, work) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_with_one_key_make_exactly_one_deposit(account):
    user = account.client.user

    def work(_: int) -> int:
        api = APIClient()
        api.force_authenticate(user)
        return _deposit(api, account, "100.00", key="same-key").status_code

    statuses = _concurrently(50, work)

    assert statuses == [201] * 50
    assert Transaction.objects.filter(kind="deposit").count() == 1
    assert Account.objects.get(pk=account.pk).cash < Decimal("100.00")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_withdrawals_never_overdraw(account):
    services.deposit_make(account=account, amount=Decimal("1000.00"))
    user = account.client.user

    def work(index: int) -> int:
        api = APIClient()
        api.force_authenticate(user)
        return api.post(
            f"/api/v1/accounts/{account.pk}/withdrawals/",
            {"amount": "60.00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"w-{index}",
        ).status_code

    statuses = _concurrently(50, work)

    assert set(statuses) <= {201, 400}
    assert statuses.count(201) == 16  # 16 × 60 = 960 ≤ ~999.9 < 17 × 60
    account.refresh_from_db()
    assert account.cash >= 0
    assert not Position.objects.filter(account=account, quantity__lt=0).exists()
