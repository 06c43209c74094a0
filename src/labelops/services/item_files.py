"""Item files: read and validate JSONL, CSV, Parquet and Label Studio exports of ad items.

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

The item schema (one JSON object per JSONL line, one CSV row, one Parquet row, or the
``data`` of one Label Studio task):

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

At least one of ``text`` and media is required. In CSV an empty cell means "absent";
a media cell starting with ``[`` is read as a JSON list of paths, and the ``media`` cell
as the JSON list described above. Line numbers are 1-based physical lines for JSONL and
CSV (the CSV header is line 1; a quoted multi-line row reports the line it starts on),
and 1-based row or task numbers for Parquet and Label Studio.

Label Studio (``format="label-studio"``) reads the "JSON" export: an array of tasks
``{"id", "data": {...}, "annotations": [...], "predictions": [...], "meta": {...}}``.
The item is ``data``; its external id is ``data["external_id"]`` when present, else
``str(task["id"])``, and the task id is kept as ``metadata["label_studio_task_id"]``.
Each annotation that is not cancelled and has at least one ``choices`` result becomes an
:class:`ImportedAnnotation` (all chosen values of all ``choices`` results, in order);
predictions are ignored. ``completed_by`` may be a user id (``"7"``) or a user object
(its ``email``, else its ``id``). Old exports' ``completions`` key is read like
``annotations``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_TEXT_BYTES",
    "MEDIA_KINDS",
    "ImportedAnnotation",
    "ItemBatch",
    "ItemFileResult",
    "ItemRow",
    "detect_item_format",
    "iter_item_batches",
    "read_item_file",
]

import csv
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from labelops.errors import InvalidInput, RowProblem
from labelops.text.encoding import decode_utf8_strict, find_encoding_problem
from labelops.types import ImportFormat

DEFAULT_MAX_TEXT_BYTES: Final = 1_000_000
"""Largest accepted ``text``, in UTF-8 bytes."""
DEFAULT_BATCH_SIZE: Final = 10_000
"""Rows per :class:`ItemBatch` in :func:`iter_item_batches`."""
MEDIA_KINDS: Final = ("image", "audio", "video")
"""Accepted media kinds, also the names of the per-kind path fields."""

_KNOWN_FIELDS: Final = frozenset(
    {
        "external_id",
        "text",
        "media",
        "advertiser",
        "market",
        "language",
        "metadata",
        "priority",
        *MEDIA_KINDS,
    }
)
_MEDIA_FIELDS: Final = frozenset({"media", *MEDIA_KINDS})
_MAX_EXTERNAL_ID_CHARS: Final = 255
_CHUNK_BYTES: Final = 8 * 1024 * 1024
_PARQUET_MAGIC: Final = b"PAR1"
_Record = tuple[
    int, dict[str, Any] | None, list[RowProblem] | None, list["ImportedAnnotation"] | None
]
"""(line, record or None when unreadable, problems found while reading, annotations)."""


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One valid item read from a file."""

    line: int
    """1-based source line (JSONL, CSV) or row/task number (Parquet, Label Studio)."""
    external_id: str
    """The caller's id of the item, unique within the file."""
    text: str | None
    """Ad text exactly as in the file, or ``None`` when the item is media only."""
    media: tuple[tuple[str, str], ...]
    """``(kind, path)`` pairs, kind one of :data:`MEDIA_KINDS`; the ``media`` list first,
    then ``image``, ``audio`` and ``video`` paths."""
    advertiser: str | None
    """Advertiser id or name."""
    market: str | None
    """Market code, e.g. ``"TW"``."""
    language: str | None
    """Language tag, e.g. ``"zh-Hant"``."""
    metadata: dict[str, Any]
    """The ``metadata`` object plus any unknown top-level fields."""
    priority: int | None
    """Queue priority, if given."""


def _row_maker() -> Callable[..., ItemRow]:
    """A constructor for :class:`ItemRow` twice as fast as its ``__init__``.

    A frozen dataclass sets each field through ``object.__setattr__``; writing the slots
    through their descriptors skips that lookup. This runs once per row of million-row
    files, where it is a third of the validation time. The setters are taken from the
    class's own field list, so they cannot drift from it.
    """
    new = object.__new__
    (
        s_line,
        s_external_id,
        s_text,
        s_media,
        s_advertiser,
        s_market,
        s_language,
        s_metadata,
        s_priority,
    ) = (getattr(ItemRow, f.name).__set__ for f in fields(ItemRow))

    def make(
        line: int,
        external_id: str,
        text: str | None,
        media: tuple[tuple[str, str], ...],
        advertiser: str | None,
        market: str | None,
        language: str | None,
        metadata: dict[str, Any],
        priority: int | None,
    ) -> ItemRow:
        row: ItemRow = new(ItemRow)
        s_line(row, line)
        s_external_id(row, external_id)
        s_text(row, text)
        s_media(row, media)
        s_advertiser(row, advertiser)
        s_market(row, market)
        s_language(row, language)
        s_metadata(row, metadata)
        s_priority(row, priority)
        return row

    return make


