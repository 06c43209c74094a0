"""SQLite writers of different processes queue on the database's writer-lock file."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from labelops.store.engine import WRITE_OPTION, WriteTurn, writes_reserved

_TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy")
else:
    print("free")
"""


def _other_process_sees(lock_file: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _TRY_LOCK, lock_file], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_write_transaction_holds_the_lock_file_until_commit(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has its own locking")
    lock_file = f"{engine.url.database}.writer-lock"
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            connection.execute(text("SELECT 1"))
            assert _other_process_sees(lock_file) == "busy"
        assert _other_process_sees(lock_file) == "free"
        connection.execution_options(**{WRITE_OPTION: False})
        with connection.begin():  # a read transaction takes no writer lock
            connection.execute(text("SELECT 1"))
            assert _other_process_sees(lock_file) == "free"


def test_server_checkpoints_the_wal_in_the_background_not_in_commits(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import os

    from labelops.store.engine import WalCheckpointer

    wal = f"{engine.url.database}-wal"
    checkpointer = WalCheckpointer(engine, interval_s=3600)  # only explicit checkpoints
    try:
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            connection.rollback()
        assert mode == 0
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (payload BLOB)")
        for _ in range(60):  # ~6 MB over 60 commits: SQLite's own limit is 1,000 pages
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO scratch VALUES (?)", (os.urandom(100_000),))
        assert os.path.getsize(wal) > 1300 * 4096  # no commit checkpointed it (SQLite: ~1,000)
        checkpointer.checkpoint()
        with engine.connect() as connection:
            busy, logged, copied = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).one()
            connection.rollback()
        assert busy == 0 and logged == copied
    finally:
        checkpointer.stop()


def test_writes_are_reserved_inline_only_while_no_process_writes(engine):
    if engine.dialect.name != "sqlite":
        with writes_reserved(engine) as turn:
            assert turn is WriteTurn.ELSEWHERE  # PostgreSQL waits on the network: a thread
        return
    import fcntl
    import os

    lock_file = f"{engine.url.database}.writer-lock"
    with writes_reserved(engine) as turn:
        assert turn is WriteTurn.NOW
        assert _other_process_sees(lock_file) == "busy"  # reserved before any BEGIN
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():  # takes the reservation over instead of waiting
                connection.execute(text("SELECT 1"))
            assert _other_process_sees(lock_file) == "free"  # released by the commit
    assert _other_process_sees(lock_file) == "free"
    with writes_reserved(engine) as turn:
        assert turn is WriteTurn.NOW  # a block that wrote nothing releases at its end
    assert _other_process_sees(lock_file) == "free"

    # Another writer (a separate open file: as another process would) holds the lock:
    # the caller is told to use a thread, and nothing is left held afterwards.
    other = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        with writes_reserved(engine) as turn:
            assert turn is WriteTurn.ELSEWHERE
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
    with writes_reserved(engine) as turn:
        assert turn is WriteTurn.NOW


def test_a_caller_is_told_when_this_process_s_writer_is_done(engine):
    # What the event loop waits for instead of queueing a worker thread behind a
    # writer of its own process.
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import threading

    lock_file = f"{engine.url.database}.writer-lock"
    in_transaction, may_commit = threading.Event(), threading.Event()
    seen_at_release: list[str] = []

    def writer() -> None:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                connection.execute(text("SELECT 1"))
                in_transaction.set()
                may_commit.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert in_transaction.wait(10)
        with writes_reserved(
            engine, on_release=lambda: seen_at_release.append(_other_process_sees(lock_file))
        ) as turn:
            assert turn is WriteTurn.AFTER_RELEASE
        assert seen_at_release == []  # not before the writer is done
    finally:
        may_commit.set()
        thread.join(10)
    assert seen_at_release == ["free"]  # called once, after the commit let go
    with writes_reserved(engine) as turn:
        assert turn is WriteTurn.NOW


def test_a_waiter_is_told_when_a_writer_of_this_process_gives_up_too(engine):
    # A thread of this process holds the mutex while it waits for another process's
    # file lock; when it gives up, those who registered meanwhile must hear of it, or
    # the event loop would sit out its whole busy timeout.
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import fcntl
    import os
    import threading
    import time

    from labelops.store.engine import _ENGINE_WRITER_LOCKS

    lock = _ENGINE_WRITER_LOCKS[engine]
    told = threading.Event()
    other = os.open(f"{engine.url.database}.writer-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)  # "another process" writes
        gave_up: list[bool] = []
        waiter = threading.Thread(target=lambda: gave_up.append(lock.acquire(timeout_s=0.5)))
        waiter.start()
        deadline = time.monotonic() + 5
        while True:  # until the thread holds the mutex and polls the file
            with writes_reserved(engine, on_release=told.set) as turn:
                if turn is WriteTurn.AFTER_RELEASE:
                    break
            assert time.monotonic() < deadline
        waiter.join(5)
        assert gave_up == [False]
        assert told.wait(1)
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    with writes_reserved(engine) as turn:
        assert turn is WriteTurn.NOW


def test_the_lock_is_handed_on_only_after_the_commit(engine):
    # SQLAlchemy's commit event fires before its COMMIT: a writer let in there met an
    # open transaction and SQLite's busy handler (sleeps of 1 ms and more).
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy import event

    lock_file = f"{engine.url.database}.writer-lock"
    seen: list[tuple[bool, str]] = []

    def after_ours(connection):  # listeners run in order: ours came with the engine
        driver = connection.connection.driver_connection
        seen.append((driver.in_transaction, _other_process_sees(lock_file)))

    event.listen(engine, "commit", after_ours)
    event.listen(engine, "rollback", after_ours)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            connection.begin()
            connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
            connection.commit()
            connection.begin()
            connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
            connection.rollback()
            count = connection.exec_driver_sql("SELECT count(*) FROM scratch").scalar()
            connection.rollback()
    finally:
        event.remove(engine, "commit", after_ours)
        event.remove(engine, "rollback", after_ours)
    assert seen[:2] == [(False, "free"), (False, "free")]
    assert count == 0


def test_the_log_starts_over_under_a_steady_stream_of_writes(engine):
    # A PASSIVE checkpoint alone never catches up with writers that never pause, and
    # SQLite reuses the log only once all of it is copied: it grew without end.
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import os
    import threading
    import time

    from labelops.store.engine import WalCheckpointer

    limit = 16 * 1024 * 1024

    wal = f"{engine.url.database}-wal"
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (payload BLOB)")
    checkpointer = WalCheckpointer(engine, interval_s=0.05, max_log_bytes=limit)
    stop = threading.Event()
    written = 0

    def write_steadily() -> None:
        nonlocal written
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            while not stop.is_set():
                with connection.begin():
                    connection.exec_driver_sql(
                        "INSERT INTO scratch VALUES (?)", (os.urandom(200_000),)
                    )
                    connection.exec_driver_sql(
                        "DELETE FROM scratch WHERE rowid < (SELECT max(rowid) FROM scratch)"
                    )
                written += 200_000

    writer = threading.Thread(target=write_steadily)
    writer.start()
    try:
        sizes = []
        # Until several limits' worth went through (about 3 s here; longer when the
        # machine is slow), not for a fixed time.
        deadline = time.monotonic() + 20.0
        while written <= 5 * limit and time.monotonic() < deadline:
            time.sleep(0.05)
            sizes.append(os.path.getsize(wal))
    finally:
        stop.set()
        writer.join()
        checkpointer.stop()
    # The log stayed small next to what went through it (it was all of it, before).
    assert written > 4 * limit
    assert max(sizes) < min(written / 2, 3 * limit)
