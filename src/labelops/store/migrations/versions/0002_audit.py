"""audit workflow: lots, audits, samples, error types, switching, rework, disputes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:43:00.668512
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import labelops.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit_error_types",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("created_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_version", "key"),
    )
    op.create_table(
        "audit_switching_states",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("inspection", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "vendor_id"),
    )
    op.create_table(
        "audit_lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("since", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("until", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "import_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "rework_of_lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rework_of_lot_id"],
            ["audit_lots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_lots_project_vendor", ["project_id", "vendor_id"], unique=False
        )

    op.create_table(
        "audits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "auditor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("design", sa.JSON(), nullable=False),
        sa.Column("error_type_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n_sample", sa.Integer(), nullable=False),
        sa.Column("n_random", sa.Integer(), nullable=False),
        sa.Column("n_targeted", sa.Integer(), nullable=False),
        sa.Column("n_reviewed", sa.Integer(), nullable=False),
        sa.Column("n_defects_random", sa.Integer(), nullable=False),
        sa.Column("n_defects", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("accuracy_rate", sa.Float(), nullable=True),
        sa.Column("started_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["auditor_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["audit_lots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lot_id"),
    )
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audits_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audits_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "audit_lot_labels",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["labels.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["audit_lots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("lot_id", "label_id"),
        sa.UniqueConstraint("label_id"),
    )
    with op.batch_alter_table("audit_lot_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_lot_labels_task_id"), ["task_id"], unique=False)

    op.create_table(
        "audit_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "labeller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("vendor_value", sa.JSON(), nullable=False),
        sa.Column("blind_value", sa.JSON(), nullable=True),
        sa.Column("blind_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("error_type", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("corrected_value", sa.JSON(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "reviewed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reviewed_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overturned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["labels.id"],
        ),
        sa.ForeignKeyConstraint(
            ["labeller_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_id", "label_id"),
    )
    with op.batch_alter_table("audit_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_samples_audit_position", ["audit_id", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_samples_label_id"), ["label_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_samples_labeller_id"), ["labeller_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_samples_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_samples_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "rework_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "target_vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("leased_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("leased_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "lease_expires_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "done_label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("done_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
        ),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["done_label_id"],
            ["labels.id"],
        ),
        sa.ForeignKeyConstraint(
            ["leased_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["audit_lots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_label_id"],
            ["labels.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_vendor_id"],
            ["vendors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_id", "source_label_id"),
    )
    with op.batch_alter_table("rework_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rework_items_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(
            "ix_rework_queue",
            ["project_id", "target_vendor_id", "status", "priority"],
            unique=False,
        )

    op.create_table(
        "audit_disputes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "sample_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "vendor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("opened_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution_comment", sa.Text(), nullable=True),
        sa.Column(
            "resolved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("opened_at", labelops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", labelops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["audit_samples.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_disputes_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_disputes_sample_id"), ["sample_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_disputes_vendor_id"), ["vendor_id"], unique=False
        )

    _seed_error_types()


def downgrade() -> None:
    with op.batch_alter_table("audit_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_disputes_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_disputes_sample_id"))
        batch_op.drop_index(batch_op.f("ix_audit_disputes_audit_id"))

    op.drop_table("audit_disputes")
    with op.batch_alter_table("rework_items", schema=None) as batch_op:
        batch_op.drop_index("ix_rework_queue")
        batch_op.drop_index(batch_op.f("ix_rework_items_lot_id"))

    op.drop_table("rework_items")
    with op.batch_alter_table("audit_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_samples_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_samples_task_id"))
        batch_op.drop_index(batch_op.f("ix_audit_samples_labeller_id"))
        batch_op.drop_index(batch_op.f("ix_audit_samples_label_id"))
        batch_op.drop_index("ix_audit_samples_audit_position")

    op.drop_table("audit_samples")
    with op.batch_alter_table("audit_lot_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_lot_labels_task_id"))

    op.drop_table("audit_lot_labels")
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audits_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_audits_project_id"))

    op.drop_table("audits")
    with op.batch_alter_table("audit_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_lots_project_vendor")

    op.drop_table("audit_lots")
    op.drop_table("audit_switching_states")
    op.drop_table("audit_error_types")


# The default error-type list, version 1 (the services seed the same list when the table
# is empty, e.g. after a test truncates it). A migration never imports service code,
# so the list is spelled out here.
_ERROR_TYPES_V1 = (
    ("wrong_label", "Wrong label", "標籤錯誤"),
    ("missed_violation", "Missed violation", "漏標違規"),
    ("over_flagging", "Over-flagging", "過度標記"),
    ("guideline_ambiguity", "Guideline ambiguity", "準則不明確"),
    ("bad_item", "Bad item", "項目有問題"),
)


def _seed_error_types() -> None:
    table = sa.table(
        "audit_error_types",
        sa.column("list_version", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("position", sa.Integer()),
        sa.column("name_en", sa.String()),
        sa.column("name_zh", sa.String()),
        sa.column("created_at", labelops.store.types.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                "list_version": 1,
                "key": key,
                "position": position,
                "name_en": name_en,
                "name_zh": name_zh,
                "created_at": now,
            }
            for position, (key, name_en, name_zh) in enumerate(_ERROR_TYPES_V1)
        ],
    )
