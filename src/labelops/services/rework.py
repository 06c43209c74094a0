"""Rework: labels of a rejected lot go back to a vendor to be labelled again.

:func:`create_rework` turns a rejected audit's lot into rework items (one per label,
except labels the audit confirmed as correct) for the same vendor by default, or
another vendor of the project, with a priority. Labellers of the target vendor take
them with :func:`next_rework_task` (a lease, like the queue's) and answer with
:func:`submit_rework`:

* the labeller who gave the original label revises it (a new current revision of
  their own assignment);
* any other labeller of the target vendor gets an assignment of their own and their
  answer supersedes the original label (kept, no longer current: nothing is lost).

The task's live final label is recomputed unless an auditor set it. Reworked labels are
in no lot, so ``create_lot(..., rework_of_lot_id=...)`` gathers them for a re-audit.

Concurrency: on PostgreSQL the item is claimed with ``FOR UPDATE SKIP LOCKED``; on
SQLite write transactions are serialised (see ``labelops.services.queue``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.audits import load_audit
from labelops.services.finals import refresh_live_final_label
from labelops.services.labelling import MAX_ACTIVE_MS, validate_label_value
from labelops.services.lots import load_lot, lot_label_ids
from labelops.services.policy import Actor, authorize
from labelops.services.projects import load_project_context, project_vendor_ids
from labelops.services.queue import item_payload
from labelops.store.audit_models import AuditSample, ReworkItem
from labelops.store.models import Assignment, Item, Label, Task
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus, Role, TaskStatus

__all__ = [
    "ReworkProgress",
    "ReworkResult",
    "ReworkSummary",
    "ReworkTask",
    "cancel_open_rework",
    "create_rework",
    "get_rework_progress",
    "next_rework_task",
    "submit_rework",
]

DEFAULT_LEASE_SECONDS = 600
MAX_PRIORITY = 1000


@dataclass(frozen=True)
class ReworkSummary:
    """What :func:`create_rework` sent back."""

    audit_id: int
    lot_id: int
    target_vendor_id: int
    priority: int
    n_items: int


@dataclass(frozen=True)
class ReworkTask:
    """A rework item leased to a labeller."""

    rework_id: int
    task_id: int
    item: dict[str, Any]
    labels: tuple[str, ...]
    mode: str
    lease_expires_at: datetime
    previous_value: list[str] | None
    """The labeller's own original label, when the item was theirs."""


@dataclass(frozen=True)
class ReworkResult:
    """The label a rework answer created."""

    rework_id: int
    label_id: int
    revision: int
    final_status: str | None


@dataclass(frozen=True)
class ReworkProgress:
    """How far a lot's rework has got."""

    lot_id: int
    n_total: int
    n_open: int
    n_done: int
    n_cancelled: int


def create_rework(
    session: Session,
    actor: Actor,
    audit_id: int,
    *,
    target_vendor_id: int | None = None,
    priority: int = 10,
    now: datetime | None = None,
) -> ReworkSummary:
    """Send a rejected lot's labels back as rework items.

    Args:
        audit_id: The audit that rejected the lot.
        target_vendor_id: Vendor that does the rework (default: the lot's vendor); it
            must work on the project.
        priority: Higher first, -1000 to 1000.

    Raises:
        PermissionDenied: The actor may not run audits.
        NotFound: No such audit, or the target vendor does not work on the project.
        Conflict: The audit did not reject its lot, or rework exists already.
        InvalidInput: A priority out of range.
    """
    authorize(actor, "audit.run")
    if not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidInput("errors.rework.bad_priority", field="priority", value=priority)
    now = now or utcnow()
    with transaction(session):
        audit = load_audit(session, actor, audit_id, lock=True)
        if audit.decision != "rejected":
            raise Conflict("errors.audit.not_rejected", audit=audit_id)
        if session.scalar(select(ReworkItem.id).where(ReworkItem.audit_id == audit.id).limit(1)):
            raise Conflict("errors.rework.exists", audit=audit_id)
        vendor_id = audit.vendor_id if target_vendor_id is None else target_vendor_id
        if vendor_id not in project_vendor_ids(session, audit.project_id):
            raise NotFound("errors.rework.vendor_not_in_project", vendor=vendor_id)
        confirmed = set(
            session.scalars(
                select(AuditSample.label_id).where(
                    AuditSample.audit_id == audit.id, AuditSample.verdict == "correct"
                )
            )
        )
        wanted = [i for i in lot_label_ids(session, audit.lot_id) if i not in confirmed]
        rows = session.execute(
            select(Label.id, Label.task_id).where(Label.id.in_(wanted), Label.is_current.is_(True))
        ).all()
        if not rows:
            raise Conflict("errors.rework.nothing", audit=audit_id)
        for label_id, task_id in sorted(rows):
            session.add(
                ReworkItem(
                    lot_id=audit.lot_id,
                    audit_id=audit.id,
                    project_id=audit.project_id,
                    task_id=task_id,
                    source_label_id=label_id,
                    target_vendor_id=vendor_id,
                    priority=priority,
                    status="open",
                    created_at=now,
                )
            )
        record_event(
            session,
            actor,
            "rework.create",
            "audit",
            audit.id,
            after={
                "lot_id": audit.lot_id,
                "target_vendor_id": vendor_id,
                "priority": priority,
                "n_items": len(rows),
            },
            vendor_id=vendor_id,
            now=now,
        )
        return ReworkSummary(audit.id, audit.lot_id, vendor_id, priority, len(rows))


