"""Fixtures of the web tests: a live uvicorn server on loopback and one chromium per module."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from labelops.config import Settings
from labelops.store.engine import create_engine_for, make_session_factory
from labelops.store.models import Base
from web.web_support import CHROMIUM_ARGS, chromium_path


@dataclass
class LiveServer:
    """A real uvicorn server on 127.0.0.1 and sessions on its database."""

    url: str
    settings: Settings
    session_factory: sessionmaker[Session]


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _sqlite_template: Path,
    _postgres_engine,
) -> Iterator[LiveServer]:
    """A module-wide server on a free loopback port, on its own migrated database.

    A test module may set ``LIVE_SETTINGS`` (a dict of ``Settings`` fields) for its
    server, ``{"lease_seconds": 10}`` say.
    """
    import uvicorn

    from labelops.api import create_app
    from labelops.server import OneWriteHttpToolsProtocol

    folder = tmp_path_factory.mktemp("web-live")
    if _postgres_engine is not None:
        tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        with _postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        url = os.environ["LABELOPS_DATABASE_URL"]
    else:
        shutil.copy(_sqlite_template, folder / "labelops.db")
        url = f"sqlite:///{folder / 'labelops.db'}"
    settings = Settings(
        database_url=url,
        home=folder / "home",
        session_secret="live-secret",
        **getattr(request.module, "LIVE_SETTINGS", {}),
    )
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws="none",
        lifespan="on",
        http=OneWriteHttpToolsProtocol,  # as ``labelops serve`` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    engine = create_engine_for(url, pool_size=5)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, make_session_factory(engine))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Debian chromium per module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
