"""Submitting, revising and skipping labels.

A submit is idempotent: the same answer on the same assignment returns the stored
label. A different answer on an assignment already submitted is a revision: a new
row becomes current and the old one is kept, as long as the item is not final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    case,
    exists,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from labelops.errors import Conflict, InvalidInput, NotFound
from labelops.services._tx import (
    NEEDS_TRANSACTION,
    RUN_AGAIN,
    autocommit_statements,
    one_transaction,
    transaction,
    write_transaction,
)
from labelops.services.audit_trail import record_event
from labelops.services.finals import (
    live_final_refresh_cte_pg,
    refresh_live_final_label,
    refresh_live_final_value,
)
from labelops.services.policy import Actor, authorize
from labelops.services.projects import load_project_context
from labelops.services.queue import (
    ServedTask,
    assignment_status_is,
    lease_alone_params,
    lease_parts_pg,
    lease_project_cte_pg,
    lease_ready,
    lease_ready_pg,
    next_task,
    release_assignment,
    work_taxonomy,
)
from labelops.store.models import (
    Assignment,
    FinalLabel,
    Label,
    Project,
    Task,
    Taxonomy,
    TaxonomyLabel,
)
from labelops.store.prepared import Prepared
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus, FinalStatus, LabelMode, TaskStatus

__all__ = [
    "SUBMIT_ALONE_ATTEMPTS",
    "StoredLabel",
    "SubmitResult",
    "skip_assignment",
    "submit_alone_outcome",
    "submit_and_lease_outcome",
    "submit_and_lease_statement",
    "submit_alone_statement",
    "submit_label",
    "submit_label_and_lease_next",
    "validate_label_value",
]

MAX_ACTIVE_MS = 24 * 3600 * 1000
MAX_SKIP_REASON = 2000


@dataclass(frozen=True, slots=True)
class StoredLabel:
    """One stored label revision, as a submit returns it.

    Not the ORM ``Label``: the submit hot path writes with Core statements, and
    building an instrumented ORM object only to hand its fields back cost about 8 %
    of the server's CPU per submit.
    """

    id: int
    assignment_id: int
    task_id: int
    project_id: int
    labeller_id: int
    vendor_id: int
    value: list[str]
    revision: int
    is_current: bool
    served_at: datetime
    submitted_at: datetime
    active_ms: int | None

    @classmethod
    def of(cls, label: Label) -> StoredLabel:
        """The fields of an ORM label (flushed: it has its id)."""
        return cls(
            id=label.id,
            assignment_id=label.assignment_id,
            task_id=label.task_id,
            project_id=label.project_id,
            labeller_id=label.labeller_id,
            vendor_id=label.vendor_id,
            value=list(label.value),
            revision=label.revision,
            is_current=label.is_current,
            served_at=label.served_at,
            submitted_at=label.submitted_at,
            active_ms=label.active_ms,
        )


@dataclass(frozen=True)
class SubmitResult:
    """The stored label and whether this call created it."""

    label: StoredLabel
    created: bool
    final_status: str | None
    is_gold: bool
    """The task is a gold item (for the labeller's gold feedback; never shown as such)."""


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
    _check_submit(actor, active_ms)
    now = now or utcnow()
    with autocommit_statements(session) as connection:
        params = _submit_alone_params(actor, assignment_id, value, active_ms=active_ms, now=now)
        if connection is not None and params is not None:
            for _attempt in range(SUBMIT_ALONE_ATTEMPTS):
                row = _SUBMIT_ALONE_PG.first(connection, params)
                submitted = submit_alone_outcome(row, actor, params)
                if isinstance(submitted, SubmitResult):
                    return submitted
                if submitted is not RUN_AGAIN:
                    break
    with write_transaction(session) as connection:
        # The hot path runs as Core statements (no ORM unit of work); a revision, the
        # rare case, goes through the ORM below.
        row = _ASSIGNMENT_QUERY.first(connection, {"assignment_id": assignment_id})
        if row is None or row.labeller_id != actor.user_id:
            raise NotFound("errors.assignment.not_found", assignment=assignment_id)
        allowed, mode = work_taxonomy(connection, row)
        keys = validate_label_value(list(value), allowed, mode)
        if row.status == AssignmentStatus.SUBMITTED.value:
            assignment = session.get(Assignment, assignment_id)
            if assignment is None:
                raise NotFound("errors.assignment.not_found", assignment=assignment_id)
            return _revise(session, actor, assignment, keys, active_ms, now)
        if row.status == AssignmentStatus.SKIPPED.value:
            raise Conflict("errors.assignment.skipped", assignment=assignment_id)
        if row.status == AssignmentStatus.EXPIRED.value or row.lease_expires_at <= now:
            raise Conflict(
                "errors.assignment.expired",
                assignment=assignment_id,
                expired_at=row.lease_expires_at.isoformat(),
            )
        fields = {
            "assignment_id": assignment_id,
            "task_id": row.task_id,
            "project_id": row.project_id,
            "labeller_id": row.labeller_id,
            "vendor_id": row.vendor_id,
            "value": keys,
            "revision": 1,
            "is_current": True,
            "served_at": row.served_at,
            "submitted_at": now,
            "active_ms": active_ms,
        }
        task = _record_label(connection, fields, row.overlap)
        if task is None:
            raise NotFound("errors.assignment.not_found", assignment=assignment_id)
        label_id = task.label_id
        final_status = None
        if not task.is_gold and task.n_labels >= row.overlap:
            final_status = refresh_live_final_value(
                connection,
                row.task_id,
                row.project_id,
                multi_label=mode == LabelMode.MULTI.value,
                now=now,
            )
        return SubmitResult(
            label=StoredLabel(id=label_id, **fields),
            created=True,
            final_status=final_status,
            is_gold=task.is_gold,
        )


def submit_label_and_lease_next(
    session: Session,
    actor: Actor,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None = None,
    lease_seconds: int | None = None,
) -> tuple[SubmitResult, ServedTask | None]:
    """Submit a label and lease the labeller's next task of the same project, as one
    transaction (one begin and one commit per label; if the lease fails, so does the
    submit). Arguments and errors as :func:`submit_label` and
    :func:`labelops.services.queue.next_task`; the task is None when nothing is left.

    On PostgreSQL the server first tries the pair as one statement
    (:func:`submit_and_lease_statement`, on the event loop); this transaction of
    several statements does the rest (errors, revisions, a lease held besides).
    """
    with one_transaction(session):
        submitted = submit_label(session, actor, assignment_id, value, active_ms=active_ms)
        served = next_task(session, actor, submitted.label.project_id, lease_seconds=lease_seconds)
    return submitted, served


def submit_alone_statement(
    actor: Actor,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None = None,
    now: datetime | None = None,
) -> tuple[Prepared, dict[str, Any]] | None:
    """``submit_label``'s one statement (PostgreSQL, autocommit) and its parameters, for
    a caller that runs it itself and hands the row to :func:`submit_alone_outcome`;
    None when the submit cannot be one statement (not exactly one key).

    Raises:
        PermissionDenied: The actor may not label.
        InvalidInput: ``active_ms`` out of range.
    """
    _check_submit(actor, active_ms)
    params = _submit_alone_params(actor, assignment_id, value, active_ms=active_ms, now=now)
    return None if params is None else (_SUBMIT_ALONE_PG, params)


def _submit_alone_params(
    actor: Actor,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None,
    now: datetime | None,
) -> dict[str, Any] | None:
    """``_SUBMIT_ALONE_PG``'s parameters (the caller checked the actor and ``active_ms``);
    None when the submit is not of exactly one key."""
    if len(value) != 1:
        return None
    key = value[0]
    return {
        "assignment_id": assignment_id,
        "labeller_id": actor.user_id,
        "key": key,
        "value": [key],
        "submitted_at": now or utcnow(),
        "active_ms": active_ms,
    }


def submit_alone_outcome(
    row: Any | None, actor: Actor, params: dict[str, Any]
) -> SubmitResult | object:
    """What :func:`submit_alone_statement`'s row means (``params`` are the statement's):
    the stored label; ``RUN_AGAIN`` when nothing was written because another label of
    the task was committed after the statement's snapshot (run it again, at most
    ``SUBMIT_ALONE_ATTEMPTS`` times in all); or ``NEEDS_TRANSACTION`` when nothing was
    written and the submit needs ``submit_label``'s transaction path."""
    if row is None:
        return NEEDS_TRANSACTION
    if row.label_id is None:
        return RUN_AGAIN
    label = StoredLabel(
        id=row.label_id,
        assignment_id=params["assignment_id"],
        task_id=row.task_id,
        project_id=row.project_id,
        labeller_id=cast(int, actor.user_id),
        vendor_id=row.vendor_id,
        value=list(params["value"]),
        revision=1,
        is_current=True,
        served_at=row.served_at,
        submitted_at=params["submitted_at"],
        active_ms=params["active_ms"],
    )
    return SubmitResult(
        label=label, created=True, final_status=row.final_status, is_gold=row.is_gold
    )


def _check_submit(actor: Actor, active_ms: int | None) -> None:
    authorize(actor, "queue.work")
    if active_ms is not None and not 0 <= active_ms <= MAX_ACTIVE_MS:
        raise InvalidInput("errors.label.bad_active_ms", field="active_ms", value=active_ms)


_ASSIGNMENTS = cast(Table, Assignment.__table__)
_LABELS = cast(Table, Label.__table__)
_TASKS = cast(Table, Task.__table__)
_PROJECTS = cast(Table, Project.__table__)
_TAXONOMIES = cast(Table, Taxonomy.__table__)
_TAXONOMY_LABELS = cast(Table, TaxonomyLabel.__table__)

# An assignment with its project and taxonomy; the fields a stored label copies.
_ASSIGNMENT_IN_PROJECT = _ASSIGNMENTS.join(
    _PROJECTS, _PROJECTS.c.id == _ASSIGNMENTS.c.project_id
).join(_TAXONOMIES, _TAXONOMIES.c.id == _PROJECTS.c.taxonomy_id)
_LABEL_SOURCE_COLUMNS = (
    _ASSIGNMENTS.c.id,
    _ASSIGNMENTS.c.task_id,
    _ASSIGNMENTS.c.project_id,
    _ASSIGNMENTS.c.labeller_id,
    _ASSIGNMENTS.c.vendor_id,
    _ASSIGNMENTS.c.served_at,
    _PROJECTS.c.overlap,
)

_ASSIGNMENT_QUERY = Prepared(
    select(
        *_LABEL_SOURCE_COLUMNS,
        _ASSIGNMENTS.c.status,
        _ASSIGNMENTS.c.lease_expires_at,
        _PROJECTS.c.taxonomy_id,
        _TAXONOMIES.c.mode,
        _TAXONOMIES.c.key,
        _TAXONOMIES.c.version,
        _TAXONOMIES.c.created_at,
    )
    .select_from(_ASSIGNMENT_IN_PROJECT)
    .where(_ASSIGNMENTS.c.id == bindparam("assignment_id"))
    .with_for_update(of=_ASSIGNMENTS)
)


_SUBMIT_ASSIGNMENT = Prepared(
    _ASSIGNMENTS.update().where(_ASSIGNMENTS.c.id == bindparam("b_id")),
    column_keys=("status", "submitted_at"),
)

# One statement counts the label and completes the task when it reaches the overlap
# (SET expressions see the old row, so ``n_labels + 1`` is the new count). On
# PostgreSQL the UPDATE locks the task row for the rest of the transaction.
_COUNT_LABEL_UPDATE = (
    _TASKS.update()
    .where(_TASKS.c.id == bindparam("b_task_id"))
    .values(
        n_labels=_TASKS.c.n_labels + 1,
        status=case(
            (
                and_(
                    _TASKS.c.is_gold.is_(False),
                    _TASKS.c.n_labels + 1 >= bindparam("b_overlap"),
                ),
                TaskStatus.COMPLETE.value,
            ),
            else_=_TASKS.c.status,
        ),
    )
    .returning(_TASKS.c.n_labels, _TASKS.c.is_gold)
)
_COUNT_LABEL = Prepared(_COUNT_LABEL_UPDATE)


_LABEL_KEYS = (
    "assignment_id",
    "task_id",
    "project_id",
    "labeller_id",
    "vendor_id",
    "value",
    "revision",
    "is_current",
    "served_at",
    "submitted_at",
    "active_ms",
)
_INSERT_LABEL = Prepared(_LABELS.insert().returning(_LABELS.c.id), column_keys=_LABEL_KEYS)

# PostgreSQL: the three writes of a submit as one statement of data-modifying CTEs,
# one round trip instead of three (a submit's other cost is its commit's disk sync,
# which stays: it is a person's work). SQLite runs them in-process, one by one.
_NEW_LABEL = (
    _LABELS.insert()
    .values({key: bindparam(key, type_=_LABELS.c[key].type) for key in _LABEL_KEYS})
    .returning(_LABELS.c.id)
    .cte("new_label")
)
_SUBMITTED = (
    _ASSIGNMENTS.update()
    .where(_ASSIGNMENTS.c.id == bindparam("assignment_id"))
    .values(
        status=AssignmentStatus.SUBMITTED.value,
        submitted_at=bindparam("submitted_at", type_=_ASSIGNMENTS.c.submitted_at.type),
    )
    .cte("submitted")
)
_COUNTED = _COUNT_LABEL_UPDATE.cte("counted")
_RECORD_LABEL_PG = Prepared(
    select(_NEW_LABEL.c.id.label("label_id"), _COUNTED.c.n_labels, _COUNTED.c.is_gold).add_cte(
        _SUBMITTED
    )
)


def _submit_statement_alone_pg() -> Prepared:
    """The one-statement submit (see ``_submit_parts_pg``)."""
    parts = _submit_parts_pg()
    return Prepared(select(*parts.columns).select_from(parts.from_).add_cte(parts.submitted))


@dataclass(frozen=True)
class _SubmitParts:
    """``_submit_parts_pg``'s pieces: result columns, FROM clause, the CTE to add."""

    columns: tuple[Any, ...]
    from_: Any
    new_label: Any
    submitted: Any


def _submit_parts_pg(gate: ColumnElement[bool] | None = None) -> _SubmitParts:
    """A single-label submit as one statement that is its own transaction (PostgreSQL,
    autocommit): check the lease, the labeller and the key against the taxonomy, count
    the label on the task, insert the label, mark the assignment submitted and, when
    the label completes the task, recompute its live final label
    (``live_final_refresh_cte_pg``).

    One row when it stored the label (with the final label's new status, or NULL). A
    row with a NULL ``label_id`` when it wrote nothing because the label would complete
    a task that got another label since the statement's snapshot was taken: run again,
    the statement sees that label too. No row when it wrote nothing and the submit
    needs the transaction path: an error to report, a revision or a retry, a
    multi-label taxonomy.

    ``gate``: one more condition for storing anything (``submit?next``'s lease is ready).
    """
    target = (
        select(*_LABEL_SOURCE_COLUMNS, _TASKS.c.n_labels.label("seen_n_labels"), _TASKS.c.is_gold)
        .select_from(_ASSIGNMENT_IN_PROJECT.join(_TASKS, _TASKS.c.id == _ASSIGNMENTS.c.task_id))
        .where(
            _ASSIGNMENTS.c.id == bindparam("assignment_id"),
            _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
            assignment_status_is(AssignmentStatus.LEASED),
            _ASSIGNMENTS.c.lease_expires_at > bindparam("submitted_at"),
            _TAXONOMIES.c.mode == literal_column(f"'{LabelMode.SINGLE.value}'"),
            exists().where(
                _TAXONOMY_LABELS.c.taxonomy_id == _TAXONOMIES.c.id,
                _TAXONOMY_LABELS.c.key == bindparam("key", type_=_TAXONOMY_LABELS.c.key.type),
            ),
        )
        .where(true() if gate is None else gate)
        # A retried submit waits here for the first one, then finds the lease gone.
        .with_for_update(of=_ASSIGNMENTS)
        .cte("target")
        .prefix_with("MATERIALIZED")
    )
    # The condition is in the UPDATE itself: when a concurrent submit on the same task
    # commits first, PostgreSQL checks it again against the task's new row. A label
    # that completes the task counts only on the row the statement's snapshot saw, so
    # the vote below (read from that snapshot) has every label of the task.
    counted = (
        _TASKS.update()
        .where(
            _TASKS.c.id == target.c.task_id,
            or_(
                _TASKS.c.is_gold.is_(True),
                _TASKS.c.n_labels + 1 < target.c.overlap,
                _TASKS.c.n_labels == target.c.seen_n_labels,
            ),
        )
        .values(
            n_labels=_TASKS.c.n_labels + 1,
            status=case(
                (
                    and_(_TASKS.c.is_gold.is_(False), _TASKS.c.n_labels + 1 >= target.c.overlap),
                    literal(TaskStatus.COMPLETE.value, _TASKS.c.status.type),
                ),
                else_=_TASKS.c.status,
            ),
        )
        .returning(_TASKS.c.id, _TASKS.c.n_labels, _TASKS.c.is_gold)
        .cte("counted")
    )
    completing = (
        select(counted.c.id.label("task_id"), target.c.project_id)
        .select_from(counted.join(target, counted.c.id == target.c.task_id))
        .where(counted.c.is_gold.is_(False), counted.c.n_labels >= target.c.overlap)
        .cte("completing")
    )
    live_final = live_final_refresh_cte_pg(
        completing, bindparam("key", type_=_TAXONOMY_LABELS.c.key.type)
    )
    new_label = (
        _LABELS.insert()
        .from_select(
            list(_LABEL_KEYS),
            select(
                target.c.id,
                target.c.task_id,
                target.c.project_id,
                target.c.labeller_id,
                target.c.vendor_id,
                bindparam("value", type_=_LABELS.c.value.type),
                literal(1, _LABELS.c.revision.type),
                true(),
                target.c.served_at,
                bindparam("submitted_at", type_=_LABELS.c.submitted_at.type),
                bindparam("active_ms", type_=_LABELS.c.active_ms.type),
            ).select_from(target.join(counted, counted.c.id == target.c.task_id)),
        )
        .returning(_LABELS.c.id, _LABELS.c.assignment_id)
        .cte("new_label")
    )
    submitted = (
        _ASSIGNMENTS.update()
        .where(_ASSIGNMENTS.c.id == new_label.c.assignment_id)
        .values(
            status=literal(AssignmentStatus.SUBMITTED.value, _ASSIGNMENTS.c.status.type),
            submitted_at=bindparam("submitted_at", type_=_ASSIGNMENTS.c.submitted_at.type),
        )
        .cte("submitted")
    )
    return _SubmitParts(
        columns=(
            new_label.c.id.label("label_id"),
            target.c.task_id,
            target.c.project_id,
            target.c.vendor_id,
            target.c.served_at,
            live_final.c.status.label("final_status"),
            target.c.is_gold,
        ),
        from_=target.outerjoin(new_label, true()).outerjoin(live_final, true()),
        new_label=new_label,
        submitted=submitted,
    )


_SUBMIT_ALONE_PG = _submit_statement_alone_pg()


def _submit_and_lease_statement_pg() -> Prepared:
    """``submit?next`` as one statement that is its own transaction (PostgreSQL): the
    one-statement submit (``_submit_parts_pg``) and the one-statement lease of the
    labeller's next task in the same project (``queue.lease_parts_pg``), each written
    only if the other can be: the submit only when the lease is ready (vendor assigned,
    no expired lease waiting, no other lease held), the lease only when the label is
    stored. One commit, synchronous (a submit's).

    One row (none when the lease ``assignment_id`` is not the labeller's): the lease's
    columns as ``queue.lease_alone_statement``'s, the submit's prefixed ``submit_``
    (``submit_task_id`` NULL when the submit cannot be one statement).
    """
    after = bindparam("assignment_id", type_=_ASSIGNMENTS.c.id.type)
    project = lease_project_cte_pg(after=after)
    submit = _submit_parts_pg(gate=lease_ready_pg(project))
    stored = exists(select(submit.new_label.c.id))
    lease_columns, lease_from = lease_parts_pg(
        project, also=stored, project_id=select(project.c.project_id).scalar_subquery()
    )
    return Prepared(
        select(
            *lease_columns, *(column.label(f"submit_{column.name}") for column in submit.columns)
        )
        .select_from(lease_from.outerjoin(submit.from_, true()))
        .add_cte(submit.submitted)
    )


_SUBMIT_AND_LEASE_PG = _submit_and_lease_statement_pg()


def submit_and_lease_statement(
    actor: Actor,
    assignment_id: int,
    value: list[str],
    *,
    active_ms: int | None = None,
    lease_seconds: int | None = None,
) -> tuple[Prepared, dict[str, Any]] | None:
    """:func:`submit_label_and_lease_next`'s one statement (PostgreSQL, autocommit) and
    its parameters, for a caller that runs it and hands the row to
    :func:`submit_and_lease_outcome`; None when it cannot be one statement (not exactly
    one key).

    Raises:
        PermissionDenied: The actor may not label.
        InvalidInput: ``active_ms`` out of range.
    """
    _check_submit(actor, active_ms)
    submit = _submit_alone_params(actor, assignment_id, value, active_ms=active_ms, now=None)
    if submit is None:
        return None
    # No project id: the statement's project is the submitted lease's.
    lease = lease_alone_params(actor, None, lease_seconds=lease_seconds, now=submit["submitted_at"])
    return _SUBMIT_AND_LEASE_PG, {**lease, **submit}


_SUBMIT_ROW_FIELDS = (
    "label_id",
    "task_id",
    "project_id",
    "vendor_id",
    "served_at",
    "final_status",
    "is_gold",
)


def submit_and_lease_outcome(
    row: Any | None, actor: Actor, params: dict[str, Any]
) -> tuple[SubmitResult, Any] | object:
    """What :func:`submit_and_lease_statement`'s row means: the stored label and the
    lease row (for ``queue.lease_alone_outcome``, its ``project_id`` the project's);
    ``RUN_AGAIN`` or ``NEEDS_TRANSACTION`` as :func:`submit_alone_outcome` (nothing was
    written then, nor leased)."""
    if row is None or not lease_ready(row) or row.submit_task_id is None:
        return NEEDS_TRANSACTION
    submit_row = SimpleNamespace(
        **{key: getattr(row, f"submit_{key}") for key in _SUBMIT_ROW_FIELDS}
    )
    submitted = submit_alone_outcome(submit_row, actor, params)
    if not isinstance(submitted, SubmitResult):
        return submitted
    return submitted, row


SUBMIT_ALONE_ATTEMPTS = 2
"""Runs of ``_SUBMIT_ALONE_PG`` for one submit. A stale snapshot happens to the label
that completes a task when the task's other labellers submit at the same moment (at
saturation, 4 in 10 completing labels); once it has waited for them, the second run
sees their labels."""


@dataclass(frozen=True)
class _Recorded:
    label_id: int
    n_labels: int
    is_gold: bool


def _record_label(connection: Connection, fields: dict[str, Any], overlap: int) -> _Recorded | None:
    """Insert the label, mark the assignment submitted and count the label on its task
    (completing the task at the overlap). None when the task row is gone."""
    counting = {"b_task_id": fields["task_id"], "b_overlap": overlap}
    if connection.dialect.name == "postgresql":
        row = _RECORD_LABEL_PG.first(connection, {**fields, **counting})
        return None if row is None else _Recorded(row.label_id, row.n_labels, row.is_gold)
    label_id = _INSERT_LABEL.scalar(connection, fields)
    _SUBMIT_ASSIGNMENT.execute(
        connection,
        {
            "b_id": fields["assignment_id"],
            "status": AssignmentStatus.SUBMITTED.value,
            "submitted_at": fields["submitted_at"],
        },
    )
    task = _COUNT_LABEL.first(connection, counting)
    if task is None or label_id is None:
        return None
    return _Recorded(label_id, task.n_labels, task.is_gold)


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
    is_gold = bool(session.scalar(select(Task.is_gold).where(Task.id == assignment.task_id)))
    if list(current.value) == keys:
        return SubmitResult(
            label=StoredLabel.of(current), created=False, final_status=None, is_gold=is_gold
        )
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
    return SubmitResult(
        label=StoredLabel.of(revision), created=True, final_status=final_status, is_gold=is_gold
    )


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
        Conflict: Already submitted, or the lease expired (as for a submit).
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
        if assignment.status == AssignmentStatus.EXPIRED.value or (
            assignment.status == AssignmentStatus.LEASED.value
            and assignment.lease_expires_at <= now
        ):
            # The rule of a submit: an expired lease takes no answer, a skip neither
            # (its slot may be another labeller's by now).
            raise Conflict(
                "errors.assignment.skip_expired",
                assignment=assignment_id,
                expired_at=assignment.lease_expires_at.isoformat(),
            )
        if assignment.status != AssignmentStatus.LEASED.value:
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