def _require_labeller(actor: Actor) -> tuple[int, int]:
    authorize(actor, "queue.work")
    if actor.role != Role.LABELLER or actor.user_id is None or actor.vendor_id is None:
        raise PermissionDenied("errors.queue.labellers_only")
    return actor.user_id, actor.vendor_id


def next_rework_task(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int | None = None,
    now: datetime | None = None,
) -> ReworkTask | None:
    """Lease the next rework item of a project to a labeller of its target vendor.

    A labeller who holds a live lease gets it again. Items on tasks the labeller
    already labelled are theirs only if the original label is their own (so no
    labeller ever gives an item two current labels). Highest priority first.

    Raises:
        PermissionDenied: The actor is not a labeller.
        NotFound: Unknown project, or the labeller's vendor does not work on it.
    """
    user_id, vendor_id = _require_labeller(actor)
    now = now or utcnow()
    with transaction(session):
        context = load_project_context(session, project_id)
        if vendor_id not in context.vendor_ids:
            raise NotFound("errors.project.not_found", project=project_id)
        held = session.scalar(
            select(ReworkItem)
            .where(
                ReworkItem.project_id == project_id,
                ReworkItem.status == "open",
                ReworkItem.leased_by == user_id,
                ReworkItem.lease_expires_at > now,
            )
            .limit(1)
        )
        item = held
        if item is None:
            source = select(Label.labeller_id).where(Label.id == ReworkItem.source_label_id)
            own_other = exists().where(
                Assignment.task_id == ReworkItem.task_id,
                Assignment.labeller_id == user_id,
                Assignment.status != AssignmentStatus.EXPIRED.value,
            )
            query = (
                select(ReworkItem)
                .where(
                    ReworkItem.project_id == project_id,
                    ReworkItem.target_vendor_id == vendor_id,
                    ReworkItem.status == "open",
                    or_(ReworkItem.leased_by.is_(None), ReworkItem.lease_expires_at <= now),
                    or_(source.scalar_subquery() == user_id, ~own_other),
                )
                .order_by(ReworkItem.priority.desc(), ReworkItem.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=ReworkItem)
            )
            item = session.scalar(query)
            if item is None:
                return None
            seconds = context.project.lease_seconds or lease_seconds or DEFAULT_LEASE_SECONDS
            item.leased_by = user_id
            item.leased_at = now
            item.lease_expires_at = now + timedelta(seconds=seconds)
        source_label = session.get(Label, item.source_label_id, populate_existing=True)
        previous = (
            list(source_label.value)
            if source_label is not None and source_label.labeller_id == user_id
            else None
        )
        row = session.execute(
            select(Item).join(Task, Task.item_id == Item.id).where(Task.id == item.task_id)
        ).scalar_one()
        if item.lease_expires_at is None:  # pragma: no cover - set just above or held
            raise Conflict("errors.rework.not_leased", rework=item.id)
        return ReworkTask(
            rework_id=item.id,
            task_id=item.task_id,
            item=item_payload(row),
            labels=context.label_keys,
            mode=context.taxonomy.mode,
            lease_expires_at=item.lease_expires_at,
            previous_value=previous,
        )


