"""server-side web sessions, login throttling, token expiry and user disable

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:00:00

- ``web_sessions``: one row per logged-in browser; the cookie carries a random secret
  whose SHA-256 is ``secret_hash``. Ended at logout, password change, disable, delete.
- ``login_throttle``: failed logins per account name and per client address.
- ``users.disabled_at``: a disabled user can neither log in nor use a token.
- ``api_tokens.prefix`` / ``expires_at`` / ``last_used_at``. Tokens made before this
  migration get ``expires_at`` = migration time + 90 days (the default lifetime) and
  no prefix (they are listed as ``lo_…``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import labelops.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when() -> labelops.store.types.UTCDateTime:
    return labelops.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("ended_at", _when(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _when(), nullable=False),
        sa.Column("locked_until", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", _when(), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prefix", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("expires_at", _when(), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", _when(), nullable=True))
    tokens = sa.table(
        "api_tokens", sa.column("expires_at", _when()), sa.column("revoked_at", _when())
    )
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=90))
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of
    # ``users`` would drop a table other tables' foreign keys point at.
    for table, column in (
        ("api_tokens", "last_used_at"),
        ("api_tokens", "expires_at"),
        ("api_tokens", "prefix"),
        ("users", "disabled_at"),
    ):
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
