"""Exporting a snapshot of final labels (and, on request, every raw label).

Every export writes a manifest next to the file (``<file>.manifest.json``, see
:func:`export_project`) and is recorded in the audit trail (``export.run``: who, which
project and snapshot, format, row count, whether personal data was masked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Select, Table, Text, bindparam, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from labelops.services.audit_trail import record_event
from labelops.services.finals import get_snapshot
from labelops.services.policy import Actor, authorize
from labelops.store.models import FinalLabel, Item, Label, Task, User
from labelops.store.prepared import Prepared
from labelops.text import PII_KINDS, mask_pii
from labelops.types import ExportFormat

__all__ = [
    "MANIFEST_SUFFIX",
    "SUFFIXES",
    "ExportSummary",
    "export_for_download",
    "export_project",
    "snapshot_rows",
]

SUFFIXES: dict[str, str] = {
    "jsonl": "jsonl",
    "csv": "csv",
    "parquet": "parquet",
    "label-studio": "json",
}
"""File name suffix of each export format."""

MANIFEST_SUFFIX = ".manifest.json"
"""The manifest of ``final.jsonl`` is ``final.jsonl.manifest.json``."""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: str
    format: str
    snapshot_id: int
    n_items: int
    pii_masked: bool = False
    """Phone numbers, LINE IDs and e-mail addresses in ``text`` were masked."""
    masked_kinds: tuple[str, ...] = ()
    """What was masked (empty when nothing was)."""
    manifest: dict[str, Any] | None = None
    """What the manifest file says (also written next to the export)."""


def snapshot_rows(
    session: Session, project_id: int, snapshot_id: int, *, raw: bool = False
) -> list[dict[str, Any]]:
    """One row per item of a snapshot, sorted by external id (so output is stable)."""
    rows: list[dict[str, Any]] = []
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
    ) in _snapshot_statement(session.connection()).rows(
        session.connection(), {"snapshot_id": snapshot_id}
    ):
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


_FINALS = cast(Table, FinalLabel.__table__)
_TASKS = cast(Table, Task.__table__)
_ITEMS = cast(Table, Item.__table__)


def _snapshot_query(*, collate_c: bool) -> Select[Any]:
    # The JSON value is read as text and parsed by orjson: the ORM row machinery and
    # the stdlib JSON decoder were most of an export's time. Rows come in code-point
    # order of external_id (PostgreSQL's default collation may not be code point).
    external_id = _ITEMS.c.external_id
    return (
        select(
            external_id,
            _ITEMS.c.text,
            _FINALS.c.task_id,
            sql_cast(_FINALS.c.value, Text),
            _FINALS.c.method,
            _FINALS.c.confidence,
            _FINALS.c.status,
            _FINALS.c.n_labels,
        )
        .select_from(
            _FINALS.join(_TASKS, _TASKS.c.id == _FINALS.c.task_id).join(
                _ITEMS, _ITEMS.c.id == _TASKS.c.item_id
            )
        )
        .where(_FINALS.c.snapshot_id == bindparam("snapshot_id"))
        .order_by(external_id.collate("C") if collate_c else external_id)
    )


_SNAPSHOT_STATEMENTS = {
    collate: Prepared(_snapshot_query(collate_c=collate)) for collate in (False, True)
}


def _snapshot_statement(connection: Connection) -> Prepared:
    return _SNAPSHOT_STATEMENTS[connection.dialect.name == "postgresql"]


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
    mask_personal_data: bool = False,
    via: str = "service",
    on_progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write a snapshot's final labels to ``out``; the same snapshot gives the same bytes.

    A manifest goes next to it, ``out`` + :data:`MANIFEST_SUFFIX`: a JSON object with
    ``file``, ``format``, ``project_id``, ``snapshot_id``, ``n_items``, ``raw``,
    ``pii_masked`` and ``masked_kinds`` (no clock, so it is as reproducible as the
    export). The export is recorded in the audit trail (``export.run``) with the same
    facts and ``via``; never with the exported content.

    Args:
        snapshot_id: Which snapshot (default: the newest; run finalize first).
        raw: Also write every labeller's labels, with timing.
        mask_personal_data: Replace phone numbers, LINE IDs and e-mail addresses in each
            item's text with ``[PHONE]``, ``[LINE_ID]``, ``[EMAIL]``
            (:func:`labelops.text.mask_pii`). Off by default; costs time only when on.
        via: Which door the export came through (``cli``, ``api``, ``web``), for the
            audit trail.

    Raises:
        NotFound: The project has no snapshot yet.
    """
    from labelops.services.label_files import write_final_labels

    authorize(actor, "export.run")
    snapshot = get_snapshot(session, actor, project_id, snapshot_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".partial")
    try:
        if format == "jsonl" and not raw:
            n_items = _stream_final_jsonl(
                session, project_id, snapshot.id, temporary, mask=mask_personal_data
            )
        else:
            rows = snapshot_rows(session, project_id, snapshot.id, raw=raw)
            session.commit()
            if mask_personal_data:
                _mask_rows(rows)
            write_final_labels(rows, temporary, format=format)
            n_items = len(rows)
        temporary.replace(out)  # never leave a half-written export under the real name
    finally:
        temporary.unlink(missing_ok=True)
    kinds = PII_KINDS if mask_personal_data else ()
    manifest: dict[str, Any] = {
        "file": out.name,
        "format": format,
        "masked_kinds": list(kinds),
        "n_items": n_items,
        "pii_masked": mask_personal_data,
        "project_id": project_id,
        "raw": raw,
        "snapshot_id": snapshot.id,
    }
    out.with_name(out.name + MANIFEST_SUFFIX).write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    )
    record_event(
        session,
        actor,
        "export.run",
        "project",
        project_id,
        after={key: value for key, value in manifest.items() if key != "file"} | {"via": via},
    )
    session.commit()
    if on_progress:
        on_progress(n_items)
    return ExportSummary(
        path=str(out),
        format=format,
        snapshot_id=snapshot.id,
        n_items=n_items,
        pii_masked=mask_personal_data,
        masked_kinds=kinds,
        manifest=manifest,
    )


