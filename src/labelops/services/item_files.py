"""Item files: read and validate JSONL, CSV, TSV, Parquet and Label Studio exports of ad items.

DB-free: this module turns a file into validated :class:`ItemRow` objects plus a list of
:class:`~labelops.errors.RowProblem` (one per bad row, with line, field and reason); the
import service decides what to write. Problems with the *file* itself (empty, not UTF-8
CSV, a missing required column, not a Label Studio task array) raise
:class:`~labelops.errors.InvalidInput` at once, because no row can be trusted then.

When to use what:

* :func:`read_item_file` -- files that fit in memory (up to a few hundred thousand rows):
  every row, every problem and the row count in one :class:`ItemFileResult`.
* :func:`iter_item_batches` -- large files: the same rows and problems in
  :class:`ItemBatch` chunks of ``batch_size`` rows, so a 1M-row file never sits in memory
  as objects at once. Duplicate ``external_id`` detection spans the whole file.
* :func:`detect_item_format` -- what ``format="auto"`` would pick for a path.

The item schema (one JSON object per JSONL line, one CSV or TSV row, one Parquet row, or
the ``data`` of one Label Studio task):

=================  ========================================================================
``external_id``    required, non-empty string (integers are converted with ``str``).
``text``           the ad text, kept byte-exact (no normalisation, no stripping, no newline
                   conversion); ``""`` counts as no text.
``image``          a path or a list of paths; likewise ``audio`` and ``video``.
``media``          a list of ``{"kind": "image"|"audio"|"video", "path": ...}``.
``advertiser``     optional string (an integer is converted with ``str``).
``market``         optional string, e.g. ``"TW"``.
``language``       optional string, e.g. ``"zh-Hant"``.
``metadata``       optional JSON object; in CSV a cell holding JSON text.
``priority``       optional integer.
anything else      copied into ``metadata`` (a clash with a metadata key is a problem).
=================  ========================================================================

At least one of ``text`` and media is required. In CSV and TSV an empty cell means "absent";
a media cell starting with ``[`` is read as a JSON list of paths, and the ``media`` cell
as the JSON list described above. Line numbers are 1-based physical lines for JSONL, CSV
and TSV (a header is line 1; a quoted multi-line CSV row reports the line it starts on),
and 1-based row or task numbers for Parquet and Label Studio.

Media paths are relative to the media root (the ``media_root`` setting,
``LABELOPS_MEDIA_ROOT``, default ``LABELOPS_HOME/media``; :mod:`labelops.media.paths`):
an absolute path or one with a ``..`` part is a row problem (field ``media[0].path``,
``image``, ``image[1]``...), and with ``media_root`` given so is a path that is a folder,
a device, FIFO or socket, or a symbolic link leading out of the root. A missing file is
accepted (the labelling page shows a placeholder). Label Studio's own upload paths
(``/data/upload/...``) are absolute, so such items are refused: copy the files into the
media root and give paths relative to it.

Label Studio (``format="label-studio"``) reads the "JSON" export: an array of tasks
``{"id", "data": {...}, "annotations": [...], "predictions": [...], "meta": {...}}``.
The item is ``data``; its external id is ``data["external_id"]`` when present, else
``str(task["id"])``, and the task id is kept as ``metadata["label_studio_task_id"]``.
Each annotation that is not cancelled and has at least one ``choices`` result becomes an
:class:`ImportedAnnotation` (all chosen values of all ``choices`` results, in order);
predictions are ignored. ``completed_by`` may be a user id (``"7"``) or a user object
(its ``email``, else its ``id``). Old exports' ``completions`` key is read like
``annotations``.

TSV (``.tsv``, ``.tab``) is CSV with tabs and without quoting: a tab ends a field, a
newline a row, and a quote is a plain character.

Files made elsewhere:

* A column map (``columns={"external_id": "id"}``, the CLI's ``--column external_id=id``)
  reads a field from a column (CSV, TSV, Parquet) or key (JSONL, Label Studio ``data``) of
  another name. ``#N`` names the N-th column of a CSV, TSV or Parquet file; a column
  without a name (an index column, say) is called ``#N``, in metadata too. The file must
  then not also have a column of the field's own name; a mapped column the file lacks is
  a file-level error.
* ``header=False`` (CSV, TSV): the first line is a row, and the columns are named ``#1``,
  ``#2``, ... (unmapped ones land in metadata under those names).
* ``hash_ids=True`` (not Label Studio, whose tasks have ids): the file has no ids, and
  each row's ``external_id`` is the first 16 hex digits of the SHA-256 of the row
  (:func:`~labelops.services._item_schema.row_hash_id`). The same row always gets the same
  id, so re-importing is idempotent; a repeated row is the import's content duplicate,
  not a row problem.

Where things are: this module is the public entry (result types, format detection,
batching). The row types and the schema check are in ``services/_item_schema.py``,
the per-format readers in ``services/_item_readers.py``; import from here.
"""

