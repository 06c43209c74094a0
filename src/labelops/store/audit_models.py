"""Tables of the second-tier audit workflow (issue #4): lots, audits, samples, verdicts,
error types, switching states, rework and disputes.

Like ``labelops.store.models``, these models hold no business rules (those live in
``labelops.services.lots``, ``audits``, ``rework`` and ``disputes``); every timestamp is
timezone-aware UTC.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from labelops.store.models import Base
from labelops.store.types import BigIntPK, UTCDateTime, utcnow

__all__ = [
    "Audit",
    "AuditDispute",
    "AuditErrorType",
    "AuditLot",
    "AuditLotLabel",
    "AuditSample",
    "ReworkItem",
    "SwitchingRecord",
]

JSONDict = dict[str, Any]


class AuditLot(Base):
    """A vendor's labels in one project over a period, one import batch, or one rework round.

    ``status``: ``open`` (its period is still running: labels may still join it),
    ``closed`` (membership fixed), ``auditing`` (an audit froze it), ``accepted`` or
    ``rejected`` (the audit decided).
    """

    __tablename__ = "audit_lots"
    __table_args__ = (Index("ix_audit_lots_project_vendor", "project_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    kind: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    rework_of_lot_id: Mapped[int | None] = mapped_column(ForeignKey("audit_lots.id"))
    status: Mapped[str] = mapped_column(String(16))
    n_labels: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLotLabel(Base):
    """Membership of a label in a lot; a label belongs to at most one lot."""

    __tablename__ = "audit_lot_labels"
    __table_args__ = (UniqueConstraint("label_id"),)

    lot_id: Mapped[int] = mapped_column(ForeignKey("audit_lots.id"), primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)


class AuditErrorType(Base):
    """One error type of a versioned, configurable list (both languages)."""

    __tablename__ = "audit_error_types"
    __table_args__ = (UniqueConstraint("list_version", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    list_version: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SwitchingRecord(Base):
    """The ISO 2859-1 switching state of one (project, vendor) stream of lots."""

    __tablename__ = "audit_switching_states"
    __table_args__ = (UniqueConstraint("project_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    inspection: Mapped[str] = mapped_column(String(16))
    state: Mapped[JSONDict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Audit(Base):
    """A sample drawn from a lot by a plan, reviewed by an auditor, then decided.

    ``design`` records everything needed to redraw the sample: the seed, the plan's
    parameters and numbers, and the stratum weights.
    """

    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("lot_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("audit_lots.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    plan: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    design: Mapped[JSONDict] = mapped_column(JSON)
    error_type_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    n_sample: Mapped[int] = mapped_column(Integer)
    n_random: Mapped[int] = mapped_column(Integer)
    n_targeted: Mapped[int] = mapped_column(Integer, default=0)
    n_reviewed: Mapped[int] = mapped_column(Integer, default=0)
    n_defects_random: Mapped[int] = mapped_column(Integer, default=0)
    n_defects: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str | None] = mapped_column(String(16))
    accuracy_rate: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditSample(Base):
    """One sampled label of an audit: blind answer, then verdict.

    ``part`` is ``random`` (the probability sample that decides the lot and feeds the
    estimates) or ``targeted`` (risk-picked, reported apart). ``vendor_value`` is the
    label as it was when drawn, so a later revision cannot change what was audited.
    """

    __tablename__ = "audit_samples"
    __table_args__ = (
        UniqueConstraint("audit_id", "label_id"),
        Index("ix_audit_samples_audit_position", "audit_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"))
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    labeller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    stratum: Mapped[str | None] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    risk_score: Mapped[float | None] = mapped_column(Float)
    vendor_value: Mapped[list[str]] = mapped_column(JSON)
    blind_value: Mapped[list[str] | None] = mapped_column(JSON)
    blind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict: Mapped[str | None] = mapped_column(String(16))
    error_type: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str | None] = mapped_column(String(16))
    corrected_value: Mapped[list[str] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overturned: Mapped[bool] = mapped_column(Boolean, default=False)


class ReworkItem(Base):
    """A label of a rejected lot sent back to be labelled again.

    ``status``: ``open``, ``done`` or ``cancelled``; a labeller holds it while
    ``leased_by`` is set and ``lease_expires_at`` is in the future.
    """

    __tablename__ = "rework_items"
    __table_args__ = (
        UniqueConstraint("audit_id", "source_label_id"),
        Index("ix_rework_queue", "project_id", "target_vendor_id", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("audit_lots.id"), index=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    source_label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"))
    target_vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    leased_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    leased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditDispute(Base):
    """A vendor manager's dispute of one verdict; the auditor upholds or overturns it."""

    __tablename__ = "audit_disputes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("audit_samples.id"), index=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    resolution_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
