"""The blind review of an audit's sample: serve labels blind, take the auditor's own
answer, record verdicts, and make the right answer the task's final label.

* :func:`next_audit_item` serves the next label *blind* (the vendor's answer hidden);
  :func:`submit_blind_answer` stores the auditor's answer and reveals the vendor's.
* :func:`record_verdict` stores correct / incorrect with error type, severity, corrected
  label and comment; the right answer becomes the task's live final label through
  :func:`set_audited_final_label` (status ``audited``, method ``audit``), and the last
  verdict decides the lot (:func:`~labelops.services.audit_reports.refresh_audit`).
* :func:`get_audit_item` / :func:`list_audit_items` show sampled labels; vendor roles see
  only labels with a verdict.

Every public name is also exported by :mod:`labelops.services.audits`.
"""

from __future__ import annotations

__all__ = [
    "SEVERITIES",
    "VERDICTS",
    "AuditItemView",
    "get_audit_item",
    "list_audit_items",
    "next_audit_item",
    "record_verdict",
    "submit_blind_answer",
]

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._audit_common import load_audit, load_sample
from labelops.services._tx import transaction
from labelops.services.audit_config import load_error_types
from labelops.services.audit_reports import refresh_audit
from labelops.services.audit_trail import record_event
from labelops.services.labelling import validate_label_value
from labelops.services.policy import Actor, authorize
from labelops.services.projects import ProjectContext, load_project_context
from labelops.services.queue import item_payload
from labelops.store.audit_models import Audit, AuditSample
from labelops.store.models import FinalLabel, Item, Label, Task
from labelops.store.types import utcnow
from labelops.types import FinalStatus

VERDICTS: tuple[str, ...] = ("correct", "incorrect")
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")
MAX_COMMENT = 5000


@dataclass(frozen=True)
class AuditItemView:
    """One sampled label as the caller may see it.

    ``stage`` is ``blind`` (the auditor must answer first: ``vendor_value`` is None),
    ``verdict`` (answered, vendor's label revealed) or ``done`` (verdict recorded).
    Vendor roles only ever see ``done`` items.
    """

    audit_id: int
    sample_id: int
    label_id: int
    task_id: int
    position: int
    part: str
    stratum: str | None
    stage: str
    item: dict[str, Any]
    labels: tuple[str, ...]
    mode: str
    labeller_id: int
    vendor_value: list[str] | None
    blind_value: list[str] | None
    verdict: str | None
    error_type: str | None
    severity: str | None
    corrected_value: list[str] | None
    comment: str | None
    overturned: bool


def _view(
    session: Session,
    actor: Actor,
    audit: Audit,
    sample: AuditSample,
    context: ProjectContext | None = None,
) -> AuditItemView:
    context = context or load_project_context(session, audit.project_id)
    item = session.execute(
        select(Item).join(Task, Task.item_id == Item.id).where(Task.id == sample.task_id)
    ).scalar_one()
    if sample.verdict is not None:
        stage = "done"
    elif sample.blind_value is not None:
        stage = "verdict"
    else:
        stage = "blind"
    hide_vendor = stage == "blind"
    hide_blind = actor.is_vendor_scoped and stage != "done"
    return AuditItemView(
        audit_id=audit.id,
        sample_id=sample.id,
        label_id=sample.label_id,
        task_id=sample.task_id,
        position=sample.position,
        part=sample.part,
        stratum=sample.stratum,
        stage=stage,
        item=item_payload(item),
        labels=context.label_keys,
        mode=context.taxonomy.mode,
        labeller_id=sample.labeller_id,
        vendor_value=None if hide_vendor else list(sample.vendor_value),
        blind_value=None if hide_blind or sample.blind_value is None else list(sample.blind_value),
        verdict=sample.verdict,
        error_type=sample.error_type,
        severity=sample.severity,
        corrected_value=None if sample.corrected_value is None else list(sample.corrected_value),
        comment=sample.comment,
        overturned=sample.overturned,
    )


