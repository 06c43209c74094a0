"""The task queue: lease the next task to a labeller.

Concurrency: on PostgreSQL the candidate task row is claimed with
``SELECT ... FOR UPDATE SKIP LOCKED``, so many API workers on many hosts can serve
one project without handing a slot out twice; on SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` (see ``labelops.store.engine``), which serialises
claims. The unique (task, labeller) constraint is the last line of defence against
one labeller labelling an item twice.

Cost: each claim reads the queue index from its front: it passes over tasks whose
slots are all leased and the open tasks this labeller already did (one probe of the
(task, labeller) key each, about 3 us on PostgreSQL), never the whole project. So it
does not grow with the project, only with how far a labeller is ahead of the others.
A claim is a few Core statements (project and vendor check, held leases, the return
of expired leases when the project has any, the claim that also takes the slot, the
item, the lease); the taxonomy's keys come from a process cache, since a taxonomy
version used by a project never changes. On PostgreSQL the usual call (no lease held,
no expired lease to return) is all of that in one statement that is its own
transaction (``_lease_statement_alone_pg``): one round trip instead of four.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    Connection,
    Float,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from labelops.errors import NotFound, PermissionDenied
from labelops.services._tx import (
    NEEDS_TRANSACTION,
    autocommit_statements,
    in_joined_transaction,
    write_transaction,
)
from labelops.services.policy import Actor, authorize
from labelops.store.models import (
    Assignment,
    Item,
    Project,
    ProjectVendor,
    Task,
    Taxonomy,
    TaxonomyLabel,
)
from labelops.store.prepared import Prepared
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus, Role, TaskStatus

__all__ = [
    "ServedTask",
    "assignment_status_is",
    "cached_work_taxonomy",
    "item_payload",
    "lease_alone_outcome",
    "lease_alone_params",
    "lease_alone_statement",
    "lease_parts_pg",
    "lease_project_cte_pg",
    "lease_ready",
    "lease_ready_pg",
    "leased_task_needs_taxonomy",
    "next_task",
    "reclaim_expired_leases",
    "release_assignment",
    "work_taxonomy",
]

DEFAULT_LEASE_SECONDS = 600
# One generator for the process: a new ``random.Random()`` per call seeded itself from
# the OS (~10 us, more than some of the call's statements).
_GOLD_DRAWS = random.Random()
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
    labeller_id = _labeller_id(actor)
    now = now or utcnow()
    rng = rng or _GOLD_DRAWS
    with autocommit_statements(session) as connection:
        if connection is not None:
            params = lease_alone_params(
                actor, project_id, lease_seconds=lease_seconds, now=now, draw=rng.random()
            )
            row = _LEASE_ALONE_PG.first(connection, params)
            served = lease_alone_outcome(
                row, project_id, now=now, taxonomy=_taxonomy_of_lease(connection, row)
            )
            if served is not NEEDS_TRANSACTION:
                return cast(ServedTask | None, served)
    # This is the hottest path of the API: it runs as a handful of Core statements
    # (no ORM unit of work) with the immutable taxonomy keys cached in-process.
    with write_transaction(session) as connection:
        # On PostgreSQL this query also turns off the synchronous commit of this
        # transaction (see ``_PROJECT_QUERY_PG``), unless the lease shares its
        # transaction with other work (a submit's), which keeps it.
        relax_commit = connection.dialect.name == "postgresql" and not in_joined_transaction(
            session
        )
        project_query = _PROJECT_QUERY_PG if relax_commit else _PROJECT_QUERY
        project = project_query.first(
            connection,
            {
                "project_id": project_id,
                "vendor_id": actor.vendor_id,
                "labeller_id": labeller_id,
                "now": now,
            },
        )
        if project is None or not project.vendor_assigned:
            raise NotFound("errors.project.not_found", project=project_id)
        keys, mode = work_taxonomy(connection, project)
        held = (
            _HELD_QUERY.rows(
                connection, {"labeller_id": labeller_id, "project_id": project_id, "now": now}
            )
            if project.holds_lease
            else []
        )
        if held and (not prefetch or len(held) >= MAX_HELD_LEASES):
            lease = held[-1] if prefetch else held[0]
            held_item = _ITEM_QUERY.one(connection, {"task_id": lease.task_id})
            return _served_task(lease.id, lease.task_id, held_item, keys, mode, lease)
        if project.has_expired_leases:
            reclaim_expired_leases(connection, project_id, now=now)
        seconds = project.lease_seconds or lease_seconds or DEFAULT_LEASE_SECONDS
        expires = now + timedelta(seconds=seconds)
        lease = {
            "project_id": project_id,
            "overlap": project.overlap,
            "labeller_id": labeller_id,
            "vendor_id": actor.vendor_id,
            "served_at": now,
            "lease_expires_at": expires,
        }
        want_gold = project.gold_rate > 0 and rng.random() < project.gold_rate
        item = _claim_and_read(connection, lease, gold=want_gold)
        if item is None and want_gold:
            item = _claim_and_read(connection, lease, gold=False)
        if item is None:
            return None
        task_id = item.task_id
        if item.assignment_id is not None:
            assignment_id = item.assignment_id  # inserted by PostgreSQL's lease statement
        elif item.expired_assignment_id is not None:
            assignment_id = item.expired_assignment_id
            connection.execute(
                _ASSIGNMENTS.update()
                .where(_ASSIGNMENTS.c.id == assignment_id)
                .values(
                    status=AssignmentStatus.LEASED.value, served_at=now, lease_expires_at=expires
                )
            )
        else:
            assignment_id = _INSERT_ASSIGNMENT.scalar(
                connection,
                {
                    "task_id": task_id,
                    "project_id": project_id,
                    "labeller_id": labeller_id,
                    "vendor_id": actor.vendor_id,
                    "status": AssignmentStatus.LEASED.value,
                    "served_at": now,
                    "lease_expires_at": expires,
                    "submitted_at": None,
                    "skip_reason": None,
                },
            )
        return ServedTask(
            assignment_id=assignment_id,
            task_id=task_id,
            item=_item_dict(item),
            labels=keys,
            mode=mode,
            served_at=now,
            lease_expires_at=expires,
            current_label=None,  # a fresh or revived lease has no label yet
        )


_TASKS = cast(Table, Task.__table__)
_ASSIGNMENTS = cast(Table, Assignment.__table__)
_ITEMS = cast(Table, Item.__table__)
_PROJECTS = cast(Table, Project.__table__)
_TAXONOMIES = cast(Table, Taxonomy.__table__)
_TAXONOMY_LABELS = cast(Table, TaxonomyLabel.__table__)
_PROJECT_VENDORS = cast(Table, ProjectVendor.__table__)


def assignment_status_is(status: AssignmentStatus) -> ColumnElement[bool]:
    """``assignments.status = '<status>'`` with the value spelled as a literal.

    Not a bound parameter: a prepared statement's parameter proves nothing about the
    partial index ``ix_assignments_live_leases`` (``WHERE status = 'leased'``), so the
    planners could not use it; and SQLite, which then checks the bound value instead,
    marks the statement to be compiled again at every execution (the project query
    took 67 us instead of 9).
    """
    return _ASSIGNMENTS.c.status == literal_column(f"'{status.value}'")


_LIVE_LEASE = assignment_status_is(AssignmentStatus.LEASED)


def _holds_lease(*, besides: ColumnElement[int] | None = None) -> Any:
    """Whether the labeller holds a live lease in the project (other than ``besides``)."""
    held = exists().where(
        _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
        _ASSIGNMENTS.c.project_id == _PROJECTS.c.id,
        _LIVE_LEASE,
        _ASSIGNMENTS.c.lease_expires_at > bindparam("now"),
    )
    if besides is not None:
        held = held.where(_ASSIGNMENTS.c.id != besides)
    return held.label("holds_lease")


_PROJECT_COLUMNS = (
    _PROJECTS.c.overlap,
    _PROJECTS.c.gold_rate,
    _PROJECTS.c.lease_seconds,
    _PROJECTS.c.taxonomy_id,
    _TAXONOMIES.c.mode,
    _TAXONOMIES.c.key,
    _TAXONOMIES.c.version,
    _TAXONOMIES.c.created_at,
    exists()
    .where(
        _PROJECT_VENDORS.c.project_id == _PROJECTS.c.id,
        _PROJECT_VENDORS.c.vendor_id == bindparam("vendor_id"),
    )
    .label("vendor_assigned"),
    # Whether any lease of this project has expired: the slot-returning UPDATE runs only
    # then, not on every call.
    exists()
    .where(
        _ASSIGNMENTS.c.project_id == _PROJECTS.c.id,
        _LIVE_LEASE,
        _ASSIGNMENTS.c.lease_expires_at <= bindparam("now"),
    )
    .label("has_expired_leases"),
    # Whether the labeller holds a live lease here: only then is it looked up (a
    # labeller who just submitted, the usual caller, holds none).
    _holds_lease(),
)
_PROJECT_QUERY = Prepared(
    select(*_PROJECT_COLUMNS)
    .join(_TAXONOMIES, _TAXONOMIES.c.id == _PROJECTS.c.taxonomy_id)
    .where(_PROJECTS.c.id == bindparam("project_id"))
)
# A lease need not survive a database crash: losing the last instants of leases loses
# nothing a labeller answered (a submit's own synchronous commit flushes the WAL up to
# and past the lease it uses), and not waiting for the WAL flush saves a disk sync
# (~3 ms here) on every next-task call. ``set_config(..., true)`` is ``SET LOCAL`` as
# a function, so the setting rides on the project query instead of costing a round trip.
_PROJECT_QUERY_PG = Prepared(
    select(
        func.set_config("synchronous_commit", "off", true()).label("synchronous_commit"),
        *_PROJECT_COLUMNS,
    )
    .join(_TAXONOMIES, _TAXONOMIES.c.id == _PROJECTS.c.taxonomy_id)
    .where(_PROJECTS.c.id == bindparam("project_id"))
)

_HELD_QUERY = Prepared(
    select(
        _ASSIGNMENTS.c.id,
        _ASSIGNMENTS.c.task_id,
        _ASSIGNMENTS.c.served_at,
        _ASSIGNMENTS.c.lease_expires_at,
    )
    .where(
        _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
        _ASSIGNMENTS.c.project_id == bindparam("project_id"),
        _LIVE_LEASE,
        _ASSIGNMENTS.c.lease_expires_at > bindparam("now"),
    )
    .order_by(_ASSIGNMENTS.c.served_at, _ASSIGNMENTS.c.id)
    .limit(literal_column(str(MAX_HELD_LEASES)))  # a literal: see ``_claim_query``
)

_ITEM_COLUMNS = (
    _ITEMS.c.external_id,
    _ITEMS.c.text,
    _ITEMS.c.media,
    _ITEMS.c.advertiser,
    _ITEMS.c.market,
    _ITEMS.c.language,
    _ITEMS.c["metadata"],
)

_ITEM_QUERY = Prepared(
    select(*_ITEM_COLUMNS)
    .join(_TASKS, _TASKS.c.item_id == _ITEMS.c.id)
    .where(_TASKS.c.id == bindparam("task_id"))
)


def _expired_assignment(task_id: ColumnElement[int]) -> ColumnElement[int]:
    # This labeller's expired lease on the task, which is revived rather than
    # duplicated: one assignment per task and labeller.
    return (
        select(_ASSIGNMENTS.c.id)
        .where(
            _ASSIGNMENTS.c.task_id == task_id,
            _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
            assignment_status_is(AssignmentStatus.EXPIRED),
        )
        .scalar_subquery()
    )


# The item of a just-claimed task, and this labeller's expired lease on it, if any.
_ITEM_QUERY_REVIVE = Prepared(
    select(
        _TASKS.c.id.label("task_id"),
        *_ITEM_COLUMNS,
        null().label("assignment_id"),
        _expired_assignment(_TASKS.c.id).label("expired_assignment_id"),
    )
    .select_from(_ITEMS.join(_TASKS, _TASKS.c.item_id == _ITEMS.c.id))
    .where(_TASKS.c.id == bindparam("task_id"))
)

_INSERT_ASSIGNMENT = Prepared(
    _ASSIGNMENTS.insert().returning(_ASSIGNMENTS.c.id),
    column_keys=(
        "task_id",
        "project_id",
        "labeller_id",
        "vendor_id",
        "status",
        "served_at",
        "lease_expires_at",
        "submitted_at",
        "skip_reason",
    ),
)

_GIVE_SLOT = Prepared(
    _TASKS.update()
    .where(_TASKS.c.id == bindparam("task_id"))
    .values(slots_taken=_TASKS.c.slots_taken - 1)
)

_RECLAIM = Prepared(
    _ASSIGNMENTS.update()
    .where(
        _ASSIGNMENTS.c.project_id == bindparam("b_project_id"),
        _LIVE_LEASE,
        _ASSIGNMENTS.c.lease_expires_at <= bindparam("b_now"),
    )
    .values(status=AssignmentStatus.EXPIRED.value)
    .returning(_ASSIGNMENTS.c.task_id)
)

_TAXONOMY_KEYS_QUERY = (
    select(_TAXONOMY_LABELS.c.key)
    .where(_TAXONOMY_LABELS.c.taxonomy_id == bindparam("taxonomy_id"))
    .order_by(_TAXONOMY_LABELS.c.position)
)

# Taxonomy versions never change once a project uses them, so their label keys are
# cached per process. The key includes the version's identity and creation time, not
# just its row id: ids are reused when a database is recreated (tests, demos), and a
# stale entry must never match a different taxonomy that got the same id.
_TAXONOMY_CACHE: dict[tuple[int, str, int, datetime], tuple[str, ...]] = {}
_TAXONOMY_CACHE_MAX = 10_000


def work_taxonomy(connection: Connection, project: Any) -> tuple[tuple[str, ...], str]:
    """Label keys (file order) and mode of a project row from ``_PROJECT_QUERY``-like
    queries (needs ``taxonomy_id``, ``key``, ``version``, ``created_at``, ``mode``)."""
    cached = cached_work_taxonomy(project)
    if cached is not None:
        return cached
    keys = tuple(
        connection.execute(_TAXONOMY_KEYS_QUERY, {"taxonomy_id": project.taxonomy_id})
        .scalars()
        .all()
    )
    if len(_TAXONOMY_CACHE) >= _TAXONOMY_CACHE_MAX:
        _TAXONOMY_CACHE.clear()
    _TAXONOMY_CACHE[_taxonomy_cache_key(project)] = keys
    return keys, str(project.mode)


def cached_work_taxonomy(project: Any) -> tuple[tuple[str, ...], str] | None:
    """``work_taxonomy`` from the process cache alone; None when not cached yet."""
    keys = _TAXONOMY_CACHE.get(_taxonomy_cache_key(project))
    return None if keys is None else (keys, str(project.mode))


def _taxonomy_cache_key(project: Any) -> tuple[int, str, int, datetime]:
    return (project.taxonomy_id, project.key, project.version, project.created_at)


def _claim_query(
    *,
    gold: bool,
    postgresql: bool,
    overlap: ColumnElement[int] | None = None,
    project_id: ColumnElement[int] | None = None,
) -> Select[int]:
    labeller_id = bindparam("labeller_id", type_=_ASSIGNMENTS.c.labeller_id.type)
    not_yet_mine: ColumnElement[bool]
    if postgresql:
        # "Not already this labeller's" is asked per candidate as "the labeller is not
        # among the task's labellers who are the labeller": NOT IN, because PostgreSQL
        # keeps it a subplan run per candidate, and on both columns of the (task_id,
        # labeller_id) unique key, so that it is one probe of that index and reads no
        # row unless the labeller has one. As ``NOT EXISTS`` PostgreSQL turned it into
        # an anti-join and, whenever its statistics put the labeller at about one
        # assignment (any labeller newer than the last ANALYZE), read all the
        # labeller's assignments once per candidate: quadratic in the open tasks the
        # labeller already did (1,000 of them: 55 ms a claim instead of 3 ms). Keyed on
        # the task alone, it read every labeller's assignment of each candidate, rows
        # the other labellers were writing that moment: after an ANALYZE of a busy
        # project PostgreSQL switched to that plan, and 50 labellers' labels a second
        # fell by a fifth to two fifths until the end of the run.
        not_yet_mine = labeller_id.not_in(
            select(_ASSIGNMENTS.c.labeller_id)
            .where(
                _ASSIGNMENTS.c.task_id == _TASKS.c.id,
                _ASSIGNMENTS.c.labeller_id == labeller_id,
                _ASSIGNMENTS.c.status != AssignmentStatus.EXPIRED.value,
            )
            .scalar_subquery()
        )
    else:
        # SQLite probes the (task_id, labeller_id) key per candidate either way; its
        # NOT EXISTS costs less than the list subquery of NOT IN (~10 vs ~13 us a claim).
        not_yet_mine = ~exists().where(
            _ASSIGNMENTS.c.task_id == _TASKS.c.id,
            _ASSIGNMENTS.c.labeller_id == labeller_id,
            _ASSIGNMENTS.c.status != AssignmentStatus.EXPIRED.value,
        )
    query = select(_TASKS.c.id).where(
        _TASKS.c.project_id == (bindparam("project_id") if project_id is None else project_id),
        _TASKS.c.is_gold.is_(gold),
        _TASKS.c.status == TaskStatus.OPEN.value,
        not_yet_mine,
    )
    if not gold:
        # Gold items are answered by every labeller, so they have no overlap cap.
        query = query.where(
            _TASKS.c.slots_taken < (bindparam("overlap") if overlap is None else overlap)
        )
    # LIMIT as a literal, not a parameter: PostgreSQL costs a prepared statement's
    # generic plan as if ``LIMIT $n`` returned a tenth of the rows, found it dearer than
    # a plan for the values at hand and planned the statement again at every call
    # (0.7 ms, more than it took to run).
    query = query.order_by(_TASKS.c.priority.desc(), _TASKS.c.id).limit(literal_column("1"))
    return query.with_for_update(skip_locked=True, of=_TASKS)


def _claim_statement(*, gold: bool) -> Prepared:
    # SQLite: choosing the task and taking its slot are one statement.
    return Prepared(
        _TASKS.update()
        .where(_TASKS.c.id == _claim_query(gold=gold, postgresql=False).scalar_subquery())
        .values(slots_taken=_TASKS.c.slots_taken + 1)
        .returning(_TASKS.c.id)
    )


def _claimed(candidate: Any) -> Any:
    """CTE: take a slot of the ``candidate`` CTE's task; returns its id and item id."""
    return (
        _TASKS.update()
        .where(_TASKS.c.id == candidate.c.id)
        .values(slots_taken=_TASKS.c.slots_taken + 1)
        .returning(_TASKS.c.id, _TASKS.c.item_id)
        .cte("claimed")
    )


