"""Migrations, the schema check and the database settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from labelops.api import create_app
from labelops.config import Settings
from labelops.errors import SchemaMismatch
from labelops.services import directory
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.engine import create_engine_for, expected_revision, require_current_schema


def test_app_refuses_an_unmigrated_database(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", home=tmp_path)
    with pytest.raises(SchemaMismatch) as caught:
        create_app(settings)
    assert "labelops db upgrade" in caught.value.render("en")
    assert "labelops db upgrade" in caught.value.render("zh-Hant")


def test_app_refuses_a_newer_schema(engine, database_url):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    try:
        with pytest.raises(SchemaMismatch) as caught:
            require_current_schema(engine)
        assert "newer" in caught.value.render("en")
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": expected_revision()}
            )


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_timestamps_are_timezone_aware_utc(session):
    vendor = directory.create_vendor(session, SYSTEM_ACTOR, "時區測試")
    session.expire_all()
    session.refresh(vendor)
    assert vendor.created_at.tzinfo is not None
    assert vendor.created_at.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - vendor.created_at).total_seconds()) < 600


def test_schema_check_reads_the_migrations_as_alembic_does():
    from alembic.script import ScriptDirectory

    from labelops.store.engine import migration_revisions
    from labelops.store.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(None))
    by_alembic = {script.revision: script.down_revision for script in scripts.walk_revisions()}
    assert migration_revisions() == by_alembic
    assert expected_revision() == scripts.get_current_head()


def test_server_process_does_not_load_alembic(database_url, tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys; from labelops.api import create_app; create_app(); "
        "print(sorted(m for m in ('alembic', 'mako', 'pygments', 'pandas', 'numpy') "
        "if m in sys.modules))"
    )
    env = {"LABELOPS_DATABASE_URL": database_url, "LABELOPS_HOME": str(tmp_path), "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[]"


def test_cli_start_up_loads_no_statistics_or_migration_stack():
    import subprocess
    import sys

    probe = (
        "import sys, labelops.cli.main; "
        "print(sorted(m for m in ('alembic', 'numpy', 'pandas', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_postgresql_tasks_leave_room_for_heap_only_updates(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage parameter")
    with engine.connect() as connection:
        options = connection.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'tasks'")
        ).scalar_one()
    assert {
        "fillfactor=70",
        "autovacuum_vacuum_scale_factor=0.01",
        "autovacuum_analyze_scale_factor=0.02",
    } <= set(options or [])
