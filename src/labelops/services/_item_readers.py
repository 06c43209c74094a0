"""Format readers of item files: JSONL, CSV, TSV, Parquet and Label Studio JSON exports.

Private to ``labelops.services``; :func:`labelops.services.item_files.iter_item_batches`
picks a reader by format. Each reader takes ``(path, display name, file layout)`` and
yields chunks of :data:`Record` tuples: the source line, the raw field dict (None when the
line or task is unreadable, its mapped columns already renamed to their fields), the
problems found while reading it (a malformed JSON cell, a wrong field count, a mapped
field's clash) and, for Label Studio, its annotations. The item schema is checked afterwards by
:class:`~labelops.services._item_schema.ItemValidator`; a problem with the file as a whole
raises :class:`~labelops.errors.InvalidInput` from the reader.
"""

from __future__ import annotations

__all__ = [
    "Record",
    "csv_records",
    "jsonl_records",
    "label_studio_records",
    "parquet_records",
    "tsv_records",
]

import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from labelops.errors import InvalidInput, RowProblem
from labelops.services._item_schema import (
    DEFAULT_BATCH_SIZE,
    MEDIA_KINDS,
    ColumnMap,
    FileLayout,
    ImportedAnnotation,
    column_position,
    problem,
    type_name,
    wrong_type,
)
from labelops.services.json_errors import json_syntax_message
from labelops.text.checks import json_problem
from labelops.text.encoding import decode_utf8_strict, find_encoding_problem

_CHUNK_BYTES: Final = 8 * 1024 * 1024

Record = tuple[int, dict[str, Any] | None, list[RowProblem] | None, list[ImportedAnnotation] | None]
"""(line, record or None when unreadable, problems found while reading, annotations)."""


def _empty(display: str) -> InvalidInput:
    return InvalidInput("itemfiles.empty_file", file=display)


def _check_not_blank(path: Path, display: str) -> None:
    """Raise ``itemfiles.empty_file`` for a file of zero bytes, only whitespace or a BOM."""
    with open(path, "rb") as fh:
        while chunk := fh.read(65536):
            if chunk.removeprefix(b"\xef\xbb\xbf").strip():
                return
    raise _empty(display)


def _mapped_header(header: list[str], columns: ColumnMap, display: str) -> list[str]:
    """The header of a CSV, TSV or Parquet file with each mapped column renamed to its field.

    A column is found by its name, else (``#N``) by its position. A mapped column the
    file lacks, two fields mapped to one column, or a field the file has a column of its
    own for besides the one mapped to it, is a file-level error: every row would be wrong.
    """
    if not columns:
        return header
    renamed = list(header)
    mapped: dict[int, str] = {}
    for field, column in columns.items():
        index = _column_index(header, column)
        if index is None:
            raise InvalidInput(
                "itemfiles.mapped_column_missing",
                file=display,
                line=1,
                field=field,
                column=column,
                columns=", ".join(header),
            )
        if index in mapped:
            raise InvalidInput("itemfiles.column_map_shared_column", field=field, column=column)
        mapped[index] = field
        renamed[index] = field
    for field, column in columns.items():
        if any(name == field and index not in mapped for index, name in enumerate(header)):
            raise InvalidInput(
                "itemfiles.mapped_field_clash", file=display, line=1, field=field, column=column
            )
    return renamed


def _column_index(header: list[str], column: str) -> int | None:
    """Where ``column`` is in ``header``: by name first, else by its ``#N`` position."""
    if column in header:
        return header.index(column)
    position = column_position(column)
    if position is not None and 1 <= position <= len(header):
        return position - 1
    return None


def _map_fields(obj: dict[str, Any], columns: ColumnMap, line: int) -> list[RowProblem] | None:
    """Rename a JSON record's mapped keys to their fields, in place; the clashes found.

    A key the record lacks leaves its field absent, which the schema check reports.
    """
    clashes: list[RowProblem] | None = None
    moved = {field: obj.pop(column) for field, column in columns.items() if column in obj}
    for field, column in columns.items():
        if field in obj:
            clashes = clashes or []
            clashes.append(problem(line, field, "itemfiles.mapped_field_clash", column=column))
    obj.update(moved)
    return clashes


