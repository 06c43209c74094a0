"""Engine and session factory; schema version checks.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application
crashes, fast), foreign keys on, and a busy timeout so concurrent writers wait
instead of failing. PostgreSQL uses a normal connection pool.

Inside one process, SQLite write transactions also queue on a per-file lock before
``BEGIN IMMEDIATE``: otherwise concurrent writers meet SQLite's busy handler, which
sleeps in steps of up to 100 ms, and 50 concurrent labellers crawled (32 labels/s).
"""

from __future__ import annotations

import threading
import weakref
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
    "writes_wait",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000

_WRITER_LOCKS: dict[str, threading.Lock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()
_HOLDS_WRITER_LOCK = "labelops_writer_lock"
_ENGINE_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = (
    weakref.WeakKeyDictionary()
)


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
        lock = _writer_lock(database or url)
        _ENGINE_WRITER_LOCKS[engine] = lock
        event.listen(engine, "begin", lambda connection: _sqlite_begin(connection, lock))
        event.listen(engine, "commit", _release_writer_lock)
        event.listen(engine, "rollback", _release_writer_lock)
        # A connection going back to the pool never keeps the lock (a safety net: a
        # transaction ends with a commit or rollback event first).
        event.listen(engine.pool, "checkin", lambda _dbapi, record: _release(record.info))
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


def _writer_lock(database: str) -> threading.Lock:
    key = str(Path(database).resolve()) if database and database != ":memory:" else database
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(key, threading.Lock())


def writes_wait(engine: Engine) -> bool:
    """Whether a write transaction begun now could wait for another one.

    False only on SQLite while no write transaction of this process is open: then a
    short use case can run on the caller's thread (an event loop) without blocking it.
    PostgreSQL round trips and commits wait on the network and the disk, so always True.
    """
    lock = _ENGINE_WRITER_LOCKS.get(engine)
    return lock is None or lock.locked()


def _sqlite_begin(connection: Any, lock: threading.Lock) -> None:
    # Writes take the write lock up front (BEGIN IMMEDIATE), so they wait for each other
    # under busy_timeout instead of failing on a read-to-write upgrade; reads start
    # deferred so an idle reader never blocks writers (WAL lets them run side by side).
    if not connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN")
        return
    # Same-process writers queue here first. A plain Lock, not an RLock: a transaction
    # may end on another thread than the one that began it (FastAPI runs dependencies
    # and handlers on pool threads). If a holder never finishes, the timeout hands the
    # decision back to SQLite's busy timeout, as before this lock existed.
    if lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        connection.info[_HOLDS_WRITER_LOCK] = lock
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release(connection.info)
        raise


def _release_writer_lock(connection: Any) -> None:
    _release(connection.info)


def _release(info: dict[Any, Any]) -> None:
    lock = info.pop(_HOLDS_WRITER_LOCK, None)
    if lock is not None:
        lock.release()


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
