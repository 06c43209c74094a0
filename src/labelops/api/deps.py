"""Request dependencies: the database session and the current actor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar, cast

import anyio
from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.datastructures import State

from labelops.config import Settings
from labelops.errors import AuthenticationFailed
from labelops.services._tx import joined_transaction
from labelops.services.auth import authenticate_token
from labelops.services.policy import Actor
from labelops.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    WriteTurn,
    queues_writers,
    write_transaction_on,
    writes_reserved,
)

__all__ = [
    "CurrentActor",
    "SessionDep",
    "SettingsDep",
    "bearer_token",
    "get_actor",
    "get_session",
    "InlineCalls",
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


def bearer_token(request: Request) -> str | None:
    """The request's Bearer token (``Authorization: Bearer ...``), or None without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def get_actor(request: Request, session: SessionDep) -> Actor:
    """The user behind the request: a Bearer token, or a web session cookie.

    Raises:
        AuthenticationFailed: Neither is present and valid.
    """
    token = bearer_token(request)
    if token is not None:
        actor = authenticate_token(session, token)
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
    of the call). On SQLite, when this process can have the writer lock, the use case
    runs here on the event loop, in a write transaction it may share with the other
    hot calls that arrived meanwhile (``InlineCalls``). Otherwise (PostgreSQL, another
    process's writer) authentication and use case share one hop to the thread pool,
    where waiting for the lock or the network blocks no other request.

    At most ``hot_threads`` use cases (never more than ``pool_size``) run on threads at
    once (``app.state.hot_limiter``); the others wait here, on the event loop. With
    more of them than pooled connections (50 labellers at saturation), the extra
    connections were opened and closed again on every call: on PostgreSQL a new
    server process each time. With as many as the pool (10) the threads queued on
    Python's global lock after each round trip, and latency under load rose with them
    (see ``Settings.hot_threads``).
    """

    def work(bind: Connection | None = None) -> T:
        factory = request.app.state.session_factory
        # On a worker thread (``bind`` None) the session's transaction checks a pooled
        # connection out. In a batch of ``InlineCalls`` it joins the batch's transaction
        # on ``bind``; an ORM step then takes a savepoint of its own, so that its
        # rollback stays its own.
        session: Session = (
            factory()
            if bind is None
            else factory(bind=bind, join_transaction_mode="create_savepoint")
        )
        try:
            if bind is None:
                return use_case(session, get_actor(request, session))
            with joined_transaction(session, bind):
                return use_case(session, get_actor(request, session))
        finally:
            session.close()

    state = request.app.state
    if queues_writers(state.engine):
        inline: InlineCalls = state.inline_calls
        served = await inline.run(work)
        if served is not _ELSEWHERE:
            return cast(T, served)
    limiter: anyio.CapacityLimiter = state.hot_limiter
    return await anyio.to_thread.run_sync(work, limiter=limiter)


_ELSEWHERE = object()
"""What ``InlineCalls.run`` returns for a call it could not run on the event loop."""


class InlineCalls:
    """The hot use cases of one SQLite server process that run on its event loop.

    The calls that arrive while the loop is busy are run together, one after another,
    in one write transaction on the loop's own connection, each inside a savepoint: a
    call that fails is rolled back alone and gets its error, the others are committed,
    and every caller is answered after the COMMIT. At saturation a commit (its
    write-ahead-log pages: the same tail pages of the label and lease indexes again
    and again) and the begin/commit bookkeeping were a quarter of a call's CPU; shared,
    a label costs fewer of them. At a light load a call runs alone, as before.

    The writer lock is taken for the whole batch only when no writer of any process
    holds it. While a writer of this process holds it (a call on a worker thread, the
    WAL checkpointer), the batch waits for its release here (up to the busy timeout)
    rather than queue threads behind it. When another process's writer holds it, the
    calls go to worker threads (``_ELSEWHERE``).
    """

    def __init__(self, state: State) -> None:
        self._state = state
        self._pending: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._drain_task: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Connection], T]) -> T | object:
        """``work(connection)`` inside the batch's transaction; ``_ELSEWHERE`` if it
        must run on a worker thread instead. Raises what ``work`` raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((work, future))
        if self._drain_task is None:
            self._drain_task = loop.create_task(self._drain())
        outcome: T | object = await future
        return outcome

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        engine = self._state.engine
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_MS / 1000
        try:
            while self._pending:
                released = loop.create_future()
                with writes_reserved(engine, on_release=_waker(loop, released)) as turn:
                    if turn is WriteTurn.NOW:
                        calls, self._pending = self._pending, []
                        self._run_together(calls)
                        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_MS / 1000
                        continue
                if turn is WriteTurn.ELSEWHERE or loop.time() >= deadline:
                    self._answer_pending(result=_ELSEWHERE)
                    continue
                await asyncio.wait({released}, timeout=deadline - loop.time())
        except Exception as error:  # noqa: BLE001 - no caller may be left waiting
            self._answer_pending(error=error)
        finally:
            self._drain_task = None

    def _answer_pending(self, *, result: object = None, error: Exception | None = None) -> None:
        calls, self._pending = self._pending, []
        for _work, future in calls:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _run_together(
        self, calls: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]]
    ) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, bool]] = []
        try:
            connection = _loop_connection(self._state)
            with write_transaction_on(connection):
                driver: Any = connection.connection.driver_connection
                for work, future in calls:
                    if future.done():
                        continue  # the caller went away
                    driver.execute("SAVEPOINT labelops_call")
                    try:
                        result = work(connection)
                    except Exception as error:  # noqa: BLE001 - handed to its caller
                        driver.execute("ROLLBACK TO labelops_call")
                        driver.execute("RELEASE labelops_call")
                        outcomes.append((future, error, False))
                    else:
                        driver.execute("RELEASE labelops_call")
                        outcomes.append((future, result, True))
        except Exception as error:  # noqa: BLE001 - begin or commit failed: nothing stored
            for _work, future in calls:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value, succeeded in outcomes:
            if future.done():
                continue
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)


def _loop_connection(state: State) -> Connection:
    """The event loop's own connection for ``InlineCalls`` (SQLite), opened once.

    Checking a connection out of the pool and back in, with the Connection object
    around it, cost about 5 % of an inline call's CPU. Each batch begins and ends its
    transaction on it (``write_transaction_on``); it is never left inside one.
    """
    connection: Connection | None = getattr(state, "loop_connection", None)
    if connection is None or connection.closed or connection.invalidated:
        connection = state.loop_connection = state.engine.connect()
    elif connection.in_transaction():
        # Never the case after a batch ended; but a batch must begin its own.
        connection.rollback()
    return connection


def _waker(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> Callable[[], None]:
    """A callback, safe from any thread, that completes ``future`` on ``loop``."""

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    def wake_from_any_thread() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(wake)

    return wake_from_any_thread
