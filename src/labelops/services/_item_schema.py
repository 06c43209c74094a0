"""The item schema: the row and annotation types an item file yields, and the check of one
record against the schema.

Private to ``labelops.services``; :mod:`labelops.services.item_files` is the public entry
and re-exports the public names (its docstring describes the schema). The format readers
(:mod:`labelops.services._item_readers`) turn a file into plain records;
:class:`ItemValidator` turns each record into an :class:`ItemRow` or row problems, and
remembers external ids across batches so duplicates are found file-wide.
"""

from __future__ import annotations

__all__ = [
    "ColumnMap",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_TEXT_BYTES",
    "MEDIA_KINDS",
    "FileLayout",
    "ImportedAnnotation",
    "ItemRow",
    "ItemValidator",
    "check_column_map",
    "column_position",
    "make_row",
    "parse_column_map",
    "problem",
    "row_hash_id",
    "type_name",
    "wrong_type",
]

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from labelops.errors import InvalidInput, RowProblem
from labelops.media import media_path_problem
from labelops.text.checks import MAX_JSON_DEPTH, NUL_CHARACTER, json_problem, text_problem

DEFAULT_MAX_TEXT_BYTES: Final = 1_000_000
"""Largest accepted ``text``, in UTF-8 bytes."""
DEFAULT_BATCH_SIZE: Final = 10_000
"""Rows per :class:`~labelops.services.item_files.ItemBatch` in
:func:`~labelops.services.item_files.iter_item_batches`."""
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
_FAST_FIELDS: Final = frozenset(
    {"external_id", "text", "advertiser", "market", "language", "priority"}
)
"""Fields of a row :meth:`ItemValidator._fast` can take (no media, no metadata)."""
_MAX_EXTERNAL_ID_CHARS: Final = 255

ColumnMap = Mapping[str, str]
"""Item field -> the name of the file's column (or JSON key) it is read from, e.g.
``{"external_id": "id", "text": "TEXT"}`` for a CSV whose ids are in ``id``; ``#N`` names
the N-th column (1-based) of a CSV, TSV or Parquet file, e.g. an unnamed index column."""

_HASH_ID_CHARS: Final = 16
"""Hex digits of a row-hash id: 64 bits, so two different rows among a million share an
id with odds of about 3 in 10^8."""


@dataclass(frozen=True, slots=True)
class FileLayout:
    """How a file's columns become item fields: what the readers need besides the bytes."""

    columns: ColumnMap = field(default_factory=dict)
    """Checked column map (see :data:`ColumnMap`)."""
    header: bool = True
    """CSV/TSV: the first line names the columns; False: it is the first row, and the
    columns are named ``#1``, ``#2``, ..."""
    hash_ids: bool = False
    """The file has no ids: each row's ``external_id`` is :func:`row_hash_id` of it."""


def column_position(column: str) -> int | None:
    """The 1-based position a ``#N`` column reference names, or None for a plain name."""
    if len(column) > 1 and column[0] == "#" and column[1:].isdigit():
        return int(column[1:])
    return None


def row_hash_id(record: Mapping[str, Any]) -> str:
    """The ``external_id`` of a row of a file without ids: the first 16 hex digits of the
    SHA-256 of the row's fields as canonical JSON (keys sorted).

    The same row gets the same id in every file and import, so re-importing a file (or a
    longer version of it) is idempotent; rows that differ in any field (a label kept in
    metadata, say) get different ids, and the content check still reports same-text rows
    as duplicates.
    """
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(canonical).hexdigest()[:_HASH_ID_CHARS]


def parse_column_map(pairs: Iterable[str]) -> dict[str, str]:
    """``["external_id=id", "text=TEXT"]`` (the CLI's ``--column``, the web form's words)
    as a column map, checked with :func:`check_column_map`.

    Raises:
        InvalidInput: A pair without ``=`` or a field given twice
            (``itemfiles.column_map_syntax``), or as :func:`check_column_map`.
    """
    columns: dict[str, str] = {}
    for pair in pairs:
        field_name, equals, column = pair.partition("=")
        if not equals or not field_name or field_name in columns:
            raise InvalidInput("itemfiles.column_map_syntax", field="columns", value=pair)
        columns[field_name] = column
    return check_column_map(columns)


