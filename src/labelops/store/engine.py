"""Engine and session factory; schema version checks.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application
crashes, fast), foreign keys on, and a busy timeout so concurrent writers wait
instead of failing. PostgreSQL uses a normal connection pool.

SQLite write transactions also queue on a per-database writer lock before
``BEGIN IMMEDIATE`` (threads of a process on a mutex, processes on an ``flock`` of a
``.writer-lock`` file beside the database): otherwise concurrent writers meet SQLite's
busy handler, which sleeps in steps of up to 100 ms, and 50 concurrent labellers
crawled (32 labels/s). With the file lock, several server workers (or a CLI import
next to the server) hand the database over without those sleeps.
"""

from __future__ import annotations

import ast
import enum
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, sessionmaker

from labelops.errors import SchemaMismatch

__all__ = [
    "WalCheckpointer",
    "WRITE_OPTION",
    "create_engine_for",
    "current_revision",
    "expected_revision",
    "migration_revisions",
    "make_session_factory",
    "require_current_schema",
    "queues_writers",
    "session_scope",
    "WriteTurn",
    "write_transaction_on",
    "writes_reserved",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SIZE_LIMIT_BYTES = 256 * 1024 * 1024
"""The write-ahead log's file is cut back to this size when the log starts over, and a
server's checkpointer makes it start over once it grew past it (see ``WalCheckpointer``)."""
PING_AFTER_IDLE_S = 5.0
"""A pooled PostgreSQL connection idle this long (s) is checked before it is used."""

_WRITER_LOCKS: dict[str, _WriterLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()
_HOLDS_WRITER_LOCK = "labelops_writer_lock"
_IDLE_SINCE = "labelops_idle_since"
_ENGINE_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()


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
        event.listen(engine, "commit", _commit_and_release)
        event.listen(engine, "rollback", _rollback_and_release)
        # A connection going back to the pool never keeps the lock (a safety net: a
        # transaction ends with a commit or rollback event first).
        event.listen(engine.pool, "checkin", lambda _dbapi, record: _release(record.info))
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2)
    # Not ``pool_pre_ping``: it costs a round trip on every checkout, one in five of a
    # labeller's submit. A connection back in use within ``PING_AFTER_IDLE_S`` was
    # working a moment ago; one that died in use fails its statement, and SQLAlchemy
    # then invalidates the pool's older connections too (after a server restart).
    event.listen(engine.pool, "checkin", _note_idle_since)
    event.listen(
        engine.pool,
        "checkout",
        lambda dbapi_connection, record, _proxy: _ping_if_idle(engine, dbapi_connection, record),
    )
    return engine


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any) -> None:
    # ``record.info`` lives as long as the DBAPI connection: a new one has no mark.
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as error:
        # The pool discards this connection and checks out another (a new one).
        raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver; we send BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    # When the write-ahead log starts over, its file shrinks back to this size (bytes).
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()


class WalCheckpointer:
    """Copies a SQLite database's write-ahead log back into the database file from a
    background thread, so that no request pays for it.

    By default the connection whose commit brings the log past 1,000 pages does the
    checkpoint itself, fsyncs included: one labeller's submit in about a hundred took
    ~10 ms longer. A server turns that off on its connections (``wal_autocheckpoint=0``)
    and starts one of these; a PASSIVE checkpoint never waits for, nor blocks, readers
    and writers. Short-lived commands keep SQLite's default.

    Under a steady stream of writes a PASSIVE checkpoint never catches up with the end
    of the log, and SQLite starts the log over only once everything in it is copied:
    the log then grew without end (~85 KB per label, 250 MB in four seconds of
    saturation). So when the log has outgrown ``max_log_bytes``, what writers added
    during the copy is copied holding the writer lock (no write transaction open), and
    the next writer starts the log from its beginning. That pass waits for a disk flush
    while writers wait (4 ms on a quiet disk here, hundreds when other jobs flood it),
    hence the generous limit: at 1,000 labels/s the log reaches it every 3-6 s.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float = 1.0,
        max_log_bytes: int = WAL_SIZE_LIMIT_BYTES,
    ) -> None:
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            raise ValueError("WAL checkpoints are for a SQLite database file")
        self._database = database
        self._writer_lock = _ENGINE_WRITER_LOCKS.get(engine)
        self._interval_s = interval_s
        self._max_log_bytes = max_log_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        event.listen(engine, "connect", _no_autocheckpoint)
        with engine.connect() as connection:  # pooled connections made before now too
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            connection.rollback()
        self._thread.start()

    def checkpoint(self) -> None:
        """Copy what the log holds now into the database file (PASSIVE)."""
        connection = sqlite3.connect(self._database, timeout=1.0, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            # Even a pass that copied all it saw leaves the log growing when a write
            # transaction was open meanwhile: its frames land after the copied ones.
            # Between bursts of writes the log starts over by itself; only when it did
            # not (a steady stream) is the rest copied holding the lock.
            lock = self._writer_lock
            if (
                lock is not None
                and _file_size(self._database + "-wal") > self._max_log_bytes
                and lock.acquire(timeout_s=1.0)
            ):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    lock.release()
        finally:
            connection.close()

    def stop(self) -> None:
        """End the thread after one last checkpoint."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.checkpoint()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.checkpoint()
            except sqlite3.Error:  # busy or locked: the next round catches up
                continue


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


