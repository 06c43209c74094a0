"""Disputes: a vendor manager contests an 'incorrect' verdict; an auditor decides.

Upholding keeps the verdict. Overturning flips it to ``correct``: the task's audited
final label becomes the vendor's label, the audit's counts and decision are recomputed
(a lot that is no longer rejected has its open rework cancelled) and every step lands
in the audit trail. The switching state is not rewound: it records what was known when
the lot was decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.audits import (
    load_audit,
    load_sample,
    refresh_audit,
    set_audited_final_label,
)
from labelops.services.policy import Actor, authorize, require_same_vendor, scope_to_vendor
from labelops.services.rework import cancel_open_rework
from labelops.store.audit_models import AuditDispute, AuditSample
from labelops.store.types import utcnow

__all__ = [
    "DisputeView",
    "Outcome",
    "get_dispute",
    "list_disputes",
    "open_dispute",
    "resolve_dispute",
]

Outcome = Literal["uphold", "overturn"]
MAX_REASON = 2000


@dataclass(frozen=True)
class DisputeView:
    """A dispute and the verdict it is about."""

    id: int
    audit_id: int
    label_id: int
    vendor_id: int
    reason: str
    status: str
    """``open``, ``upheld`` or ``overturned``."""
    resolution_comment: str | None
    opened_at: datetime
    resolved_at: datetime | None
    verdict: str | None
    """The verdict now (``correct`` after an overturn)."""


def _view(dispute: AuditDispute, sample: AuditSample) -> DisputeView:
    return DisputeView(
        id=dispute.id,
        audit_id=dispute.audit_id,
        label_id=sample.label_id,
        vendor_id=dispute.vendor_id,
        reason=dispute.reason,
        status=dispute.status,
        resolution_comment=dispute.resolution_comment,
        opened_at=dispute.opened_at,
        resolved_at=dispute.resolved_at,
        verdict=sample.verdict,
    )


def open_dispute(
    session: Session,
    actor: Actor,
    audit_id: int,
    label_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> DisputeView:
    """Dispute the verdict on one audited label of the actor's vendor.

    Raises:
        PermissionDenied: The actor may not open disputes (vendor managers may).
        NotFound: No such audit or sampled label, or another vendor's.
        Conflict: No verdict yet, a ``correct`` verdict, or an open dispute exists.
        InvalidInput: An empty or over-long reason.
    """
    authorize(actor, "dispute.open")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput("errors.dispute.reason", field="reason", max=MAX_REASON)
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id)
        sample = load_sample(session, audit, label_id, lock=True)
        if sample.verdict is None:
            raise NotFound("errors.audit.label_not_in_sample", label=label_id, audit=audit_id)
        if sample.verdict != "incorrect":
            raise Conflict("errors.dispute.not_incorrect", label=label_id)
        pending = session.scalar(
            select(AuditDispute.id).where(
                AuditDispute.sample_id == sample.id, AuditDispute.status == "open"
            )
        )
        if pending is not None:
            raise Conflict("errors.dispute.open_exists", dispute=pending)
        dispute = AuditDispute(
            sample_id=sample.id,
            audit_id=audit.id,
            vendor_id=audit.vendor_id,
            opened_by=actor.user_id,
            reason=reason,
            status="open",
            opened_at=now,
        )
        session.add(dispute)
        session.flush()
        record_event(
            session,
            actor,
            "dispute.open",
            "dispute",
            dispute.id,
            after={"audit_id": audit.id, "label_id": label_id, "reason": reason},
            vendor_id=audit.vendor_id,
            now=now,
        )
        return _view(dispute, sample)


def resolve_dispute(
    session: Session,
    actor: Actor,
    dispute_id: int,
    outcome: str,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> DisputeView:
    """Uphold or overturn a dispute (see the module docstring for what overturning does).

    Raises:
        PermissionDenied: The actor may not resolve disputes (auditors may).
        NotFound: No such dispute.
        Conflict: It is resolved already.
        InvalidInput: An outcome other than ``uphold`` or ``overturn``.
    """
    authorize(actor, "dispute.resolve")
    if outcome not in ("uphold", "overturn"):
        raise InvalidInput("errors.dispute.outcome", field="outcome", value=outcome)
    now = now or utcnow()
    with transaction(session):
        dispute = session.scalar(
            select(AuditDispute).where(AuditDispute.id == dispute_id).with_for_update()
        )
        if dispute is None:
            raise NotFound("errors.dispute.not_found", dispute=dispute_id)
        if dispute.status != "open":
            raise Conflict("errors.dispute.resolved", dispute=dispute_id, status=dispute.status)
        audit = load_audit(session, actor, dispute.audit_id, lock=True)
        sample = session.get(AuditSample, dispute.sample_id)
        if sample is None:  # pragma: no cover - foreign key
            raise NotFound("errors.dispute.not_found", dispute=dispute_id)
        dispute.status = "upheld" if outcome == "uphold" else "overturned"
        dispute.resolution_comment = comment.strip() if comment and comment.strip() else None
        dispute.resolved_by = actor.user_id
        dispute.resolved_at = now
        if outcome == "overturn":
            before = {
                "verdict": sample.verdict,
                "error_type": sample.error_type,
                "severity": sample.severity,
                "corrected": sample.corrected_value,
            }
            sample.verdict = "correct"
            sample.error_type = None
            sample.severity = None
            sample.corrected_value = None
            sample.overturned = True
            session.flush()
            record_event(
                session,
                actor,
                "audit.verdict_overturn",
                "audit_sample",
                sample.id,
                before=before,
                after={"verdict": "correct", "dispute_id": dispute.id},
                vendor_id=audit.vendor_id,
                now=now,
            )
            set_audited_final_label(
                session, actor, sample.task_id, list(sample.vendor_value), now=now
            )
            was_rejected = audit.decision == "rejected"
            refresh_audit(session, actor, audit, now=now)
            if was_rejected and audit.decision == "accepted":
                cancel_open_rework(session, actor, audit.id, now=now)
        record_event(
            session,
            actor,
            "dispute.resolve",
            "dispute",
            dispute.id,
            before={"status": "open"},
            after={"status": dispute.status, "comment": dispute.resolution_comment},
            vendor_id=audit.vendor_id,
            now=now,
        )
        return _view(dispute, sample)


def get_dispute(session: Session, actor: Actor, dispute_id: int) -> DisputeView:
    """One dispute (vendor roles: their vendor's only).

    Raises:
        NotFound: No such dispute, or another vendor's.
    """
    authorize(actor, "lot.read")
    dispute = session.get(AuditDispute, dispute_id)
    if dispute is None:
        raise NotFound("errors.dispute.not_found", dispute=dispute_id)
    try:
        require_same_vendor(actor, dispute.vendor_id)
    except NotFound as exc:
        raise NotFound("errors.dispute.not_found", dispute=dispute_id) from exc
    sample = session.get(AuditSample, dispute.sample_id)
    if sample is None:  # pragma: no cover - foreign key
        raise NotFound("errors.dispute.not_found", dispute=dispute_id)
    return _view(dispute, sample)


def list_disputes(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    audit_id: int | None = None,
) -> list[DisputeView]:
    """Disputes, oldest first (vendor roles: their vendor's only)."""
    authorize(actor, "lot.read")
    query = select(AuditDispute).order_by(AuditDispute.id)
    if status is not None:
        query = query.where(AuditDispute.status == status)
    if audit_id is not None:
        query = query.where(AuditDispute.audit_id == audit_id)
    query = scope_to_vendor(query, actor, AuditDispute.vendor_id)
    disputes = list(session.scalars(query))
    samples = {
        s.id: s
        for s in session.scalars(
            select(AuditSample).where(AuditSample.id.in_([d.sample_id for d in disputes]))
        )
    }
    return [_view(d, samples[d.sample_id]) for d in disputes]
