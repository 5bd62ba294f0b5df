"""config.postgres: psycopg's array dumper escapes as psycopg itself would, faster."""

import inspect
import random
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.array import ListDumper

from config.postgres import _Escape, rows_update
from portfolios.models import Account, GoalProjection
from tests.factories import GoalFactory

PSYCOPG_ESCAPE = re.compile(rb'(["\\])')


def test_the_escape_writes_what_psycopgs_pattern_writes():
    rng = random.Random(0)  # noqa: S311 - test data, not a secret
    alphabet = b"ab\"\\{},' \n"
    for _ in range(5000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _Escape.sub(rb"\\\1", data) == PSYCOPG_ESCAPE.sub(rb"\\\1", data), data
    assert _Escape.sub(rb"\\\1", memoryview(b'a"b')) == b'a\\"b'


def test_psycopgs_list_dumper_uses_it():
    # If psycopg stops escaping through `_re_esc`, the patch no longer applies: look again.
    assert "self._re_esc.sub(" in inspect.getsource(ListDumper._dump_list)
    assert ListDumper._re_esc.pattern == _Escape.pattern
    assert isinstance(ListDumper._re_esc, _Escape)
    values = ['{"a": "b\\\\c"}', "plain"]
    dumped = Transformer().get_dumper(values, PyFormat.TEXT).dump(values)
    assert bytes(dumped) == b'{"{\\"a\\": \\"b\\\\\\\\c\\"}",plain}'


@pytest.mark.django_db
def test_arrays_of_quotes_and_backslashes_reach_postgresql_intact():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's array parser (DATABASE_URL=postgres://…)")
    values = ['{"a": "b\\\\c"}', 'say "hi"', "back\\slash", "", "{,}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [values])
        assert cursor.fetchone()[0] == values


@pytest.mark.django_db
def test_rows_update_writes_what_bulk_update_writes():
    # given: projections of goals (text, JSON, a nullable time) and the goals' accounts' cash
    # (numeric), changed in memory; one projection twice, its second copy changed otherwise
    goals = [GoalFactory() for _ in range(3)]
    projections = [
        GoalProjection.objects.create(goal=goal, inputs_hash=f"h{i}", inputs={"i": i})
        for i, goal in enumerate(goals)
    ]
    now = timezone.now()
    results = [{"quote": 'say "hi"', "path": "a\\b", "n": [1.5, None]}, None, {"k": {}}]
    for projection, result in zip(projections, results, strict=True):
        projection.status = GoalProjection.Status.READY
        projection.result = result
        projection.computed_at = now if result else None
    twin = GoalProjection.objects.get(pk=projections[0].pk)
    twin.result = {"twin": True}
    accounts = list(Account.objects.filter(goal__in=goals).order_by("pk"))  # opened with them
    for i, account in enumerate(accounts):
        account.cash = Decimal("1234.56") * i

    # when: written by rows_update, and the same changes by bulk_update, each read back
    def read() -> tuple[list, list]:
        return (
            list(
                GoalProjection.objects.filter(pk__in=[p.pk for p in projections])
                .order_by("pk")
                .values_list("status", "result", "computed_at", "inputs")
            ),
            list(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("cash")),
        )

    with transaction.atomic():
        assert rows_update([*projections, twin], ["status", "result", "computed_at"]) == 3
        assert rows_update(accounts, ["cash"]) == 3
        ours = read()
        transaction.set_rollback(True)
    GoalProjection.objects.bulk_update([*projections, twin], ["status", "result", "computed_at"])
    Account.objects.bulk_update(accounts, ["cash"])

    # then: the same rows
    assert ours == read()
    assert ours[0][0][1] == results[0]  # the first of two objects with one pk wins


def test_rows_update_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="pk"):
        rows_update([Account(pk=1)], ["id"])
    with pytest.raises(ValueError, match="saved"):
        rows_update([Account()], ["cash"])
    assert rows_update([], ["cash"]) == 0
