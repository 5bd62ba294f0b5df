"""The database drops its connection in the middle of a deposit or a withdrawal: the request
answers 503 with Retry-After, nothing of the half-done movement stays, and the client's retry
with the same Idempotency-Key moves the money exactly once (issue #18: "PostgreSQL connection
dropped mid-request — nothing lost or doubled"). The drop is made at the driver's boundary, the
cursor raising what psycopg raises when the server goes away, on the statement that writes the
movement's first ledger entry, after the transaction and the account's lock have begun."""

import uuid
from decimal import Decimal

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from rest_framework.test import APIClient

from portfolios import services
from portfolios.models import Account, Entry, Transaction

pytestmark = pytest.mark.django_db


def _drop_once_on(monkeypatch, table: str, error: type[Exception]) -> list[str]:
    """The first INSERT into `table` fails as a dropped connection; later statements run."""
    dropped: list[str] = []
    real = CursorWrapper.execute

    def execute(self, sql, params=None):
        if not dropped and sql.lstrip().upper().startswith("INSERT") and f'"{table}"' in sql:
            dropped.append(sql)
            raise error("server closed the connection unexpectedly")
        return real(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)
    return dropped


def _ledger_agrees(account: Account) -> None:
    account.refresh_from_db()
    cash = Entry.objects.filter(account=account, asset=None).values_list("quantity", flat=True)
    assert sum(cash, Decimal(0)) == account.cash  # summed here: SQLite sums decimals as floats
    for position in account.positions.all():
        units = sum(
            Entry.objects.filter(account=account, asset=position.asset).values_list(
                "quantity", flat=True
            ),
            Decimal(0),
        )
        assert units == position.quantity


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_deposit_cut_off_mid_request_is_a_503_and_its_retry_pays_once(
    account, monkeypatch, error
):
    api = APIClient()
    api.force_authenticate(account.client.user)
    key = str(uuid.uuid4())
    dropped = _drop_once_on(monkeypatch, "portfolios_entry", error)

    first = api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "1000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert dropped, "the drop never happened: the test would prove nothing"
    assert first.status_code == 503
    assert first["Retry-After"] == "2"
    assert not Transaction.objects.filter(account=account).exists()  # nothing half-done stays

    retry = api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "1000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    again = api.post(
        f"/api/v1/accounts/{account.pk}/deposits/",
        {"amount": "1000.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert retry.status_code == again.status_code == 201
    assert Transaction.objects.filter(account=account, kind="deposit").count() == 1
    _ledger_agrees(account)


def test_a_withdrawal_cut_off_mid_request_is_a_503_and_its_retry_pays_out_once(
    account, monkeypatch
):
    services.deposit_make(account=account, amount=Decimal("2000.00"))
    api = APIClient()
    api.force_authenticate(account.client.user)
    key = str(uuid.uuid4())
    before = Transaction.objects.filter(account=account).count()
    dropped = _drop_once_on(monkeypatch, "portfolios_entry", OperationalError)

    first = api.post(
        f"/api/v1/accounts/{account.pk}/withdrawals/",
        {"amount": "300.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert dropped
    assert first.status_code == 503
    assert Transaction.objects.filter(account=account).count() == before

    retry = api.post(
        f"/api/v1/accounts/{account.pk}/withdrawals/",
        {"amount": "300.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert retry.status_code in (201, 202), retry.json()
    assert Transaction.objects.filter(account=account, kind="withdrawal").count() <= 1
    if retry.status_code == 201:
        assert Transaction.objects.filter(account=account, kind="withdrawal").count() == 1
    _ledger_agrees(account)
