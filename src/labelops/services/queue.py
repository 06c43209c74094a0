"""The task queue: lease the next task to a labeller.

Concurrency: on PostgreSQL the candidate task row is claimed with
``SELECT ... FOR UPDATE SKIP LOCKED``, so many API workers on many hosts can serve
one project without handing a slot out twice; on SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` (see ``labelops.store.engine``), which serialises
claims. The unique (task, labeller) constraint is the last line of defence against
one labeller labelling an item twice.

Cost: each claim reads the queue index from its front: it passes over tasks whose
slots are all leased and tasks this labeller already did, never the whole project.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from labelops.errors import NotFound, PermissionDenied
from labelops.services._tx import transaction
from labelops.services.policy import Actor, authorize
from labelops.services.projects import ProjectContext, load_project_context
from labelops.store.models import Assignment, Item, Task
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus, Role, TaskStatus

__all__ = [
    "ServedTask",
    "item_payload",
    "next_task",
    "reclaim_expired_leases",
    "release_assignment",
]

DEFAULT_LEASE_SECONDS = 600
MAX_HELD_LEASES = 2


@dataclass(frozen=True)
class ServedTask:
    """A task leased to a labeller; gold tasks look exactly like the others."""

    assignment_id: int
    task_id: int
    item: dict[str, Any]
    labels: tuple[str, ...]
    mode: str
    served_at: datetime
    lease_expires_at: datetime
    current_label: tuple[str, ...] | None = None


def next_task(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
    prefetch: bool = False,
) -> ServedTask | None:
    """Lease the next task of ``project_id`` to ``actor``, or None when nothing is left.

    A labeller who already holds a live lease in the project gets that one again
    (so a page reload does not burn slots). With ``prefetch`` the labeller gets one
    more lease besides the held ones (at most ``MAX_HELD_LEASES`` in all), so a page
    can show the next item the moment the current one is submitted.

    Args:
        lease_seconds: How long the lease lasts (s); the project's own setting wins,
            then this, then 600.
        now: Current time (tests pass a clock).
        rng: Decides gold mixing (share of draws = the project's gold rate).

    Raises:
        PermissionDenied: The actor is not a labeller.
        NotFound: Unknown project, or the labeller's vendor is not assigned to it.
    """
    authorize(actor, "queue.work")
    if actor.role != Role.LABELLER or actor.user_id is None or actor.vendor_id is None:
        raise PermissionDenied("errors.queue.labellers_only")
    now = now or utcnow()
    rng = rng or random.Random()
    with transaction(session):
        context = load_project_context(session, project_id)
        if actor.vendor_id not in context.vendor_ids:
            raise NotFound("errors.project.not_found", project=project_id)
        held = list(
            session.scalars(
                select(Assignment)
                .where(
                    Assignment.labeller_id == actor.user_id,
                    Assignment.project_id == project_id,
                    Assignment.status == AssignmentStatus.LEASED.value,
                    Assignment.lease_expires_at > now,
                )
                .order_by(Assignment.served_at, Assignment.id)
                .limit(MAX_HELD_LEASES)
            )
        )
        if held and (not prefetch or len(held) >= MAX_HELD_LEASES):
            return _served(session, context, held[-1] if prefetch else held[0])
        reclaim_expired_leases(session, project_id, now=now)
        want_gold = context.project.gold_rate > 0 and rng.random() < context.project.gold_rate
        task_id = _claim(session, context, actor.user_id, gold=want_gold)
        if task_id is None and want_gold:
            task_id = _claim(session, context, actor.user_id, gold=False)
        if task_id is None:
            return None
        seconds = context.project.lease_seconds or lease_seconds or DEFAULT_LEASE_SECONDS
        expires = now + timedelta(seconds=seconds)
        revived = session.scalar(
            select(Assignment).where(
                Assignment.task_id == task_id,
                Assignment.labeller_id == actor.user_id,
                Assignment.status == AssignmentStatus.EXPIRED.value,
            )
        )
        if revived is not None:
            assignment = revived
            assignment.status = AssignmentStatus.LEASED.value
            assignment.served_at = now
            assignment.lease_expires_at = expires
        else:
            assignment = Assignment(
                task_id=task_id,
                project_id=project_id,
                labeller_id=actor.user_id,
                vendor_id=actor.vendor_id,
                status=AssignmentStatus.LEASED.value,
                served_at=now,
                lease_expires_at=expires,
            )
            session.add(assignment)
        session.execute(
            update(Task).where(Task.id == task_id).values(slots_taken=Task.slots_taken + 1)
        )
        session.flush()
        return _served(session, context, assignment)


def _claim(
    session: Session, context: ProjectContext, labeller_id: int, *, gold: bool
) -> int | None:
    already = exists().where(
        Assignment.task_id == Task.id,
        Assignment.labeller_id == labeller_id,
        Assignment.status != AssignmentStatus.EXPIRED.value,
    )
    query = select(Task.id).where(
        Task.project_id == context.project.id,
        Task.is_gold.is_(gold),
        Task.status == TaskStatus.OPEN.value,
        ~already,
    )
    if not gold:
        # Gold items are answered by every labeller, so they have no overlap cap.
        query = query.where(Task.slots_taken < context.project.overlap)
    query = query.order_by(Task.priority.desc(), Task.id).limit(1)
    query = query.with_for_update(skip_locked=True, of=Task)
    return session.scalar(query)


def reclaim_expired_leases(session: Session, project_id: int, *, now: datetime) -> int:
    """Return expired leases' slots to the queue (inside the caller's transaction).

    Returns:
        The number of leases expired now.
    """
    expired_task_ids = list(
        session.scalars(
            update(Assignment)
            .where(
                Assignment.project_id == project_id,
                Assignment.status == AssignmentStatus.LEASED.value,
                Assignment.lease_expires_at <= now,
            )
            .values(status=AssignmentStatus.EXPIRED.value)
            .returning(Assignment.task_id)
        )
    )
    for task_id in expired_task_ids:
        session.execute(
            update(Task).where(Task.id == task_id).values(slots_taken=Task.slots_taken - 1)
        )
    return len(expired_task_ids)


def release_assignment(session: Session, assignment: Assignment) -> None:
    """Give a leased slot back to the queue (inside the caller's transaction)."""
    session.execute(
        update(Task).where(Task.id == assignment.task_id).values(slots_taken=Task.slots_taken - 1)
    )


def _served(session: Session, context: ProjectContext, assignment: Assignment) -> ServedTask:
    from labelops.store.models import Label

    item = session.execute(
        select(Item).join(Task, Task.item_id == Item.id).where(Task.id == assignment.task_id)
    ).scalar_one()
    current = session.scalar(
        select(Label.value).where(
            and_(Label.assignment_id == assignment.id, Label.is_current.is_(True))
        )
    )
    return ServedTask(
        assignment_id=assignment.id,
        task_id=assignment.task_id,
        item=item_payload(item),
        labels=context.label_keys,
        mode=context.taxonomy.mode,
        served_at=assignment.served_at,
        lease_expires_at=assignment.lease_expires_at,
        current_label=tuple(current) if current else None,
    )


def item_payload(item: Item) -> dict[str, Any]:
    """What a labeller sees of an item (never whether it is gold)."""
    return {
        "external_id": item.external_id,
        "text": item.text,
        "media": item.media,
        "advertiser": item.advertiser,
        "market": item.market,
        "language": item.language,
        "metadata": item.item_metadata,
    }
