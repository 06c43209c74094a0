"""PostgreSQL: pooled connections are checked before use only after sitting idle."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from labelops.store import engine as engine_module


@pytest.fixture()
def postgres(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    return engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    # From a connection outside the pool under test, as an administrator or a server
    # restart would.
    other = engine_module.create_engine_for(engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        other.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(postgres, monkeypatch):
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    dead = _backend_pid(postgres)
    _terminate(postgres, dead)

    # The pooled connection is gone; the check on checkout swaps in a new one, so
    # the caller never sees the error.
    assert _backend_pid(postgres) != dead


def test_a_connection_back_in_use_at_once_is_not_pinged(postgres, monkeypatch):
    pings: list[object] = []
    real_ping = postgres.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(postgres.dialect, "do_ping", counting_ping)
    first = _backend_pid(postgres)
    for _ in range(5):
        assert _backend_pid(postgres) == first
    assert pings == []

    # Idle long enough, it is checked (once per checkout) and still the same one.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    assert _backend_pid(postgres) == first
    assert len(pings) == 1


def test_a_connection_that_died_in_use_fails_once_then_the_pool_recovers(postgres):
    dead = _backend_pid(postgres)
    _terminate(postgres, dead)

    # Back in use at once, it is not checked: the statement fails on the lost
    # connection, which SQLAlchemy then invalidates with the pool's older ones.
    with pytest.raises(OperationalError), postgres.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _backend_pid(postgres) != dead
