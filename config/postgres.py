"""PostgreSQL, faster: psycopg's text array dumper without its cost per escaped character, and
an update of many rows (`rows_update`) whose cost grows with the rows, not their square.

Django 5.2 inserts rows in bulk on PostgreSQL as one array per column (`INSERT … SELECT * FROM
UNNEST(%s::jsonb[], …)`), and psycopg writes each array element that holds a double quote or a
backslash with `re.sub(rb'(["\\])', rb"\\\1", …)`: on Python 3.11 a template substitution is a
Python call per match, so a JSON column (an audit-log row's changes, a risk figure) costs a
Python call per quote in it, about a third of the daily batch's bulk writes (measured by
`benchmarks.daily_batch --profile`). `array_escape_fast` swaps that pattern for two byte
replaces that write the same bytes (a test compares them); psycopg is pinned, and the test
fails if the dumper stops escaping through `_re_esc`."""

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


class _Escape:
    """`_re_esc.sub(rb"\\\1", data)` for psycopg's array dumper: a backslash before each
    backslash and double quote (backslashes first, so the quotes' are not doubled)."""

    pattern = rb'(["\\])'

    @staticmethod
    def sub(_template: bytes, data: Any) -> bytes:
        return bytes(data).replace(b"\\", b"\\\\").replace(b'"', b'\\"')


def array_escape_fast() -> None:
    """Install `_Escape` on psycopg's text list dumper (every process, before any query)."""
    from psycopg.types.array import ListDumper

    ListDumper._re_esc = _Escape()  # type: ignore[assignment]


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """`Model.objects.bulk_update(objs, fields)` (the same rows written, no signals, the first
    of two objects with one pk wins) in one statement that costs each row once. Django's
    bulk_update writes `SET f = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END`, a CASE that
    PostgreSQL evaluates for every row it updates (rows × WHENs comparisons), built from an
    expression per row and field; on PostgreSQL this joins arrays instead: `UPDATE t SET f =
    v.f FROM UNNEST(%s::bigint[], %s::numeric[]) AS v(pk, f) WHERE t.id = v.pk`. Elsewhere
    (SQLite) it is bulk_update. Returns the rows updated."""
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    columns: list[Field] = []
    for name in fields:
        column = meta.get_field(name)
        if not isinstance(column, Field) or not column.concrete or column.primary_key:
            raise ValueError(f"rows_update writes concrete fields, not the pk: {name!r}.")
        columns.append(column)
    first: dict[Any, Model] = {}
    for obj in objs:
        if obj.pk is None:
            raise ValueError("rows_update needs saved objects (a primary key each).")
        first.setdefault(obj.pk, obj)
    rows = list(first.values())
    if connection.vendor != "postgresql":
        return model._default_manager.using(using).bulk_update(rows, fields)
    assert isinstance(meta.pk, Field)  # noqa: S101 - a concrete model's
    every: list[Field] = [meta.pk, *columns]

    def array_type(field: Field) -> str:
        # as Django's bulk insert does: varchar[] for varchar(50), numeric[] for numeric(20, 6)
        return field.db_type(connection).split("(")[0] + "[]"  # type: ignore[union-attr]

    # Identifiers from the model's meta, quoted; every value is a parameter.
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    aliases = [f"c{i}" for i in range(len(every))]
    sets = ", ".join(
        f"{quote(str(column.column))} = v.{alias}"
        for column, alias in zip(columns, aliases[1:], strict=True)
    )
    arrays = ", ".join(f"%s::{array_type(field)}" for field in every)
    key = f"{table}.{quote(str(meta.pk.column))}"
    sql = f"UPDATE {table} SET {sets} FROM UNNEST({arrays}) AS v({', '.join(aliases)})"  # noqa: S608
    sql += f" WHERE {key} = v.{aliases[0]}"
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows]
        for field in every
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
