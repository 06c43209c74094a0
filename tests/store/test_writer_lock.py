"""SQLite writers of different processes queue on the database's writer-lock file."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from labelops.store.engine import WRITE_OPTION

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