def _inserted_lease(
    claimed: Any,
    lease_expires_at: ColumnElement[datetime],
    project_id: ColumnElement[int] | None = None,
) -> Any:
    """CTE: insert the labeller's lease on the ``claimed`` task, unless the labeller has
    an expired lease there (which is revived instead); returns the new assignment id.
    ``project_id``: by default the ``project_id`` parameter."""
    columns = ("task_id", "project_id", "labeller_id", "vendor_id", "status")
    return (
        _ASSIGNMENTS.insert()
        .from_select(
            [*columns, "served_at", "lease_expires_at"],
            select(
                claimed.c.id,
                bindparam("project_id", type_=_ASSIGNMENTS.c.project_id.type)
                if project_id is None
                else project_id,
                *(bindparam(key, type_=_ASSIGNMENTS.c[key].type) for key in columns[2:4]),
                literal(AssignmentStatus.LEASED.value, _ASSIGNMENTS.c.status.type),
                bindparam("served_at", type_=_ASSIGNMENTS.c.served_at.type),
                lease_expires_at,
            ).where(_expired_assignment(claimed.c.id).is_(None)),
        )
        .returning(_ASSIGNMENTS.c.id)
        .cte("inserted")
    )


def _lease_statement_pg(*, gold: bool) -> Prepared:
    """Claim a task, insert the lease and read the item: one statement, one round trip.

    SQLite runs the same steps one by one in-process (``_CLAIM``, ``_ITEM_QUERY_REVIVE``,
    ``_INSERT_ASSIGNMENT``). Returns no row when nothing is left; ``assignment_id`` is
    NULL when the labeller had an expired lease on the task (``expired_assignment_id``),
    which the caller revives.
    """
    # The candidate is chosen (and row-locked, SKIP LOCKED: the row lock lasts to the
    # end of the transaction) in a CTE of its own that the slot's UPDATE joins. Written
    # as ``UPDATE ... WHERE id = (SELECT ... SKIP LOCKED)`` inside this statement, the
    # claim now and then updated no row under concurrency, and the labeller was told
    # nothing was left (50 labellers: 1-2 times in 5,000 calls; none in this form).
    candidate = (
        _claim_query(gold=gold, postgresql=True).cte("candidate").prefix_with("MATERIALIZED")
    )
    claimed = _claimed(candidate)
    inserted = _inserted_lease(
        claimed, bindparam("lease_expires_at", type_=_ASSIGNMENTS.c.lease_expires_at.type)
    )
    return Prepared(
        select(
            claimed.c.id.label("task_id"),
            *_ITEM_COLUMNS,
            select(inserted.c.id).scalar_subquery().label("assignment_id"),
            _expired_assignment(claimed.c.id).label("expired_assignment_id"),
        ).select_from(claimed.join(_ITEMS, _ITEMS.c.id == claimed.c.item_id))
    )