from __future__ import annotations

__all__ = [
    "ColumnMap",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_TEXT_BYTES",
    "MEDIA_KINDS",
    "FileLayout",
    "ImportedAnnotation",
    "ItemBatch",
    "ItemFileResult",
    "ItemRow",
    "check_column_map",
    "detect_item_format",
    "iter_item_batches",
    "parse_column_map",
    "read_item_file",
]

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from labelops.errors import InvalidInput, RowProblem
from labelops.services._item_readers import (
    Record,
    csv_records,
    jsonl_records,
    label_studio_records,
    parquet_records,
    tsv_records,
)
from labelops.services._item_schema import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_TEXT_BYTES,
    MEDIA_KINDS,
    ColumnMap,
    FileLayout,
    ImportedAnnotation,
    ItemRow,
    ItemValidator,
    check_column_map,
    column_position,
    parse_column_map,
    row_hash_id,
)
from labelops.types import ImportFormat

_PARQUET_MAGIC: Final = b"PAR1"
_TABULAR: Final = frozenset({"csv", "tsv", "parquet"})
"""Formats whose columns have positions (``#N``)."""
_READERS: Final[dict[str, Callable[[Path, str, FileLayout], Iterator[list[Record]]]]] = {
    "jsonl": jsonl_records,
    "csv": csv_records,
    "tsv": tsv_records,
    "parquet": parquet_records,
    "label-studio": label_studio_records,
}


@dataclass(frozen=True, slots=True)
class ItemBatch:
    """A chunk of a file, as yielded by :func:`iter_item_batches`."""

    rows: list[ItemRow]
    """Valid rows, in file order."""
    problems: list[RowProblem]
    """Bad rows of this chunk, ordered by line."""
    n_rows: int
    """Rows read in this chunk, valid or not."""
    annotations: list[ImportedAnnotation] = field(default_factory=list)
    """Label Studio annotations of this chunk's valid rows."""


@dataclass(frozen=True, slots=True)
class ItemFileResult:
    """A whole file, as returned by :func:`read_item_file`."""

    rows: list[ItemRow]
    """Valid rows, in file order."""
    problems: list[RowProblem]
    """Every bad row, ordered by line; empty when the file is clean."""
    n_rows: int
    """Rows read, valid or not (``len(rows) + rows with problems``)."""
    annotations: list[ImportedAnnotation] = field(default_factory=list)
    """Label Studio annotations of valid rows (empty for other formats)."""


def detect_item_format(path: str | os.PathLike[str]) -> ImportFormat:
    """The format ``format="auto"`` picks: by suffix, else by the first bytes.

    ``.jsonl``/``.ndjson`` -> ``"jsonl"``, ``.csv`` -> ``"csv"``, ``.tsv``/``.tab`` ->
    ``"tsv"``, ``.parquet``/``.pq`` -> ``"parquet"``, ``.json`` -> ``"label-studio"``.
    Other names are sniffed: the Parquet magic, ``[`` (a JSON array) or ``{`` (JSON lines).

    Args:
        path: The file.

    Returns:
        One of ``"jsonl"``, ``"csv"``, ``"tsv"``, ``"parquet"``, ``"label-studio"``.

    Raises:
        InvalidInput: ``itemfiles.unknown_format`` when neither rule applies.

    Example:
        >>> detect_item_format("ads.ndjson")
        'jsonl'
    """
    suffix = Path(path).suffix.lower()
    by_suffix: dict[str, ImportFormat] = {
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".csv": "csv",
        ".tsv": "tsv",
        ".tab": "tsv",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".json": "label-studio",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"["):
        return "label-studio"
    if stripped.startswith(b"{"):
        return "jsonl"
    raise InvalidInput("itemfiles.unknown_format", file=_display(path, None))


