"""Alembic entry points: ``labelops db upgrade`` and the test fixtures call these."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["alembic_config", "upgrade"]


def alembic_config(engine: Engine | None) -> Config:
    """An Alembic config pointing at the packaged migrations (and at ``engine``)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("labelops.store") / "migrations"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision``."""
    command.upgrade(alembic_config(engine), revision)
