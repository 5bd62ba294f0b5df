"""PostgreSQL, faster: psycopg's text array dumper without its cost per escaped character, an
update of many rows (`rows_update`) whose cost grows with the rows, not their square, and an
insert of many rows (`rows_insert`) that converts each value once.

Django 5.2 inserts rows in bulk on PostgreSQL as one array per column (`INSERT … SELECT * FROM
UNNEST(%s::jsonb[], …)`), and psycopg writes each array element that holds a double quote or a
backslash with `re.sub(rb'(["\\])', rb"\\\1", …)`: on Python 3.11 a template substitution is a
Python call per match, so a JSON column (an audit-log row's changes, a risk figure) costs a
Python call per quote in it, about a third of the daily batch's bulk writes (measured by
`benchmarks.daily_batch --profile`). `array_escape_fast` swaps that pattern for two byte
replaces that write the same bytes (a test compares them); psycopg is pinned, and the test
fails if the dumper stops escaping through `_re_esc`."""

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import (
    NOT_PROVIDED,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    TextField,
)


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

    # Identifiers from the model's meta, quoted; every value is a parameter.
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    aliases = [f"c{i}" for i in range(len(every))]
    sets = ", ".join(
        f"{quote(str(column.column))} = v.{alias}"
        for column, alias in zip(columns, aliases[1:], strict=True)
    )
    arrays = ", ".join(f"%s::{_array_type(field, connection)}" for field in every)
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


def _array_type(field: Field, connection: Any) -> str:
    # as Django's bulk insert does: varchar[] for varchar(50), numeric[] for numeric(20, 6)
    return field.db_type(connection).split("(")[0] + "[]"  # type: ignore[union-attr]


def _as_is(field: Field) -> Callable[[Any], bool]:
    """Whether a value of `field` is what psycopg takes as the field would give it (a value
    `get_db_prep_save` returns unchanged on PostgreSQL): a finite Decimal, an int, a str, a
    date, a bool. Any other value (None aside) goes through `get_db_prep_save`."""
    if isinstance(field, DecimalField):
        return lambda value: type(value) is Decimal and value.is_finite()
    if isinstance(field, IntegerField | ForeignKey):
        return lambda value: type(value) is int
    if isinstance(field, CharField | TextField):
        return lambda value: type(value) is str
    if isinstance(field, DateField) and not isinstance(field, DateTimeField):
        return lambda value: type(value) is date
    if isinstance(field, BooleanField):
        return lambda value: type(value) is bool
    return lambda value: False


def _column(field: Field, objs: Sequence[Model], connection: Any) -> list[Any]:
    """The values of `field` to write for `objs`, as bulk_create prepares them."""
    as_is = _as_is(field)
    pre_save = type(field).pre_save is not Field.pre_save  # auto_now(_add) and the like
    column = []
    for obj in objs:
        value = field.pre_save(obj, True) if pre_save else getattr(obj, field.attname)
        if value is not None and not as_is(value):
            value = field.get_db_prep_save(value, connection)
        column.append(value)
    return column


def rows_insert(objs: Sequence[Model]) -> None:
    """`Model.objects.bulk_create(objs)` of new rows of one model whose primary key the
    database assigns: the same rows written in one statement, each object's pk set and its
    state saved, no signals; a foreign key to an object saved since it was assigned takes its
    pk, and one to an unsaved object is refused, as bulk_create does. Django 5.2 prepares each
    value through half a dozen calls; here a value the driver takes as it is (`_as_is`) is
    passed on, the others through the field's `get_db_prep_save`, as Django does. A daily
    chunk's ledger rows (a dividend's transaction, entries, lots, audit-log row) spent most of
    their write in Django's preparation (20,000 entries: 1.0 s by bulk_create, 0.28 s by one
    such statement, measured). Elsewhere (SQLite), or for a model this does not cover
    (inheritance, database defaults, generated columns, a pk already set), bulk_create."""
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    if (
        connection.vendor != "postgresql"
        or meta.parents
        or not getattr(meta.pk, "db_returning", False)
        or any(f.generated or f.db_default is not NOT_PROVIDED for f in fields)
        or any(obj.pk is not None or type(obj) is not model for obj in objs)
    ):
        model._default_manager.using(using).bulk_create(objs)
        return
    relations = [f for f in fields if isinstance(f, ForeignKey)]
    for obj in objs:
        for relation in relations:
            if not relation.is_cached(obj):
                continue
            related = relation.get_cached_value(obj)
            if related is None:
                continue
            if related.pk is None:
                raise ValueError(
                    f"rows_insert() prohibited to prevent data loss due to unsaved related "
                    f"object '{relation.name}'."
                )
            if getattr(obj, relation.attname) is None:
                obj.__dict__[relation.attname] = related.pk  # the cached object stays
    columns = [_column(field, objs, connection) for field in fields]
    # Identifiers from the model's meta, quoted; every value is a parameter.
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)
    arrays = ", ".join(f"%s::{_array_type(f, connection)}" for f in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
    sql += f" RETURNING {quote(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
        pks = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
