"""Importing items into a project: all or nothing, idempotent, deduplicated.

Rows are validated by ``item_files``; this module decides what lands. Within one
transaction it walks the file in batches: an item whose external id exists with the
same content is reused (and reported as a duplicate when the project has it already);
one whose external id exists with *different* content is rejected; an item with the
same content hash as another item of the project (or of the file) is a duplicate.
Any rejected row aborts the whole import unless ``skip_invalid`` is set, in which case
the rejected rows are written to a report file.

Throughput (a million-row file is the benchmark): rows reach the database through the
driver (SQLite ``executemany``, PostgreSQL ``COPY``) with ids reserved up front; the
tasks of new items come from one ``INSERT ... SELECT`` per batch; the common valid row
is checked by a short fast path (``_item_schema.ItemValidator._fast``); content
duplicates are looked up by an 8-byte integer key (``items.content_key``) and confirmed
on the full hash; a batch of all-new rows is decided and zipped into insert rows without
a Python loop; cyclic GC is off for the import; and with ``read_ahead`` (the CLI, large
files) a forked child reads, checks and hashes while this process writes, sending each
batch as marshalled columns.
"""

from __future__ import annotations

import gc
import hashlib
import json
import marshal
import multiprocessing
import os
import pickle
import tempfile
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from labelops.errors import InvalidInput, InvalidRows, RowProblem
from labelops.i18n import translate
from labelops.media import media_subfolder, open_media
from labelops.services._bulk_insert import (
    IN_CHUNK,
    ITEM_COLUMNS,
    ITEMS,
    TASK_COLUMNS,
    TASKS,
    Binder,
    insert_rows,
    items_by_external_id,
    reserve_ids,
    rows_in,
    tasks_from_items,
)
from labelops.services._tx import transaction
from labelops.services.audit_trail import record_event
from labelops.services.item_files import (
    ColumnMap,
    FileLayout,
    ImportedAnnotation,
    ItemRow,
    check_column_map,
    iter_item_batches,
)
from labelops.services.label_studio import land_annotations
from labelops.services.policy import Actor, authorize
from labelops.services.projects import load_project_context
from labelops.store.models import ImportBatch, Task
from labelops.store.types import utcnow
from labelops.text.normalize import content_hash
from labelops.types import ImportFormat

__all__ = ["ImportReport", "import_item_records", "import_items"]

