"""Shared pieces of the audit services: the audit row as callers see it, and loading
audits and sampled labels with vendor scoping.

Private to ``labelops.services``: :mod:`~labelops.services.audits`,
:mod:`~labelops.services.audit_review` and :mod:`~labelops.services.audit_reports` build on
it, and :mod:`~labelops.services.audits` re-exports :class:`AuditSummary`.
"""

from __future__ import annotations

__all__ = [
    "AuditSummary",
    "label_key",
    "load_audit",
    "load_sample",
    "summarize_audit",
]

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import NotFound
from labelops.services.policy import Actor, require_same_vendor
from labelops.store.audit_models import Audit, AuditSample


@dataclass(frozen=True)
class AuditSummary:
    """An audit's plan, progress and decision."""

    id: int
    lot_id: int
    project_id: int
    vendor_id: int
    plan: str
    seed: int | None
    """Seed of the draw; hidden (None) from vendor roles until the audit is decided,
    so the sample cannot be predicted from the lot."""
    design: dict[str, Any]
    """Everything needed to redraw the sample: plan parameters and numbers, strata."""
    status: str
    """``in_progress`` or ``decided``."""
    n_sample: int
    n_random: int
    n_targeted: int
    n_reviewed: int
    n_defects_random: int
    n_defects: int
    decision: str | None
    """``accepted``, ``rejected`` or None while in progress."""
    accuracy_rate: float | None
    error_type_version: int
    started_at: datetime
    decided_at: datetime | None


def summarize_audit(audit: Audit, actor: Actor | None = None) -> AuditSummary:
    """The audit as ``actor`` may see it: the seed is hidden from vendor roles until the
    audit is decided (no actor: nothing hidden)."""
    hide = actor is not None and actor.is_vendor_scoped and audit.decision is None
    design = dict(audit.design)
    if hide:
        design.pop("seed", None)
    return AuditSummary(
        id=audit.id,
        lot_id=audit.lot_id,
        project_id=audit.project_id,
        vendor_id=audit.vendor_id,
        plan=audit.plan,
        seed=None if hide else audit.seed,
        design=design,
        status=audit.status,
        n_sample=audit.n_sample,
        n_random=audit.n_random,
        n_targeted=audit.n_targeted,
        n_reviewed=audit.n_reviewed,
        n_defects_random=audit.n_defects_random,
        n_defects=audit.n_defects,
        decision=audit.decision,
        accuracy_rate=audit.accuracy_rate,
        error_type_version=audit.error_type_version,
        started_at=audit.started_at,
        decided_at=audit.decided_at,
    )


def load_audit(session: Session, actor: Actor, audit_id: int, *, lock: bool = False) -> Audit:
    """An audit row the actor may see (vendor roles: their vendor's only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    query = select(Audit).where(Audit.id == audit_id)
    if lock:
        query = query.with_for_update()
    audit = session.scalar(query)
    if audit is None:
        raise NotFound("errors.audit.not_found", audit=audit_id)
    try:
        require_same_vendor(actor, audit.vendor_id)
    except NotFound as exc:
        raise NotFound("errors.audit.not_found", audit=audit_id) from exc
    return audit


def load_sample(
    session: Session, audit: Audit, label_id: int, *, lock: bool = False
) -> AuditSample:
    """The sample row of ``label_id`` in ``audit``.

    Raises:
        NotFound: The label is not in the audit's sample.
    """
    query = select(AuditSample).where(
        AuditSample.audit_id == audit.id, AuditSample.label_id == label_id
    )
    if lock:
        query = query.with_for_update()
    sample = session.scalar(query)
    if sample is None:
        raise NotFound("errors.audit.label_not_in_sample", label=label_id, audit=audit.id)
    return sample


def label_key(value: Sequence[str] | None) -> str:
    """One string per label value (keys joined by ``+``; ``(none)`` when empty): a stratum
    name, or a class for per-class quality."""
    return "+".join(value) if value else "(none)"
