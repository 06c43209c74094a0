"""Importing items into a project: all or nothing, idempotent, deduplicated.

Rows are validated by ``item_files``; this module decides what lands. Within one
transaction it walks the file in batches: an item whose external id exists with the
same content is reused (and reported as a duplicate when the project has it already);
one whose external id exists with *different* content is rejected; an item with the
same content hash as another item of the project (or of the file) is a duplicate.
Any rejected row aborts the whole import unless ``skip_invalid`` is set, in which case
the rejected rows are written to a report file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidRows, RowProblem
from labelops.i18n import translate
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.item_files import ImportedAnnotation, ItemRow, iter_item_batches
from labelops.services.policy import Actor, authorize
from labelops.services.projects import load_project_context
from labelops.store.models import ImportBatch, Item, Task
from labelops.store.types import utcnow
from labelops.text.normalize import content_hash
from labelops.types import ImportFormat

__all__ = ["ImportReport", "import_item_records", "import_items"]

_IN_CHUNK = 2000  # bound parameters per IN (...) query, safe on SQLite and PostgreSQL
MAX_MEDIA_BYTES = 200 * 1024 * 1024


@dataclass
class ImportReport:
    """What an import did."""

    import_id: int | None
    n_rows: int = 0
    n_created: int = 0
    n_duplicates: int = 0
    n_rejected: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None
    annotations: list[ImportedAnnotation] = field(default_factory=list)


def import_items(
    session: Session,
    actor: Actor,
    project_id: int,
    path: Path,
    *,
    format: ImportFormat = "auto",
    skip_invalid: bool = False,
    report_path: Path | None = None,
    file_name: str | None = None,
    media_root: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import an item file into a project.

    Args:
        path: JSONL, CSV, Parquet or Label Studio JSON export.
        format: File format (``auto``: by suffix / content).
        skip_invalid: Land the valid rows and write the rejected ones to ``report_path``.
        report_path: Where rejected rows go (JSONL); default beside the input file.
        file_name: Name shown in errors (for uploads saved to a temporary path).
        media_root: Folder relative media paths are resolved against (default: the
            file's folder). Media bytes enter the content hash.
        on_progress: Called with the number of rows read so far.

    Raises:
        InvalidInput: The file as a whole is unusable.
        InvalidRows: Some rows are invalid (and ``skip_invalid`` is off); nothing lands.
    """
    authorize(actor, "item.import")
    now = now or utcnow()
    display = file_name or path.name
    media_root = media_root or path.parent
    problems: list[RowProblem] = []
    report = ImportReport(import_id=None)
    with transaction(session):
        context = load_project_context(session, project_id)
        batch_row = ImportBatch(
            project_id=project_id,
            source=display,
            format=format,
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(batch_row)
        session.flush()
        seen_hashes: dict[str, str] = {}
        for batch in iter_item_batches(path, format=format, file_name=display):
            report.n_rows += batch.n_rows
            problems.extend(batch.problems)
            report.annotations.extend(batch.annotations)
            if problems and not skip_invalid:
                if on_progress:
                    on_progress(report.n_rows)
                continue  # keep validating so every bad row is reported; write nothing
            _land_rows(
                session,
                context.project.id,
                batch_row.id,
                batch.rows,
                media_root,
                seen_hashes,
                report,
                problems,
                now,
            )
            if on_progress:
                on_progress(report.n_rows)
        if problems and not skip_invalid:
            raise InvalidRows(display, sorted(problems, key=lambda p: p.line))
        report.rejected = [
            {
                "line": p.line,
                "field": p.field,
                "message": p.render("en", None).split(": ", 1)[-1],
                "message_zh": p.render("zh-Hant", None).split(": ", 1)[-1],
            }
            for p in sorted(problems, key=lambda p: p.line)
        ]
        report.n_rejected = len(problems)
        if problems:
            target = report_path or path.with_name(f"{path.stem}.rejected.jsonl")
            _write_report(target, display, report.rejected)
            report.report_path = str(target)
        report.import_id = batch_row.id
        batch_row.n_rows = report.n_rows
        batch_row.n_created = report.n_created
        batch_row.n_duplicates = report.n_duplicates
        batch_row.n_rejected = report.n_rejected
        batch_row.report = {
            "duplicates": report.duplicates[:1000],
            "rejected": report.rejected[:1000],
            "report_path": report.report_path,
        }
        record_event(
            session,
            actor,
            "items.import",
            "import",
            batch_row.id,
            after={
                "project_id": project_id,
                "source": display,
                "n_rows": report.n_rows,
                "n_created": report.n_created,
                "n_duplicates": report.n_duplicates,
                "n_rejected": report.n_rejected,
            },
            now=now,
        )
    return report


def import_item_records(
    session: Session,
    actor: Actor,
    project_id: int,
    records: Sequence[dict[str, Any]],
    *,
    skip_invalid: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import a batch of item objects (the API's ``POST /items``) with the file rules.

    Line numbers in errors are 1-based positions in ``records``.
    """
    authorize(actor, "item.import")
    # The batch goes through the same reader as a JSONL file, so API clients get
    # exactly the validation and messages that file imports get.
    with tempfile.TemporaryDirectory(prefix="labelops-batch-") as folder:
        path = Path(folder) / "batch.jsonl"
        with open(path, "wb") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        return import_items(
            session,
            actor,
            project_id,
            path,
            format="jsonl",
            skip_invalid=skip_invalid,
            file_name="request",
            report_path=Path(os.devnull) if skip_invalid else None,
            media_root=Path.cwd(),
            now=now,
        )


def _media_blobs(row: ItemRow, media_root: Path) -> list[bytes]:
    blobs = []
    for kind, media_path in row.media:
        candidate = Path(media_path)
        if not candidate.is_absolute():
            candidate = media_root / candidate
        try:
            if candidate.is_file() and candidate.stat().st_size <= MAX_MEDIA_BYTES:
                blobs.append(candidate.read_bytes())
                continue
        except OSError:
            pass
        # Missing media still identifies the item by its path (the UI shows a placeholder).
        blobs.append(f"missing:{kind}:{media_path}".encode())
    return blobs


def _land_rows(
    session: Session,
    project_id: int,
    batch_id: int,
    rows: Sequence[ItemRow],
    media_root: Path,
    seen_hashes: dict[str, str],
    report: ImportReport,
    problems: list[RowProblem],
    now: datetime,
) -> None:
    if not rows:
        return
    hashes = [
        content_hash(row.text, _media_blobs(row, media_root) if row.media else ()) for row in rows
    ]
    external_ids = [row.external_id for row in rows]
    existing: dict[str, tuple[int, str]] = {}
    for start in range(0, len(external_ids), _IN_CHUNK):
        chunk = external_ids[start : start + _IN_CHUNK]
        for item_id, external_id, digest in session.execute(
            select(Item.id, Item.external_id, Item.content_hash).where(Item.external_id.in_(chunk))
        ):
            existing[external_id] = (item_id, digest)
    existing_ids = [item_id for item_id, _ in existing.values()]
    in_project: set[int] = set()
    for start in range(0, len(existing_ids), _IN_CHUNK):
        chunk_ids = existing_ids[start : start + _IN_CHUNK]
        in_project.update(
            session.scalars(
                select(Task.item_id).where(
                    Task.project_id == project_id, Task.item_id.in_(chunk_ids)
                )
            )
        )
    unique_hashes = sorted(set(hashes))
    project_hashes: dict[str, str] = {}
    for start in range(0, len(unique_hashes), _IN_CHUNK):
        chunk_hashes = unique_hashes[start : start + _IN_CHUNK]
        for digest, external_id in session.execute(
            select(Item.content_hash, Item.external_id)
            .join(Task, Task.item_id == Item.id)
            .where(Task.project_id == project_id, Item.content_hash.in_(chunk_hashes))
        ):
            project_hashes.setdefault(digest, external_id)

    new_items: list[dict[str, Any]] = []
    new_item_rows: list[ItemRow] = []
    reused: list[tuple[int, ItemRow]] = []
    for row, digest in zip(rows, hashes, strict=True):
        known = existing.get(row.external_id)
        if known is not None:
            item_id, known_digest = known
            if known_digest != digest:
                problems.append(
                    RowProblem(
                        row.line,
                        "external_id",
                        "errors.import.id_conflict",
                        {"external_id": row.external_id},
                    )
                )
                continue
            if item_id in in_project:
                _duplicate(report, row, "errors.import.duplicate_id", row.external_id)
                continue
            reused.append((item_id, row))
            seen_hashes.setdefault(digest, row.external_id)
            continue
        twin = project_hashes.get(digest) or seen_hashes.get(digest)
        if twin is not None:
            _duplicate(report, row, "errors.import.duplicate_content", twin)
            continue
        seen_hashes[digest] = row.external_id
        new_item_rows.append(row)
        new_items.append(
            {
                "external_id": row.external_id,
                "text": row.text,
                "media": [{"kind": kind, "path": media_path} for kind, media_path in row.media],
                "advertiser": row.advertiser,
                "market": row.market,
                "language": row.language,
                "item_metadata": row.metadata,
                "content_hash": digest,
                "created_at": now,
            }
        )
    task_rows: list[dict[str, Any]] = []
    if new_items:
        created = session.execute(
            insert(Item).returning(Item.id, Item.external_id, sort_by_parameter_order=True),
            new_items,
        ).all()
        for (item_id, _), row in zip(created, new_item_rows, strict=True):
            task_rows.append(_task_row(project_id, batch_id, item_id, row, now))
    for item_id, row in reused:
        task_rows.append(_task_row(project_id, batch_id, item_id, row, now))
    if task_rows:
        session.execute(insert(Task), task_rows)
    report.n_created += len(task_rows)


def _task_row(
    project_id: int, batch_id: int, item_id: int, row: ItemRow, now: datetime
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "item_id": item_id,
        "import_batch_id": batch_id,
        "priority": row.priority or 0,
        "is_gold": False,
        "status": "open",
        "slots_taken": 0,
        "n_labels": 0,
        "created_at": now,
    }


def _duplicate(report: ImportReport, row: ItemRow, message_id: str, twin: str) -> None:
    report.n_duplicates += 1
    if len(report.duplicates) < 10_000:
        report.duplicates.append(
            {
                "line": row.line,
                "external_id": row.external_id,
                "duplicate_of": twin,
                "reason": translate(message_id, "en", external_id=twin),
            }
        )


def _write_report(target: Path, source: str, rejected: list[dict[str, Any]]) -> None:
    if str(target) == os.devnull:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(target.suffix + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        for entry in rejected:
            handle.write(json.dumps({"file": source, **entry}, ensure_ascii=False) + "\n")
    temporary.replace(target)
