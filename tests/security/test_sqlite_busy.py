"""Issue 13, finding 3: the embedded default (SQLite) answered 500 `database is locked` under
concurrent writes. It now runs in WAL mode with IMMEDIATE transactions and a busy timeout (the
threaded ledger tests in tests/portfolios run on it as on PostgreSQL), and a write that still
cannot get the lock answers 503 with Retry-After, never a 500."""

import sqlite3

import pytest
from django.db import connection
from rest_framework.test import APIClient

from advisor.models import User


@pytest.fixture
def short_busy_timeout():
    """This connection waits 0.2 s for the write lock instead of 20."""
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default's lock; PostgreSQL locks rows")
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    connection.close()
    options["timeout"] = 0.2
    yield
    connection.close()
    options["timeout"] = saved


def test_the_embedded_default_runs_in_wal_mode_with_immediate_transactions(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.transaction_mode == "IMMEDIATE"


@pytest.mark.django_db(transaction=True)
def test_a_write_that_cannot_get_the_lock_is_a_503_with_retry_after(short_busy_timeout):
    other_writer = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        response = APIClient().post(
            "/api/v1/auth/register/",
            {"email": "busy@example.test", "password": "correct horse battery"},
        )
    finally:
        other_writer.rollback()
        other_writer.close()

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "unavailable"
    assert not User.objects.filter(email="busy@example.test").exists()  # nothing half-written