WRITE_OPTION = "labelops_write"
"""Execution option a service sets on its connection to start a write transaction."""


class _WriterLock:
    """The queue of one SQLite database's writers: this process's threads, then processes.

    A plain mutex, not an RLock: a transaction may end on another thread than the one
    that began it (FastAPI runs dependencies and handlers on pool threads). The owner
    is remembered only so that a lock reserved by ``writes_reserved`` passes to the
    transaction that the same thread begins next.
    """

    def __init__(self, path: str | None) -> None:
        self._mutex = threading.Lock()
        self._path = path  # None: an in-memory database, private to this process
        self._fd: int | None = None
        self._fd_pid = 0
        self._owner: int | None = None
        self._on_release: list[Callable[[], None]] = []
        self._on_release_guard = threading.Lock()

    def acquire(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for the lock; False when it did not come."""
        deadline = time.monotonic() + timeout_s
        if not self._mutex.acquire(timeout=timeout_s):
            return False
        if self._path is None:
            self._owner = threading.get_ident()
            return True
        fd = self._file()
        pause_s = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._owner = threading.get_ident()
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._unlock()
                    return False
                time.sleep(pause_s)  # another process's transaction: usually a few ms
                pause_s = min(pause_s * 2, 0.002)

    def try_acquire(self, on_release: Callable[[], None] | None = None) -> WriteTurn:
        """Take the lock if no writer of any process holds it now; never waits.

        When a writer of this process holds it, ``on_release`` (if given) is called on
        the releasing thread once it lets go: the check and the registration are one
        step under a guard that every release passes after unlocking, so no release
        between them goes unnoticed.
        """
        with self._on_release_guard:
            if not self._mutex.acquire(blocking=False):
                if on_release is not None:
                    self._on_release.append(on_release)
                return WriteTurn.AFTER_RELEASE
        if self._path is not None:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._unlock()
                return WriteTurn.ELSEWHERE
        self._owner = threading.get_ident()
        return WriteTurn.NOW

    def held_by_this_thread(self) -> bool:
        """Whether this thread took the lock (and no transaction has released it)."""
        return self._owner == threading.get_ident() and self._mutex.locked()

    def release(self) -> None:
        """Hand the lock to the next writer."""
        self._owner = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._unlock()

    def _unlock(self) -> None:
        # Every way the mutex is let go (a release, and the give-ups of ``acquire`` and
        # ``try_acquire`` when another process holds the file) tells those who
        # registered meanwhile: a waiter told nothing would sleep to its deadline.
        self._mutex.release()
        with self._on_release_guard:
            callbacks, self._on_release = self._on_release, []
        for callback in callbacks:
            callback()

    def _file(self) -> int:
        # Opened once per process (a forked child must not share the parent's open
        # file, whose lock would then be shared too).
        if self._fd is None or self._fd_pid != os.getpid():
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            self._fd_pid = os.getpid()
        return self._fd


def _writer_lock(database: str) -> _WriterLock:
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    key = database if in_memory else str(Path(database).resolve())
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(key)
        if lock is None:
            lock = _WRITER_LOCKS[key] = _WriterLock(None if in_memory else key + ".writer-lock")
        return lock


class WriteTurn(enum.Enum):
    """When a caller of ``writes_reserved`` may write."""

    NOW = "now"
    """The lock is reserved for the calling thread: run the use case there."""
    AFTER_RELEASE = "after_release"
    """A writer of this process holds the lock; ``on_release`` will be called."""
    ELSEWHERE = "elsewhere"
    """Not to be had here: PostgreSQL, or another process's writer holds it (whose
    release this process is not told of). Run the use case on a worker thread."""


@contextmanager
def writes_reserved(
    engine: Engine, on_release: Callable[[], None] | None = None
) -> Iterator[WriteTurn]:
    """Reserve the database's writer lock for this thread if it is free right now.

    Yields ``WriteTurn.NOW`` when a short use case can run on the caller's thread (an
    event loop) without ever waiting: SQLite, and no writer of this or another process
    (another server worker, a CLI import) holds the lock, which is now this thread's.
    The first write transaction the thread begins inside the block takes the lock over
    and releases it at its commit or rollback; the block's end releases it otherwise.
    ``AFTER_RELEASE``: a writer of this process has it, and ``on_release`` is called
    (on its thread) when it lets go, so the caller can wait for that instead of
    queueing a thread behind it. ``ELSEWHERE``: use a worker thread.
    """
    lock = _ENGINE_WRITER_LOCKS.get(engine)
    turn = WriteTurn.ELSEWHERE if lock is None else lock.try_acquire(on_release)
    if lock is None or turn is not WriteTurn.NOW:
        yield turn
        return
    try:
        yield turn
    finally:
        if lock.held_by_this_thread():
            lock.release()


def queues_writers(engine: Engine) -> bool:
    """Whether the engine's write transactions queue on a writer lock (SQLite)."""
    return engine in _ENGINE_WRITER_LOCKS