def read_item_file(
    path: str | os.PathLike[str],
    *,
    format: ImportFormat = "auto",
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    file_name: str | None = None,
    columns: ColumnMap | None = None,
    header: bool = True,
    hash_ids: bool = False,
    media_root: Path | None = None,
    media_prefix: str = "",
) -> ItemFileResult:
    """Read and validate a whole item file.

    Args:
        path: The file to read.
        format: ``"jsonl"``, ``"csv"``, ``"tsv"``, ``"parquet"``, ``"label-studio"`` or
            ``"auto"`` (see :func:`detect_item_format`).
        max_text_bytes: Largest accepted ``text`` in UTF-8 bytes; a longer text makes its
            row a problem (with its size), it does not stop the read.
        file_name: Name to use in errors (default: the path's file name), e.g. the name
            of an upload saved to a temporary path.
        columns: Item field -> the file's column it is read from (see the module doc).
        header: CSV/TSV: the first line names the columns (False: it is a row).
        hash_ids: The file has no ids: each row's id is a hash of the row.
        media_root: The media root media paths are checked in (a folder, a symbolic
            link leaving it, a device or FIFO is a row problem); None: their form only
            (absolute or with ``..`` is always a problem). See :mod:`labelops.media.paths`.
        media_prefix: A folder inside ``media_root`` the file's media paths are relative
            to; rows carry the paths relative to the root (``prefix/path``).

    Returns:
        An :class:`ItemFileResult`: valid rows, every bad row's problem and the count.

    Raises:
        InvalidInput: The file as a whole is unusable: empty (``itemfiles.empty_file``),
            no rows (``itemfiles.no_rows``), a required column missing
            (``itemfiles.missing_column``, ``itemfiles.missing_content_column``), not UTF-8
            (``text.not_utf8*``, CSV and Label Studio; JSONL reports such lines as row
            problems), malformed Label Studio JSON, unreadable Parquet, a bad column
            map (``itemfiles.column_map_*``, ``itemfiles.mapped_*``), or an option the
            format does not take (``itemfiles.position_not_tabular``,
            ``itemfiles.no_header_not_delimited``, ``itemfiles.hash_ids_label_studio``).

    Example:
        >>> result = read_item_file("ads.jsonl")  # doctest: +SKIP
        >>> [p.render("zh-Hant") for p in result.problems]  # doctest: +SKIP
    """
    rows: list[ItemRow] = []
    problems: list[RowProblem] = []
    annotations: list[ImportedAnnotation] = []
    n_rows = 0
    for batch in iter_item_batches(
        path,
        format=format,
        batch_size=DEFAULT_BATCH_SIZE,
        max_text_bytes=max_text_bytes,
        file_name=file_name,
        columns=columns,
        header=header,
        hash_ids=hash_ids,
        media_root=media_root,
        media_prefix=media_prefix,
    ):
        rows.extend(batch.rows)
        problems.extend(batch.problems)
        annotations.extend(batch.annotations)
        n_rows += batch.n_rows
    return ItemFileResult(rows=rows, problems=problems, n_rows=n_rows, annotations=annotations)