# Keyed by gold or not.
_CLAIM = {gold: _claim_statement(gold=gold) for gold in (False, True)}
_LEASE_PG = {gold: _lease_statement_pg(gold=gold) for gold in (False, True)}


def _lease_statement_alone_pg() -> Prepared:
    """The whole next-task call of a labeller who holds no lease, as one statement
    that is its own transaction (PostgreSQL, autocommit): check the project and the
    labeller's vendor, draw gold or not, claim a task and take its slot, insert the
    lease or revive the labeller's expired one on that task, read the item.

    One row, of the project (none: unknown project), with the task and item columns
    NULL when nothing was claimed. Nothing is claimed when the vendor is not assigned,
    or when the call needs the steps of the transaction path first: the labeller holds
    a live lease (``holds_lease``), or expired leases wait to be returned
    (``has_expired_leases``). ``draw`` is a uniform number in [0, 1): a gold task is
    tried first when it is below the project's gold rate.
    """
    project = lease_project_cte_pg()
    columns, from_ = lease_parts_pg(project)
    return Prepared(select(*columns).select_from(from_))


def lease_project_cte_pg(*, after: ColumnElement[int] | None = None) -> Any:
    """CTE of ``_lease_statement_alone_pg``: the project row, its taxonomy, whether the
    labeller's vendor is assigned, whether expired leases wait, whether the labeller
    holds a live lease, and the new lease's expiry.

    ``after``: the labeller's lease that the same statement submits (``submit?next``):
    the project is that lease's (no row when the lease is not the labeller's), the lease
    does not count as held, and the commit stays synchronous (it is the submit's).
    Otherwise the project is the ``project_id`` parameter, and the lease's commit does
    not wait for the disk (see ``_PROJECT_QUERY_PG``).
    """
    if after is None:
        commit_setting: Any = func.set_config("synchronous_commit", "off", true())
        columns: tuple[Any, ...] = _PROJECT_COLUMNS
        project_id: Any = bindparam("project_id")
    else:
        commit_setting = literal_column("'on'")
        columns = (*_PROJECT_COLUMNS[:-1], _holds_lease(besides=after))
        project_id = (
            select(_ASSIGNMENTS.c.project_id)
            .where(
                _ASSIGNMENTS.c.id == after,
                _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
            )
            .scalar_subquery()
        )
    return (
        select(
            commit_setting.label("synchronous_commit"),
            _PROJECTS.c.id.label("project_id"),
            *columns,
            type_coerce(
                sql_cast(
                    bindparam("served_at", type_=_ASSIGNMENTS.c.served_at.type), TIMESTAMP(True)
                )
                + func.make_interval(
                    0, 0, 0, 0, 0, 0, func.coalesce(_PROJECTS.c.lease_seconds, bindparam("seconds"))
                ),
                _ASSIGNMENTS.c.lease_expires_at.type,
            ).label("lease_expires_at"),
        )
        .join(_TAXONOMIES, _TAXONOMIES.c.id == _PROJECTS.c.taxonomy_id)
        .where(_PROJECTS.c.id == project_id)
        .cte("project")
        .prefix_with("MATERIALIZED")
    )


