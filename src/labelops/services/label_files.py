"""Label files: deterministic JSONL, CSV, Parquet and Label Studio exports of labels.

DB-free: the export service queries final or raw labels and hands the rows (any
``Mapping``, e.g. SQLAlchemy ``RowMapping`` or plain dicts) to a writer here.

Every writer produces byte-identical files for identical rows, whatever order the rows
come in: rows are sorted (final labels by ``external_id``; raw labels by ``external_id``,
``labeller``, ``revision``, then the whole row), keys are sorted, nothing reads the clock,
and Parquet is written with fixed options (its only version-dependent bytes are the
writer's ``created_by`` string, constant for one pyarrow release). Files are written to a
temporary name and renamed, so a failed export leaves no half-written file.

When to use what:

* :func:`write_final_labels` -- one row per item: the aggregated answer (``--format``
  ``jsonl``, ``csv``, ``parquet`` or ``label-studio`` for re-import into Label Studio).
* :func:`write_raw_labels` -- one row per labeller answer with server timing
  (``jsonl``, ``csv`` or ``parquet``).

Cell encoding in CSV and Parquet: strings as they are; objects and lists of objects as
JSON text with sorted keys; in CSV also lists (e.g. a multi-label ``final_label``) as
JSON arrays, ``None`` as an empty cell, booleans as ``true``/``false`` and date-times as
RFC 3339. In Parquet a ``final_label`` column holding any list is a ``list<string>``
column (single labels become one-element lists).
"""

from __future__ import annotations

__all__ = [
    "FINAL_LABEL_FIELDS",
    "RAW_LABEL_FIELDS",
    "WrittenFile",
    "write_final_labels",
    "write_raw_labels",
]

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, Final, Literal

import orjson

from labelops.errors import InvalidInput
from labelops.types import ExportFormat

FINAL_LABEL_FIELDS: Final = ("external_id", "final_label", "method", "confidence", "status")
"""Fields every final-label row must have (others, e.g. ``text``, ``snapshot_id``,
``n_labels`` or ``labels``, are exported too)."""
RAW_LABEL_FIELDS: Final = (
    "external_id",
    "labeller",
    "label",
    "revision",
    "served_at",
    "submitted_at",
    "active_ms",
)
"""Fields every raw-label row must have."""

_OPTIONS: Final = orjson.OPT_SORT_KEYS
_MEDIA_FIELDS: Final = ("image", "audio", "video")
_BATCH: Final = 20_000


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """What a writer wrote."""

    path: Path
    """The file."""
    n_rows: int
    """Rows (or Label Studio tasks) written."""
    n_bytes: int
    """File size in bytes."""
    sha256: str
    """Hex SHA-256 of the file, for export manifests and determinism checks."""


def write_final_labels(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    format: ExportFormat = "jsonl",
    label_studio_as: Literal["predictions", "annotations"] = "predictions",
    from_name: str = "label",
    to_name: str = "text",
) -> WrittenFile:
    """Write final labels, one row per item, sorted by ``external_id``.

    Args:
        rows: Mappings with at least :data:`FINAL_LABEL_FIELDS`; ``final_label`` is a
            string, a list of strings (multi-label) or ``None`` (no final label yet).
        path: Output file (replaced if it exists).
        format: ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"label-studio"``.
        label_studio_as: For ``"label-studio"``: carry the final label as a prediction
            (``model_version`` = ``method``, ``score`` = ``confidence``; the default, since
            an aggregate is not a person's answer) or as an annotation.
        from_name: Label Studio ``<Choices name=...>`` of the labelling config.
        to_name: Label Studio object tag the choices refer to (``<Text name=...>``).

    Returns:
        A :class:`WrittenFile`.

    Raises:
        InvalidInput: A row lacks a required field (``itemfiles.export_missing_field``;
            ``line`` is the row's 1-based position in ``rows``), two rows share an
            ``external_id`` (``itemfiles.export_duplicate``), or a value cannot be
            serialised (``itemfiles.export_unserialisable``).

    Example:
        >>> write_final_labels(  # doctest: +SKIP
        ...     [{"external_id": "ad-1", "final_label": "scam", "method": "dawid_skene",
        ...       "confidence": 0.97, "status": "final"}], "final.jsonl")
    """
    prepared = _prepare(rows, FINAL_LABEL_FIELDS)
    prepared.sort(key=_by_external_id)
    for previous, current in zip(prepared, prepared[1:], strict=False):
        if previous["external_id"] == current["external_id"]:
            raise InvalidInput(
                "itemfiles.export_duplicate",
                field="external_id",
                external_id=str(current["external_id"]),
            )
    if format == "label-studio":
        tasks = [_final_task(row, label_studio_as, from_name, to_name) for row in prepared]
        return _write(path, lambda fh: fh.write(_dumps(tasks) + b"\n"), len(tasks))
    return _write_table(prepared, path, format, FINAL_LABEL_FIELDS)