def check_column_map(columns: ColumnMap) -> dict[str, str]:
    """Check a column map before any row is read.

    Returns:
        The map as a plain dict.

    Raises:
        InvalidInput: A key that is not an item field (``itemfiles.column_map_unknown_field``),
            an empty column name (``itemfiles.column_map_empty_column``), or one column
            mapped to two fields (``itemfiles.column_map_shared_column``).
    """
    seen: set[str] = set()
    for field_name, column in columns.items():
        if field_name not in _KNOWN_FIELDS:
            raise InvalidInput(
                "itemfiles.column_map_unknown_field",
                field=field_name,
                fields=", ".join(sorted(_KNOWN_FIELDS)),
            )
        if not column:
            raise InvalidInput("itemfiles.column_map_empty_column", field=field_name)
        if column_position(column) == 0:
            raise InvalidInput("itemfiles.column_map_bad_position", field=field_name, column=column)
        if column in seen:
            raise InvalidInput(
                "itemfiles.column_map_shared_column", field=field_name, column=column
            )
        seen.add(column)
    return dict(columns)


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
make_row: Final = _make_row
"""Build an :class:`ItemRow` from its fields in declaration order (no checks): for rows
that were validated in another process and sent over as plain tuples."""


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


def problem(line: int, field_name: str | None, message_id: str, **params: Any) -> RowProblem:
    """A :class:`~labelops.errors.RowProblem` of ``line`` (``field_name`` None: the row)."""
    return RowProblem(line=line, field=field_name, message_id=message_id, params=params)


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type (``object``, ``array``, ...), for messages."""
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def wrong_type(line: int, name: str, expected: str, value: Any) -> RowProblem:
    """``itemfiles.wrong_type``: field ``name`` should be ``expected``."""
    return problem(line, name, "itemfiles.wrong_type", expected=expected, got=type_name(value))


def _unstorable_text(line: int, name: str, value: str) -> RowProblem | None:
    """A NUL character or a lone surrogate in ``value`` as a problem of field ``name``."""
    found = text_problem(value)
    if found is None:
        return None
    return problem(line, name, "itemfiles.nul_character" if found == NUL_CHARACTER else found)


def _unstorable_json(line: int, name: str, value: Any) -> RowProblem | None:
    """What cannot be stored in a JSON value (``labelops.text.checks.json_problem``: a NUL
    or lone surrogate, a number that is not finite, nesting deeper than
    ``MAX_JSON_DEPTH``) as a problem naming the path under field ``name``."""
    found = json_problem(value)
    if found is None:
        return None
    path, message_id = found
    where = f"{name}.{path}" if path and not path.startswith("[") else f"{name}{path}"
    if message_id == NUL_CHARACTER:
        message_id = "itemfiles.nul_character"
    return problem(line, where, message_id, limit=MAX_JSON_DEPTH)


class ItemValidator:
    """Checks one record against the item schema; remembers external ids across batches."""

    def __init__(
        self,
        *,
        max_text_bytes: int,
        unique_ids: bool = True,
        media_root: Path | None = None,
        media_prefix: str = "",
    ) -> None:
        """``unique_ids`` False: a repeated ``external_id`` is not a problem (row-hash ids,
        where the same id means the same row, which the import reports as a duplicate).

        Media paths are checked by :func:`labelops.media.media_path_problem`: their form
        always, and on disk inside ``media_root`` when it is given. ``media_prefix`` (a
        folder inside the root, ``a/b``) is put before each path: it is then the stored
        path, relative to the root."""
        self.max_text_bytes = max_text_bytes
        self.unique_ids = unique_ids
        self.media_root = media_root
        self.media_prefix = media_prefix
        self.seen: dict[str, int] = {}

    def validate(
        self,
        obj: dict[str, Any],
        line: int,
        problems: list[RowProblem],
        pre_problems: list[RowProblem] | None,
    ) -> ItemRow | None:
        if pre_problems is None and obj.keys() <= _FAST_FIELDS:
            row = self._fast(obj, line)
            if row is not None:
                return row
        start = len(problems)
        if pre_problems:
            problems.extend(pre_problems)
        get = obj.get

        external_id = get("external_id")
        if type(external_id) is int:
            external_id = str(external_id)
        if external_id is None:
            problems.append(problem(line, "external_id", "itemfiles.missing_field"))
        elif type(external_id) is not str:
            problems.append(wrong_type(line, "external_id", "string", external_id))
            external_id = None
        elif not external_id.strip():
            problems.append(problem(line, "external_id", "itemfiles.empty_external_id"))
            external_id = None
        elif len(external_id) > _MAX_EXTERNAL_ID_CHARS:
            problems.append(
                problem(
                    line,
                    "external_id",
                    "itemfiles.external_id_too_long",
                    length=len(external_id),
                    limit=_MAX_EXTERNAL_ID_CHARS,
                )
            )
            external_id = None
        elif (unstorable := _unstorable_text(line, "external_id", external_id)) is not None:
            problems.append(unstorable)
            external_id = None
        elif self.unique_ids:
            first = self.seen.get(external_id)
            if first is not None:
                problems.append(
                    problem(
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
                problems.append(wrong_type(line, "text", "string", text))
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
                            problem(
                                line,
                                "text",
                                "itemfiles.text_too_large",
                                size_bytes=size,
                                limit_bytes=self.max_text_bytes,
                            )
                        )
                unstorable = _unstorable_text(line, "text", text)
                if unstorable is not None:
                    problems.append(unstorable)

        media = () if _MEDIA_FIELDS.isdisjoint(obj) else self._media(obj, line, problems)
        if text is None and not media and len(problems) == before_content:
            problems.append(problem(line, "text", "itemfiles.no_text_or_media"))

        # The common case (absent, or a plain string) is checked inline: this loop runs
        # for every row of million-row files.
        advertiser = get("advertiser")
        if type(advertiser) is not str or not advertiser or text_problem(advertiser) is not None:
            if type(advertiser) is int:
                advertiser = str(advertiser)
            advertiser = self._optional_str(advertiser, "advertiser", line, problems)
        market = get("market")
        if type(market) is not str or not market or text_problem(market) is not None:
            market = self._optional_str(market, "market", line, problems)
        language = get("language")
        if type(language) is not str or not language or text_problem(language) is not None:
            language = self._optional_str(language, "language", line, problems)

        metadata = get("metadata")
        if metadata is None:
            metadata = {}
        elif type(metadata) is not dict:
            problems.append(wrong_type(line, "metadata", "object", metadata))
            metadata = {}
        elif metadata and (unstorable := _unstorable_json(line, "metadata", metadata)):
            problems.append(unstorable)

        priority = get("priority")
        if priority is not None and type(priority) is not int:
            problems.append(wrong_type(line, "priority", "integer", priority))

        if len(obj) > 1 and not _KNOWN_FIELDS.issuperset(obj):
            metadata = dict(metadata)
            for key, value in obj.items():
                if key in _KNOWN_FIELDS:
                    continue
                if key in metadata:
                    problems.append(problem(line, key, "itemfiles.metadata_conflict", key=key))
                elif (unstorable := _unstorable_json(line, key, value)) is not None:
                    problems.append(unstorable)
                else:
                    metadata[key] = value

        if len(problems) != start or external_id is None:
            return None
        return _make_row(
            line, external_id, text, media, advertiser, market, language, metadata, priority
        )

    def _fast(self, obj: dict[str, Any], line: int) -> ItemRow | None:
        """The common valid row, checked in a few comparisons; None: check it in full.

        Only rows made of :data:`_FAST_FIELDS`, with a string ``external_id`` and a
        non-empty string ``text``, are tried. Every condition mirrors a rule of
        :meth:`validate`; any doubt (an empty or non-string optional field, a NUL, an
        over-long value, an id seen before) falls through to the full check, which makes
        the row or reports its problems. On million-row files this is 1 us a row instead of 5.
        """
        get = obj.get
        external_id = get("external_id")
        text = get("text")
        if (
            type(external_id) is not str
            or type(text) is not str
            or not text
            or not 0 < len(external_id) <= _MAX_EXTERNAL_ID_CHARS
            or external_id.isspace()
            or len(text) * 4 > self.max_text_bytes
            or text_problem(text) is not None
            or text_problem(external_id) is not None
            or (self.unique_ids and external_id in self.seen)
        ):
            return None
        advertiser = get("advertiser")
        market = get("market")
        language = get("language")
        priority = get("priority")
        for value in (advertiser, market, language):
            if value is not None and (
                type(value) is not str or not value or text_problem(value) is not None
            ):
                return None
        if priority is not None and type(priority) is not int:
            return None
        if self.unique_ids:
            self.seen[external_id] = line
        return _make_row(line, external_id, text, (), advertiser, market, language, {}, priority)

    @staticmethod
    def _optional_str(value: Any, name: str, line: int, problems: list[RowProblem]) -> str | None:
        if value is None or value == "":
            return None
        if type(value) is not str:
            problems.append(wrong_type(line, name, "string", value))
            return None
        unstorable = _unstorable_text(line, name, value)
        if unstorable is not None:
            problems.append(unstorable)
        return value

    def _media_path(
        self, path: str, where: str, line: int, problems: list[RowProblem]
    ) -> str | None:
        """The stored form of a media path, or None after reporting why it is refused."""
        reason = media_path_problem(path)
        if reason is None:
            stored = f"{self.media_prefix}/{path}" if self.media_prefix else path
            if self.media_root is None:
                return stored
            reason = media_path_problem(stored, self.media_root)
            if reason is None:
                return stored
        problems.append(problem(line, where, reason, path=path))
        return None

    def _media(
        self, obj: dict[str, Any], line: int, problems: list[RowProblem]
    ) -> tuple[tuple[str, str], ...]:
        found: list[tuple[str, str]] = []
        listed = obj.get("media")
        if listed is not None:
            if type(listed) is not list:
                problems.append(wrong_type(line, "media", "array", listed))
            else:
                for index, entry in enumerate(listed):
                    where = f"media[{index}]"
                    if type(entry) is not dict:
                        problems.append(wrong_type(line, where, "object", entry))
                        continue
                    kind, path = entry.get("kind"), entry.get("path")
                    if kind not in MEDIA_KINDS:
                        problems.append(
                            problem(
                                line, f"{where}.kind", "itemfiles.bad_media_kind", kind=str(kind)
                            )
                        )
                    elif type(path) is not str or not path:
                        problems.append(problem(line, f"{where}.path", "itemfiles.bad_media_path"))
                    elif "\x00" in path:
                        problems.append(problem(line, f"{where}.path", "itemfiles.nul_character"))
                    else:
                        stored = self._media_path(path, f"{where}.path", line, problems)
                        if stored is not None:
                            found.append((kind, stored))
        for kind in MEDIA_KINDS:
            value = obj.get(kind)
            if value is None or value == "":
                continue
            paths = [value] if type(value) is str else value
            if type(paths) is not list:
                problems.append(wrong_type(line, kind, "string or array", value))
                continue
            for index, path in enumerate(paths):
                where = kind if type(value) is str else f"{kind}[{index}]"
                if type(path) is not str or not path:
                    problems.append(problem(line, where, "itemfiles.bad_media_path"))
                elif "\x00" in path:
                    problems.append(problem(line, kind, "itemfiles.nul_character"))
                else:
                    stored = self._media_path(path, where, line, problems)
                    if stored is not None:
                        found.append((kind, stored))
        return tuple(found)