@contextmanager
def write_transaction_on(connection: Connection) -> Iterator[Connection]:
    """A write transaction on ``connection`` (SQLite: ``BEGIN IMMEDIATE``, behind the
    writer lock), committed at the end of the block, rolled back on an error.

    The connection must be in no transaction. The write mark (``WRITE_OPTION``) ends
    with the transaction, so later reads on the connection begin as reads.
    """
    connection.execution_options(**{WRITE_OPTION: True})
    try:
        with connection.begin():
            yield connection
    finally:
        connection.execution_options(**{WRITE_OPTION: False})


def _sqlite_begin(connection: Any, lock: _WriterLock) -> None:
    # Writes take the write lock up front (BEGIN IMMEDIATE), so they wait for each other
    # under busy_timeout instead of failing on a read-to-write upgrade; reads start
    # deferred so an idle reader never blocks writers (WAL lets them run side by side).
    # Sent on the driver's connection: through SQLAlchemy's statement machinery a BEGIN
    # cost as much as a query (the labeller's submit begins one or two per request).
    driver = connection.connection.driver_connection
    if not connection.get_execution_options().get(WRITE_OPTION):
        driver.execute("BEGIN")
        return
    # Writers queue here first. If a holder never finishes, the timeout hands the
    # decision back to SQLite's busy timeout, as before this lock existed.
    if lock.held_by_this_thread() or lock.acquire(SQLITE_BUSY_TIMEOUT_MS / 1000):
        connection.info[_HOLDS_WRITER_LOCK] = lock
    try:
        driver.execute("BEGIN IMMEDIATE")
    except BaseException:
        _release(connection.info)
        raise


def _commit_and_release(connection: Any) -> None:
    _end_write(connection, commit=True)


def _rollback_and_release(connection: Any) -> None:
    _end_write(connection, commit=False)


def _end_write(connection: Any, *, commit: bool) -> None:
    # SQLAlchemy's commit and rollback events come *before* its own COMMIT/ROLLBACK.
    # Handing the lock on there let the next writer's BEGIN IMMEDIATE meet a write
    # transaction still open, and SQLite's busy handler then slept (1 ms, 2 ms, 5 ms...)
    # holding the lock: with two server workers, throughput fell below one worker's.
    # So a write transaction ends here, on the driver, before the lock is released;
    # SQLAlchemy's own COMMIT/ROLLBACK that follows finds no transaction open (the
    # driver, in autocommit mode, then does nothing).
    if _HOLDS_WRITER_LOCK not in connection.info:
        return  # a read transaction: SQLAlchemy ends it as usual
    try:
        driver = connection.connection.driver_connection
        if commit:
            driver.commit()
        else:
            driver.rollback()
    finally:
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


def migration_revisions() -> dict[str, str | None]:
    """Each packaged migration's revision and the revision it follows (None: the first).

    Read from the migration files' ``revision`` / ``down_revision`` assignments instead
    of through Alembic, which brings Mako and Pygments along: the server checks the
    schema at start and would otherwise carry them (about 15 MiB) for its whole life.
    """
    versions = resources.files("labelops.store") / "migrations" / "versions"
    found: dict[str, str | None] = {}
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        assigned: dict[str, object] = {}
        for node in ast.parse(entry.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name, value = node.target.id, node.value
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name, value = node.targets[0].id, node.value
            else:
                continue
            if name in ("revision", "down_revision") and value is not None:
                assigned[name] = ast.literal_eval(value)
        revision = assigned.get("revision")
        if isinstance(revision, str):
            parent = assigned.get("down_revision")
            found[revision] = parent if isinstance(parent, str) else None
    return found


def expected_revision() -> str:
    """The head revision of the packaged migrations: the one this code needs."""
    revisions = migration_revisions()
    followed = set(revisions.values())
    heads = [revision for revision in revisions if revision not in followed]
    if len(heads) != 1:
        raise SchemaMismatch("errors.schema.no_migrations")
    return heads[0]


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
    found = current_revision(engine)
    expected = expected_revision()
    if found == expected:
        return
    if found is None:
        raise SchemaMismatch("errors.schema.unmigrated", url=_safe_url(engine))
    if found not in migration_revisions():
        raise SchemaMismatch("errors.schema.newer", found=found, expected=expected)
    raise SchemaMismatch("errors.schema.older", found=found, expected=expected)


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
