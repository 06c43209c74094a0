"""The labeller's hot calls as one statement run on the event loop (PostgreSQL).

A next-task, a submit or a submit with the next lease that its service can do as one
statement in autocommit (``queue.lease_alone_statement``,
``labelling.submit_alone_statement``, ``labelling.submit_and_lease_statement``) runs here on an
asyncpg connection: the event loop sends the statement and serves other requests while
PostgreSQL works. On a worker thread the same call paid for the hop to the thread and
back, and for the thread and the loop taking Python's global lock in turn after every
round trip: at saturation the server held a label up for tens of milliseconds while using
less than a core. The driver is asyncpg, not psycopg as everywhere else: its protocol
is compiled, and a statement costs the server about 45 us of CPU against psycopg's 130
(at saturation, 22 % less server CPU a request and 9-10 % more labels a second).

Only the plain case runs here: a Bearer token (looked up here too, when this process
has not seen it lately) and a statement that does the whole call. Anything
else is ``NEEDS_TRANSACTION``, and the caller takes the usual way
(``labelops.api.deps.run_as_actor``), where the service runs in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import anyio
import orjson
from sqlalchemy import Engine
from starlette.requests import Request

from labelops.services import labelling, queue
from labelops.services._tx import NEEDS_TRANSACTION, RUN_AGAIN
from labelops.services.auth import (
    TOKEN_LOOKUP,
    TOKEN_TOUCH,
    remembered_token,
    token_actor,
    touch_due,
)
from labelops.services.policy import Actor
from labelops.store.engine import PING_AFTER_IDLE_S
from labelops.store.prepared import Prepared

__all__ = ["LoopConnections", "lease_on_loop", "submit_and_lease_on_loop", "submit_on_loop"]


class LoopConnections:
    """asyncpg connections (each statement its own transaction) for the statements run
    on the event loop; at most ``size`` statements run at once, the others wait their turn.

    ``enabled`` is False on SQLite (its hot calls run on the loop in ``InlineCalls``).
    As the engine's pool does: a connection idle for ``PING_AFTER_IDLE_S`` is pinged
    before use, and one left broken by an error is closed together with the idle
    ones (after a server restart they are all gone).
    """

    def __init__(self, engine: Engine, size: int) -> None:
        self.enabled = engine.dialect.name == "postgresql"
        self._engine = engine
        self._size = size
        self._idle: list[tuple[Any, float]] = []  # (connection, idle since: monotonic s)
        self._turns: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def first(self, statement: Prepared, params: dict[str, Any]) -> Any | None:
        """``statement.first`` run on one of the loop's connections, as its own
        transaction (autocommit)."""
        async with self._lent() as connection:
            return await statement.first_async(connection, params)

    @contextlib.asynccontextmanager
    async def _lent(self) -> AsyncIterator[Any]:
        turns = self._on_running_loop()
        async with turns:
            connection = await self._usable()
            reusable = False
            try:
                yield connection
                reusable = True
            except Exception:
                # A statement's error (a deadlock, say) ends its own transaction in
                # autocommit: the connection goes on, unless the link is broken.
                reusable = not connection.is_closed()
                if not reusable:
                    await self.close()
                raise
            finally:
                if reusable and not connection.is_closed():
                    self._idle.append((connection, time.monotonic()))
                else:
                    await connection.close()

    async def _usable(self) -> Any:
        while self._idle:
            connection, idle_since = self._idle.pop()
            if time.monotonic() - idle_since < PING_AFTER_IDLE_S:
                return connection
            try:
                await connection.execute("SELECT 1")
            except Exception:  # noqa: BLE001 - gone: try the next, or a new one
                await connection.close()
                continue
            return connection
        return await self._connect()

    async def _connect(self) -> Any:
        import asyncpg  # only PostgreSQL deployments load the driver

        # The engine's own URL (host, port, socket directory, sslmode...) as a libpq DSN.
        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        # JSON parameters come as text (the asyncpg dialect's bind processor, see
        # ``Prepared.first_async``); JSON results are decoded as psycopg's are.
        await connection.set_type_codec(
            "json", encoder=str, decoder=orjson.loads, schema="pg_catalog"
        )
        return connection

    def _on_running_loop(self) -> asyncio.Semaphore:
        """The turns of the running event loop; the idle connections of another loop are
        dropped. An asyncpg connection works on the loop it was opened on: a server has
        one loop per process, but a test client may start one per call."""
        loop = asyncio.get_running_loop()
        if self._turns is None or loop is not self._loop:
            for connection, _idle_since in self._idle:
                with contextlib.suppress(RuntimeError):  # its loop is closed: nothing to do
                    connection.terminate()
            self._idle = []
            self._turns = asyncio.Semaphore(self._size)
            self._loop = loop
        return self._turns

    async def close(self) -> None:
        """Close the idle connections (at shutdown, or when one broke)."""
        self._on_running_loop()
        idle, self._idle = self._idle, []
        for connection, _idle_since in idle:
            await connection.close()


async def lease_on_loop(
    request: Request, project_id: int, *, lease_seconds: int | None
) -> queue.ServedTask | None | object:
    """``queue.next_task`` as one statement on the loop; ``NEEDS_TRANSACTION`` when the
    call must run in full. Raises the service's errors."""
    connections: LoopConnections = request.app.state.loop_connections
    actor = await _bearer_actor(request, connections)
    if actor is None:
        return NEEDS_TRANSACTION
    statement, params = queue.lease_alone_statement(actor, project_id, lease_seconds=lease_seconds)
    row = await connections.first(statement, params)
    return queue.lease_alone_outcome(
        row, project_id, now=params["now"], taxonomy=await _taxonomy_of(request, row)
    )


