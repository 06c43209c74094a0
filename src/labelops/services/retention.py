"""Retention: delete a project's items and everything labelled on them, or pseudonymise
labellers, once the data may no longer be kept.

* :func:`purge_project` deletes a project's items, tasks, assignments, labels, final
  labels, snapshots, gold answers, imports (their reports quote rejected rows), and the
  second-tier audits drawn from its labels (lots, samples, disputes, rework). The project
  itself (name, settings, vendors) and its audit trail stay, with the free text its
  events quote (gold explanations, comments, dispute reasons, external ids) blanked. An item another project
  also uses stays too (it is counted as kept). On SQLite the database file is rebuilt
  afterwards (``VACUUM``, then the write-ahead log is emptied), so that the deleted text
  is gone from the file, not only unreachable. On PostgreSQL deleted rows are unreachable
  at once; their space is reused by autovacuum (``VACUUM FULL items`` rewrites the file).
* :func:`pseudonymise_labellers` renames a vendor's (or a project's) labellers to a
  stable pseudonym (``anon-<user id>``), in their user row and in the audit trail, and
  keeps their ids, so every statistic per labeller survives.

Both take ``dry_run``: count what would change, change nothing. Both record one audit
event with the counts per table, never the deleted content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize
from labelops.store.audit_models import (
    Audit,
    AuditDispute,
    AuditLot,
    AuditLotLabel,
    AuditSample,
    ReworkItem,
)
from labelops.store.models import (
    Assignment,
    AuditEvent,
    Base,
    FinalLabel,
    GoldAnswer,
    ImportBatch,
    Item,
    Label,
    Project,
    Snapshot,
    Task,
    User,
    Vendor,
)
from labelops.types import Role

__all__ = [
    "PSEUDONYM_PREFIX",
    "PURGED_TABLES",
    "PseudonymiseReport",
    "PurgeReport",
    "pseudonym_for",
    "pseudonymise_labellers",
    "purge_project",
]

PSEUDONYM_PREFIX = "anon-"
"""A pseudonymised labeller is called ``anon-<user id>``."""

_CHUNK = 5_000


@dataclass(frozen=True)
class PurgeReport:
    """What :func:`purge_project` deleted (or, in a dry run, would delete)."""

    project_id: int
    project: str
    dry_run: bool
    counts: dict[str, int]
    """Rows per table, in the order they are deleted."""
    items_kept: int
    """Items of the project that another project also uses (not deleted)."""
    vacuumed: bool
    """The SQLite file was rebuilt and its write-ahead log emptied afterwards (False on
    PostgreSQL, in a dry run, or when a reader kept the log for over 10 s)."""


@dataclass(frozen=True)
class PseudonymiseReport:
    """What :func:`pseudonymise_labellers` renamed (or, in a dry run, would rename)."""

    scope: str
    """``vendor`` or ``project``."""
    scope_id: int
    dry_run: bool
    user_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def _project_scoped(table: Any) -> Callable[[int], ColumnElement[bool]]:
    return lambda project_id: table.project_id == project_id


def _audits_of(project_id: int) -> Any:
    return select(Audit.id).where(Audit.project_id == project_id).scalar_subquery()


def _lots_of(project_id: int) -> Any:
    return select(AuditLot.id).where(AuditLot.project_id == project_id).scalar_subquery()


# Children before parents (foreign keys). Items come last, separately: they may be shared.
_STEPS: tuple[tuple[Any, Callable[[int], ColumnElement[bool]]], ...] = (
    (AuditDispute, lambda p: AuditDispute.audit_id.in_(_audits_of(p))),
    (ReworkItem, lambda p: (ReworkItem.project_id == p) | ReworkItem.lot_id.in_(_lots_of(p))),
    (AuditSample, lambda p: AuditSample.audit_id.in_(_audits_of(p))),
    (Audit, _project_scoped(Audit)),
    (AuditLotLabel, lambda p: AuditLotLabel.lot_id.in_(_lots_of(p))),
    (AuditLot, _project_scoped(AuditLot)),
    (FinalLabel, _project_scoped(FinalLabel)),
    (Snapshot, _project_scoped(Snapshot)),
    (Label, _project_scoped(Label)),
    (Assignment, _project_scoped(Assignment)),
    (GoldAnswer, _project_scoped(GoldAnswer)),
    (Task, _project_scoped(Task)),
    (ImportBatch, _project_scoped(ImportBatch)),
)

PURGED_TABLES: tuple[str, ...] = (*(model.__tablename__ for model, _ in _STEPS), "items")
"""Every table :func:`purge_project` deletes from, in order."""


def purge_project(
    session: Session, actor: Actor, project_id: int, *, dry_run: bool = False
) -> PurgeReport:
    """Delete a project's items and all that hangs off them (see the module docstring).

    Raises:
        PermissionDenied: Not an admin.
        NotFound: No such project.
    """
    authorize(actor, "project.manage")
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("errors.project.not_found", project=project_id)
    name = project.name
    with transaction(session):
        item_ids, kept = _items_to_delete(session, project_id)
        events = _events_with_text(session, project_id)
        counts: dict[str, int] = {}
        for model, where in _STEPS:
            table = model.__table__
            if dry_run:
                counts[table.name] = (
                    session.scalar(select(func.count()).select_from(table).where(where(project_id)))
                    or 0
                )
            else:
                result = session.execute(delete(table).where(where(project_id)))
                counts[table.name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if not dry_run:
            for start in range(0, len(item_ids), _CHUNK):
                session.execute(delete(Item).where(Item.id.in_(item_ids[start : start + _CHUNK])))
        counts["items"] = len(item_ids)
        counts["audit_events.text"] = len(events)
        if not dry_run:
            for event in events:
                event.before = _scrubbed(event.before)
                event.after = _scrubbed(event.after)
        vacuum = not dry_run and session.get_bind().dialect.name == "sqlite"
        if not dry_run:
            record_event(
                session,
                actor,
                "retention.purge",
                "project",
                project_id,
                after={
                    "project_id": project_id,
                    "counts": counts,
                    "items_kept": kept,
                    "vacuum": vacuum,
                },
            )
    session.commit()
    if vacuum:
        vacuum = _vacuum_sqlite(session)
    return PurgeReport(
        project_id=project_id,
        project=name,
        dry_run=dry_run,
        counts=counts,
        items_kept=kept,
        vacuumed=vacuum,
    )


def _items_to_delete(session: Session, project_id: int) -> tuple[list[int], int]:
    """The project's items no other project uses, and how many it shares."""
    mine = set(session.scalars(select(Task.item_id).where(Task.project_id == project_id)))
    mine.update(
        session.scalars(select(GoldAnswer.item_id).where(GoldAnswer.project_id == project_id))
    )
    other = aliased(Task)
    # Probes (project_id, item_id), the unique index; tasks.item_id has no index of its own.
    shared = set(
        session.scalars(
            select(other.item_id)
            .where(
                other.project_id != project_id,
                exists().where(Task.project_id == project_id, Task.item_id == other.item_id),
            )
            .distinct()
        )
    )
    shared.update(
        session.scalars(
            select(GoldAnswer.item_id).where(
                GoldAnswer.project_id != project_id,
                exists().where(Task.project_id == project_id, Task.item_id == GoldAnswer.item_id),
            )
        )
    )
    shared &= mine
    return sorted(mine - shared), len(shared)


