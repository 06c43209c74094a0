"""Which database errors mean "the database cannot store anything now".

A full disk or a read-only database (file, mount, replica or
``default_transaction_read_only``) is an operator's matter, not a bug: the API answers
503 with the cause in words (``labelops.errors.StorageUnavailable``) instead of a 500.
"""

from __future__ import annotations

import errno
import sqlite3

__all__ = ["DISK_FULL", "READ_ONLY", "storage_failure_cause"]

DISK_FULL = "disk_full"
READ_ONLY = "read_only"

_SQLSTATES = {"53100": DISK_FULL, "25006": READ_ONLY}
"""PostgreSQL's disk_full and read_only_sql_transaction (psycopg and asyncpg both carry
``sqlstate``)."""
_ERRNOS = {errno.ENOSPC: DISK_FULL, errno.EDQUOT: DISK_FULL, errno.EROFS: READ_ONLY}
_SQLITE_CODES = {
    sqlite3.SQLITE_FULL: DISK_FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
}


def storage_failure_cause(error: BaseException) -> str | None:
    """``DISK_FULL`` or ``READ_ONLY`` when ``error`` (or the driver error or OS error
    behind it) says the database cannot write now; None for any other error."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        cause = _own_cause(current)
        if cause is not None:
            return cause
        pending.extend((getattr(current, "orig", None), current.__cause__, current.__context__))
    return None


def _own_cause(error: BaseException) -> str | None:
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _SQLSTATES:
        return _SQLSTATES[sqlstate]
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        text = str(error).lower()
        if "database or disk is full" in text:
            return DISK_FULL
        if "readonly database" in text or "read-only" in text:
            return READ_ONLY
    if isinstance(error, OSError) and error.errno in _ERRNOS:
        return _ERRNOS[error.errno]
    return None