def lease_ready_pg(project: Any) -> ColumnElement[bool]:
    """Whether the ``lease_project_cte_pg`` row lets the statement lease at once."""
    return exists().where(
        project.c.vendor_assigned, ~project.c.has_expired_leases, ~project.c.holds_lease
    )


def lease_parts_pg(
    project: Any,
    *,
    also: ColumnElement[bool] | None = None,
    project_id: ColumnElement[int] | None = None,
) -> tuple[tuple[Any, ...], Any]:
    """The claim, the lease and the item read of ``_lease_statement_alone_pg``: its result
    columns and the FROM clause that carries them (the ``project`` CTE's row, outer-joined
    to the claimed task's item). ``also``: one more condition for claiming anything;
    ``project_id``: the project's id (by default the ``project_id`` parameter)."""
    ready = lease_ready_pg(project)
    if also is not None:
        ready = and_(ready, also)
    draw = bindparam("draw", type_=Float())
    gold_candidate = (
        _claim_query(gold=True, postgresql=True, project_id=project_id)
        .where(ready, exists().where(draw < project.c.gold_rate))
        .cte("gold_candidate")
        .prefix_with("MATERIALIZED")
    )
    open_candidate = (
        _claim_query(
            gold=False,
            postgresql=True,
            overlap=select(project.c.overlap).scalar_subquery(),
            project_id=project_id,
        )
        .where(ready, ~exists().select_from(gold_candidate))
        .cte("open_candidate")
        .prefix_with("MATERIALIZED")
    )
    candidate = select(gold_candidate.c.id).union_all(select(open_candidate.c.id)).cte("candidate")
    claimed = _claimed(candidate)
    expires = select(project.c.lease_expires_at).scalar_subquery()
    revived = (
        _ASSIGNMENTS.update()
        .where(
            _ASSIGNMENTS.c.task_id == claimed.c.id,
            _ASSIGNMENTS.c.labeller_id == bindparam("labeller_id"),
            assignment_status_is(AssignmentStatus.EXPIRED),
        )
        .values(
            status=literal(AssignmentStatus.LEASED.value, _ASSIGNMENTS.c.status.type),
            served_at=bindparam("served_at", type_=_ASSIGNMENTS.c.served_at.type),
            lease_expires_at=expires,
        )
        .returning(_ASSIGNMENTS.c.id)
        .cte("revived")
    )
    inserted = _inserted_lease(claimed, expires, project_id)
    columns = (
        *(
            project.c[key]
            for key in (
                "synchronous_commit",
                "project_id",
                "taxonomy_id",
                "mode",
                "key",
                "version",
                "created_at",
                "vendor_assigned",
                "has_expired_leases",
                "holds_lease",
                "lease_expires_at",
            )
        ),
        claimed.c.id.label("task_id"),
        *_ITEM_COLUMNS,
        func.coalesce(
            select(inserted.c.id).scalar_subquery(), select(revived.c.id).scalar_subquery()
        ).label("assignment_id"),
    )
    return columns, project.outerjoin(
        claimed.join(_ITEMS, _ITEMS.c.id == claimed.c.item_id), true()
    )


