"""Submitting, revising and skipping labels.

A submit is idempotent: the same answer on the same assignment returns the stored
label. A different answer on an assignment already submitted is a revision: a new
row becomes current and the old one is kept, as long as the item is not final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.finals import refresh_live_final_label
from labelops.services.policy import Actor, authorize
from labelops.services.projects import load_project_context
from labelops.services.queue import release_assignment
from labelops.store.models import Assignment, FinalLabel, Label, Task
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus, FinalStatus, LabelMode, TaskStatus

__all__ = ["SubmitResult", "skip_assignment", "submit_label", "validate_label_value"]

MAX_ACTIVE_MS = 24 * 3600 * 1000
MAX_SKIP_REASON = 2000


@dataclass(frozen=True)
class SubmitResult:
    """The stored label and whether this call created it."""

    label: Label
    created: bool
    final_status: str | None


def validate_label_value(value: list[str], allowed: tuple[str, ...], mode: str) -> list[str]:
    """Check label keys against a taxonomy version; returns them in canonical order.

    Raises:
        InvalidInput: Empty, unknown key (the message lists the allowed keys), several
            keys for a single-label project, or a repeated key.
    """
    if not value:
        raise InvalidInput("errors.label.empty", field="label", allowed=", ".join(allowed))
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise InvalidInput(
            "errors.label.unknown_key", field="label", value=unknown[0], allowed=", ".join(allowed)
        )
    if mode == LabelMode.SINGLE.value and len(value) != 1:
        raise InvalidInput("errors.label.single_only", field="labels", value=value)
    if len(set(value)) != len(value):
        raise InvalidInput("errors.label.repeated", field="labels", value=value)
    order = {key: index for index, key in enumerate(allowed)}
    return sorted(value, key=order.__getitem__)


def submit_label(
    session: Session,
    actor: Actor,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store a labeller's answer for their assignment.

    Args:
        value: Label key(s), validated against the project's taxonomy version.
        active_ms: Milliseconds the client says the labeller actively worked.

    Raises:
        NotFound: No such assignment, or it is someone else's.
        InvalidInput: A key outside the taxonomy (with the allowed keys).
        Conflict: The lease expired, the task was skipped, or the item is final.
    """
    authorize(actor, "queue.work")
    now = now or utcnow()
    if active_ms is not None and not 0 <= active_ms <= MAX_ACTIVE_MS:
        raise InvalidInput("errors.label.bad_active_ms", field="active_ms", value=active_ms)
    with transaction(session):
        assignment = session.scalar(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
        )
        if assignment is None or assignment.labeller_id != actor.user_id:
            raise NotFound("errors.assignment.not_found", assignment=assignment_id)
        context = load_project_context(session, assignment.project_id)
        keys = validate_label_value(list(value), context.label_keys, context.taxonomy.mode)
        if assignment.status == AssignmentStatus.SUBMITTED.value:
            return _revise(session, actor, assignment, keys, active_ms, now)
        if assignment.status == AssignmentStatus.SKIPPED.value:
            raise Conflict("errors.assignment.skipped", assignment=assignment_id)
        if (
            assignment.status == AssignmentStatus.EXPIRED.value
            or assignment.lease_expires_at <= now
        ):
            raise Conflict(
                "errors.assignment.expired",
                assignment=assignment_id,
                expired_at=assignment.lease_expires_at.isoformat(),
            )
        label = Label(
            assignment_id=assignment.id,
            task_id=assignment.task_id,
            project_id=assignment.project_id,
            labeller_id=assignment.labeller_id,
            vendor_id=assignment.vendor_id,
            value=keys,
            revision=1,
            is_current=True,
            served_at=assignment.served_at,
            submitted_at=now,
            active_ms=active_ms,
        )
        session.add(label)
        assignment.status = AssignmentStatus.SUBMITTED.value
        assignment.submitted_at = now
        task = session.scalar(select(Task).where(Task.id == assignment.task_id).with_for_update())
        if task is None:
            raise NotFound("errors.assignment.not_found", assignment=assignment_id)
        task.n_labels += 1
        final_status = None
        if not task.is_gold and task.n_labels >= context.project.overlap:
            task.status = TaskStatus.COMPLETE.value
            session.flush()
            final_status = refresh_live_final_label(session, context, task, now=now)
        session.flush()
        return SubmitResult(label=label, created=True, final_status=final_status)


