"""PostgreSQL: the event loop's own connections (``labelops.api.alone.LoopConnections``):
at most ``Settings.loop_statements`` of them, and they survive a lost server connection
as the engine's pool does."""

from __future__ import annotations

import asyncio

import pytest
from asyncpg import AdminShutdownError, ConnectionDoesNotExistError
from sqlalchemy import Engine, func, select, text

from factories import make_world
from labelops.api import alone
from labelops.services.auth import forget_token_lookups
from labelops.store.prepared import Prepared


@pytest.fixture()
def postgres(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose (nor loop connections)")
    return engine


def _idle_backends(client) -> list[int]:
    return [
        connection.get_server_pid()
        for connection, _since in client.app.state.loop_connections._idle
    ]


def _terminate(engine: Engine, pids: list[int]) -> None:
    with engine.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


def _labeller_on_the_loop(client, session) -> tuple[int, dict[str, str]]:
    """A project and a labeller whose next calls run on the loop (token looked up)."""
    forget_token_lookups()
    world = make_world(session, n_items=5, overlap=1)
    project_id = world.project_ids["A"]
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    for _ in range(2):  # on the loop, the token's lookup too: idle connections
        served = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
        client.post(
            f"/api/assignments/{served['assignment_id']}/label",
            json={"label": "adult"},
            headers=headers,
        )
    return project_id, headers


def test_an_idle_loop_connection_that_died_is_replaced_before_use(
    postgres, client, session, monkeypatch
):
    project_id, headers = _labeller_on_the_loop(client, session)
    dead = _idle_backends(client)
    assert dead
    _terminate(postgres, dead)
    monkeypatch.setattr(alone, "PING_AFTER_IDLE_S", 0.0)
    outcomes: list[str] = []
    first = alone.LoopConnections.first

    async def spy(self, statement, params):
        try:
            row = await first(self, statement, params)
        except Exception:
            outcomes.append("error")
            raise
        outcomes.append("row" if row is not None else "none")
        return row

    monkeypatch.setattr(alone.LoopConnections, "first", spy)

    # The ping finds the connection gone and a new one runs the statement: one
    # statement, no error on the way.
    response = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert response.status_code == 200
    assert outcomes == ["row"]
    assert not set(_idle_backends(client)) & set(dead)


def test_a_loop_connection_that_died_in_use_costs_one_retry_not_an_error(postgres, client, session):
    project_id, headers = _labeller_on_the_loop(client, session)
    dead = _idle_backends(client)
    _terminate(postgres, dead)

    # Back in use at once, it is not pinged: its statement fails, the connection and
    # the idle ones are closed, and the call is run again the full way on a new one.
    response = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert response.status_code == 200
    assert response.json()["item"]["external_id"]
    idle = _idle_backends(client)
    assert idle and not set(idle) & set(dead)


def test_one_broken_connection_closes_the_idle_ones_too(postgres):
    """After a server restart every idle connection is gone: the first failure drops
    them all, so the next call does not fail again on another dead one."""
    connections = alone.LoopConnections(postgres, size=3)
    backend_pid = Prepared(select(func.pg_backend_pid().label("pid")))

    async def scenario() -> tuple[set[int], int]:
        together = await asyncio.gather(*(_held_pid(connections, backend_pid) for _ in range(3)))
        _terminate(postgres, list(together))
        # The server's "terminating connection" arrives first, or the closed socket.
        with pytest.raises((AdminShutdownError, ConnectionDoesNotExistError)):
            await connections.first(backend_pid, {})
        after = await connections.first(backend_pid, {})
        await connections.close()
        return set(together), after.pid

    before, after = asyncio.run(scenario())
    assert len(before) == 3 and after not in before


def test_the_loop_runs_at_most_loop_statements_statements_at_once(postgres, settings):
    """Six calls at once on an app set to two loop statements: two connections serve
    them all, each call waiting for a free one (none opens a third)."""
    from labelops.api import create_app

    app = create_app(settings.model_copy(update={"loop_statements": 2}))
    connections: alone.LoopConnections = app.state.loop_connections
    sleeper = Prepared(select(func.pg_backend_pid().label("pid"), func.pg_sleep(0.05)))

    async def scenario() -> list[int]:
        pids = await asyncio.gather(*(connections.first(sleeper, {}) for _ in range(6)))
        await connections.close()
        return [row.pid for row in pids]

    pids = asyncio.run(scenario())
    assert len(pids) == 6 and len(set(pids)) == 2
    app.state.engine.dispose()


async def _held_pid(connections: alone.LoopConnections, statement: Prepared) -> int:
    # Started together while none is idle yet: each opens a connection of its own.
    row = await connections.first(statement, {})
    await asyncio.sleep(0)
    return int(row.pid)