# Free text and item identifiers that audit events of a project may quote: a gold
# answer's explanations, an auditor's comment, a dispute's reason, an external id, the
# imported file's name. A purge blanks them (the rest of each event stays).
_TEXT_KEYS = frozenset(
    {"explanation_en", "explanation_zh", "comment", "reason", "external_id", "source", "text"}
)


def _events_with_text(session: Session, project_id: int) -> list[AuditEvent]:
    """The project's audit events (naming it, or one of its audits) that quote free text."""
    from labelops.services.audit_trail import EventQuery, select_events

    audit_ids = {
        str(i) for i in session.scalars(select(Audit.id).where(Audit.project_id == project_id))
    }
    candidates = list(session.scalars(select_events(session, EventQuery(project_id=project_id))))
    if audit_ids:
        # Verdicts, blind answers and disputes name the audit, not the project.
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type.in_(("audit", "audit_sample", "dispute", "final_label"))
            )
        ):
            values = event.after or {}
            if (event.entity_type == "audit" and event.entity_id in audit_ids) or str(
                values.get("audit_id")
            ) in audit_ids:
                candidates.append(event)
    unique = {event.id: event for event in candidates}
    return [
        event
        for _, event in sorted(unique.items())
        if _has_text(event.before) or _has_text(event.after)
    ]


def _has_text(values: dict[str, Any] | None) -> bool:
    if not values:
        return False
    return any(values.get(key) not in (None, "") for key in _TEXT_KEYS)


def _scrubbed(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: None if key in _TEXT_KEYS else value for key, value in values.items()}


def _vacuum_sqlite(session: Session, *, wait_s: float = 10.0) -> bool:
    """Rebuild the SQLite file and empty its write-ahead log (outside any transaction).

    Returns whether the log could be emptied: a reader still inside an older snapshot
    keeps the old pages in the log; the checkpoint is retried for ``wait_s``.
    """
    import time

    engine = session.get_bind()
    raw = engine.raw_connection()  # type: ignore[union-attr]
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")  # the driver is in autocommit: no BEGIN was sent
        deadline = time.monotonic() + wait_s
        while True:
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        cursor.close()
    finally:
        raw.close()
    return not busy


