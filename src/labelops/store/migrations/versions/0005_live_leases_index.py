"""assignments: a partial index of live leases by project instead of (status, expiry)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:00:00

Each next-task call returns the slots of its project's expired leases. Through
``ix_assignments_expiry (status, lease_expires_at)`` that lookup read every expired
lease of every project, and leases abandoned in a project nobody works on any more are
only ever reclaimed by a call in that project: each call elsewhere walked all of them.
``ix_assignments_live_leases (project_id, lease_expires_at) WHERE status = 'leased'``
holds only live leases, project by project, so the lookup reads the expired leases of
its own project and nothing else (usually none). Nothing else used the old index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

LIVE = "status = 'leased'"


def upgrade() -> None:
    op.create_index(
        "ix_assignments_live_leases",
        "assignments",
        ["project_id", "lease_expires_at"],
        unique=False,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.drop_index("ix_assignments_expiry", table_name="assignments")


def downgrade() -> None:
    op.create_index(
        "ix_assignments_expiry", "assignments", ["status", "lease_expires_at"], unique=False
    )
    op.drop_index("ix_assignments_live_leases", table_name="assignments")
