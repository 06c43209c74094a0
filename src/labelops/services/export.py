"""Exporting a snapshot of final labels (and, on request, every raw label)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Table, Text, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from labelops.services.finals import get_snapshot
from labelops.services.policy import Actor, authorize
from labelops.store.models import FinalLabel, Item, Label, Task, User
from labelops.types import ExportFormat

__all__ = ["ExportSummary", "export_project", "snapshot_rows"]


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: str
    format: str
    snapshot_id: int
    n_items: int


def snapshot_rows(
    session: Session, project_id: int, snapshot_id: int, *, raw: bool = False
) -> list[dict[str, Any]]:
    """One row per item of a snapshot, sorted by external id (so output is stable)."""
    rows: list[dict[str, Any]] = []
    # Core on the tables, with the JSON value read as text and parsed by orjson: the
    # ORM row machinery and the stdlib JSON decoder were most of an export's time.
    finals, tasks, items = (
        cast(Table, FinalLabel.__table__),
        cast(Table, Task.__table__),
        cast(Table, Item.__table__),
    )
    query = (
        select(
            items.c.external_id,
            items.c.text,
            finals.c.task_id,
            sql_cast(finals.c.value, Text),
            finals.c.method,
            finals.c.confidence,
            finals.c.status,
            finals.c.n_labels,
        )
        .select_from(
            finals.join(tasks, tasks.c.id == finals.c.task_id).join(
                items, items.c.id == tasks.c.item_id
            )
        )
        .where(finals.c.snapshot_id == snapshot_id)
        .order_by(items.c.external_id)
    )
    task_ids: list[int] = []
    loads = orjson.loads
    for (
        external_id,
        text,
        task_id,
        value,
        method,
        confidence,
        status,
        n_labels,
    ) in session.connection().execute(query):
        task_ids.append(task_id)
        rows.append(
            {
                "external_id": external_id,
                "text": text,
                "final_label": _final_value(None if value is None else loads(value)),
                "method": method,
                "confidence": confidence,
                "status": status,
                "n_labels": n_labels,
                "snapshot_id": snapshot_id,
            }
        )
    if raw:
        labels = _raw_labels(session, project_id, snapshot_id)
        for row, task_id in zip(rows, task_ids, strict=True):
            row["labels"] = labels.get(task_id, [])
    return rows


def _final_value(value: list[str] | None) -> str | list[str] | None:
    if value is None:
        return None
    return value[0] if len(value) == 1 else list(value)


def _raw_labels(
    session: Session, project_id: int, snapshot_id: int
) -> dict[int, list[dict[str, Any]]]:
    """Every label revision up to the snapshot, with timing, grouped by task."""
    from labelops.store.models import Snapshot

    snapshot = session.get(Snapshot, snapshot_id)
    cutoff = snapshot.created_at if snapshot is not None else None
    query = (
        select(
            Label.task_id,
            User.username,
            Label.value,
            Label.revision,
            Label.is_current,
            Label.served_at,
            Label.submitted_at,
            Label.active_ms,
        )
        .join(User, User.id == Label.labeller_id)
        .where(Label.project_id == project_id)
        .order_by(Label.task_id, User.username, Label.revision)
    )
    if cutoff is not None:
        query = query.where(Label.submitted_at <= cutoff)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (
        task_id,
        username,
        value,
        revision,
        _current,
        served,
        submitted,
        active_ms,
    ) in session.execute(query):
        grouped[task_id].append(
            {
                "labeller": username,
                "label": _final_value(value),
                "revision": revision,
                "served_at": served.isoformat(),
                "submitted_at": submitted.isoformat(),
                "active_ms": active_ms,
            }
        )
    return grouped


def export_project(
    session: Session,
    actor: Actor,
    project_id: int,
    out: Path,
    *,
    format: ExportFormat = "jsonl",
    snapshot_id: int | None = None,
    raw: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write a snapshot's final labels to ``out``; the same snapshot gives the same bytes.

    Args:
        snapshot_id: Which snapshot (default: the newest; run finalize first).
        raw: Also write every labeller's labels, with timing.

    Raises:
        NotFound: The project has no snapshot yet.
    """
    from labelops.services.label_files import write_final_labels

    authorize(actor, "export.run")
    snapshot = get_snapshot(session, actor, project_id, snapshot_id)
    rows = snapshot_rows(session, project_id, snapshot.id, raw=raw)
    session.commit()
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".partial")
    write_final_labels(rows, temporary, format=format)
    temporary.replace(out)  # never leave a half-written export under the real name
    if on_progress:
        on_progress(len(rows))
    return ExportSummary(path=str(out), format=format, snapshot_id=snapshot.id, n_items=len(rows))