def export_for_download(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    format: ExportFormat = "jsonl",
    snapshot_id: int | None = None,
    raw: bool = False,
    mask_personal_data: bool = False,
    via: str,
) -> tuple[ExportSummary, Path, str]:
    """:func:`export_project` into a new temporary folder, for a shell to send.

    Returns the summary, the folder (the caller removes it once sent) and the file name
    to offer (``project-1-snapshot-3.jsonl``).
    """
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="labelops-export-"))
    suffix = SUFFIXES[format]
    try:
        summary = export_project(
            session,
            actor,
            project_id,
            folder / f"project-{project_id}.{suffix}",
            format=format,
            snapshot_id=snapshot_id,
            raw=raw,
            mask_personal_data=mask_personal_data,
            via=via,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return summary, folder, f"project-{project_id}-snapshot-{summary.snapshot_id}.{suffix}"


_STREAM_ROWS = 20_000


def _stream_final_jsonl(
    session: Session, project_id: int, snapshot_id: int, path: Path, *, mask: bool = False
) -> int:
    """Write a snapshot's final labels as JSONL straight from the cursor; returns the count.

    The bytes are those of :func:`~labelops.services.label_files.write_final_labels` on
    :func:`snapshot_rows` (a test compares them): one object per item, keys sorted,
    rows in code-point order of ``external_id``. Rows are read in chunks (PostgreSQL: a
    server-side cursor), so a million-item export never holds its rows as dicts, and
    each object is built with its keys already in sorted order, so orjson need not sort
    them. The database sorts by code point too (``COLLATE "C"`` on PostgreSQL, whose
    default collation may not); the order is checked as rows arrive, and a row out of
    order or a repeated external id falls back to the in-memory writer, which sorts and
    reports duplicates.
    """
    connection = session.connection()
    chunks = _snapshot_statement(connection).stream(
        connection, {"snapshot_id": snapshot_id}, chunk_rows=_STREAM_ROWS
    )
    dumps, loads = orjson.dumps, orjson.loads
    labels: dict[str | None, str | list[str] | None] = {None: None}
    previous: str | None = None
    n_items = 0
    in_order = True
    try:
        with open(path, "wb") as handle:
            for chunk in chunks:
                lines: list[bytes] = []
                append = lines.append
                for external, text, _task, value, method, confidence, status, n_labels in chunk:
                    if previous is not None and external <= previous:
                        in_order = False
                        break
                    previous = external
                    if value in labels:  # a handful of distinct values: each parsed once
                        label = labels[value]
                    else:
                        label = labels[value] = _final_value(loads(value))
                    if mask and text:
                        text = mask_pii(text)
                    append(
                        dumps(
                            {
                                "confidence": confidence,
                                "external_id": external,
                                "final_label": label,
                                "method": method,
                                "n_labels": n_labels,
                                "snapshot_id": snapshot_id,
                                "status": status,
                                "text": text,
                            }
                        )
                    )
                if not in_order:
                    break
                n_items += len(lines)
                handle.write(b"\n".join(lines))
                handle.write(b"\n")
    finally:
        chunks.close()
    if in_order:
        return n_items
    # Out of order: the in-memory writer sorts (and reports duplicate ids).
    return _fallback(session, project_id, snapshot_id, path, mask)


def _fallback(
    session: Session, project_id: int, snapshot_id: int, path: Path, mask: bool = False
) -> int:
    from labelops.services.label_files import write_final_labels

    rows = snapshot_rows(session, project_id, snapshot_id)
    if mask:
        _mask_rows(rows)
    write_final_labels(rows, path, format="jsonl")
    return len(rows)


def _mask_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["text"]:
            row["text"] = mask_pii(row["text"])