def submit_rework(
    session: Session,
    actor: Actor,
    rework_id: int,
    value: list[str],
    *,
    active_ms: int | None = None,
    now: datetime | None = None,
) -> ReworkResult:
    """Answer a leased rework item: a new current label for the task (see module doc).

    Raises:
        PermissionDenied: The actor is not a labeller.
        NotFound: No such item, or not for the labeller's vendor.
        Conflict: The item is not leased to the labeller (or the lease expired), or done.
        InvalidInput: A key outside the taxonomy, or a bad ``active_ms``.
    """
    user_id, vendor_id = _require_labeller(actor)
    now = now or utcnow()
    if active_ms is not None and not 0 <= active_ms <= MAX_ACTIVE_MS:
        raise InvalidInput("errors.label.bad_active_ms", field="active_ms", value=active_ms)
    with transaction(session):
        item = session.scalar(
            select(ReworkItem).where(ReworkItem.id == rework_id).with_for_update()
        )
        if item is None or item.target_vendor_id != vendor_id:
            raise NotFound("errors.rework.not_found", rework=rework_id)
        if item.status != "open":
            raise Conflict("errors.rework.done", rework=rework_id)
        if (
            item.leased_by != user_id
            or item.lease_expires_at is None
            or item.lease_expires_at <= now
        ):
            raise Conflict("errors.rework.not_leased", rework=rework_id)
        context = load_project_context(session, item.project_id)
        keys = validate_label_value(list(value), context.label_keys, context.taxonomy.mode)
        source = session.get(Label, item.source_label_id, populate_existing=True)
        if source is None:  # pragma: no cover - foreign key
            raise NotFound("errors.rework.not_found", rework=rework_id)
        mine = session.scalar(
            select(Assignment)
            .where(Assignment.task_id == item.task_id, Assignment.labeller_id == user_id)
            .execution_options(populate_existing=True)
        )
        superseded = session.scalar(
            select(Label)
            .where(Label.assignment_id == source.assignment_id, Label.is_current.is_(True))
            .execution_options(populate_existing=True)
        )
        own_current = None
        if mine is not None:
            own_current = session.scalar(
                select(Label)
                .where(Label.assignment_id == mine.id, Label.is_current.is_(True))
                .execution_options(populate_existing=True)
            )
            if own_current is None:  # an old expired lease: this answer is its first label
                mine.served_at = item.leased_at or now
                mine.lease_expires_at = item.lease_expires_at
        else:
            mine = Assignment(
                task_id=item.task_id,
                project_id=item.project_id,
                labeller_id=user_id,
                vendor_id=vendor_id,
                status=AssignmentStatus.SUBMITTED.value,
                served_at=item.leased_at or now,
                lease_expires_at=item.lease_expires_at,
                submitted_at=now,
            )
            session.add(mine)
            session.flush()
        before: dict[str, Any] = {}
        for old in (superseded, own_current):
            if old is not None and old.is_current:
                old.is_current = False
                before[f"label_{old.id}"] = list(old.value)
        revision = (own_current.revision + 1) if own_current is not None else 1
        label = Label(
            assignment_id=mine.id,
            task_id=item.task_id,
            project_id=item.project_id,
            labeller_id=user_id,
            vendor_id=vendor_id,
            value=keys,
            revision=revision,
            is_current=True,
            served_at=mine.served_at,
            submitted_at=now,
            active_ms=active_ms,
        )
        session.add(label)
        mine.status = AssignmentStatus.SUBMITTED.value
        mine.submitted_at = now
        session.flush()
        item.status = "done"
        item.done_label_id = label.id
        item.done_by = user_id
        item.done_at = now
        item.leased_by = None
        task = session.get(Task, item.task_id, populate_existing=True)
        final_status = None
        if task is not None and not task.is_gold and task.status == TaskStatus.COMPLETE.value:
            final_status = refresh_live_final_label(session, context, task, now=now)
        record_event(
            session,
            actor,
            "rework.submit",
            "rework_item",
            item.id,
            before=before,
            after={"label_id": label.id, "value": keys, "task_id": item.task_id},
            vendor_id=vendor_id,
            now=now,
        )
        return ReworkResult(item.id, label.id, revision, final_status)


def get_rework_progress(session: Session, actor: Actor, lot_id: int) -> ReworkProgress:
    """Counts of a lot's rework items by status (vendor roles: their vendor's lots).

    Raises:
        NotFound: No such lot, or another vendor's.
    """
    authorize(actor, "lot.read")
    lot = load_lot(session, actor, lot_id)
    counts: dict[str, int] = {
        str(state): int(n)
        for state, n in session.execute(
            select(ReworkItem.status, func.count())
            .where(ReworkItem.lot_id == lot.id)
            .group_by(ReworkItem.status)
        )
    }
    return ReworkProgress(
        lot_id=lot.id,
        n_total=sum(counts.values()),
        n_open=counts.get("open", 0),
        n_done=counts.get("done", 0),
        n_cancelled=counts.get("cancelled", 0),
    )


def cancel_open_rework(session: Session, actor: Actor, audit_id: int, *, now: datetime) -> int:
    """Cancel an audit's open rework items (its lot is no longer rejected); inside the
    caller's transaction. Returns how many were cancelled."""
    items = list(
        session.scalars(
            select(ReworkItem).where(
                and_(ReworkItem.audit_id == audit_id, ReworkItem.status == "open")
            )
        )
    )
    for item in items:
        item.status = "cancelled"
        item.leased_by = None
    if items:
        record_event(
            session,
            actor,
            "rework.cancel",
            "audit",
            audit_id,
            after={"n_cancelled": len(items)},
            vendor_id=items[0].target_vendor_id,
            now=now,
        )
    return len(items)
