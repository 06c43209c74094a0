"""The application factory. Nothing is built at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from labelops import __version__
from labelops.api.alone import LoopConnections
from labelops.api.deps import InlineCalls
from labelops.api.docs import install_docs
from labelops.api.edge import BodyGuard, secured
from labelops.api.errors import install_error_handlers
from labelops.api.hot import replaying, serve_hot
from labelops.api.schemas.errors import ERROR_RESPONSES
from labelops.config import Settings, get_settings
from labelops.errors import AuthenticationFailed
from labelops.services.auth import authenticate_token
from labelops.store.engine import (
    WalCheckpointer,
    create_engine_for,
    make_session_factory,
    require_current_schema,
)

__all__ = ["LabelopsApp", "create_app", "create_server_app"]


class LabelopsApp(FastAPI):
    """FastAPI with the labeller's hot calls served in a fast lane first (``api.hot``),
    and the edge (``api.edge``: security headers, authentication before big bodies,
    body limits) around everything else."""

    body_guard: BodyGuard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "http":
            scope["app"] = self
            if await serve_hot(scope, receive, send):
                return
            receive = replaying(scope, receive)
            send = secured(send)
            admitted = await self.body_guard.admit(scope, receive, send)
            if admitted is None:
                return
            receive = admitted
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    """Build the labelops app (API, OpenAPI at ``/docs``, and the web pages).

    Args:
        settings: Settings to use (default: from the environment).
        check_schema: Refuse to start on an un-migrated or newer database.

    Raises:
        SchemaMismatch: The database is not at this code's schema revision.
    """
    settings = settings or get_settings()
    engine = create_engine_for(settings.resolved_database_url, pool_size=settings.pool_size)
    if check_schema:
        require_current_schema(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        on_file = engine.dialect.name == "sqlite" and engine.url.database not in (
            None,
            "",
            ":memory:",
        )
        checkpointer = WalCheckpointer(engine) if on_file else None
        try:
            yield
        finally:
            if checkpointer is not None:
                checkpointer.stop()
            await _app.state.loop_connections.close()  # see api.alone
            loop_connection = getattr(_app.state, "loop_connection", None)  # see api.deps
            if loop_connection is not None:
                loop_connection.close()
            engine.dispose()

    app = LabelopsApp(
        title="labelops",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served from the package by ``install_docs``
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.hot_limiter = anyio.CapacityLimiter(  # see run_as_actor
        min(settings.hot_threads, settings.pool_size)
    )
    app.state.inline_calls = InlineCalls(app.state)  # see run_as_actor
    app.state.loop_connections = LoopConnections(engine, settings.loop_statements)
    install_error_handlers(app)
    app.body_guard = BodyGuard(
        max_body_bytes=settings.max_body_bytes,
        max_import_bytes=settings.max_import_bytes,
        authenticated=lambda request: _has_valid_credentials(app, request),
    )
    install_docs(app)

    from labelops.api.routers import (
        audit,
        directory,
        labelling,
        projects,
        quality,
        taxonomies,
    )

    for module in (directory, taxonomies, projects, labelling, quality, audit):
        app.include_router(module.router)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness and version."""
        return {"status": "ok", "version": __version__}

    from labelops.web import install_web

    install_web(app)
    return app


def _has_valid_credentials(app: FastAPI, request: Request) -> bool:
    """Whether ``request`` carries a valid Bearer token or a logged-in session cookie
    (``BodyGuard``'s check before reading a big body; runs on a worker thread)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    with app.state.session_factory() as session:
        try:
            if scheme.lower() == "bearer" and token.strip():
                authenticate_token(session, token.strip())
                return True
            resolver = getattr(app.state, "session_actor_resolver", None)
            return resolver is not None and resolver(request, session) is not None
        except AuthenticationFailed:
            return False


def create_server_app() -> FastAPI:
    """The app as ``labelops serve`` runs it: ``create_app`` in a long-lived process.

    Everything built so far (modules, routes, schemas, table metadata: most of the
    process's objects) is moved out of the cyclic garbage collector's sight
    (``gc.freeze``). Its full collections otherwise walk all of it: 90 ms pauses under
    the realistic load of ``bench/queue.py`` (12 ms frozen), which every request
    waiting then carries.
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