async def submit_on_loop(
    request: Request, assignment_id: int, value: list[str], *, active_ms: int | None
) -> labelling.SubmitResult | object:
    """``labelling.submit_label`` as one statement on the loop; ``NEEDS_TRANSACTION``
    when the call must run in full. Raises the service's errors."""
    connections: LoopConnections = request.app.state.loop_connections
    actor = await _bearer_actor(request, connections)
    if actor is None:
        return NEEDS_TRANSACTION
    alone = labelling.submit_alone_statement(actor, assignment_id, value, active_ms=active_ms)
    if alone is None:
        return NEEDS_TRANSACTION
    statement, params = alone
    return await _settled(
        connections,
        statement,
        params,
        lambda row: labelling.submit_alone_outcome(row, actor, params),
    )


async def submit_and_lease_on_loop(
    request: Request,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None,
    lease_seconds: int | None,
) -> tuple[labelling.SubmitResult, queue.ServedTask | None] | object:
    """``labelling.submit_label_and_lease_next`` as one statement on the loop
    (``labelling.submit_and_lease_statement``); ``NEEDS_TRANSACTION`` when the pair must
    run in full (nothing was written then). Raises the service's errors."""
    connections: LoopConnections = request.app.state.loop_connections
    actor = await _bearer_actor(request, connections)
    if actor is None:
        return NEEDS_TRANSACTION
    pair = labelling.submit_and_lease_statement(
        actor, assignment_id, value, active_ms=active_ms, lease_seconds=lease_seconds
    )
    if pair is None:
        return NEEDS_TRANSACTION
    statement, params = pair
    outcome = await _settled(
        connections,
        statement,
        params,
        lambda row: labelling.submit_and_lease_outcome(row, actor, params),
    )
    if outcome is NEEDS_TRANSACTION:
        return NEEDS_TRANSACTION
    submitted, lease = cast(tuple[labelling.SubmitResult, Any], outcome)
    served = queue.lease_alone_outcome(
        lease, lease.project_id, now=params["now"], taxonomy=await _taxonomy_of(request, lease)
    )
    return submitted, cast(queue.ServedTask | None, served)


async def _settled(
    connections: LoopConnections,
    statement: Prepared,
    params: dict[str, Any],
    outcome: Callable[[Any | None], object],
) -> object:
    """``outcome`` of the statement's row, run again while that is ``RUN_AGAIN`` (at most
    ``labelling.SUBMIT_ALONE_ATTEMPTS`` runs in all); ``NEEDS_TRANSACTION`` after that."""
    for _attempt in range(labelling.SUBMIT_ALONE_ATTEMPTS):
        settled = outcome(await connections.first(statement, params))
        if settled is not RUN_AGAIN:
            return settled
    return NEEDS_TRANSACTION


async def _taxonomy_of(request: Request, row: Any | None) -> tuple[tuple[str, ...], str] | None:
    """``queue.work_taxonomy`` of a lease row that has a task: from the process cache,
    or (once per taxonomy) looked up on a worker thread."""
    if not queue.leased_task_needs_taxonomy(row):
        return None
    return queue.cached_work_taxonomy(row) or await anyio.to_thread.run_sync(
        _work_taxonomy, request.app.state.engine, row
    )


async def _bearer_actor(request: Request, connections: LoopConnections) -> Actor | None:
    """The Bearer token's actor, remembered or looked up on the loop; None without a
    Bearer token or on SQLite (the usual way authenticates then).

    Looked up here, not on the usual way: every token's memory runs out together
    (``TOKEN_CACHE_SECONDS`` after a crowd of labellers started), and 50 calls at once
    on worker threads stalled the server for a quarter of a second every 10 s.

    A lookup that finds the token's ``last_used_at`` more than a minute old records the
    use (``TOKEN_TOUCH``, one more statement about once a minute per token).

    Raises:
        AuthenticationFailed: Unknown, revoked or expired token, or the user was
            deleted or disabled.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not connections.enabled or scheme.lower() != "bearer" or not token.strip():
        return None
    token_hash, actor = remembered_token(token.strip())
    if actor is None:
        row = await connections.first(TOKEN_LOOKUP, {"token_hash": token_hash})
        actor = token_actor(token_hash, row)
        touch = touch_due(row)
        if touch is not None:
            await connections.first(TOKEN_TOUCH, touch)
    if actor.language and not request.headers.get("accept-language"):
        request.state.language = actor.language
    return actor


def _work_taxonomy(engine: Engine, row: Any) -> tuple[tuple[str, ...], str]:
    with engine.connect() as connection:
        return queue.work_taxonomy(connection, row)
