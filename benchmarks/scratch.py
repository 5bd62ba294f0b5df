"""A database of the benchmark's own: benchmarks never write into the database the environment
names (which may be someone's), and can rerun. Imported before django.setup()."""

import atexit
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis")


def _server(url: str) -> str:
    """The maintenance database of the PostgreSQL server `url` names."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres", query=""))


def _copy(connection: "psycopg.Connection[Any]", *, name: str, source: str) -> "sql.Composed":
    """CREATE DATABASE `name` as a copy of `source`; on PostgreSQL 15 and later by copying its
    files (`STRATEGY FILE_COPY`: the default there writes the whole copy to the WAL, minutes
    for a book of 100,000 accounts)."""
    from psycopg import sql

    create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(source)
    )
    if connection.info.server_version >= 150000:
        create += sql.SQL(" STRATEGY FILE_COPY")
    return create


def _drop(name: str) -> "sql.Composed":
    """DROP DATABASE `name` if it exists, whoever is connected to it."""
    from psycopg import sql

    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))


def database_exists(name: str) -> bool:
    """Whether the PostgreSQL server DATABASE_URL names has a database `name`."""
    import psycopg

    with psycopg.connect(_server(os.environ["DATABASE_URL"]), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def scratch_database(*, copy_of: str | None = None) -> str:
    """Point DATABASE_URL at a database of the benchmark's own, removed at exit; its URL.
    `copy_of`: on PostgreSQL, start it as a copy of that database (a book saved by
    `scratch_save`) instead of empty."""
    exported = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(exported)
    if parts.scheme in POSTGRES_SCHEMES:
        import psycopg
        from psycopg import sql

        name = f"meridian_bench_{os.getpid()}"
        server = _server(exported)
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            if copy_of:
                connection.execute(_copy(connection, name=name, source=copy_of))
            else:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(_drop(name))

        atexit.register(drop)
        url = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        if copy_of:
            raise SystemExit("A saved book needs PostgreSQL: set DATABASE_URL to its server.")
        directory = tempfile.mkdtemp(prefix="meridian-bench-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        url = f"sqlite:///{directory}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    return url


def scratch_save(name: str) -> None:
    """Copy the scratch database (PostgreSQL) to a database `name` that outlives the run, for
    `scratch_database(copy_of=name)` later: a book of 100,000 accounts takes most of an hour to
    write and settle, a copy of it a minute. Closes Django's connections (a database being
    copied must have none); the next query reconnects."""
    import psycopg
    from django.db import connections

    connections.close_all()
    source = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(_server(os.environ["DATABASE_URL"]), autocommit=True) as connection:
        connection.execute(_copy(connection, name=name, source=source))


def scratch_restore(name: str) -> None:
    """Make the scratch database (PostgreSQL) a fresh copy of the saved book `name` again, for
    a run that must start from the same book as the one before it. Closes Django's connections
    (the next query reconnects); nothing else may be connected to the scratch database."""
    import psycopg
    from django.db import connections

    connections.close_all()
    scratch = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(_server(os.environ["DATABASE_URL"]), autocommit=True) as connection:
        connection.execute(_drop(scratch))
        connection.execute(_copy(connection, name=scratch, source=name))
