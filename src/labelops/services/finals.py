"""Final labels: live per item as labels arrive, and frozen snapshots per run.

The live row (``snapshot_id`` NULL) of a task is refreshed when the task reaches its
overlap. ``finalize_project`` recomputes every task with the chosen method and
freezes the result as a new snapshot, which exports reproduce byte for byte.
Audited final labels (set by an auditor) are never overwritten by a computation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    CTE,
    Connection,
    Float,
    Numeric,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    true,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FromClause

from labelops.errors import InvalidInput, NotFound
from labelops.quality.voting import compute_item_vote
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.policy import Actor, authorize
from labelops.services.projects import ProjectContext, get_project, load_project_context
from labelops.store.models import FinalLabel, GoldAnswer, Label, Snapshot, Task
from labelops.store.prepared import Prepared
from labelops.store.types import utcnow
from labelops.types import FinalStatus, LabelMode

__all__ = [
    "FINALIZE_METHODS",
    "FinalizeSummary",
    "finalize_project",
    "get_snapshot",
    "latest_snapshot",
    "live_final_refresh_cte_pg",
    "refresh_live_final_label",
    "refresh_live_final_value",
]

FINALIZE_METHODS = ("majority", "weighted-majority", "dawid-skene", "one-coin", "glad", "mace")


@dataclass(frozen=True)
class FinalizeSummary:
    """What a finalize run produced."""

    snapshot_id: int
    method: str
    n_items: int
    n_final: int
    n_needs_adjudication: int
    n_incomplete: int
    n_audited: int


def refresh_live_final_label(
    session: Session, context: ProjectContext, task: Task, *, now: datetime
) -> str | None:
    """Recompute a task's live final label by majority vote (inside the caller's
    transaction). Returns the new status, or None when the label is audited.

    The ORM callers' entry to :func:`refresh_live_final_value`: pending changes are
    flushed first so the vote sees them.
    """
    session.flush()
    return refresh_live_final_value(
        session.connection(),
        task.id,
        task.project_id,
        multi_label=context.taxonomy.mode == LabelMode.MULTI.value,
        now=now,
    )


_FINALS = cast(Table, FinalLabel.__table__)
_LABELS = cast(Table, Label.__table__)
_LIVE_QUERY = Prepared(
    select(_FINALS.c.id, _FINALS.c.status).where(
        _FINALS.c.task_id == bindparam("task_id"), _FINALS.c.snapshot_id.is_(None)
    )
)
_VOTES_QUERY = Prepared(
    select(_LABELS.c.value).where(
        _LABELS.c.task_id == bindparam("task_id"), _LABELS.c.is_current.is_(True)
    )
)
_LIVE_COLUMNS = ("value", "method", "confidence", "status", "n_labels", "updated_at")
_INSERT_LIVE = Prepared(
    insert(_FINALS), column_keys=("task_id", "project_id", "snapshot_id", *_LIVE_COLUMNS)
)
_UPDATE_LIVE = Prepared(
    update(_FINALS).where(_FINALS.c.id == bindparam("b_id")), column_keys=_LIVE_COLUMNS
)


def live_final_refresh_cte_pg(completing: FromClause, new_key: ColumnElement[str]) -> CTE:
    """PostgreSQL: :func:`refresh_live_final_value` of a single-label task as a
    data-modifying CTE, for a statement that stores the label completing the task.

    Args:
        completing: At most one row, with ``task_id`` and ``project_id``: the task
            whose last label the statement stores (none when it completes nothing).
        new_key: That label's key. The statement's own insert is invisible to its
            snapshot, so the vote adds it to the task's current labels.

    The vote is ``compute_item_vote``'s single-label rule (the plurality key; a tie of
    the top count needs adjudication; confidence is the top count's share of the
    votes, rounded to 6 places); an audited live row stays. The CTE returns the new
    ``status``, no row when nothing was completed or the row is audited. Its time is the
    statement's ``submitted_at`` parameter.
    """
    votes = (
        select(_LABELS.c.value.op("->>", return_type=String)(literal_column("0")).label("key"))
        .select_from(_LABELS.join(completing, _LABELS.c.task_id == completing.c.task_id))
        .where(_LABELS.c.is_current.is_(True))
        .union_all(select(sql_cast(new_key, String).label("key")))
        .cte("votes")
    )
    tally = select(votes.c.key, func.count().label("n")).group_by(votes.c.key).cte("tally")
    ranked = select(
        tally.c.key,
        tally.c.n,
        func.rank().over(order_by=tally.c.n.desc()).label("place"),
        func.sum(tally.c.n).over().label("total"),
    ).cte("ranked")
    decision = (
        select(
            # One key at the top count wins; two or more are a tie.
            case((func.count() == 1, func.min(ranked.c.key)), else_=null()).label("winner"),
            func.max(ranked.c.n).label("top"),
            func.max(ranked.c.total).label("total"),
        )
        .where(ranked.c.place == 1)
        .cte("decision")
    )
    winner = decision.c.winner
    values = select(
        completing.c.task_id,
        completing.c.project_id,
        # A tie stores JSON null, as the JSON column stores Python's None.
        case(
            (winner.is_(None), literal_column("'null'::json")),
            else_=func.json_build_array(winner),
        ).label("value"),
        literal("majority", String),
        sql_cast(func.round(sql_cast(decision.c.top, Numeric) / decision.c.total, 6), Float).label(
            "confidence"
        ),
        case(
            (winner.is_(None), literal(FinalStatus.NEEDS_ADJUDICATION.value)),
            else_=literal(FinalStatus.FINAL.value),
        ).label("status"),
        sql_cast(decision.c.total, _FINALS.c.n_labels.type),
        bindparam("submitted_at", type_=_FINALS.c.updated_at.type),
    ).select_from(completing.join(decision, true()))
    upsert = pg_insert(_FINALS).from_select(["task_id", "project_id", *_LIVE_COLUMNS], values)
    return (
        upsert.on_conflict_do_update(
            index_elements=[_FINALS.c.task_id],
            index_where=_FINALS.c.snapshot_id.is_(None),
            set_={key: upsert.excluded[key] for key in _LIVE_COLUMNS},
            where=_FINALS.c.status != FinalStatus.AUDITED.value,
        )
        .returning(_FINALS.c.status)
        .cte("live_final")
    )


def refresh_live_final_value(
    connection: Connection, task_id: int, project_id: int, *, multi_label: bool, now: datetime
) -> str | None:
    """Recompute a task's live final label: majority vote, a tie needs adjudication, an
    audited row stays. Core statements on the caller's transaction (the submit hot
    path); returns the new status, or None when the label is audited.
    """
    live = _LIVE_QUERY.first(connection, {"task_id": task_id})
    if live is not None and live.status == FinalStatus.AUDITED.value:
        return None
    votes = _VOTES_QUERY.scalars(connection, {"task_id": task_id})
    vote = compute_item_vote(votes, multi_label=multi_label)
    status = FinalStatus.NEEDS_ADJUDICATION if vote.tied else FinalStatus.FINAL
    values = {
        "value": list(vote.label) if vote.label is not None else None,
        "method": "majority",
        "confidence": round(vote.share, 6),
        "status": status.value,
        "n_labels": vote.n_votes,
        "updated_at": now,
    }
    if live is None:
        _INSERT_LIVE.execute(
            connection,
            {"task_id": task_id, "project_id": project_id, "snapshot_id": None, **values},
        )
    else:
        _UPDATE_LIVE.execute(connection, {"b_id": live.id, **values})
    return status.value


def _aggregate_majority(
    votes: dict[int, list[list[str]]], multi: bool
) -> dict[int, tuple[list[str] | None, float, bool]]:
    out: dict[int, tuple[list[str] | None, float, bool]] = {}
    for task_id, task_votes in votes.items():
        vote = compute_item_vote(task_votes, multi_label=multi)
        out[task_id] = (list(vote.label) if vote.label is not None else None, vote.share, vote.tied)
    return out


def finalize_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    method: str = "majority",
    now: datetime | None = None,
) -> FinalizeSummary:
    """Recompute every final label of a project and freeze them as a new snapshot.

    Tasks with fewer labels than the overlap are ``incomplete`` (no final label);
    ties are ``needs_adjudication``; audited final labels are kept as they are.

    Raises:
        InvalidInput: Unknown method.
    """
    authorize(actor, "final.compute")
    if method not in FINALIZE_METHODS:
        raise InvalidInput(
            "errors.finalize.method",
            field="method",
            value=method,
            allowed=", ".join(FINALIZE_METHODS),
        )
    get_project(session, actor, project_id)
    now = now or utcnow()
    with transaction(session):
        context = load_project_context(session, project_id)
        multi = context.taxonomy.mode == LabelMode.MULTI.value
        votes: dict[int, list[list[str]]] = defaultdict(list)
        labellers: dict[int, list[int]] = defaultdict(list)
        gold_tasks: set[int] = set()
        rows = session.execute(
            select(Label.task_id, Label.labeller_id, Label.value, Task.is_gold)
            .join(Task, Task.id == Label.task_id)
            .where(Label.project_id == project_id, Label.is_current.is_(True))
            .order_by(Label.task_id, Label.labeller_id)
        )
        for task_id, labeller_id, value, is_gold in rows:
            votes[task_id].append(list(value))
            labellers[task_id].append(labeller_id)
            if is_gold:
                gold_tasks.add(task_id)
        audited = {
            row.task_id: row
            for row in session.scalars(
                select(FinalLabel).where(
                    FinalLabel.project_id == project_id,
                    FinalLabel.snapshot_id.is_(None),
                    FinalLabel.status == FinalStatus.AUDITED.value,
                )
            )
        }
        overlap = context.project.overlap
        complete = {
            t
            for t, v in votes.items()
            if len(v) >= overlap and t not in audited and t not in gold_tasks
        }
        if method == "majority":
            results = _aggregate_majority({t: votes[t] for t in complete}, multi)
        else:
            gold_answers = {
                task_id: list(value)
                for task_id, value in session.execute(
                    select(Task.id, GoldAnswer.value)
                    .join(
                        GoldAnswer,
                        (GoldAnswer.item_id == Task.item_id)
                        & (GoldAnswer.project_id == Task.project_id),
                    )
                    .where(Task.project_id == project_id, Task.is_gold.is_(True))
                )
            }
            # pandas and the estimators load only when a model method is asked for.
            from labelops.services.aggregate import AggregateInput, aggregate_with_model

            results = aggregate_with_model(
                method,
                AggregateInput(votes, labellers, gold=gold_answers),
                complete,
                multi_label=multi,
            )
        votes = defaultdict(list, {t: v for t, v in votes.items() if t not in gold_tasks})
        snapshot = Snapshot(
            project_id=project_id, method=method, created_by=actor.user_id, created_at=now
        )
        session.add(snapshot)
        session.flush()
        frozen: list[dict[str, object]] = []
        live: list[dict[str, object]] = []
        counts = {"final": 0, "needs_adjudication": 0, "incomplete": 0, "audited": 0}
        for task_id in sorted(set(votes) | set(audited)):
            entry: dict[str, object]
            if task_id in audited:
                row = audited[task_id]
                entry = {
                    "value": row.value,
                    "method": row.method,
                    "confidence": row.confidence,
                    "status": row.status,
                    "n_labels": len(votes.get(task_id, [])),
                }
                counts["audited"] += 1
            elif task_id in results:
                final_value, confidence, tied = results[task_id]
                status = FinalStatus.NEEDS_ADJUDICATION if tied else FinalStatus.FINAL
                entry = {
                    "value": None if tied else final_value,
                    "method": method,
                    "confidence": round(confidence, 6),
                    "status": status.value,
                    "n_labels": len(votes[task_id]),
                }
                counts[status.value] += 1
                live.append({"task_id": task_id, **entry})
            else:
                entry = {
                    "value": None,
                    "method": method,
                    "confidence": None,
                    "status": FinalStatus.INCOMPLETE.value,
                    "n_labels": len(votes[task_id]),
                }
                counts["incomplete"] += 1
            frozen.append(
                {
                    "task_id": task_id,
                    "project_id": project_id,
                    "snapshot_id": snapshot.id,
                    "updated_at": now,
                    **entry,
                }
            )
        _insert_in_chunks(session, frozen)
        if live:
            live_ids = [row["task_id"] for row in live]
            for start in range(0, len(live_ids), 5000):
                session.execute(
                    delete(FinalLabel).where(
                        FinalLabel.snapshot_id.is_(None),
                        FinalLabel.task_id.in_(live_ids[start : start + 5000]),
                    )
                )
            _insert_in_chunks(
                session,
                [
                    {**row, "project_id": project_id, "snapshot_id": None, "updated_at": now}
                    for row in live
                ],
            )
        snapshot.n_items = len(frozen)
        snapshot.summary = dict(counts)
        record_event(
            session,
            actor,
            "project.finalize",
            "snapshot",
            snapshot.id,
            after={"project_id": project_id, "method": method, **counts},
            now=now,
        )
    return FinalizeSummary(
        snapshot.id,
        method,
        len(frozen),
        counts["final"],
        counts["needs_adjudication"],
        counts["incomplete"],
        counts["audited"],
    )


def _insert_in_chunks(session: Session, rows: Sequence[dict[str, object]]) -> None:
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        if chunk:
            session.execute(insert(FinalLabel), list(chunk))


def latest_snapshot(session: Session, project_id: int) -> Snapshot | None:
    """The newest snapshot of a project, if any."""
    return session.scalar(
        select(Snapshot)
        .where(Snapshot.project_id == project_id)
        .order_by(Snapshot.id.desc())
        .limit(1)
    )


def get_snapshot(
    session: Session, actor: Actor, project_id: int, snapshot_id: int | None
) -> Snapshot:
    """A snapshot of a project (the newest when ``snapshot_id`` is None).

    Raises:
        NotFound: The project has no such snapshot (run finalize first).
    """
    get_project(session, actor, project_id)
    if snapshot_id is None:
        snapshot = latest_snapshot(session, project_id)
    else:
        snapshot = session.get(Snapshot, snapshot_id)
        if snapshot is not None and snapshot.project_id != project_id:
            snapshot = None
    if snapshot is None:
        raise NotFound("errors.snapshot.not_found", project=project_id)
    return snapshot
