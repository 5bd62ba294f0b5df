"""A database of the benchmark's own: benchmarks never write into the database the environment
names (which may be someone's), and can rerun. Imported before django.setup()."""

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis")


def scratch_database() -> str:
    """Point DATABASE_URL at a database of the benchmark's own, removed at exit; its URL."""
    exported = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(exported)
    if parts.scheme in POSTGRES_SCHEMES:
        import psycopg
        from psycopg import sql

        name = f"meridian_bench_{os.getpid()}"
        server = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

        atexit.register(drop)
        url = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        directory = tempfile.mkdtemp(prefix="meridian-bench-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        url = f"sqlite:///{directory}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    return url
