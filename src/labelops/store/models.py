"""SQLAlchemy 2 typed models: the system of record.

Models hold no business rules (those live in ``labelops.services``). Every
timestamp is timezone-aware UTC (``UTCDateTime``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from labelops.store.types import BigIntPK, UTCDateTime, utcnow

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "Base",
    "FinalLabel",
    "GoldAnswer",
    "ImportBatch",
    "Item",
    "Label",
    "Project",
    "ProjectVendor",
    "Snapshot",
    "Task",
    "Taxonomy",
    "TaxonomyLabel",
    "LoginThrottle",
    "User",
    "Vendor",
    "WebSession",
]

JSONDict = dict[str, Any]


class Base(DeclarativeBase):
    """Declarative base of every labelops table."""


class Vendor(Base):
    """A BPO company whose labellers work on projects."""

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person: admin, auditor (in-house), vendor manager or labeller (vendor)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set while the user may not log in or use a token (0006); cleared to enable."""


class ApiToken(Base):
    """A bearer token; only its SHA-256 and its first characters (``prefix``) are stored.

    ``expires_at`` NULL never happens for tokens made since 0006; ``last_used_at`` is
    written at most once a minute per server process (see ``services.auth``).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="default")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prefix: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A logged-in browser session. The cookie carries a random secret; only its
    SHA-256 is stored here, so a copy of the database opens no session."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The absolute end, whatever the activity."""
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class LoginThrottle(Base):
    """Failed password logins of one account name or one client address, shared by
    every server process (``services.login_throttle``)."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``account`` (the lower-cased name typed) or ``address`` (the client IP)."""
    key: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Taxonomy(Base):
    """One version of a label set; immutable once a project uses it."""

    __tablename__ = "taxonomies"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[JSONDict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaxonomyLabel(Base):
    """One label of a taxonomy version, with both languages."""

    __tablename__ = "taxonomy_labels"
    __table_args__ = (UniqueConstraint("taxonomy_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    taxonomy_id: Mapped[int] = mapped_column(ForeignKey("taxonomies.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    definition_en: Mapped[str] = mapped_column(Text, default="")
    definition_zh: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Project(Base):
    """Labelling work on items under one taxonomy version."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    taxonomy_id: Mapped[int] = mapped_column(ForeignKey("taxonomies.id"), index=True)
    overlap: Mapped[int] = mapped_column(Integer)
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0)
    sla_hours: Mapped[float | None] = mapped_column(Float)
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    show_gold_feedback: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProjectVendor(Base):
    """A vendor assigned to a project."""

    __tablename__ = "project_vendors"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), primary_key=True)


class ImportBatch(Base):
    """One import of a file or API batch into a project, with its report."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    n_created: Mapped[int] = mapped_column(Integer, default=0)
    n_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[JSONDict] = mapped_column(JSON, default=dict)


class Item(Base):
    """One ad creative. Text is stored byte-exact; dedup by external id and content hash."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(500), unique=True)
    text: Mapped[str | None] = mapped_column(Text)
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    advertiser: Mapped[str | None] = mapped_column(String(500))
    market: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(32))
    item_metadata: Mapped[JSONDict] = mapped_column("metadata", JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The first 8 bytes of the SHA-256 behind content_hash, as a signed 64-bit integer:
    # the dedup lookup key. An index of 64-character strings cost a million-item import
    # ~1.5 us a row more than this one (0004); a hit is confirmed on content_hash.
    content_key: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    """An item inside a project.

    ``slots_taken`` counts submitted labels plus live leases, so the queue can find
    a task that still wants a label with one indexed range scan.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("project_id", "item_id"),
        # The queue reads this index in order: highest priority first, then oldest.
        Index("ix_tasks_queue", "project_id", "is_gold", "status", text("priority DESC"), "id"),
        # PostgreSQL: free page space for heap-only updates, early autovacuum (0003).
        {
            "postgresql_with": {
                "fillfactor": 70,
                "autovacuum_vacuum_scale_factor": 0.01,
                "autovacuum_analyze_scale_factor": 0.02,
            }
        },
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    # No index of its own: every lookup by item_id also names the project, which the
    # unique (project_id, item_id) index serves (0004).
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    slots_taken: Mapped[int] = mapped_column(Integer, default=0)
    n_labels: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """A task leased to one labeller; one row per (task, labeller), ever."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "labeller_id"),
        # Live leases of a project by expiry, for the queue's return of expired slots;
        # leases of other projects and finished assignments are not in it (0005).
        Index(
            "ix_assignments_live_leases",
            "project_id",
            "lease_expires_at",
            sqlite_where=text("status = 'leased'"),
            postgresql_where=text("status = 'leased'"),
        ),
        Index("ix_assignments_labeller", "labeller_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    labeller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[str | None] = mapped_column(Text)


class Label(Base):
    """What a labeller answered. Revisions add rows; only one is current."""

    __tablename__ = "labels"
    __table_args__ = (Index("ix_labels_task_current", "task_id", "is_current"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    labeller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    value: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active_ms: Mapped[int | None] = mapped_column(Integer)


class GoldAnswer(Base):
    """The known answer of a gold item in a project, with an explanation."""

    __tablename__ = "gold_answers"
    __table_args__ = (UniqueConstraint("project_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    value: Mapped[list[str]] = mapped_column(JSON)
    explanation_en: Mapped[str | None] = mapped_column(Text)
    explanation_zh: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Snapshot(Base):
    """A frozen set of final labels; exporting it twice gives the same bytes."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[JSONDict] = mapped_column(JSON, default=dict)


class FinalLabel(Base):
    """The aggregated answer for a task.

    ``snapshot_id`` NULL is the live row (kept up to date as labels arrive); rows of a
    snapshot are copies that never change.
    """

    __tablename__ = "final_labels"
    __table_args__ = (
        UniqueConstraint("task_id", "snapshot_id"),
        Index("ix_final_labels_snapshot", "snapshot_id", "task_id"),
        # NULLs are distinct in unique constraints, so the one-live-row rule needs
        # a partial index on both databases.
        Index(
            "uq_final_labels_live",
            "task_id",
            unique=True,
            sqlite_where=text("snapshot_id IS NULL"),
            postgresql_where=text("snapshot_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    value: Mapped[list[str] | None] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32))
    n_labels: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One change made by a person: who, when, what, before, after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[JSONDict | None] = mapped_column(JSON)
    after: Mapped[JSONDict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