_LEASE_ALONE_PG = _lease_statement_alone_pg()


def lease_alone_statement(
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int | None = None,
    now: datetime | None = None,
    draw: float | None = None,
) -> tuple[Prepared, dict[str, Any]]:
    """``next_task``'s one statement (PostgreSQL, autocommit) and its parameters, for a
    caller that runs it itself (``Prepared.first`` or ``first_async``) and hands the
    row to :func:`lease_alone_outcome`.

    Args:
        lease_seconds: As ``next_task``.
        now: The time of the lease (UTC).
        draw: Uniform in [0, 1): the task is gold when below the project's gold rate.

    Raises:
        PermissionDenied: The actor is not a labeller.
    """
    _labeller_id(actor)
    return _LEASE_ALONE_PG, lease_alone_params(
        actor, project_id, lease_seconds=lease_seconds, now=now or utcnow(), draw=draw
    )


def lease_alone_params(
    actor: Actor,
    project_id: int | None,
    *,
    lease_seconds: int | None,
    now: datetime,
    draw: float | None = None,
) -> dict[str, Any]:
    """``_LEASE_ALONE_PG``'s parameters (the caller checked that the actor labels);
    without ``project_id`` for a statement that finds the project itself."""
    params: dict[str, Any] = {
        "project_id": project_id,
        "vendor_id": actor.vendor_id,
        "labeller_id": actor.user_id,
        "now": now,
        "served_at": now,
        "seconds": lease_seconds or DEFAULT_LEASE_SECONDS,
        "draw": _GOLD_DRAWS.random() if draw is None else draw,
    }
    if project_id is None:
        del params["project_id"]
    return params


