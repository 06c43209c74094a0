"""Deciding an audited lot and reporting on it.

* :func:`refresh_audit` -- recount verdicts and decide the lot once every sampled label
  has one (called by each verdict and by disputes, inside their transaction): AQL plans
  by defects in the random part against Ac / Re, advancing the vendor's switching state;
  the other plans by the estimated accuracy against their target.
* :func:`get_audit_report` -- the decision, the lot's estimated accuracy with its
  interval (stratified estimator when stratified) and per-class precision / recall.
* :func:`close_audit` -- decide a complete audit now (idempotent).

Every public name is also exported by :mod:`labelops.services.audits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "AuditReport",
    "close_audit",
    "get_audit_curtailment",
    "get_audit_report",
]

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelops.errors import Conflict
from labelops.quality.switching import LotResult, next_inspection_state
from labelops.services._audit_common import (
    AuditSummary,
    label_key,
    load_audit,
    summarize_audit,
)
from labelops.services._tx import transaction
from labelops.services.audit_config import get_switching_state, save_switching_state
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize
from labelops.store.audit_models import Audit, AuditLot, AuditSample
from labelops.store.types import utcnow

if TYPE_CHECKING:
    from labelops.quality.lot_estimates import (
        ClassQuality,
        LotAccuracyEstimate,
    )
    from labelops.quality.sampling import Curtailment


@dataclass(frozen=True)
class AuditReport:
    """Decision and estimates of an audit."""

    audit: AuditSummary
    lot_size: int
    accept: int | None
    """Ac of the AQL plan (None for other plans)."""
    reject: int | None
    """Re of the AQL plan."""
    target_accuracy: float | None
    """Accuracy a non-AQL lot must reach to be accepted."""
    estimate: LotAccuracyEstimate | None
    """Lot accuracy from the random part (None until one random label is reviewed)."""
    class_quality: tuple[ClassQuality, ...]
    """Per-class precision / recall of the vendor's labels, auditor as truth (random part)."""
    n_targeted_reviewed: int
    n_targeted_defects: int
    errors_by_type: dict[str, int] = field(default_factory=dict)
    errors_by_severity: dict[str, int] = field(default_factory=dict)
    next_inspection: str | None = None
    """Switching state's severity for the vendor's next lot (AQL plans)."""
    curtailment: Curtailment | None = None
    """AQL plans: the lot's decision as soon as it is certain from the random part
    reviewed so far (curtailed inspection), and after how many random labels; None for
    other plans. The audit's ``decision`` is still recorded when the sample is finished
    (the estimate uses every reviewed label)."""


def refresh_audit(session: Session, actor: Actor, audit: Audit, *, now: datetime) -> None:
    """Recount an audit's verdicts and decide it when every sampled label has one
    (inside the caller's transaction).

    A decided audit whose counts change (a dispute overturned a verdict) is decided
    again; the lot's status follows. The switching state advances only on the first
    decision of an AQL audit.
    """
    rows = session.execute(
        select(AuditSample.part, AuditSample.verdict, func.count())
        .where(AuditSample.audit_id == audit.id)
        .group_by(AuditSample.part, AuditSample.verdict)
    ).all()
    reviewed = sum(n for _, verdict, n in rows if verdict is not None)
    defects_random = sum(n for part, v, n in rows if part == "random" and v == "incorrect")
    defects = sum(n for _, v, n in rows if v == "incorrect")
    audit.n_reviewed, audit.n_defects_random, audit.n_defects = reviewed, defects_random, defects
    if reviewed < audit.n_sample:
        return
    estimate = _estimate(session, audit)
    audit.accuracy_rate = None if estimate is None else estimate.accuracy_rate
    if audit.plan == "aql":
        accepted = defects_random < int(audit.design["reject"])
    else:
        target = float(audit.design.get("target_accuracy", 0.95))
        accepted = estimate is not None and estimate.accuracy_rate >= target
    decision = "accepted" if accepted else "rejected"
    first = audit.decision is None
    if decision == audit.decision:
        return
    before = None if first else {"decision": audit.decision}
    audit.decision = decision
    audit.status = "decided"
    audit.decided_at = now
    lot = session.get(AuditLot, audit.lot_id)
    if lot is not None:
        lot.status = decision
    if first and audit.plan == "aql" and audit.design.get("switching", True):
        state = get_switching_state(session, audit.project_id, audit.vendor_id)
        if state.inspection == audit.design["inspection"]:
            result = LotResult(
                nonconforming_count=defects_random,
                accept=int(audit.design["accept"]),
                reject=int(audit.design["reject"]),
                tighter_accept=audit.design.get("tighter_accept"),
            )
            save_switching_state(
                session,
                audit.project_id,
                audit.vendor_id,
                next_inspection_state(state, result),
                now,
            )
    record_event(
        session,
        actor,
        "audit.decide",
        "audit",
        audit.id,
        before=before,
        after={
            "decision": decision,
            "n_defects_random": defects_random,
            "n_defects": defects,
            "accuracy_rate": audit.accuracy_rate,
        },
        vendor_id=audit.vendor_id,
        now=now,
    )