def write_raw_labels(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    format: ExportFormat = "jsonl",
) -> WrittenFile:
    """Write every labeller's answer with its server-side timing.

    Args:
        rows: Mappings with at least :data:`RAW_LABEL_FIELDS` (``served_at`` and
            ``submitted_at`` as aware ``datetime``, ``active_ms`` in milliseconds,
            ``label`` a string or list of strings).
        path: Output file (replaced if it exists).
        format: ``"jsonl"``, ``"csv"`` or ``"parquet"``.

    Returns:
        A :class:`WrittenFile`.

    Raises:
        InvalidInput: A row lacks a required field, a value cannot be serialised, or
            ``format`` is ``"label-studio"`` (``itemfiles.export_format_unsupported``:
            Label Studio identifies annotators by its own user ids, which labelops does
            not know; export final labels instead).
    """
    if format == "label-studio":
        raise InvalidInput("itemfiles.export_format_unsupported", field="format", format=format)
    prepared = _prepare(rows, RAW_LABEL_FIELDS)
    keyed = [(_raw_key(row), _dumps(row), row) for row in prepared]
    keyed.sort(key=lambda entry: (entry[0], entry[1]))
    if format == "jsonl":
        return _write_jsonl([entry[1] for entry in keyed], path)
    return _write_table([entry[2] for entry in keyed], path, format, RAW_LABEL_FIELDS)


# --------------------------------------------------------------------------------------


def _by_external_id(row: dict[str, Any]) -> str:
    return str(row["external_id"])


def _raw_key(row: dict[str, Any]) -> tuple[str, str, int]:
    revision = row["revision"]
    return (
        str(row["external_id"]),
        str(row["labeller"]),
        revision if type(revision) is int else -1,
    )


def _prepare(rows: Sequence[Mapping[str, Any]], required: Sequence[str]) -> list[dict[str, Any]]:
    prepared = [dict(row) for row in rows]
    needed = frozenset(required)
    for position, copy in enumerate(prepared, start=1):
        if not needed.issubset(copy):
            missing = next(name for name in required if name not in copy)
            raise InvalidInput("itemfiles.export_missing_field", line=position, field=missing)
    return prepared


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        return value.item()
    raise TypeError(type(value).__name__)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        got = str(exc.__cause__) if exc.__cause__ is not None else str(exc)
        raise InvalidInput("itemfiles.export_unserialisable", got=got) from exc