def lease_alone_outcome(
    row: Any | None,
    project_id: int,
    *,
    now: datetime,
    taxonomy: tuple[tuple[str, ...], str] | None,
) -> ServedTask | None | object:
    """What :func:`lease_alone_statement`'s row means: the task leased, None when
    nothing is left, or ``NEEDS_TRANSACTION`` when the statement wrote nothing and the
    call needs ``next_task``'s transaction path (a held lease, expired leases to return).

    Args:
        taxonomy: The project's label keys and mode (``work_taxonomy`` of the row) when
            the row has a task; else None.

    Raises:
        NotFound: Unknown project, or the labeller's vendor is not assigned to it.
    """
    if row is None or not row.vendor_assigned:
        raise NotFound("errors.project.not_found", project=project_id)
    if row.holds_lease or row.has_expired_leases:
        return NEEDS_TRANSACTION
    if row.task_id is None:
        return None
    if taxonomy is None:
        raise ValueError("a leased task needs its taxonomy")
    keys, mode = taxonomy
    return ServedTask(
        assignment_id=row.assignment_id,
        task_id=row.task_id,
        item=_item_dict(row),
        labels=keys,
        mode=mode,
        served_at=now,
        lease_expires_at=row.lease_expires_at,
        current_label=None,
    )


def lease_ready(row: Any) -> bool:
    """Whether a ``lease_project_cte_pg`` row let its statement lease (see
    ``lease_ready_pg``)."""
    return bool(row.vendor_assigned) and not row.holds_lease and not row.has_expired_leases


