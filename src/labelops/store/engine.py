"""Engine and session factory; schema version checks.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application
crashes, fast), foreign keys on, and a busy timeout so concurrent writers wait
instead of failing. PostgreSQL uses a normal connection pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from labelops.errors import SchemaMismatch

__all__ = [
    "WRITE_OPTION",
    "create_engine_for",
    "current_revision",
    "expected_revision",
    "make_session_factory",
    "require_current_schema",
    "session_scope",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine_for(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """A SQLAlchemy engine for ``url`` with labelops' connection settings.

    Args:
        url: ``sqlite:///path`` or ``postgresql+psycopg://...`` (``postgresql://`` is
            rewritten to use psycopg 3).
        pool_size: Pooled connections per process (PostgreSQL).
        echo: Log SQL.
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1] if "///" in url else ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=pool_size * 4,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is switched off; ``_sqlite_begin`` sends
        # BEGIN IMMEDIATE for write transactions (see ``labelops.services._tx``) so a
        # write transaction never fails halfway with "database is locked".
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver; we send BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


WRITE_OPTION = "labelops_write"
"""Execution option a service sets on its connection to start a write transaction."""


def _sqlite_begin(connection: Any) -> None:
    # Writes take the write lock up front (BEGIN IMMEDIATE), so they wait for each other
    # under busy_timeout instead of failing on a read-to-write upgrade; reads start
    # deferred so an idle reader never blocks writers (WAL lets them run side by side).
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that do not expire objects on commit (services return them after)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session closed on exit; services open the transaction with ``session.begin()``."""
    session = factory()
    try:
        yield session
    finally:
        session.close()


def expected_revision() -> str:
    """The Alembic head revision this code needs."""
    from alembic.script import ScriptDirectory

    from labelops.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    if head is None:
        raise SchemaMismatch("errors.schema.no_migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None when it was never migrated."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:  # noqa: BLE001 - a missing table differs per driver
            connection.rollback()
            return None
    return None if row is None else str(row[0])


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on an un-migrated database or one newer than this code.

    Raises:
        SchemaMismatch: With a message naming the command to run.
    """
    from alembic.script import ScriptDirectory

    from labelops.store.migrate import alembic_config

    found = current_revision(engine)
    expected = expected_revision()
    if found == expected:
        return
    if found is None:
        raise SchemaMismatch("errors.schema.unmigrated", url=_safe_url(engine))
    scripts = ScriptDirectory.from_config(alembic_config(None))
    known = {rev.revision for rev in scripts.walk_revisions()}
    if found not in known:
        raise SchemaMismatch("errors.schema.newer", found=found, expected=expected)
    raise SchemaMismatch("errors.schema.older", found=found, expected=expected)


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
