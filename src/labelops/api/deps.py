"""Request dependencies: the database session and the current actor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.datastructures import State

from labelops.config import Settings
from labelops.errors import AuthenticationFailed
from labelops.services.auth import authenticate_token
from labelops.services.policy import Actor
from labelops.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    WRITE_OPTION,
    WriteTurn,
    writes_reserved,
)

__all__ = [
    "CurrentActor",
    "SessionDep",
    "SettingsDep",
    "get_actor",
    "get_session",
    "run_as_actor",
]

T = TypeVar("T")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, closed afterwards (services open the transactions).

    ``async`` because making a session does no I/O: FastAPI then runs it on the event
    loop instead of hopping to a worker thread (each hop costs about 0.1 ms).
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_actor(request: Request, session: SessionDep) -> Actor:
    """The user behind the request: a Bearer token, or a web session cookie.

    Raises:
        AuthenticationFailed: Neither is present and valid.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        actor = authenticate_token(session, token.strip())
    else:
        web_actor = getattr(request.state, "web_actor", None)
        if web_actor is None:
            resolver = getattr(request.app.state, "cookie_actor_resolver", None)
            web_actor = resolver(request, session) if resolver is not None else None
        if web_actor is None:
            raise AuthenticationFailed("errors.auth.missing")
        actor = web_actor
    if actor.language and not request.headers.get("accept-language"):
        request.state.language = actor.language
    if session.in_transaction():
        session.commit()  # end the read transaction of the lookup
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


async def run_as_actor(request: Request, use_case: Callable[[Session, Actor], T]) -> T:
    """Authenticate the request and run a short use case in a session of its own.

    For the labeller's hot calls (next task, submit) instead of ``SessionDep`` plus
    ``CurrentActor``, which cost a worker-thread hop each (about as much CPU as the SQL
    of the call). On SQLite, when the writer lock is free (no write open in this or
    another process), the use case runs here on the event loop holding it: it cannot
    wait, and SQLite work is in-process. While a writer of this process holds the lock,
    the call waits for it here (for up to the busy timeout). Otherwise (PostgreSQL,
    another process's writer) authentication and use case share one hop to the thread
    pool, where waiting for the lock or the network blocks no other request.

    At most ``pool_size`` such use cases run at once (``app.state.hot_limiter``); the
    others wait here, on the event loop. With more of them than pooled connections
    (50 labellers at saturation), the extra connections were opened and closed again
    on every call: on PostgreSQL a new server process each time.
    """

    def work(bind: Connection | None = None) -> T:
        factory = request.app.state.session_factory
        session: Session = factory() if bind is None else factory(bind=bind)
        try:
            return use_case(session, get_actor(request, session))
        finally:
            session.close()

    engine = request.app.state.engine
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while loop.time() < deadline:
        released = loop.create_future()
        with writes_reserved(engine, on_release=_waker(loop, released)) as turn:
            if turn is WriteTurn.NOW:
                return work(_loop_connection(request.app.state))
        if turn is WriteTurn.ELSEWHERE:
            break
        # A writer of this process holds the lock (a use case on a worker thread, the
        # WAL checkpointer): wait for it here, then run inline, rather than queue a
        # thread behind it. Once one call had gone to a thread, the calls arriving while
        # it ran found the lock busy and went too, and so on: at saturation every call
        # ran on a thread, each paying the hop and the hand-overs of the GIL.
        await asyncio.wait({released}, timeout=deadline - loop.time())
    limiter: anyio.CapacityLimiter = request.app.state.hot_limiter
    return await anyio.to_thread.run_sync(work, limiter=limiter)


def _loop_connection(state: State) -> Connection:
    """The event loop's own connection for inline use cases (SQLite), opened once.

    Checking a connection out of the pool and back in, with the Connection object
    around it, cost about 5 % of an inline call's CPU. Sessions bound to it begin and
    end their own transactions on it; it is never left inside one.
    """
    connection: Connection | None = getattr(state, "loop_connection", None)
    if connection is None or connection.closed or connection.invalidated:
        connection = state.loop_connection = state.engine.connect()
    elif connection.in_transaction():
        # Never the case after a session closed; but a session bound to a connection
        # inside a transaction would join it and commit nothing of its own.
        connection.rollback()
    # A write transaction marks its connection as a writer's (``WRITE_OPTION``); the
    # mark must not outlive it here, or the next call's reads would begin as writes.
    return connection.execution_options(**{WRITE_OPTION: False})


def _waker(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> Callable[[], None]:
    """A callback, safe from any thread, that completes ``future`` on ``loop``."""

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    def wake_from_any_thread() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(wake)

    return wake_from_any_thread