def next_audit_item(session: Session, actor: Actor, audit_id: int) -> AuditItemView | None:
    """The next sampled label to review, blind until the auditor answers; None when done.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit.
    """
    authorize(actor, "audit.run")
    audit = load_audit(session, actor, audit_id)
    sample = session.scalar(
        select(AuditSample)
        .where(AuditSample.audit_id == audit.id, AuditSample.verdict.is_(None))
        .order_by(AuditSample.position)
        .limit(1)
    )
    return None if sample is None else _view(session, actor, audit, sample)


def get_audit_item(session: Session, actor: Actor, audit_id: int, label_id: int) -> AuditItemView:
    """One sampled label (vendor roles: only once its verdict is recorded).

    Raises:
        NotFound: No such audit, another vendor's, the label is not in the sample, or
            (vendor roles) it has no verdict yet.
    """
    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    sample = load_sample(session, audit, label_id)
    if actor.is_vendor_scoped and sample.verdict is None:
        raise NotFound("errors.audit.label_not_in_sample", label=label_id, audit=audit_id)
    return _view(session, actor, audit, sample)


def list_audit_items(session: Session, actor: Actor, audit_id: int) -> list[AuditItemView]:
    """The audit's sample in draw order (vendor roles: reviewed labels only).

    Raises:
        NotFound: No such audit, or another vendor's.
    """
    authorize(actor, "lot.read")
    audit = load_audit(session, actor, audit_id)
    query = (
        select(AuditSample).where(AuditSample.audit_id == audit.id).order_by(AuditSample.position)
    )
    if actor.is_vendor_scoped:
        query = query.where(AuditSample.verdict.is_not(None))
    context = load_project_context(session, audit.project_id)
    return [_view(session, actor, audit, sample, context) for sample in session.scalars(query)]