def _reviewed_random(session: Session, audit: Audit) -> list[AuditSample]:
    return list(
        session.scalars(
            select(AuditSample)
            .where(
                AuditSample.audit_id == audit.id,
                AuditSample.part == "random",
                AuditSample.verdict.is_not(None),
            )
            .order_by(AuditSample.position)
        )
    )


def _estimate(session: Session, audit: Audit) -> LotAccuracyEstimate | None:
    from labelops.quality.lot_estimates import estimate_lot_accuracy

    samples = _reviewed_random(session, audit)
    if not samples:
        return None
    correct = [s.verdict == "correct" for s in samples]
    confidence = float(audit.design.get("confidence", 0.95))
    if audit.plan == "stratified":
        sizes = {row["stratum"]: int(row["population_size"]) for row in audit.design["strata"]}
        return estimate_lot_accuracy(
            correct,
            strata=[s.stratum for s in samples],
            strata_sizes=sizes,
            confidence=confidence,
        )
    return estimate_lot_accuracy(
        correct, population=int(audit.design["lot_size"]), confidence=confidence
    )


def _curtailment(session: Session, audit: Audit) -> Curtailment | None:
    """Curtailed AQL decision from the random part's verdicts in review order."""
    from labelops.quality.sampling import curtail

    if audit.plan != "aql" or audit.n_random < 1 or "reject" not in audit.design:
        return None
    verdicts = session.scalars(
        select(AuditSample.verdict)
        .where(
            AuditSample.audit_id == audit.id,
            AuditSample.part == "random",
            AuditSample.verdict.is_not(None),
        )
        .order_by(AuditSample.reviewed_at, AuditSample.position)
    )
    return curtail(
        [verdict == "incorrect" for verdict in verdicts],
        sample_size=audit.n_random,
        reject=int(audit.design["reject"]),
    )


def get_audit_curtailment(session: Session, actor: Actor, audit_id: int) -> Curtailment | None:
    """Whether an AQL audit's decision is already certain (None for other plans).

    The lot is rejected as soon as the random part holds Re defects, and accepted as
    soon as the random labels left can no longer reach Re; the auditor may still finish
    the sample for the estimate.

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    return _curtailment(session, load_audit(session, actor, audit_id))


def _right_answer(sample: AuditSample) -> list[str]:
    if sample.verdict == "incorrect" and sample.corrected_value:
        return list(sample.corrected_value)
    return list(sample.vendor_value)


def get_audit_report(session: Session, actor: Actor, audit_id: int) -> AuditReport:
    """The audit's decision, the lot's estimated accuracy and per-class quality.

    Estimates use only the random part (the targeted part is not a probability sample)
    and only reviewed labels; a stratified audit uses the stratified estimator.

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    from labelops.quality.lot_estimates import compute_class_quality

    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    estimate = _estimate(session, audit)
    samples = _reviewed_random(session, audit)
    quality: tuple[ClassQuality, ...] = ()
    if samples:
        weights = None
        if audit.plan == "stratified":
            sizes = {row["stratum"]: int(row["population_size"]) for row in audit.design["strata"]}
            counts = Counter(s.stratum for s in samples)
            weights = [sizes[str(s.stratum)] / counts[s.stratum] for s in samples]
        quality = compute_class_quality(
            [label_key(s.vendor_value) for s in samples],
            [label_key(_right_answer(s)) for s in samples],
            weights=weights,
        )
    reviewed = list(
        session.scalars(
            select(AuditSample).where(
                AuditSample.audit_id == audit.id, AuditSample.verdict.is_not(None)
            )
        )
    )
    wrong = [s for s in reviewed if s.verdict == "incorrect"]
    targeted = [s for s in reviewed if s.part == "targeted"]
    next_inspection = None
    if audit.plan == "aql":
        next_inspection = get_switching_state(session, audit.project_id, audit.vendor_id).inspection
    lot = session.get(AuditLot, audit.lot_id)
    return AuditReport(
        audit=summarize_audit(audit, actor),
        lot_size=lot.n_labels if lot is not None else int(audit.design["lot_size"]),
        accept=audit.design.get("accept"),
        reject=audit.design.get("reject"),
        target_accuracy=audit.design.get("target_accuracy"),
        estimate=estimate,
        class_quality=quality,
        n_targeted_reviewed=len(targeted),
        n_targeted_defects=sum(1 for s in targeted if s.verdict == "incorrect"),
        errors_by_type=dict(sorted(Counter(str(s.error_type) for s in wrong).items())),
        errors_by_severity=dict(sorted(Counter(str(s.severity) for s in wrong).items())),
        next_inspection=next_inspection,
        curtailment=_curtailment(session, audit),
    )


def close_audit(
    session: Session, actor: Actor, audit_id: int, *, now: datetime | None = None
) -> AuditSummary:
    """Decide a complete audit now (idempotent; the last verdict already decides it).

    Raises:
        NotFound: No such audit.
        Conflict: Labels remain to be reviewed.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id, lock=True)
        refresh_audit(session, actor, audit, now=now)
        if audit.decision is None:
            raise Conflict(
                "errors.audit.incomplete",
                audit=audit_id,
                reviewed=audit.n_reviewed,
                total=audit.n_sample,
            )
        return summarize_audit(audit)