def _write(
    path: str | os.PathLike[str], body: Callable[[io.BufferedWriter], object], n_rows: int
) -> WrittenFile:
    """Write through ``body`` into a temporary file next to ``path``, then rename it."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            body(fh)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return WrittenFile(
        path=target, n_rows=n_rows, n_bytes=target.stat().st_size, sha256=digest.hexdigest()
    )


def _write_jsonl(lines: list[bytes], path: str | os.PathLike[str]) -> WrittenFile:
    def body(fh: io.BufferedWriter) -> None:
        for start in range(0, len(lines), _BATCH):
            chunk = lines[start : start + _BATCH]
            fh.write(b"\n".join(chunk))
            fh.write(b"\n")

    return _write(path, body, len(lines))


def _columns(rows: list[dict[str, Any]], required: Sequence[str]) -> list[str]:
    extra: set[str] = set()
    for row in rows:
        extra.update(row)
    extra.difference_update(required)
    return [*required, *sorted(extra)]


def _write_table(
    rows: list[dict[str, Any]],
    path: str | os.PathLike[str],
    format: ExportFormat,
    required: Sequence[str],
) -> WrittenFile:
    if format == "jsonl":
        return _write_jsonl([_dumps(row) for row in rows], path)
    columns = _columns(rows, required)
    if format == "csv":
        return _write(path, lambda fh: _csv_body(fh, rows, columns), len(rows))
    if format == "parquet":
        return _write(path, lambda fh: _parquet_body(fh, rows, columns), len(rows))
    raise InvalidInput("itemfiles.export_format_unsupported", field="format", format=format)


def _csv_cell(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    encoded = _dumps(value).decode("utf-8")
    if encoded.startswith('"'):  # date-times, enums, UUIDs: the plain string
        decoded: str = orjson.loads(encoded)
        return decoded
    return encoded


def _csv_body(fh: io.BufferedWriter, rows: list[dict[str, Any]], columns: list[str]) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=False)
    # "\n" rows: the same bytes on every platform; fields holding \r or \n are quoted.
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(name)) for name in columns])
    text.flush()
    text.detach()


def _parquet_body(fh: io.BufferedWriter, rows: list[dict[str, Any]], columns: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_column(name, [row.get(name) for row in rows], pa) for name in columns]
    table = pa.Table.from_arrays(arrays, names=columns)
    # Fixed options, spelled out so a pyarrow default change cannot alter the bytes.
    pq.write_table(
        table,
        fh,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        row_group_size=1 << 20,
        store_schema=True,
        write_page_index=False,
        write_page_checksum=False,
    )


def _arrow_column(name: str, values: list[Any], pa: Any) -> Any:
    def is_nested(value: Any) -> bool:
        return isinstance(value, Mapping) or (
            isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value)
        )

    if any(is_nested(v) for v in values):
        return pa.array(
            [None if v is None else _dumps(v).decode("utf-8") for v in values], type=pa.string()
        )
    if name in ("final_label", "label") and any(isinstance(v, list | tuple) for v in values):
        return pa.array(
            [None if v is None else [v] if isinstance(v, str) else list(v) for v in values],
            type=pa.list_(pa.string()),
        )
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types (e.g. int and str ids): JSON text keeps every value exactly.
        return pa.array([None if v is None else _csv_cell(v) for v in values], type=pa.string())


def _final_task(
    row: dict[str, Any], label_studio_as: str, from_name: str, to_name: str
) -> dict[str, Any]:
    data: dict[str, Any] = {"external_id": row["external_id"]}
    meta: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("text", *_MEDIA_FIELDS):
            if value is not None:
                data[key] = value
        elif key not in ("external_id", "final_label"):
            meta[key] = value
    task: dict[str, Any] = {"data": data, "meta": meta}
    final = row["final_label"]
    choices = [] if final is None else [final] if isinstance(final, str) else list(final)
    results = (
        [
            {
                "from_name": from_name,
                "to_name": to_name,
                "type": "choices",
                "value": {"choices": choices},
            }
        ]
        if choices
        else []
    )
    if label_studio_as == "annotations":
        task["annotations"] = (
            [{"result": results, "ground_truth": False, "was_cancelled": False}] if results else []
        )
    else:
        prediction: dict[str, Any] = {"model_version": str(row["method"]), "result": results}
        if row["confidence"] is not None:
            prediction["score"] = row["confidence"]
        task["predictions"] = [prediction] if results else []
    return task
