"""items: an integer content key for dedup lookups; tasks: no index on item_id alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 23:45:00

An import looks items up by content hash to find duplicates. The index on the
64-character hex ``content_hash`` made every inserted item pay a random insert of a
~70-byte key (a million-item import on SQLite: ~3.8 us a row for that index, ~60 MB of
index pages written twice, to the WAL and back). ``content_key`` holds the first 8
bytes of the same SHA-256 as a signed 64-bit integer, and the lookup index is on it
(~2.3 us a row, ~15 MB); the import confirms each hit on ``content_hash``, which stays
(unindexed) as the full, readable digest.

``ix_tasks_item_id`` goes: every query that finds tasks by item also names the project,
and the unique (project_id, item_id) index serves those; nothing deletes items, so no
foreign-key check needs it either. It cost each imported task ~0.3 us and ~15 MB.

SQLite adds a NOT NULL column only with a default, and dropping that default means
rebuilding ``items``, which the foreign key from ``tasks`` forbids inside a migration; so
on SQLite the column keeps ``DEFAULT 0`` (the import always writes the key). PostgreSQL
drops it.
"""

from __future__ import annotations

import sqlite3
from typing import cast

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _content_key(content_hash: str) -> int:
    """The key of a hex SHA-256: its first 8 bytes, big-endian, signed (as the import)."""
    return int.from_bytes(bytes.fromhex(content_hash[:16]), "big", signed=True)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column(
        "items", sa.Column("content_key", sa.BigInteger(), nullable=False, server_default="0")
    )
    if bind.dialect.name == "postgresql":
        # bit(64) -> bigint reads the 64 bits as two's complement, like the signed bytes.
        op.execute(
            "UPDATE items SET content_key = ('x' || substr(content_hash, 1, 16))::bit(64)::bigint"
        )
        op.alter_column("items", "content_key", server_default=None)
    else:
        # SQLite 3.40 has no unhex(): the conversion runs as a Python SQL function.
        driver = cast(sqlite3.Connection, bind.connection.driver_connection)
        driver.create_function("labelops_content_key", 1, _content_key, deterministic=True)
        op.execute("UPDATE items SET content_key = labelops_content_key(content_hash)")
    op.create_index("ix_items_content_key", "items", ["content_key"], unique=False)
    op.drop_index("ix_items_content_hash", table_name="items")
    op.drop_index("ix_tasks_item_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_item_id", "tasks", ["item_id"], unique=False)
    op.create_index("ix_items_content_hash", "items", ["content_hash"], unique=False)
    op.drop_index("ix_items_content_key", table_name="items")
    op.drop_column("items", "content_key")
