"""Issue 19, item 5: a full disk or a read-only database is a 503 in the error envelope
with the cause in words, not a plain-text 500. Made for real: SQLite with
``PRAGMA query_only`` / a read-only file / a small ``max_page_count``, PostgreSQL with
``default_transaction_read_only``."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from factories import make_world

DISK_FULL = "disk_full"
READ_ONLY = "read_only"


def _on_every_connection(engine: Any, statement_for: Any) -> None:
    """Run ``statement_for(dbapi_connection)`` on every connection the app opens."""

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement_for(dbapi_connection))
        cursor.close()

    engine.dispose()  # the pooled connections are opened again, with the statement


@pytest.fixture()
def app_client(settings) -> Iterator[tuple[Any, TestClient]]:
    from labelops.api import create_app

    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def _admin(world: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens['admin']}"}


def _assert_503(response: Any, cause: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable"
    assert error["message_id"] == f"errors.storage.{cause}"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_read_only_database_is_503_with_the_cause(app_client, session):
    app, client = app_client
    world = make_world(session, n_items=2, overlap=1)
    session.close()
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        _on_every_connection(engine, lambda _c: "PRAGMA query_only = ON")
    else:
        _on_every_connection(engine, lambda _c: "SET default_transaction_read_only = on")
    response = client.post("/api/vendors", json={"name": "new"}, headers=_admin(world))
    _assert_503(response, READ_ONLY)
    zh = client.post(
        "/api/vendors",
        json={"name": "new"},
        headers={**_admin(world), "Accept-Language": "zh-Hant"},
    )
    assert "唯讀" in zh.json()["error"]["message"]
    # Reads still work.
    assert client.get("/api/vendors", headers=_admin(world)).status_code == 200
    if engine.dialect.name == "sqlite":  # (PostgreSQL's fast lane has connections of its own)
        labeller = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
        leased = client.get(f"/api/projects/{world.project_ids['A']}/next", headers=labeller)
        _assert_503(leased, READ_ONLY)


def test_read_only_sqlite_file_is_503(settings, session, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("a read-only file is SQLite's case (PostgreSQL's is above)")
    from labelops.api import create_app

    world = make_world(session, n_items=1, overlap=1)
    session.close()
    app = create_app(settings)
    path = database_url.removeprefix("sqlite:///")

    @event.listens_for(app.state.engine, "do_connect")
    def _read_only(_dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> Any:
        # The file opened read-only, as on a read-only mount (root ignores chmod).
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, **cparams)

    app.state.engine.dispose()
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/vendors", json={"name": "new"}, headers=_admin(world))
    _assert_503(response, READ_ONLY)


def test_full_disk_is_503_with_the_cause(app_client, session, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a full disk is made with SQLite's max_page_count")
    app, client = app_client
    world = make_world(session, n_items=1, overlap=1)
    session.close()

    def cap(connection: Any) -> str:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        return f"PRAGMA max_page_count = {pages}"

    _on_every_connection(app.state.engine, cap)
    items = [{"external_id": f"x{i}", "text": "填滿磁碟的文字" * 400} for i in range(50)]
    response = client.post(
        f"/api/projects/{world.project_ids['A']}/items",
        json={"items": items},
        headers=_admin(world),
    )
    _assert_503(response, DISK_FULL)


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class _Wrapped(Exception):
    def __init__(self, orig: BaseException) -> None:
        super().__init__("wrapped")
        self.orig = orig


def test_the_causes_are_read_from_every_driver():
    from labelops.store.failures import storage_failure_cause

    assert storage_failure_cause(_Wrapped(_PgError("53100"))) == DISK_FULL  # psycopg DiskFull
    assert storage_failure_cause(_PgError("25006")) == READ_ONLY  # ReadOnlySqlTransaction
    assert storage_failure_cause(_PgError("23505")) is None
    assert storage_failure_cause(sqlite3.OperationalError("database or disk is full")) == DISK_FULL
    assert (
        storage_failure_cause(sqlite3.OperationalError("attempt to write a readonly database"))
        == READ_ONLY
    )
    assert storage_failure_cause(OSError(errno.ENOSPC, "No space left")) == DISK_FULL
    assert storage_failure_cause(OSError(errno.EROFS, "Read-only file system")) == READ_ONLY
    assert storage_failure_cause(OSError(errno.ENOENT, "missing")) is None
    assert storage_failure_cause(ValueError("other")) is None