def submit_blind_answer(
    session: Session,
    actor: Actor,
    audit_id: int,
    label_id: int,
    value: Sequence[str],
    *,
    now: datetime | None = None,
) -> AuditItemView:
    """Store the auditor's own answer for a sampled label, then reveal the vendor's label.

    The same answer again is a no-op; a different one before the verdict replaces it.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit, or the label is not in its sample.
        InvalidInput: A key outside the project's taxonomy.
        Conflict: The verdict is already recorded.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id)
        sample = load_sample(session, audit, label_id, lock=True)
        context = load_project_context(session, audit.project_id)
        keys = validate_label_value(list(value), context.label_keys, context.taxonomy.mode)
        if sample.verdict is not None:
            raise Conflict("errors.audit.verdict_exists", label=label_id, audit=audit_id)
        if sample.blind_value != keys:
            before = None if sample.blind_value is None else {"blind_value": sample.blind_value}
            sample.blind_value = keys
            sample.blind_at = now
            record_event(
                session,
                actor,
                "audit.blind_answer",
                "audit_sample",
                sample.id,
                before=before,
                after={"audit_id": audit.id, "label_id": label_id, "blind_value": keys},
                now=now,
            )
        session.flush()
        return _view(session, actor, audit, sample)


def record_verdict(
    session: Session,
    actor: Actor,
    audit_id: int,
    label_id: int,
    verdict: str,
    *,
    error_type: str | None = None,
    severity: str | None = None,
    corrected: Sequence[str] | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> AuditItemView:
    """Record the verdict on a sampled label; the last verdict decides the lot.

    The right answer (the vendor's label when correct, the corrected label when not;
    the auditor's blind answer when no correction is given) becomes the task's live
    final label with status ``audited``.

    Args:
        verdict: ``correct`` or ``incorrect``.
        error_type: Key of the audit's error-type list (required when incorrect).
        severity: ``critical``, ``major`` or ``minor`` (required when incorrect).
        corrected: The right label key(s) when incorrect (default: the blind answer).
        comment: Free text for the vendor's feedback.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit, or the label is not in its sample.
        Conflict: No blind answer yet, or a different verdict is already recorded.
        InvalidInput: Unknown verdict, error type or severity, a corrected label outside
            the taxonomy or equal to the vendor's, fields given with ``correct``.
    """
    authorize(actor, "audit.run")
    now = now or utcnow()
    if verdict not in VERDICTS:
        raise InvalidInput(
            "errors.audit.verdict", field="verdict", value=verdict, allowed=", ".join(VERDICTS)
        )
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("errors.audit.comment_too_long", field="comment", max=MAX_COMMENT)
    with transaction(session):
        audit = load_audit(session, actor, audit_id, lock=True)
        sample = load_sample(session, audit, label_id, lock=True)
        context = load_project_context(session, audit.project_id)
        if sample.blind_value is None:
            raise Conflict("errors.audit.blind_first", label=label_id, audit=audit_id)
        if verdict == "correct":
            if error_type or severity or corrected:
                raise InvalidInput("errors.audit.correct_with_error", field="error_type")
            right = list(sample.vendor_value)
            error_type = severity = None
            corrected_keys = None
        else:
            allowed = [t.key for t in load_error_types(session, audit.error_type_version)]
            if error_type not in allowed:
                raise InvalidInput(
                    "errors.audit.error_type",
                    field="error_type",
                    value=error_type,
                    allowed=", ".join(allowed),
                )
            if severity not in SEVERITIES:
                raise InvalidInput(
                    "errors.audit.severity",
                    field="severity",
                    value=severity,
                    allowed=", ".join(SEVERITIES),
                )
            raw = list(corrected) if corrected else list(sample.blind_value)
            try:
                corrected_keys = validate_label_value(
                    raw, context.label_keys, context.taxonomy.mode
                )
            except InvalidInput as exc:
                raise InvalidInput(
                    exc.message_id, field="corrected", value=exc.value, **_extra(exc)
                ) from exc
            if corrected_keys == list(sample.vendor_value) and error_type != "bad_item":
                raise InvalidInput(
                    "errors.audit.corrected_same", field="corrected", value=corrected_keys
                )
            right = corrected_keys
        if sample.verdict is not None:
            if (
                sample.verdict == verdict
                and sample.error_type == error_type
                and sample.severity == severity
                and sample.corrected_value == corrected_keys
            ):
                return _view(session, actor, audit, sample)
            raise Conflict("errors.audit.verdict_exists", label=label_id, audit=audit_id)
        sample.verdict = verdict
        sample.error_type = error_type
        sample.severity = severity
        sample.corrected_value = corrected_keys
        sample.comment = comment.strip() if comment and comment.strip() else None
        sample.reviewed_by = actor.user_id
        sample.reviewed_at = now
        session.flush()
        set_audited_final_label(session, actor, sample.task_id, right, now=now)
        record_event(
            session,
            actor,
            "audit.verdict",
            "audit_sample",
            sample.id,
            after={
                "audit_id": audit.id,
                "label_id": label_id,
                "verdict": verdict,
                "error_type": error_type,
                "severity": severity,
                "corrected": corrected_keys,
                "comment": sample.comment,
            },
            vendor_id=audit.vendor_id,
            now=now,
        )
        refresh_audit(session, actor, audit, now=now)
        return _view(session, actor, audit, sample)


def _extra(error: InvalidInput) -> dict[str, Any]:
    return {
        key: value
        for key, value in error.params.items()
        if key not in ("file", "line", "field", "value")
    }


def set_audited_final_label(
    session: Session, actor: Actor, task_id: int, value: list[str], *, now: datetime
) -> None:
    """Make ``value`` the task's live final label, status ``audited`` (caller's transaction)."""
    live = session.scalar(
        select(FinalLabel)
        .where(FinalLabel.task_id == task_id, FinalLabel.snapshot_id.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    n_labels = int(
        session.scalar(
            select(func.count(Label.id)).where(Label.task_id == task_id, Label.is_current.is_(True))
        )
        or 0
    )
    before = None
    if live is None:
        task = session.get(Task, task_id, populate_existing=True)
        if task is None:  # pragma: no cover - the sample references the task
            raise NotFound("errors.not_found.generic")
        live = FinalLabel(task_id=task_id, project_id=task.project_id, snapshot_id=None)
        session.add(live)
    else:
        before = {"value": live.value, "status": live.status, "method": live.method}
    live.value = list(value)
    live.method = "audit"
    live.confidence = 1.0
    live.status = FinalStatus.AUDITED.value
    live.n_labels = n_labels
    live.updated_at = now
    session.flush()
    record_event(
        session,
        actor,
        "final.audit",
        "final_label",
        live.id,
        before=before,
        after={"task_id": task_id, "value": list(value), "status": live.status, "method": "audit"},
        now=now,
    )