_make_row = _row_maker()


@dataclass(frozen=True, slots=True)
class ImportedAnnotation:
    """One labeller's answer found in a Label Studio export."""

    external_id: str
    """External id of the item it belongs to."""
    annotator: str
    """Label Studio user: e-mail when the export has it, else the user id; ``""`` if absent."""
    labels: tuple[str, ...]
    """Chosen values of every ``choices`` result, in export order."""
    lead_time_s: float | None
    """Label Studio's ``lead_time`` (seconds spent), if recorded."""
    created_at: datetime | None
    """When the annotation was created (timezone-aware; naive times are taken as UTC)."""
    line: int | None = None
    """1-based task number in the export."""


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

    ``.jsonl``/``.ndjson`` -> ``"jsonl"``, ``.csv`` -> ``"csv"``, ``.parquet``/``.pq`` ->
    ``"parquet"``, ``.json`` -> ``"label-studio"``. Other names are sniffed: the Parquet
    magic, ``[`` (a JSON array) or ``{`` (JSON lines).

    Args:
        path: The file.

    Returns:
        One of ``"jsonl"``, ``"csv"``, ``"parquet"``, ``"label-studio"``.

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
) -> ItemFileResult:
    """Read and validate a whole item file.

    Args:
        path: The file to read.
        format: ``"jsonl"``, ``"csv"``, ``"parquet"``, ``"label-studio"`` or ``"auto"``
            (see :func:`detect_item_format`).
        max_text_bytes: Largest accepted ``text`` in UTF-8 bytes; a longer text makes its
            row a problem (with its size), it does not stop the read.
        file_name: Name to use in errors (default: the path's file name), e.g. the name
            of an upload saved to a temporary path.

    Returns:
        An :class:`ItemFileResult`: valid rows, every bad row's problem and the count.

    Raises:
        InvalidInput: The file as a whole is unusable: empty (``itemfiles.empty_file``),
            no rows (``itemfiles.no_rows``), a required column missing
            (``itemfiles.missing_column``, ``itemfiles.missing_content_column``), not UTF-8
            (``text.not_utf8*``, CSV and Label Studio; JSONL reports such lines as row
            problems), malformed Label Studio JSON, or unreadable Parquet.

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
    display = _display(path, file_name)
    chosen = detect_item_format(path) if format == "auto" else format
    readers: dict[str, Callable[[Path, str], Iterator[list[_Record]]]] = {
        "jsonl": _jsonl_records,
        "csv": _csv_records,
        "parquet": _parquet_records,
        "label-studio": _label_studio_records,
    }
    if chosen not in readers:
        raise InvalidInput("itemfiles.bad_option", field="format", value=chosen)
    validator = _Validator(max_text_bytes=max_text_bytes)
    rows: list[ItemRow] = []
    problems: list[RowProblem] = []
    annotations: list[ImportedAnnotation] = []
    n_rows = 0
    validate = validator.validate
    for records in readers[chosen](Path(path), display):
        for line, obj, pre_problems, row_annotations in records:
            n_rows += 1
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


# --------------------------------------------------------------------------------------
# Validation shared by every format


def _by_line(problem: RowProblem) -> int:
    return problem.line


def _problem(line: int, field_name: str | None, message_id: str, **params: Any) -> RowProblem:
    return RowProblem(line=line, field=field_name, message_id=message_id, params=params)


def _type_name(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class _Validator:
    """Checks one record against the item schema; remembers external ids across batches."""

    def __init__(self, *, max_text_bytes: int) -> None:
        self.max_text_bytes = max_text_bytes
        self.seen: dict[str, int] = {}

    def validate(
        self,
        obj: dict[str, Any],
        line: int,
        problems: list[RowProblem],
        pre_problems: list[RowProblem] | None,
    ) -> ItemRow | None:
        start = len(problems)
        if pre_problems:
            problems.extend(pre_problems)
        get = obj.get

        external_id = get("external_id")
        if type(external_id) is int:
            external_id = str(external_id)
        if external_id is None:
            problems.append(_problem(line, "external_id", "itemfiles.missing_field"))
        elif type(external_id) is not str:
            problems.append(_wrong_type(line, "external_id", "string", external_id))
            external_id = None
        elif not external_id.strip():
            problems.append(_problem(line, "external_id", "itemfiles.empty_external_id"))
            external_id = None
        elif len(external_id) > _MAX_EXTERNAL_ID_CHARS:
            problems.append(
                _problem(
                    line,
                    "external_id",
                    "itemfiles.external_id_too_long",
                    length=len(external_id),
                    limit=_MAX_EXTERNAL_ID_CHARS,
                )
            )
            external_id = None
        elif "\x00" in external_id:
            problems.append(_problem(line, "external_id", "itemfiles.nul_character"))
            external_id = None
        else:
            first = self.seen.get(external_id)
            if first is not None:
                problems.append(
                    _problem(
                        line,
                        "external_id",
                        "itemfiles.duplicate_external_id",
                        external_id=external_id,
                        first_line=first,
                    )
                )
            else:
                self.seen[external_id] = line

        before_content = len(problems)
        text = get("text")
        if text is not None:
            if type(text) is not str:
                problems.append(_wrong_type(line, "text", "string", text))
                text = None
            elif not text:
                text = None
            else:
                n_chars = len(text)
                # A character is 1-4 UTF-8 bytes, so only texts near the limit are encoded.
                if n_chars * 4 > self.max_text_bytes:
                    size = len(text.encode("utf-8", "surrogatepass"))
                    if size > self.max_text_bytes:
                        problems.append(
                            _problem(
                                line,
                                "text",
                                "itemfiles.text_too_large",
                                size_bytes=size,
                                limit_bytes=self.max_text_bytes,
                            )
                        )
                if "\x00" in text:
                    problems.append(_problem(line, "text", "itemfiles.nul_character"))

        media = () if _MEDIA_FIELDS.isdisjoint(obj) else self._media(obj, line, problems)
        if text is None and not media and len(problems) == before_content:
            problems.append(_problem(line, "text", "itemfiles.no_text_or_media"))

        # The common case (absent, or a plain string) is checked inline: this loop runs
        # for every row of million-row files.
        advertiser = get("advertiser")
        if type(advertiser) is not str or not advertiser or "\x00" in advertiser:
            if type(advertiser) is int:
                advertiser = str(advertiser)
            advertiser = self._optional_str(advertiser, "advertiser", line, problems)
        market = get("market")
        if type(market) is not str or not market or "\x00" in market:
            market = self._optional_str(market, "market", line, problems)
        language = get("language")
        if type(language) is not str or not language or "\x00" in language:
            language = self._optional_str(language, "language", line, problems)

        metadata = get("metadata")
        if metadata is None:
            metadata = {}
        elif type(metadata) is not dict:
            problems.append(_wrong_type(line, "metadata", "object", metadata))
            metadata = {}
        elif metadata and _contains_nul(metadata):
            problems.append(_problem(line, "metadata", "itemfiles.nul_character"))

        priority = get("priority")
        if priority is not None and type(priority) is not int:
            problems.append(_wrong_type(line, "priority", "integer", priority))

        if len(obj) > 1 and not _KNOWN_FIELDS.issuperset(obj):
            metadata = dict(metadata)
            for key, value in obj.items():
                if key in _KNOWN_FIELDS:
                    continue
                if key in metadata:
                    problems.append(_problem(line, key, "itemfiles.metadata_conflict", key=key))
                elif _contains_nul(value):
                    problems.append(_problem(line, key, "itemfiles.nul_character"))
                else:
                    metadata[key] = value

        if len(problems) != start or external_id is None:
            return None
        return _make_row(
            line, external_id, text, media, advertiser, market, language, metadata, priority
        )

    @staticmethod
    def _optional_str(value: Any, name: str, line: int, problems: list[RowProblem]) -> str | None:
        if value is None or value == "":
            return None
        if type(value) is not str:
            problems.append(_wrong_type(line, name, "string", value))
            return None
        if "\x00" in value:
            problems.append(_problem(line, name, "itemfiles.nul_character"))
        return value

    @staticmethod
    def _media(
        obj: dict[str, Any], line: int, problems: list[RowProblem]
    ) -> tuple[tuple[str, str], ...]:
        found: list[tuple[str, str]] = []
        listed = obj.get("media")
        if listed is not None:
            if type(listed) is not list:
                problems.append(_wrong_type(line, "media", "array", listed))
            else:
                for index, entry in enumerate(listed):
                    where = f"media[{index}]"
                    if type(entry) is not dict:
                        problems.append(_wrong_type(line, where, "object", entry))
                        continue
                    kind, path = entry.get("kind"), entry.get("path")
                    if kind not in MEDIA_KINDS:
                        problems.append(
                            _problem(
                                line, f"{where}.kind", "itemfiles.bad_media_kind", kind=str(kind)
                            )
                        )
                    elif type(path) is not str or not path:
                        problems.append(_problem(line, f"{where}.path", "itemfiles.bad_media_path"))
                    elif "\x00" in path:
                        problems.append(_problem(line, f"{where}.path", "itemfiles.nul_character"))
                    else:
                        found.append((kind, path))
        for kind in MEDIA_KINDS:
            value = obj.get(kind)
            if value is None or value == "":
                continue
            paths = [value] if type(value) is str else value
            if type(paths) is not list:
                problems.append(_wrong_type(line, kind, "string or array", value))
                continue
            for index, path in enumerate(paths):
                if type(path) is not str or not path:
                    where = kind if type(value) is str else f"{kind}[{index}]"
                    problems.append(_problem(line, where, "itemfiles.bad_media_path"))
                elif "\x00" in path:
                    problems.append(_problem(line, kind, "itemfiles.nul_character"))
                else:
                    found.append((kind, path))
        return tuple(found)


def _wrong_type(line: int, name: str, expected: str, value: Any) -> RowProblem:
    return _problem(line, name, "itemfiles.wrong_type", expected=expected, got=_type_name(value))


def _display(path: str | os.PathLike[str], file_name: str | None) -> str:
    return file_name if file_name is not None else Path(path).name


def _empty(display: str) -> InvalidInput:
    return InvalidInput("itemfiles.empty_file", file=display)


def _check_not_blank(path: Path, display: str) -> None:
    """Raise ``itemfiles.empty_file`` for a file of zero bytes, only whitespace or a BOM."""
    with open(path, "rb") as fh:
        while chunk := fh.read(65536):
            if chunk.removeprefix(b"\xef\xbb\xbf").strip():
                return
    raise _empty(display)


# --------------------------------------------------------------------------------------
# JSON lines


def _jsonl_records(path: Path, display: str) -> Iterator[list[_Record]]:
    _check_not_blank(path, display)
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    for first_line, lines in _split_lines(path):
        records: list[_Record] = []
        append = records.append
        for line, raw in enumerate(lines, start=first_line):
            try:
                obj = loads(raw)
            except decode_error as exc:
                if raw and not raw.isspace():  # blank lines are skipped
                    append((line, None, [_json_line_problem(raw, line, exc)], None))
                continue
            if type(obj) is not dict:
                append(
                    (
                        line,
                        None,
                        [_problem(line, None, "itemfiles.not_an_object", got=_type_name(obj))],
                        None,
                    )
                )
                continue
            append((line, obj, None, None))
        yield records


def _split_lines(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """``(number of the first line, lines)`` per chunk of the file, split at ``\\n``.

    A line longer than a chunk is collected as pieces and joined once, so a 50 MB line
    costs one copy, not one per chunk.
    """
    line = 1
    pending: list[bytes] = []
    first = True
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            if first:
                chunk = chunk.removeprefix(b"\xef\xbb\xbf")
                first = False
            if b"\n" not in chunk:
                pending.append(chunk)
                continue
            parts = chunk.split(b"\n")
            if pending:
                pending.append(parts[0])
                parts[0] = b"".join(pending)
            pending = [parts.pop()]
            yield line, parts
            line += len(parts)
    tail = b"".join(pending)
    if tail:
        yield line, [tail]


def _json_line_problem(raw: bytes, line: int, exc: ValueError) -> RowProblem:
    encoding = find_encoding_problem(raw)
    if encoding is not None:
        return _problem(line, None, encoding.message_id, byte_offset=encoding.byte_offset)
    if b"\x00" in raw:
        return _problem(line, None, "itemfiles.nul_character")
    column = getattr(exc, "colno", None)
    reason = getattr(exc, "msg", str(exc))
    return _problem(line, None, "itemfiles.malformed_json", reason=reason, column=column)


# --------------------------------------------------------------------------------------
# CSV


def _csv_records(path: Path, display: str) -> Iterator[list[_Record]]:
    _check_not_blank(path, display)
    # The csv module's field limit (128 KiB by default) is process-wide; oversized texts
    # must be read to report their size, so it is raised once to the platform maximum.
    if csv.field_size_limit() < sys.maxsize:
        _raise_csv_field_limit()
    try:
        # utf-8-sig drops an Excel BOM; newline="" keeps \r\n inside quoted fields.
        with open(path, encoding="utf-8-sig", newline="") as fh:
            previous = 0
            reader = csv.reader(fh, strict=False)
            header = next(reader, None)
            if not header:
                raise _empty(display)
            columns = _csv_columns(header, display)
            width = len(columns)
            previous = reader.line_num
            n = 0
            records: list[_Record] = []
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not record:
                    continue
                n += 1
                records.append(_csv_record(record, columns, width, start))
                if len(records) == DEFAULT_BATCH_SIZE:
                    yield records
                    records = []
            yield records
            if n == 0:
                raise InvalidInput("itemfiles.no_rows", file=display)
    except UnicodeDecodeError as exc:
        decode_utf8_strict(path.read_bytes(), file=display)
        raise InvalidInput("text.not_utf8", file=display) from exc
    except csv.Error as exc:
        raise InvalidInput(
            "itemfiles.csv_syntax", file=display, line=previous + 1, reason=str(exc)
        ) from exc


def _raise_csv_field_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # C long is 32 bits on Windows
            limit //= 2


def _csv_columns(header: list[str], display: str) -> list[str]:
    columns = list(header)
    seen: set[str] = set()
    for column in columns:
        if column in seen and column:
            raise InvalidInput("itemfiles.duplicate_column", file=display, line=1, field=column)
        seen.add(column)
    if "external_id" not in seen:
        raise InvalidInput(
            "itemfiles.missing_column",
            file=display,
            line=1,
            field="external_id",
            column="external_id",
            columns=", ".join(columns),
        )
    if not seen & {"text", "media", *MEDIA_KINDS}:
        raise InvalidInput(
            "itemfiles.missing_content_column",
            file=display,
            line=1,
            field="text",
            columns=", ".join(columns),
        )
    return columns


def _csv_record(record: list[str], columns: list[str], width: int, line: int) -> _Record:
    pre: list[RowProblem] | None = None
    if len(record) != width:
        pre = [_problem(line, None, "itemfiles.wrong_field_count", got=len(record), expected=width)]
    obj: dict[str, Any] = {}
    for name, value in zip(columns, record, strict=False):
        if value:
            obj[name] = value
    for name in ("metadata", "media"):
        cell = obj.get(name)
        if cell is not None:
            obj[name] = _json_cell(cell, name, line, pre := pre or [])
    for kind in MEDIA_KINDS:
        cell = obj.get(kind)
        if cell is not None and cell.startswith("["):
            obj[kind] = _json_cell(cell, kind, line, pre := pre or [])
    priority = obj.get("priority")
    if priority is not None:
        try:
            obj["priority"] = int(priority)
        except ValueError:
            obj["priority"] = None
            (pre := pre or []).append(
                _problem(line, "priority", "itemfiles.not_an_integer", value=priority)
            )
    return line, obj, pre or None, None


def _json_cell(cell: str, name: str, line: int, pre: list[RowProblem]) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError as exc:
        pre.append(
            _problem(line, name, "itemfiles.malformed_json", reason=exc.msg, column=exc.colno)
        )
        return None


# --------------------------------------------------------------------------------------
# Parquet


def _parquet_records(path: Path, display: str) -> Iterator[list[_Record]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_not_blank(path, display)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput("itemfiles.bad_parquet", file=display, reason=str(exc)) from exc
    columns = _csv_columns(list(parquet.schema_arrow.names), display)
    line = 0
    for batch in parquet.iter_batches(batch_size=DEFAULT_BATCH_SIZE):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        records: list[_Record] = []
        for row_values in zip(*values, strict=True):
            line += 1
            obj = {n: v for n, v in zip(columns, row_values, strict=True) if v is not None}
            pre: list[RowProblem] | None = None
            for name in ("metadata", "media", *MEDIA_KINDS):
                value = obj.get(name)
                if type(value) is str and (name in ("metadata", "media") or value.startswith("[")):
                    obj[name] = _json_cell(value, name, line, pre := pre or [])
                elif name == "metadata" and type(value) is list:
                    obj[name] = dict(value)  # an Arrow map column reads as key/value pairs
            priority = obj.get("priority")
            if type(priority) is float and priority.is_integer():
                # pandas stores an integer column with gaps as float64
                obj["priority"] = int(priority)
            records.append((line, obj, pre, None))
        yield records
    if line == 0:
        raise InvalidInput("itemfiles.no_rows", file=display)


# --------------------------------------------------------------------------------------
# Label Studio JSON export


def _label_studio_records(path: Path, display: str) -> Iterator[list[_Record]]:
    _check_not_blank(path, display)
    data = path.read_bytes()
    try:
        tasks = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        decode_utf8_strict(data, file=display)
        raise InvalidInput(
            "itemfiles.malformed_json",
            file=display,
            line=exc.lineno,
            reason=exc.msg,
            column=exc.colno,
        ) from exc
    if type(tasks) is dict:
        tasks = [tasks]
    if type(tasks) is not list:
        raise InvalidInput("itemfiles.not_a_task_array", file=display, got=_type_name(tasks))
    if not tasks:
        raise InvalidInput("itemfiles.no_rows", file=display)
    records: list[_Record] = []
    for line, task in enumerate(tasks, start=1):
        if type(task) is not dict:
            records.append(
                (
                    line,
                    None,
                    [_problem(line, None, "itemfiles.not_an_object", got=_type_name(task))],
                    None,
                )
            )
        else:
            records.append(_label_studio_task(task, line))
    yield records


def _label_studio_task(task: dict[str, Any], line: int) -> _Record:
    pre: list[RowProblem] = []
    data = task.get("data", task if "annotations" not in task else None)
    if type(data) is not dict:
        return line, None, [_wrong_type(line, "data", "object", data)], None
    obj = (
        dict(data)
        if data is not task
        else {
            k: v for k, v in task.items() if k not in ("id", "annotations", "predictions", "meta")
        }
    )
    task_id = task.get("id")
    if obj.get("external_id") is None and task_id is not None:
        obj["external_id"] = task_id if type(task_id) in (int, str) else None
    if task_id is not None:
        metadata = obj.get("metadata")
        if metadata is None:
            obj["metadata"] = metadata = {}
        if type(metadata) is dict:
            obj["metadata"] = {**metadata, "label_studio_task_id": task_id}
    external_id = obj.get("external_id")
    annotations: list[ImportedAnnotation] = []
    listed = task.get("annotations", task.get("completions")) or []
    if type(listed) is not list:
        pre.append(_wrong_type(line, "annotations", "array", listed))
        listed = []
    for index, annotation in enumerate(listed):
        found = _label_studio_annotation(annotation, index, line, str(external_id), pre)
        if found is not None:
            annotations.append(found)
    return line, obj, pre or None, annotations


def _label_studio_annotation(
    annotation: Any, index: int, line: int, external_id: str, pre: list[RowProblem]
) -> ImportedAnnotation | None:
    where = f"annotations[{index}]"
    if type(annotation) is not dict:
        pre.append(_wrong_type(line, where, "object", annotation))
        return None
    if annotation.get("was_cancelled"):
        return None
    labels: list[str] = []
    for result in annotation.get("result") or []:
        if type(result) is not dict or result.get("type") != "choices":
            continue
        choices = (result.get("value") or {}).get("choices")
        if type(choices) is not list or not all(type(c) is str for c in choices):
            pre.append(
                _wrong_type(line, f"{where}.result.value.choices", "array of strings", choices)
            )
            return None
        labels.extend(choices)
    if not labels:
        return None
    user = annotation.get("completed_by")
    if type(user) is dict:
        annotator = str(user.get("email") or user.get("id") or "")
    elif user is None:
        annotator = ""
    else:
        annotator = str(user)
    lead_time = annotation.get("lead_time")
    if lead_time is not None and (type(lead_time) not in (int, float) or lead_time < 0):
        pre.append(_wrong_type(line, f"{where}.lead_time", "seconds", lead_time))
        return None
    created_raw = annotation.get("created_at")
    created_at: datetime | None = None
    if created_raw is not None:
        try:
            created_at = datetime.fromisoformat(str(created_raw))
        except ValueError:
            pre.append(
                _problem(
                    line, f"{where}.created_at", "itemfiles.bad_datetime", value=str(created_raw)
                )
            )
            return None
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
    return ImportedAnnotation(
        external_id=external_id,
        annotator=annotator,
        labels=tuple(labels),
        lead_time_s=None if lead_time is None else float(lead_time),
        created_at=created_at,
        line=line,
    )