def leased_task_needs_taxonomy(row: Any | None) -> bool:
    """Whether :func:`lease_alone_outcome` needs the taxonomy of this row."""
    return row is not None and row.task_id is not None and bool(row.vendor_assigned)


def _taxonomy_of_lease(
    connection: Connection, row: Any | None
) -> tuple[tuple[str, ...], str] | None:
    return work_taxonomy(connection, row) if leased_task_needs_taxonomy(row) else None


def _labeller_id(actor: Actor) -> int:
    authorize(actor, "queue.work")
    if actor.role != Role.LABELLER or actor.user_id is None or actor.vendor_id is None:
        raise PermissionDenied("errors.queue.labellers_only")
    return actor.user_id


def _claim_and_read(connection: Connection, lease: dict[str, Any], *, gold: bool) -> Any | None:
    """Take a slot of the next task and read its item (a row with ``task_id``, the item
    columns, ``assignment_id`` if the lease is already inserted, and
    ``expired_assignment_id``); None when no task is left of that kind."""
    if connection.dialect.name == "postgresql":
        return _LEASE_PG[gold].first(connection, lease)
    task_id = _CLAIM[gold].scalar(connection, lease)
    if task_id is None:
        return None
    return _ITEM_QUERY_REVIVE.one(connection, {**lease, "task_id": task_id})