def pseudonym_for(user_id: int) -> str:
    """The stable pseudonym of a user id."""
    return f"{PSEUDONYM_PREFIX}{user_id}"


def pseudonymise_labellers(
    session: Session,
    actor: Actor,
    *,
    vendor_id: int | None = None,
    project_id: int | None = None,
    dry_run: bool = False,
) -> PseudonymiseReport:
    """Rename a vendor's labellers, or those who worked on a project, to their pseudonym.

    The user name and display name become ``anon-<id>``; audit events keep their actor
    id and get the pseudonym as actor name, and user events lose the old name from
    their before/after. Running it again changes nothing.

    Raises:
        PermissionDenied: Not an admin.
        InvalidInput: Neither or both of ``vendor_id`` and ``project_id``.
        NotFound: No such vendor or project.
        Conflict: Another user already has a labeller's pseudonym as user name.
    """
    authorize(actor, "user.manage")
    if (vendor_id is None) == (project_id is None):
        raise InvalidInput("confid.error.scope", field="vendor")
    if vendor_id is not None:
        if session.get(Vendor, vendor_id) is None:
            raise NotFound("errors.vendor.not_found", vendor=vendor_id)
        scope, scope_id = "vendor", vendor_id
        in_scope: ColumnElement[bool] = User.vendor_id == vendor_id
    else:
        assert project_id is not None
        if session.get(Project, project_id) is None:
            raise NotFound("errors.project.not_found", project=project_id)
        scope, scope_id = "project", project_id
        in_scope = User.id.in_(
            select(Assignment.labeller_id).where(Assignment.project_id == project_id)
        )
    with transaction(session):
        users = list(
            session.scalars(
                select(User).where(in_scope, User.role == Role.LABELLER.value).order_by(User.id)
            )
        )
        todo = [u for u in users if u.username != pseudonym_for(u.id)]
        ids = [u.id for u in todo]
        taken = session.scalars(
            select(User.username).where(
                User.username.in_([pseudonym_for(i) for i in ids]), User.id.not_in(ids)
            )
        ).first()
        if taken is not None:
            raise Conflict("confid.error.pseudonym_taken", username=taken)
        counts = {"users": len(todo), "audit_events.actor_name": 0, "audit_events.user": 0}
        user_events = _user_events(session, ids)
        counts["audit_events.user"] = len(user_events)
        counts["audit_events.actor_name"] = _count_actor_events(session, ids)
        if not dry_run and ids:
            for user in todo:
                user.username = pseudonym_for(user.id)
                user.display_name = pseudonym_for(user.id)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                session.execute(
                    update(AuditEvent)
                    .where(AuditEvent.actor_id.in_(chunk))
                    .values(
                        actor_name=literal(PSEUDONYM_PREFIX, String)
                        + cast(AuditEvent.actor_id, String)
                    )
                )
            for event in user_events:
                pseudonym = pseudonym_for(int(event.entity_id or 0))
                event.before = _renamed(event.before, pseudonym)
                event.after = _renamed(event.after, pseudonym)
            record_event(
                session,
                actor,
                "retention.pseudonymise",
                scope,
                scope_id,
                after={"user_ids": ids, "counts": counts},
                vendor_id=vendor_id,
            )
    session.commit()
    return PseudonymiseReport(
        scope=scope, scope_id=scope_id, dry_run=dry_run, user_ids=ids, counts=counts
    )


def _user_events(session: Session, ids: Sequence[int]) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = [str(i) for i in ids[start : start + _CHUNK]]
        events.extend(
            event
            for event in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity_type == "user", AuditEvent.entity_id.in_(chunk)
                )
            )
            if _has_name(event.before) or _has_name(event.after)
        )
    return events


def _count_actor_events(session: Session, ids: Sequence[int]) -> int:
    total = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        total += (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id.in_(chunk))
            )
            or 0
        )
    return total


_NAME_KEYS = ("username", "display_name")


def _has_name(values: dict[str, Any] | None) -> bool:
    return bool(values) and any(key in (values or {}) for key in _NAME_KEYS)


def _renamed(values: dict[str, Any] | None, pseudonym: str) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: pseudonym if key in _NAME_KEYS else value for key, value in values.items()}


def _tables_below_items() -> set[str]:
    """Tables whose rows reference (through foreign keys) an item, task or label: the
    set :data:`PURGED_TABLES` must cover (a test checks it against the schema)."""
    roots = {"items", "tasks", "labels", "assignments", "import_batches", "snapshots"}
    below = set(roots)
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in below:
                continue
            if any(fk.column.table.name in below for fk in table.foreign_keys):
                below.add(table.name)
                changed = True
    return below
