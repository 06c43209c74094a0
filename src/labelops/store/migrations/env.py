"""Alembic environment: the engine comes from ``labelops.store.migrate``."""

from __future__ import annotations

from alembic import context

import labelops.store.audit_models  # noqa: F401
from labelops.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from labelops.config import get_settings
        from labelops.store.engine import create_engine_for

        engine = create_engine_for(get_settings().resolved_database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