def reclaim_expired_leases(connection: Connection, project_id: int, *, now: datetime) -> int:
    """Return expired leases' slots to the queue (inside the caller's transaction).

    Returns:
        The number of leases expired now.
    """
    expired_task_ids = _RECLAIM.scalars(connection, {"b_project_id": project_id, "b_now": now})
    for task_id in expired_task_ids:
        _GIVE_SLOT.execute(connection, {"task_id": task_id})
    return len(expired_task_ids)


def release_assignment(session: Session, assignment: Assignment) -> None:
    """Give a leased slot back to the queue (inside the caller's transaction)."""
    _GIVE_SLOT.execute(session.connection(), {"task_id": assignment.task_id})


def _served_task(
    assignment_id: int,
    task_id: int,
    item: Any,
    keys: tuple[str, ...],
    mode: str,
    lease: Any,
) -> ServedTask:
    return ServedTask(
        assignment_id=assignment_id,
        task_id=task_id,
        item=_item_dict(item),
        labels=keys,
        mode=mode,
        served_at=lease.served_at,
        lease_expires_at=lease.lease_expires_at,
        current_label=None,  # a leased assignment has no label (submitting ends the lease)
    )


def _item_dict(item: Any) -> dict[str, Any]:
    return {
        "external_id": item.external_id,
        "text": item.text,
        "media": item.media,
        "advertiser": item.advertiser,
        "market": item.market,
        "language": item.language,
        "metadata": item.metadata,
    }


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
