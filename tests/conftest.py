"""Shared fixtures: a migrated database per test (SQLite file, or the PostgreSQL named by
``LABELOPS_DATABASE_URL``), sessions, the app and an HTTP client.

The same suite runs on both databases: CI runs it once with no URL (SQLite) and once
with ``LABELOPS_DATABASE_URL=postgresql://...``.
Real data sets: see ``tests/real_data.py`` (samples always, full sets when present).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import labelops.store.audit_models  # noqa: F401
from labelops.config import Settings
from labelops.store.engine import create_engine_for, make_session_factory
from labelops.store.migrate import upgrade
from labelops.store.models import Base
from real_data import FULL_DATA, SAMPLE_DATA

POSTGRES_URL = os.environ.get("LABELOPS_DATABASE_URL", "")


@pytest.fixture(scope="session", params=["sample", "full"])
def real_data(request: pytest.FixtureRequest) -> Path:
    """Root of the real data sets (read-only): the committed samples (``tests/data``),
    then the full sets (``../shared/data``), skipped saying so when not present."""
    if request.param == "sample":
        return SAMPLE_DATA
    if not FULL_DATA.is_dir():
        pytest.skip(f"full data set not present: {FULL_DATA} (the sample form ran)")
    return FULL_DATA


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "labelops.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine | None]:
    if not POSTGRES_URL:
        yield None
        return
    engine = create_engine_for(POSTGRES_URL, pool_size=60)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def database_url(
    tmp_path: Path, _sqlite_template: Path, _postgres_engine: Engine | None
) -> Iterator[str]:
    """A migrated, empty database for this test."""
    if _postgres_engine is not None:
        tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        with _postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield POSTGRES_URL
        return
    path = tmp_path / "labelops.db"
    shutil.copy(_sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture()
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database and a private home."""
    return Settings(database_url=database_url, home=tmp_path / "home", session_secret="test-secret")


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on this test's database."""
    engine = create_engine_for(database_url, pool_size=20)
    yield engine
    engine.dispose()


@pytest.fixture()
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on this test's database."""
    return make_session_factory(engine)


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, closed after the test."""
    with session_factory() as session:
        yield session


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process HTTP client on a fresh app."""
    from labelops.api import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture()
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI tests: this test's database, English messages."""
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_LANG", "en")
    return {"LABELOPS_DATABASE_URL": database_url, "LABELOPS_HOME": str(tmp_path / "home")}