# --------------------------------------------------------------------------------------
# JSON lines


def jsonl_records(path: Path, display: str, layout: FileLayout) -> Iterator[list[Record]]:
    _check_not_blank(path, display)
    columns = layout.columns
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    for first_line, lines in _split_lines(path):
        records: list[Record] = []
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
                        [problem(line, None, "itemfiles.not_an_object", got=type_name(obj))],
                        None,
                    )
                )
                continue
            append((line, obj, _map_fields(obj, columns, line) if columns else None, None))
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
        return problem(line, None, encoding.message_id, byte_offset=encoding.byte_offset)
    if b"\x00" in raw:
        return problem(line, None, "itemfiles.nul_character")
    unstorable = _unstorable_json_line(raw, line)
    if unstorable is not None:
        return unstorable
    message_id, params = json_syntax_message(exc)
    return problem(line, None, message_id, **params)


def _unstorable_json_line(raw: bytes, line: int) -> RowProblem | None:
    """The field of a line that strict parsing refused for a lone surrogate escape or a
    NaN/Infinity (which Python's lenient parser reads): named, with the reason."""
    try:
        lenient = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    found = json_problem(lenient, max_depth=10_000)
    if found is None:
        return None
    path, message_id = found
    return problem(line, path or None, message_id)


# --------------------------------------------------------------------------------------
# CSV


def csv_records(path: Path, display: str, layout: FileLayout) -> Iterator[list[Record]]:
    """Comma-separated values, quoted as Excel and RFC 4180 do."""
    return _delimited_records(path, display, layout, csv.excel)


def tsv_records(path: Path, display: str, layout: FileLayout) -> Iterator[list[Record]]:
    """Tab-separated values: a tab ends a field and a newline a row, and quotes are plain
    characters (TSV has no quoting; the SMS Spam Collection's texts hold 145 of them)."""
    return _delimited_records(path, display, layout, _Tsv)


class _Tsv(csv.Dialect):
    delimiter = "\t"
    quoting = csv.QUOTE_NONE
    quotechar = None
    escapechar = None
    doublequote = False
    skipinitialspace = False
    lineterminator = "\n"
    strict = False


def _delimited_records(
    path: Path, display: str, layout: FileLayout, dialect: type[csv.Dialect]
) -> Iterator[list[Record]]:
    _check_not_blank(path, display)
    # The csv module's field limit (128 KiB by default) is process-wide; oversized texts
    # must be read to report their size, so it is raised once to the platform maximum.
    if csv.field_size_limit() < sys.maxsize:
        _raise_csv_field_limit()
    previous = 0
    try:
        # utf-8-sig drops an Excel BOM; newline="" keeps \r\n inside quoted fields.
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, dialect)
            first = next(reader, None)
            if not first:
                raise _empty(display)
            # A file without a header names its columns by position: #1, #2, ...
            header = _named(first if layout.header else [""] * len(first))
            names = _csv_columns(header, display, layout)
            width = len(names)
            n = 0
            records: list[Record] = []
            if not layout.header:
                n = 1
                records.append(_csv_record(first, names, width, 1))
            previous = reader.line_num
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not record:
                    continue
                n += 1
                records.append(_csv_record(record, names, width, start))
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


def _named(header: list[str]) -> list[str]:
    """A CSV, TSV or Parquet header with each unnamed column named by its position (``#1``
    for the first), the name a column map and the item's metadata then know it by."""
    return [name or f"#{index}" for index, name in enumerate(header, start=1)]