def _revise(
    session: Session,
    actor: Actor,
    assignment: Assignment,
    keys: list[str],
    active_ms: int | None,
    now: datetime,
) -> SubmitResult:
    current = session.scalar(
        select(Label).where(Label.assignment_id == assignment.id, Label.is_current.is_(True))
    )
    if current is None:
        raise NotFound("errors.assignment.not_found", assignment=assignment.id)
    if list(current.value) == keys:
        return SubmitResult(label=current, created=False, final_status=None)
    final = session.scalar(
        select(FinalLabel.status).where(
            FinalLabel.task_id == assignment.task_id, FinalLabel.snapshot_id.is_(None)
        )
    )
    if final in (FinalStatus.FINAL.value, FinalStatus.AUDITED.value):
        raise Conflict("errors.label.item_final", assignment=assignment.id)
    current.is_current = False
    revision = Label(
        assignment_id=assignment.id,
        task_id=assignment.task_id,
        project_id=assignment.project_id,
        labeller_id=assignment.labeller_id,
        vendor_id=assignment.vendor_id,
        value=keys,
        revision=current.revision + 1,
        is_current=True,
        served_at=assignment.served_at,
        submitted_at=now,
        active_ms=active_ms,
    )
    session.add(revision)
    session.flush()
    record_event(
        session,
        actor,
        "label.revise",
        "label",
        revision.id,
        before={"label_id": current.id, "value": list(current.value)},
        after={"label_id": revision.id, "value": keys},
        vendor_id=assignment.vendor_id,
        now=now,
    )
    final_status = None
    if final == FinalStatus.NEEDS_ADJUDICATION.value:
        context = load_project_context(session, assignment.project_id)
        task = session.get(Task, assignment.task_id)
        if task is not None:
            final_status = refresh_live_final_label(session, context, task, now=now)
    return SubmitResult(label=revision, created=True, final_status=final_status)


def skip_assignment(
    session: Session,
    actor: Actor,
    assignment_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> Assignment:
    """Skip a leased task with a reason; the slot goes back to the queue.

    Raises:
        InvalidInput: Empty or over-long reason.
        NotFound: Not the actor's assignment.
        Conflict: Already submitted, skipped or expired.
    """
    authorize(actor, "queue.work")
    reason = reason.strip()
    if not reason or len(reason) > MAX_SKIP_REASON:
        raise InvalidInput("errors.skip.reason", field="reason", max=MAX_SKIP_REASON)
    now = now or utcnow()
    with transaction(session):
        assignment = session.scalar(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
        )
        if assignment is None or assignment.labeller_id != actor.user_id:
            raise NotFound("errors.assignment.not_found", assignment=assignment_id)
        if assignment.status == AssignmentStatus.SKIPPED.value:
            return assignment
        if assignment.status != AssignmentStatus.LEASED.value or assignment.lease_expires_at <= now:
            raise Conflict(
                "errors.assignment.not_leased", assignment=assignment_id, status=assignment.status
            )
        assignment.status = AssignmentStatus.SKIPPED.value
        assignment.skip_reason = reason
        assignment.submitted_at = now
        release_assignment(session, assignment)
        record_event(
            session,
            actor,
            "task.skip",
            "assignment",
            assignment.id,
            after={"reason": reason, "task_id": assignment.task_id},
            vendor_id=assignment.vendor_id,
            now=now,
        )
        return assignment