def iter_item_batches(
    path: str | os.PathLike[str],
    *,
    format: ImportFormat = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    file_name: str | None = None,
    columns: ColumnMap | None = None,
    header: bool = True,
    hash_ids: bool = False,
    media_root: Path | None = None,
    media_prefix: str = "",
) -> Iterator[ItemBatch]:
    """Read and validate an item file in chunks of ``batch_size`` rows.

    Same rules and arguments as :func:`read_item_file`. File-level errors are raised from
    the first ``next()`` where they can be seen (a CSV that stops being UTF-8 half way
    raises when the reader gets there), so callers should write all batches inside one
    transaction and roll back on :class:`~labelops.errors.InvalidInput`.

    Args:
        path: The file to read.
        format: See :func:`read_item_file`.
        batch_size: Rows per batch (valid or not), at least 1.
        max_text_bytes: See :func:`read_item_file`.
        file_name: See :func:`read_item_file`.
        columns: See :func:`read_item_file`.
        header: See :func:`read_item_file`.
        hash_ids: See :func:`read_item_file`.
        media_root: See :func:`read_item_file`.
        media_prefix: See :func:`read_item_file`.

    Yields:
        :class:`ItemBatch` objects; the last one may be shorter.

    Raises:
        InvalidInput: As :func:`read_item_file`; also ``itemfiles.bad_option`` for a
            ``batch_size`` or ``max_text_bytes`` below 1.
    """
    if batch_size < 1:
        raise InvalidInput("itemfiles.bad_option", field="batch_size", value=batch_size)
    if max_text_bytes < 1:
        raise InvalidInput("itemfiles.bad_option", field="max_text_bytes", value=max_text_bytes)
    column_map = check_column_map(columns or {})
    display = _display(path, file_name)
    chosen = detect_item_format(path) if format == "auto" else format
    if chosen not in _READERS:
        raise InvalidInput("itemfiles.bad_option", field="format", value=chosen)
    _check_layout(chosen, column_map, header=header, hash_ids=hash_ids, display=display)
    layout = FileLayout(columns=column_map, header=header, hash_ids=hash_ids)
    validator = ItemValidator(
        max_text_bytes=max_text_bytes,
        unique_ids=not hash_ids,
        media_root=media_root,
        media_prefix=media_prefix,
    )
    rows: list[ItemRow] = []
    problems: list[RowProblem] = []
    annotations: list[ImportedAnnotation] = []
    n_rows = 0
    validate = validator.validate
    for records in _READERS[chosen](Path(path), display, layout):
        for line, obj, pre_problems, row_annotations in records:
            n_rows += 1
            if obj is not None and hash_ids:
                if "external_id" in obj:  # JSONL: a row with an id of its own
                    pre_problems = [
                        *(pre_problems or ()),
                        RowProblem(line, "external_id", "itemfiles.hash_ids_with_ids", {}),
                    ]
                else:
                    obj["external_id"] = row_hash_id(obj)
            if obj is None:  # the reader could not make a record of it at all
                problems.extend(pre_problems or ())
                row = None
            else:
                row = validate(obj, line, problems, pre_problems)
            if row is not None:
                rows.append(row)
                if row_annotations:
                    annotations.extend(row_annotations)
            if n_rows == batch_size:
                problems.sort(key=_by_line)
                yield ItemBatch(
                    rows=rows, problems=problems, n_rows=n_rows, annotations=annotations
                )
                rows, problems, annotations, n_rows = [], [], [], 0
    if n_rows:
        problems.sort(key=_by_line)
        yield ItemBatch(rows=rows, problems=problems, n_rows=n_rows, annotations=annotations)


def _check_layout(
    chosen: str, columns: ColumnMap, *, header: bool, hash_ids: bool, display: str
) -> None:
    """Refuse, before any row is read, a layout option the format cannot honour."""
    if chosen not in _TABULAR:
        positional = next((c for c in columns.values() if column_position(c)), None)
        if positional is not None:
            raise InvalidInput(
                "itemfiles.position_not_tabular", file=display, field="columns", column=positional
            )
    if not header and chosen not in ("csv", "tsv"):
        raise InvalidInput("itemfiles.no_header_not_delimited", file=display, field="header")
    if hash_ids and chosen == "label-studio":
        raise InvalidInput("itemfiles.hash_ids_label_studio", file=display)


def _by_line(problem: RowProblem) -> int:
    return problem.line


def _display(path: str | os.PathLike[str], file_name: str | None) -> str:
    return file_name if file_name is not None else Path(path).name