MAX_MEDIA_BYTES = 200 * 1024 * 1024
_IMPORT_CACHE_KIB = -512 * 1024  # PRAGMA cache_size: negative means KiB


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
    n_labels: int = 0
    """Labels landed from a Label Studio export's annotations."""


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
    media_folder: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
    annotations_vendor_id: int | None = None,
    read_ahead: bool = False,
    columns: ColumnMap | None = None,
    header: bool = True,
    hash_ids: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import an item file into a project.

    Args:
        path: JSONL, CSV, TSV, Parquet or Label Studio JSON export.
        format: File format (``auto``: by suffix / content).
        skip_invalid: Land the valid rows and write the rejected ones to ``report_path``.
        report_path: Where rejected rows go (JSONL); default beside the input file.
        file_name: Name shown in errors (for uploads saved to a temporary path).
        media_root: The media root (the ``media_root`` setting; the shells pass it): the
            one folder media paths are resolved in, here and when the items are shown
            and served (:mod:`labelops.media.paths`). A row whose media path is absolute,
            has a ``..`` part, is a folder, a device, FIFO or socket, or a symbolic link
            leading out of the root is a row problem, named by line and field; a missing
            file is accepted. None: paths are checked by form only and every file counts
            as missing. Media bytes enter the content hash.
        media_folder: A folder inside ``media_root`` the file's media paths are relative
            to (the CLI's ``--media-root``); the items store them relative to the root
            (``folder/path``), so the path checked here is the path served.
        on_progress: Called with the number of rows read so far.
        annotations_vendor_id: For a Label Studio export: land its annotations as
            labels of labellers ``ls-<annotator>`` of this vendor (otherwise they are
            only counted in the report).
        read_ahead: Read, check and hash the file in a forked child process while this
            one writes (POSIX only; for large files from the CLI, not inside a server).
        columns: Item field -> the file's column it is read from, e.g.
            ``{"external_id": "id"}`` (see :mod:`labelops.services.item_files`).
        header: CSV/TSV: the first line names the columns (False: it is a row, and the
            columns are ``#1``, ``#2``, ...).
        hash_ids: The file has no ids: each row's ``external_id`` is a hash of the row.

    Raises:
        InvalidInput: The file as a whole is unusable.
        InvalidRows: Some rows are invalid (and ``skip_invalid`` is off); nothing lands.
    """
    authorize(actor, "item.import")
    column_map = check_column_map(columns or {})  # before anything is written
    layout = FileLayout(columns=column_map, header=header, hash_ids=hash_ids)
    now = now or utcnow()
    display = file_name or path.name
    media = _MediaPlace(media_root, _media_prefix(media_root, media_folder))
    problems: list[RowProblem] = []
    report = ImportReport(import_id=None)
    with _gc_paused(), transaction(session), _large_page_cache(session):
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
        # A project without tasks has no item to be a duplicate of but the ones this
        # import lands, which ``seen_hashes`` remembers: the per-batch lookups are skipped.
        project_was_empty = (
            session.execute(
                select(Task.id).where(Task.project_id == context.project.id).limit(1)
            ).first()
            is None
        )
        seen_hashes: dict[str, str] = {}
        source = (
            _read_ahead(path, format, display, media, layout)
            if read_ahead and "fork" in multiprocessing.get_all_start_methods()
            else _hashed_batches(path, format, display, media, layout)
        )
        with closing(source) as batches:
            for batch in batches:
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
                    batch,
                    seen_hashes,
                    report,
                    problems,
                    now,
                    project_was_empty=project_was_empty,
                )
                if on_progress:
                    on_progress(report.n_rows)
        if (
            annotations_vendor_id is not None
            and report.annotations
            and (skip_invalid or not problems)
        ):
            report.n_labels, annotation_problems = land_annotations(
                session, context, report.annotations, vendor_id=annotations_vendor_id, now=now
            )
            problems.extend(annotation_problems)
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
                # Whoever reads the trail later sees where each field came from.
                **({"columns": column_map} if column_map else {}),
                **({} if header else {"header": False}),
                **({"hash_ids": True} if hash_ids else {}),
                "n_rows": report.n_rows,
                "n_created": report.n_created,
                "n_duplicates": report.n_duplicates,
                "n_rejected": report.n_rejected,
                "n_labels": report.n_labels,
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
    media_root: Path | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import a batch of item objects (the API's ``POST /items``) with the file rules.

    Line numbers in errors are 1-based positions in ``records``; ``media_root`` is as for
    :func:`import_items` (the server's media root).
    """
    authorize(actor, "item.import")
    # The batch goes through the same reader as a JSONL file, so API clients get
    # exactly the validation and messages that file imports get.
    with tempfile.TemporaryDirectory(prefix="labelops-batch-") as folder:
        path = Path(folder) / "batch.jsonl"
        with open(path, "wb") as handle:
            for record in records:
                handle.write(_jsonl_line(record))
        return import_items(
            session,
            actor,
            project_id,
            path,
            format="jsonl",
            skip_invalid=skip_invalid,
            file_name="request",
            report_path=Path(os.devnull) if skip_invalid else None,
            media_root=media_root,
            now=now,
        )


def _jsonl_line(record: dict[str, Any]) -> bytes:
    """``record`` as a JSONL line. A string that is not valid Unicode (a lone surrogate,
    which JSON allows as an escape) is written as its escape, for the reader to report
    with its line and field."""
    try:
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True).encode("ascii") + b"\n"


@dataclass(frozen=True, slots=True)
class _HashedBatch:
    """A batch of the file: its valid rows by column, with their content digests.

    Columns of plain values, because they are what crosses the read-ahead pipe and what
    the writer needs: marshalled, a batch loads in ~0.9 us a row (rows of 9-tuples: 1.4,
    and ItemRow objects rebuilt from them another 1), repeated values (market, language,
    advertiser) are sent once per batch, and the writer zips the columns straight into
    the rows it inserts. Empty ``media`` is ``()`` and empty ``metadata`` is None.
    """

    lines: Sequence[int]
    external_ids: Sequence[str]
    texts: Sequence[str | None]
    media: Sequence[tuple[tuple[str, str], ...]]
    advertisers: Sequence[str | None]
    markets: Sequence[str | None]
    languages: Sequence[str | None]
    metadata: Sequence[dict[str, Any] | None]
    priorities: Sequence[int | None]
    hashes: Sequence[str]
    """``content_hash`` of each row (hex SHA-256)."""
    keys: Sequence[int]
    """``content_key`` of each row: the digest's first 8 bytes as a signed integer."""
    problems: list[RowProblem]
    n_rows: int
    annotations: list[ImportedAnnotation]


_N_COLUMNS = 11
"""The leading fields of :class:`_HashedBatch` that are columns (one value per row)."""
_COLUMN_NAMES = tuple(f.name for f in fields(_HashedBatch)[:_N_COLUMNS])


@dataclass(frozen=True)
class _MediaPlace:
    """Where an import's media paths are checked and read: the root, and the folder
    inside it that the file's paths start from."""

    root: Path | None
    prefix: str = ""


def _media_prefix(media_root: Path | None, media_folder: Path | None) -> str:
    """``media_folder`` relative to the root (``""``: none given).

    Raises:
        InvalidInput: It is not a folder inside the root.
    """
    if media_folder is None:
        return ""
    prefix = None if media_root is None else media_subfolder(media_root, media_folder)
    if prefix is None:
        raise InvalidInput(
            "media.root_not_inside",
            field="media_root",
            folder=str(media_folder),
            root=str(media_root),
        )
    return prefix


def _hashed_batches(
    path: Path, format: ImportFormat, display: str, media: _MediaPlace, layout: FileLayout
) -> Generator[_HashedBatch, None, None]:
    """The file's batches, each valid row with its content hash and key."""
    text_digest = _text_digest
    from_bytes = int.from_bytes
    for batch in iter_item_batches(
        path,
        format=format,
        file_name=display,
        columns=layout.columns,
        header=layout.header,
        hash_ids=layout.hash_ids,
        media_root=media.root,
        media_prefix=media.prefix,
    ):
        rows = batch.rows
        hashes: list[str] = []
        keys: list[int] = []
        for row in rows:
            digest = (
                bytes.fromhex(content_hash(row.text, _media_blobs(row, media.root)))
                if row.media
                else text_digest(row.text)
            )
            hashes.append(digest.hex())
            keys.append(from_bytes(digest[:8], "big", signed=True))
        # One object per distinct value, so marshal writes each once per batch.
        pool: dict[str | None, str | None] = {}
        shared = pool.setdefault
        yield _HashedBatch(
            lines=[row.line for row in rows],
            external_ids=[row.external_id for row in rows],
            texts=[row.text for row in rows],
            media=[row.media for row in rows],
            advertisers=[shared(row.advertiser, row.advertiser) for row in rows],
            markets=[shared(row.market, row.market) for row in rows],
            languages=[shared(row.language, row.language) for row in rows],
            metadata=[row.metadata or None for row in rows],
            priorities=[row.priority for row in rows],
            hashes=hashes,
            keys=keys,
            problems=batch.problems,
            n_rows=batch.n_rows,
            annotations=batch.annotations,
        )


def _read_ahead(
    path: Path, format: ImportFormat, display: str, media: _MediaPlace, layout: FileLayout
) -> Generator[_HashedBatch, None, None]:
    """:func:`_hashed_batches` computed in a forked child process, one batch ahead.

    Reading, checking and hashing are a third of an import's CPU time and need no
    database, so on a multi-core machine they overlap with the writes. Each batch
    crosses the pipe as two messages: the rest (row problems, annotations; usually
    empty) pickled, then its columns marshalled (plain lists of strings and numbers;
    pickle was ~1.3 us a row each way).
    A file-level error raised in the child is raised here; if the child dies without a
    word, :class:`RuntimeError`. The child is stopped when the caller stops.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_produce,
        args=(sender, path, format, display, media, layout),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
                if message[0] == "error":
                    raise message[1]
                if message[0] == "done":
                    return
                _kind, codec, problems, annotations, n_rows = message
                blob = receiver.recv_bytes()
            except EOFError:
                raise RuntimeError("the import's reader process ended unexpectedly") from None
            columns = (marshal if codec == "marshal" else pickle).loads(blob)
            yield _HashedBatch(
                **dict(zip(_COLUMN_NAMES, columns, strict=True)),
                problems=problems,
                n_rows=n_rows,
                annotations=annotations,
            )
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _produce(
    sender: Any,
    path: Path,
    format: ImportFormat,
    display: str,
    media: _MediaPlace,
    layout: FileLayout,
) -> None:
    """The child's side of :func:`_read_ahead`."""
    gc.disable()
    try:
        for batch in _hashed_batches(path, format, display, media, layout):
            data = tuple(getattr(batch, name) for name in _COLUMN_NAMES)
            try:
                codec, blob = "marshal", marshal.dumps(data)
            except ValueError:  # a value marshal does not know (a reader's own type)
                codec, blob = "pickle", pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
            sender.send(("batch", codec, batch.problems, batch.annotations, batch.n_rows))
            sender.send_bytes(blob)
        sender.send(("done",))
    except Exception as exc:
        sender.send(("error", exc))
    finally:
        sender.close()


_HASH_PREFIX = hashlib.sha256(b"labelops.content.v1\x00")
_NO_MEDIA = (0).to_bytes(8, "big")


def _text_digest(text: str | None) -> bytes:
    """The SHA-256 of :func:`~labelops.text.normalize.content_hash` for an item without
    media, as 32 bytes.

    The same bytes in the same order (tag, length-prefixed NFC text, zero media count),
    fed in one update to a copy of the tagged hasher: 1.6 us a row instead of 2.3. A test
    checks it against ``content_hash``.
    """
    encoded = unicodedata.normalize("NFC", text or "").encode("utf-8")
    digest = _HASH_PREFIX.copy()
    digest.update(len(encoded).to_bytes(8, "big") + encoded + _NO_MEDIA)
    return digest.digest()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs.

    An import allocates millions of short-lived rows, dicts and tuples but no reference
    cycles; the collector's passes over them were a third of the Python time. It is
    switched back on afterwards (if it was on), which collects anything left over.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def _large_page_cache(session: Session) -> Iterator[None]:
    """SQLite: a 512 MiB page cache on the import's connection while it runs.

    The engine's 64 MiB does not hold the content-hash index of a million items, whose
    random inserts then spill pages to the WAL and read them back before the commit
    (about 6 % of a 1M import's CPU). Pages are allocated as needed, so a small import
    uses little of it; the connection goes back to the pool with its usual setting.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size={_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or 0)}")


def _media_blobs(row: ItemRow, media_root: Path | None) -> list[bytes]:
    """The bytes of each media file of the row, read inside the media root only."""
    blobs = []
    for kind, media_path in row.media:
        opened = open_media(media_path, media_root)
        if opened is not None:
            handle, status = opened
            with handle:
                if status.st_size <= MAX_MEDIA_BYTES:
                    try:
                        blobs.append(handle.read())
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
    batch: _HashedBatch,
    seen_hashes: dict[str, str],
    report: ImportReport,
    problems: list[RowProblem],
    now: datetime,
    *,
    project_was_empty: bool = False,
) -> None:
    """Write a batch's new items and their tasks; count duplicates, report id conflicts.

    Args:
        seen_hashes: ``content_hash -> external_id`` of the rows this import landed so
            far (updated here).
        project_was_empty: The project had no task before this import, so no item of
            it can be a duplicate but the ones ``seen_hashes`` knows.
    """
    external_ids, hashes = batch.external_ids, batch.hashes
    if not external_ids:
        return
    connection = session.connection()
    existing = items_by_external_id(connection, external_ids)
    project_hashes = {} if project_was_empty else _project_hashes(connection, project_id, batch)
    # Indices of the rows that become new items (None: all of them), and (item id, row
    # index) of stored items that get a task in this project.
    keep: list[int] | None = None
    reused: list[tuple[int, int]] = []
    if (
        not existing
        and not project_hashes
        and len(set(hashes)) == len(hashes)
        and seen_hashes.keys().isdisjoint(hashes)
    ):
        # The common case, decided without a Python loop over the rows: all are new.
        seen_hashes.update(zip(hashes, external_ids, strict=True))
    else:
        keep, reused = _sort_rows(
            session,
            project_id,
            batch,
            existing,
            project_hashes,
            seen_hashes,
            report,
            problems,
            project_was_empty=project_was_empty,
        )
    _insert_new(connection, project_id, batch_id, batch, keep, report, now)
    if reused:
        bind = Binder(connection)
        priorities = batch.priorities
        task_ids = reserve_ids(connection, TASKS, len(reused))
        not_gold, created = bind(TASKS.c.is_gold, False), bind(TASKS.c.created_at, now)
        insert_rows(
            connection,
            TASKS,
            TASK_COLUMNS,
            [
                (task_id, project_id, item_id, batch_id, priorities[index] or 0)
                + (not_gold, "open", 0, 0, created)
                for task_id, (item_id, index) in zip(task_ids, reused, strict=True)
            ],
        )
        report.n_created += len(reused)


def _sort_rows(
    session: Session,
    project_id: int,
    batch: _HashedBatch,
    existing: dict[str, tuple[int, str]],
    project_hashes: dict[str, str],
    seen_hashes: dict[str, str],
    report: ImportReport,
    problems: list[RowProblem],
    *,
    project_was_empty: bool,
) -> tuple[list[int], list[tuple[int, int]]]:
    """Row by row: which rows are new items, which reuse a stored item, which are
    duplicates (counted) or id conflicts (reported).

    Returns:
        The indices of the new rows, and ``(item id, row index)`` of the reused ones.
    """
    existing_ids = [] if project_was_empty else [item_id for item_id, _ in existing.values()]
    in_project: set[int] = set()
    for start in range(0, len(existing_ids), IN_CHUNK):
        chunk_ids = existing_ids[start : start + IN_CHUNK]
        in_project.update(
            session.scalars(
                select(Task.item_id).where(
                    Task.project_id == project_id, Task.item_id.in_(chunk_ids)
                )
            )
        )
    lines = batch.lines
    keep: list[int] = []
    reused: list[tuple[int, int]] = []
    for index, (external_id, digest) in enumerate(
        zip(batch.external_ids, batch.hashes, strict=True)
    ):
        known = existing.get(external_id)
        if known is not None:
            item_id, known_digest = known
            if known_digest != digest:
                problems.append(
                    RowProblem(
                        lines[index],
                        "external_id",
                        "errors.import.id_conflict",
                        {"external_id": external_id},
                    )
                )
            elif item_id in in_project or seen_hashes.get(digest) == external_id:
                # The second test: this import landed it (in an earlier batch), which
                # ``in_project`` does not see when the project was empty; only row-hash
                # ids repeat within a file.
                _duplicate(
                    report, lines[index], external_id, "errors.import.duplicate_id", external_id
                )
            else:
                reused.append((item_id, index))
                seen_hashes.setdefault(digest, external_id)
            continue
        twin = project_hashes.get(digest) or seen_hashes.get(digest)
        if twin is not None:
            _duplicate(report, lines[index], external_id, "errors.import.duplicate_content", twin)
            continue
        seen_hashes[digest] = external_id
        keep.append(index)
    return keep, reused


def _insert_new(
    connection: Connection,
    project_id: int,
    batch_id: int,
    batch: _HashedBatch,
    keep: list[int] | None,
    report: ImportReport,
    now: datetime,
) -> None:
    """Insert the batch's new items (the rows at ``keep``; None: all) and their tasks."""
    columns = [getattr(batch, name) for name in _COLUMN_NAMES]
    if keep is not None:
        columns = [[column[index] for index in keep] for column in columns]
    (
        _lines,
        external_ids,
        texts,
        media,
        advertisers,
        markets,
        languages,
        metadata,
        priorities,
        hashes,
        keys,
    ) = columns
    if not external_ids:
        return
    bind = Binder(connection)
    created = bind(ITEMS.c.created_at, now)
    media_column, metadata_column = ITEMS.c.media, ITEMS.c["metadata"]
    empty_media = bind(media_column, [])
    empty_metadata = bind(metadata_column, {})
    if connection.dialect.name == "postgresql":
        # COPY sends text: constant strings skip psycopg's per-row JSON and timestamp
        # dumpers (stdlib json.dumps twice a row was a quarter of the client's time).
        empty_media, empty_metadata = "[]", "{}"
        if isinstance(created, datetime):
            created = created.isoformat()
    # The usual file has no media and no metadata: a constant for every row.
    media_values: Iterable[Any] = (
        [
            bind(media_column, [{"kind": kind, "path": path} for kind, path in pairs])
            if pairs
            else empty_media
            for pairs in media
        ]
        if any(media)
        else repeat(empty_media)
    )
    metadata_values: Iterable[Any] = (
        [bind(metadata_column, value) if value else empty_metadata for value in metadata]
        if any(metadata)
        else repeat(empty_metadata)
    )
    item_ids = reserve_ids(connection, ITEMS, len(external_ids))
    # ITEM_COLUMNS order, id first; zip builds the tuples without a Python loop.
    item_rows = list(
        zip(
            item_ids,
            external_ids,
            texts,
            media_values,
            advertisers,
            markets,
            languages,
            metadata_values,
            hashes,
            keys,
            repeat(created),
        )
    )
    insert_rows(connection, ITEMS, ITEM_COLUMNS, item_rows)
    report.n_created += len(item_ids)
    not_gold = bind(TASKS.c.is_gold, False)
    if tasks_from_items(
        connection,
        item_ids,
        (project_id, batch_id, not_gold, created),
        any_priority=any(priorities),
    ):
        return
    task_ids = reserve_ids(connection, TASKS, len(item_ids))
    insert_rows(
        connection,
        TASKS,
        TASK_COLUMNS,
        [
            (task_id, project_id, item_id, batch_id, priority or 0, not_gold, "open", 0, 0, created)
            for task_id, item_id, priority in zip(task_ids, item_ids, priorities, strict=True)
        ],
    )


def _project_hashes(connection: Connection, project_id: int, batch: _HashedBatch) -> dict[str, str]:
    """``content_hash -> external_id`` of the project's items that share a content key
    with a row of ``batch``.

    Keyed by the full hash, so an item that shares only the 8-byte key with a row (about
    one pair in 10^7 among a million items) is found but never matched.
    """
    found: dict[str, str] = {}
    for digest, external_id in rows_in(
        connection,
        # CROSS JOIN fixes SQLite's join order: with a plain JOIN it walked every task of
        # the project for each chunk, which made a 1M-item import quadratic.
        "SELECT items.content_hash, items.external_id FROM items"
        " CROSS JOIN tasks ON tasks.item_id = items.id"
        " WHERE tasks.project_id = {p} AND items.content_key IN ({})",
        "SELECT items.content_hash, items.external_id FROM items"
        " JOIN unnest(%s::bigint[]) AS wanted(k) ON items.content_key = wanted.k"
        " JOIN tasks ON tasks.item_id = items.id WHERE tasks.project_id = %s",
        (project_id,),
        sorted(set(batch.keys)),
    ):
        found.setdefault(digest, external_id)
    return found


def _duplicate(
    report: ImportReport, line: int, external_id: str, message_id: str, twin: str
) -> None:
    report.n_duplicates += 1
    if len(report.duplicates) < 10_000:
        report.duplicates.append(
            {
                "line": line,
                "external_id": external_id,
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