def _csv_columns(header: list[str], display: str, layout: FileLayout) -> list[str]:
    """The field names of a CSV, TSV or Parquet file's columns, checked: the file's own
    header (no name twice) with the column map applied, an id column (or none, with
    row-hash ids) and a content column."""
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InvalidInput("itemfiles.duplicate_column", file=display, line=1, field=column)
        seen.add(column)
    columns = _mapped_header(header, layout.columns, display)
    seen = set(columns)
    if layout.hash_ids and "external_id" in seen:
        raise InvalidInput("itemfiles.hash_ids_with_id_column", file=display, line=1)
    if "external_id" not in seen and not layout.hash_ids:
        raise InvalidInput(
            "itemfiles.missing_column",
            file=display,
            line=1,
            field="external_id",
            column="external_id",
            columns=", ".join(header),
        )
    if not seen & {"text", "media", *MEDIA_KINDS}:
        raise InvalidInput(
            "itemfiles.missing_content_column",
            file=display,
            line=1,
            field="text",
            columns=", ".join(header),
        )
    return columns


def _csv_record(record: list[str], columns: list[str], width: int, line: int) -> Record:
    pre: list[RowProblem] | None = None
    if len(record) != width:
        pre = [problem(line, None, "itemfiles.wrong_field_count", got=len(record), expected=width)]
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
                problem(line, "priority", "itemfiles.not_an_integer", value=priority)
            )
    return line, obj, pre or None, None


def _json_cell(cell: str, name: str, line: int, pre: list[RowProblem]) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError as exc:
        message_id, params = json_syntax_message(exc)
        pre.append(problem(line, name, message_id, **params))
        return None


# --------------------------------------------------------------------------------------
# Parquet


def parquet_records(path: Path, display: str, layout: FileLayout) -> Iterator[list[Record]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_not_blank(path, display)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput("itemfiles.bad_parquet", file=display, reason=str(exc)) from exc
    names = _csv_columns(_named(list(parquet.schema_arrow.names)), display, layout)
    line = 0
    for batch in parquet.iter_batches(batch_size=DEFAULT_BATCH_SIZE):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        records: list[Record] = []
        for row_values in zip(*values, strict=True):
            line += 1
            obj = {n: v for n, v in zip(names, row_values, strict=True) if v is not None}
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


def label_studio_records(path: Path, display: str, layout: FileLayout) -> Iterator[list[Record]]:
    _check_not_blank(path, display)
    data = path.read_bytes()
    try:
        tasks = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        decode_utf8_strict(data, file=display)
        message_id, params = json_syntax_message(exc)
        raise InvalidInput(message_id, file=display, line=exc.lineno, **params) from exc
    if type(tasks) is dict:
        tasks = [tasks]
    if type(tasks) is not list:
        raise InvalidInput("itemfiles.not_a_task_array", file=display, got=type_name(tasks))
    if not tasks:
        raise InvalidInput("itemfiles.no_rows", file=display)
    records: list[Record] = []
    for line, task in enumerate(tasks, start=1):
        if type(task) is not dict:
            records.append(
                (
                    line,
                    None,
                    [problem(line, None, "itemfiles.not_an_object", got=type_name(task))],
                    None,
                )
            )
        else:
            records.append(_label_studio_task(task, line, layout.columns))
    yield records


def _label_studio_task(task: dict[str, Any], line: int, columns: ColumnMap) -> Record:
    pre: list[RowProblem] = []
    data = task.get("data", task if "annotations" not in task else None)
    if type(data) is not dict:
        return line, None, [wrong_type(line, "data", "object", data)], None
    obj = (
        dict(data)
        if data is not task
        else {
            k: v for k, v in task.items() if k not in ("id", "annotations", "predictions", "meta")
        }
    )
    if columns:
        pre.extend(_map_fields(obj, columns, line) or ())
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
        pre.append(wrong_type(line, "annotations", "array", listed))
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
        pre.append(wrong_type(line, where, "object", annotation))
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
                wrong_type(line, f"{where}.result.value.choices", "array of strings", choices)
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
        pre.append(wrong_type(line, f"{where}.lead_time", "seconds", lead_time))
        return None
    created_raw = annotation.get("created_at")
    created_at: datetime | None = None
    if created_raw is not None:
        try:
            created_at = datetime.fromisoformat(str(created_raw))
        except ValueError:
            pre.append(
                problem(
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
