"""The one canonical answers frame, its validation and its compact encoded form.

Every statistic and aggregation method in :mod:`labelops.quality` reads labels in the same
long format, one row per answer a labeller gave to an item:

============== ======================================= ==========
column         meaning                                 required
============== ======================================= ==========
``item_id``    the item (ad creative) that was labelled yes
``labeller_id``who labelled it                         yes
``label``      the class they chose                    yes
``weight``     optional non-negative weight            no
``handle_time_s`` optional seconds spent                no
============== ======================================= ==========

When to use what:

* :func:`validate_answers` before anything else: it names the missing column or every
  offending row (empty ids, empty labels, labels outside the taxonomy), so nothing runs on
  half-valid data.
* :func:`encode_answers` turns a validated frame into :class:`EncodedAnswers` (int32 codes
  for items, labellers and classes); every algorithm runs on that form, never on a dense
  items x labellers matrix.
* :class:`AnswersEncoder` builds the same encoded form incrementally from chunks, for files
  too large to hold as a frame of strings (10 million rows).
* :func:`to_crowdkit` renames to crowd-kit's ``task/worker/label`` contract.
* :func:`split_binary_relevance` turns multi-label answers into one binary answers frame per
  label (binary relevance), so each label can be aggregated or measured on its own.
"""

from __future__ import annotations

__all__ = [
    "ANSWER_COLUMNS",
    "OPTIONAL_COLUMNS",
    "AnswersEncoder",
    "EncodedAnswers",
    "encode_answers",
    "split_binary_relevance",
    "to_crowdkit",
    "validate_answers",
]

from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labelops.errors import InvalidInput, InvalidRows, RowProblem

ANSWER_COLUMNS: tuple[str, str, str] = ("item_id", "labeller_id", "label")
"""Required columns of the canonical answers frame."""

OPTIONAL_COLUMNS: tuple[str, str] = ("weight", "handle_time_s")
"""Optional numeric columns of the canonical answers frame."""

_MAX_PROBLEMS = 1000


def _blank(series: pd.Series) -> npt.NDArray[np.bool_]:
    """True where a value is missing or an empty / whitespace-only string."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        as_text = series.astype("string")
        empty = (as_text.str.strip() == "").fillna(True).to_numpy(dtype=bool)
        return np.asarray(missing | empty, dtype=bool)
    return np.asarray(missing, dtype=bool)


def validate_answers(
    frame: pd.DataFrame,
    *,
    file: str | None = None,
    allowed_labels: Collection[Hashable] | None = None,
    first_line: int = 2,
) -> pd.DataFrame:
    """Check a long-format answers frame and return it with canonical column order.

    Args:
        frame: One row per answer, columns ``item_id``, ``labeller_id``, ``label`` and
            optionally ``weight`` (>= 0) and ``handle_time_s`` (>= 0). Extra columns are dropped.
        file: File name used in error messages.
        allowed_labels: If given, every label must be one of these (the taxonomy's keys).
        first_line: Line number of the frame's first row in ``file`` (2 for a CSV with a
            header; pass the running offset when validating chunks).

    Returns:
        A new frame with the required columns first, then the optional ones present.

    Raises:
        InvalidInput: A required column is missing (``field`` names it).
        InvalidRows: Some rows have an empty id or label, a label outside ``allowed_labels``
            or a negative / non-numeric weight or handle time; every such row is listed.

    Example:
        >>> validate_answers(pd.DataFrame({"item_id": [1], "labeller_id": ["a"], "label": ["ok"]}))
           item_id labeller_id label
        0        1           a    ok
    """
    for column in ANSWER_COLUMNS:
        if column not in frame.columns:
            raise InvalidInput(
                "quality.missing_column",
                file=file,
                field=column,
                columns=", ".join(map(str, frame.columns)),
            )
    problems: list[RowProblem] = []
    lines = np.arange(len(frame)) + first_line
    for column in ANSWER_COLUMNS:
        for position in np.flatnonzero(_blank(frame[column]))[:_MAX_PROBLEMS]:
            problems.append(RowProblem(int(lines[position]), column, "quality.empty_value", {}))
    if allowed_labels is not None:
        allowed = set(allowed_labels)
        labels = frame["label"]
        bad = ~labels.isin(allowed).to_numpy() & ~_blank(labels)
        for position in np.flatnonzero(bad)[:_MAX_PROBLEMS]:
            problems.append(
                RowProblem(
                    int(lines[position]),
                    "label",
                    "quality.label_not_allowed",
                    {"value": str(labels.iloc[position]), "allowed": ", ".join(map(str, allowed))},
                )
            )
    present_optional = [c for c in OPTIONAL_COLUMNS if c in frame.columns]
    for column in present_optional:
        numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers) | (numbers < 0)
        for position in np.flatnonzero(bad)[:_MAX_PROBLEMS]:
            problems.append(
                RowProblem(
                    int(lines[position]),
                    column,
                    "quality.bad_number",
                    {"value": str(frame[column].iloc[position])},
                )
            )
    if problems:
        problems.sort(key=lambda p: p.line)
        raise InvalidRows(file, problems)
    out = frame.loc[:, [*ANSWER_COLUMNS, *present_optional]].copy()
    for column in present_optional:
        out[column] = pd.to_numeric(out[column]).astype(float)
    return out


def to_crowdkit(answers: pd.DataFrame) -> pd.DataFrame:
    """Rename a canonical answers frame to crowd-kit's ``task, worker, label`` columns.

    Args:
        answers: Canonical answers frame (see :func:`validate_answers`).

    Returns:
        A frame with columns ``task``, ``worker``, ``label`` (and ``weight`` if present).
    """
    renamed = answers.rename(columns={"item_id": "task", "labeller_id": "worker"})
    keep = ["task", "worker", "label", *(["weight"] if "weight" in renamed.columns else [])]
    return renamed.loc[:, keep]


@dataclass(frozen=True)
class EncodedAnswers:
    """Answers as integer codes: the form every algorithm runs on.

    Arrays have one entry per answer (shape ``(n_answers,)``); the indexes map codes back to
    the original ids. Classes are sorted, so ordinal statistics read their order from here.
    """

    item_codes: npt.NDArray[np.int32]
    """Code of the item of each answer, in ``[0, n_items)``."""
    labeller_codes: npt.NDArray[np.int32]
    """Code of the labeller of each answer, in ``[0, n_labellers)``."""
    label_codes: npt.NDArray[np.int32]
    """Code of the class of each answer, in ``[0, n_classes)``."""
    items: pd.Index
    """Item ids, ``items[code]`` is the id of item ``code``."""
    labellers: pd.Index
    """Labeller ids."""
    classes: pd.Index
    """Class labels, sorted."""
    weights: npt.NDArray[np.float64] | None = None
    """Optional per-answer weight."""

    @property
    def n_answers(self) -> int:
        """Number of answers (rows)."""
        return int(self.item_codes.shape[0])

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return len(self.items)

    @property
    def n_labellers(self) -> int:
        """Number of distinct labellers."""
        return len(self.labellers)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def item_class_counts(self) -> npt.NDArray[np.float64]:
        """Answers per item and class, shape ``(n_items, n_classes)`` (weights ignored)."""
        flat = self.item_codes.astype(np.int64) * self.n_classes + self.label_codes
        counts = np.bincount(flat, minlength=self.n_items * self.n_classes)
        return counts.reshape(self.n_items, self.n_classes).astype(np.float64)

    def to_frame(self) -> pd.DataFrame:
        """Decode back to a canonical answers frame."""
        frame = pd.DataFrame(
            {
                "item_id": self.items.take(self.item_codes),
                "labeller_id": self.labellers.take(self.labeller_codes),
                "label": self.classes.take(self.label_codes),
            }
        )
        if self.weights is not None:
            frame["weight"] = self.weights
        return frame


def _sorted_index(values: Iterable[Any]) -> pd.Index:
    unique = list(pd.unique(pd.Series(list(values))))
    try:
        ordered = sorted(unique)
    except TypeError:
        # Mixed types (e.g. 1 and "1") have no order; fall back to their text.
        ordered = sorted(unique, key=str)
    index: pd.Index = pd.Index(ordered)
    return index


_CHUNK = 1 << 20  # rows per pass of the integer fast path: bounds its temporaries


def _small_int_range(values: npt.NDArray[Any]) -> tuple[int, int] | None:
    """``(low, size)`` of an integer array whose value range is not much larger than it."""
    if values.dtype.kind not in "iu" or values.size == 0:
        return None
    low, high = int(values.min()), int(values.max())
    size = high - low + 1
    return (low, size) if size <= max(2 * values.size, 1 << 16) else None


def _chunks(n: int, size: int = _CHUNK) -> Iterable[slice]:
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _present(values: npt.NDArray[Any], low: int, size: int) -> npt.NDArray[np.bool_]:
    """Which values of ``range(low, low + size)`` occur (stops once all of them have)."""
    present = np.zeros(size, dtype=bool)
    for part in _chunks(values.size, _CHUNK // 4):
        present[values[part] - low] = True
        if present.all():
            break
    return present


def _lookup(
    values: npt.NDArray[Any], low: int, table: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    codes = np.empty(values.size, dtype=np.int32)
    for part in _chunks(values.size):
        codes[part] = table[values[part] - low] if low else table[values[part]]
    return codes


def _factorize(
    column: pd.Series, *, appearance: bool = True
) -> tuple[npt.NDArray[np.int32], pd.Index]:
    """``pd.factorize(column, sort=False)`` as int32 codes and an index of the uniques.

    Integer ids within a range not much wider than the column (item and labeller numbers)
    take a table look-up instead of hashing: each value's first position comes from
    ``np.minimum.at``, which orders the uniques by first appearance exactly as
    ``pd.factorize`` does, at a seventh of its cost on millions of rows; the scan stops
    once every value of the range has been seen (later rows cannot add a new one). Other
    columns (strings, categoricals, floats) go to ``pd.factorize``. With
    ``appearance=False`` the fast path orders the uniques by value instead, which only
    needs to know which values occur.
    """
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else None
    span = _small_int_range(values) if values is not None else None
    if values is None or span is None:
        codes, uniques = pd.factorize(column, sort=False)
        return codes.astype(np.int32), pd.Index(uniques)
    low, size = span
    n = values.size
    table = np.full(size, -1, dtype=np.int32)
    if not appearance:
        seen = np.flatnonzero(_present(values, low, size))
        table[seen] = np.arange(seen.size, dtype=np.int32)
        return _lookup(values, low, table), pd.Index((seen + low).astype(values.dtype))
    first = np.full(size, n, dtype=np.int64)
    for part in _chunks(n, _CHUNK // 4):
        np.minimum.at(first, values[part] - low, np.arange(part.start, part.stop))
        if np.count_nonzero(first < n) == size:
            break
    seen = np.flatnonzero(first < n)
    order = seen[np.argsort(first[seen], kind="stable")]
    table[order] = np.arange(order.size, dtype=np.int32)
    return _lookup(values, low, table), pd.Index((order + low).astype(values.dtype))


def _label_codes(
    labels: pd.Series, classes: Iterable[Hashable] | None
) -> tuple[npt.NDArray[np.int32], pd.Index]:
    """Sorted class index (labels seen plus ``classes``) and each answer's class code.

    Integer labels in a small range are counted and looked up in a table (no hashing).
    """
    extra = list(classes) if classes is not None else []
    values = labels.to_numpy() if isinstance(labels.dtype, np.dtype) else None
    span = _small_int_range(values) if values is not None else None
    if values is None or span is None:
        class_index = _sorted_index([*pd.unique(labels), *extra])
        return class_index.get_indexer(pd.Index(labels)).astype(np.int32), class_index
    low, size = span
    seen = (np.flatnonzero(_present(values, low, size)) + low).astype(values.dtype)
    class_index = _sorted_index([*seen, *extra])
    table = class_index.get_indexer(pd.Index(np.arange(low, low + size, dtype=values.dtype)))
    return _lookup(values, low, table.astype(np.int32)), class_index


def encode_answers(
    answers: pd.DataFrame | EncodedAnswers,
    *,
    classes: Iterable[Hashable] | None = None,
    id_order: Literal["appearance", "any"] = "appearance",
) -> EncodedAnswers:
    """Encode a validated answers frame as integer codes.

    Args:
        answers: Canonical answers frame (already validated), or an encoded one (returned
            as is unless ``classes`` widens its class set).
        classes: Class labels to include even if nobody used them (e.g. the taxonomy, or
            gold labels); they are merged with the labels seen and sorted.
        id_order: ``appearance``: items and labellers in order of first appearance.
            ``any``: whichever order is cheapest (integer ids come out sorted), for callers
            whose result does not depend on it, such as agreement statistics.

    Returns:
        The encoded answers.
    """
    if isinstance(answers, EncodedAnswers):
        if classes is None or set(classes) <= set(answers.classes):
            return answers
        answers = answers.to_frame()
    appearance = id_order == "appearance"
    item_codes, items = _factorize(answers["item_id"], appearance=appearance)
    labeller_codes, labellers = _factorize(answers["labeller_id"], appearance=appearance)
    label_codes, class_index = _label_codes(answers["label"], classes)
    weights = answers["weight"].to_numpy(dtype=np.float64) if "weight" in answers.columns else None
    return EncodedAnswers(
        item_codes=item_codes,
        labeller_codes=labeller_codes,
        label_codes=label_codes,
        items=items,
        labellers=labellers,
        classes=class_index,
        weights=weights,
    )


class _Codebook:
    """Grows a value -> code mapping chunk by chunk (first appearance order)."""

    def __init__(self) -> None:
        self.codes: dict[Hashable, int] = {}
        self.values: list[Hashable] = []

    def encode(self, column: pd.Series) -> npt.NDArray[np.int32]:
        local_codes, uniques = pd.factorize(column, sort=False)
        mapping = np.empty(len(uniques), dtype=np.int32)
        for position, value in enumerate(uniques.tolist()):
            code = self.codes.get(value)
            if code is None:
                code = len(self.values)
                self.codes[value] = code
                self.values.append(value)
            mapping[position] = code
        return mapping[local_codes]


class AnswersEncoder:
    """Build :class:`EncodedAnswers` from chunks of a canonical answers frame.

    Only int32 codes and the distinct ids are kept, so a 10-million-row file costs about
    120 MB rather than gigabytes of Python strings.

    Example:
        >>> encoder = AnswersEncoder()
        >>> encoder.add(
        ...     pd.DataFrame({"item_id": [1, 2], "labeller_id": ["a", "a"], "label": ["x", "y"]})
        ... )
        >>> encoder.finish().n_items
        2
    """

    def __init__(self) -> None:
        self._items = _Codebook()
        self._labellers = _Codebook()
        self._labels = _Codebook()
        self._parts: list[tuple[npt.NDArray[np.int32], ...]] = []
        self._weights: list[npt.NDArray[np.float64]] = []

    def add(self, chunk: pd.DataFrame) -> None:
        """Append a validated chunk (canonical columns)."""
        self._parts.append(
            (
                self._items.encode(chunk["item_id"]),
                self._labellers.encode(chunk["labeller_id"]),
                self._labels.encode(chunk["label"]),
            )
        )
        if "weight" in chunk.columns:
            self._weights.append(chunk["weight"].to_numpy(dtype=np.float64))

    def finish(self, *, classes: Iterable[Hashable] | None = None) -> EncodedAnswers:
        """The encoded answers so far (classes sorted, merged with ``classes``)."""

        def cat(position: int) -> npt.NDArray[np.int32]:
            if not self._parts:
                return np.empty(0, dtype=np.int32)
            return np.concatenate([part[position] for part in self._parts]).astype(np.int32)

        class_index = _sorted_index([*self._labels.values, *(classes or [])])
        remap = class_index.get_indexer(pd.Index(self._labels.values)).astype(np.int32)
        weights = (
            np.concatenate(self._weights)
            if self._weights and len(self._weights) == len(self._parts)
            else None
        )
        return EncodedAnswers(
            item_codes=cat(0),
            labeller_codes=cat(1),
            label_codes=remap[cat(2)] if len(remap) else cat(2),
            items=pd.Index(self._items.values),
            labellers=pd.Index(self._labellers.values),
            classes=class_index,
            weights=weights,
        )


def split_binary_relevance(
    answers: pd.DataFrame,
    *,
    labels: Iterable[Hashable] | None = None,
    separator: str | None = None,
) -> dict[Hashable, pd.DataFrame]:
    """Turn multi-label answers into one binary answers frame per label (binary relevance).

    A multi-label answer is either one row per chosen label (the same item and labeller on
    several rows) or, with ``separator``, one row whose ``label`` holds the chosen labels
    joined by ``separator`` (``"adult|weapons"``). For every label, each (item, labeller)
    pair that answered becomes one row with ``label`` True if the label was chosen.

    Args:
        answers: Canonical answers frame.
        labels: All labels of the taxonomy (default: those seen).
        separator: Split ``label`` values on this string first.

    Returns:
        ``{label: binary answers frame}`` with boolean ``label`` columns.

    Example:
        >>> frame = pd.DataFrame(
        ...     {"item_id": [1, 1], "labeller_id": ["a", "a"], "label": ["x", "y"]}
        ... )
        >>> sorted(split_binary_relevance(frame))
        ['x', 'y']
    """
    rows = answers.loc[:, list(ANSWER_COLUMNS)]
    if separator is not None:
        rows = rows.assign(label=rows["label"].astype(str).str.split(separator)).explode("label")
        rows["label"] = rows["label"].str.strip()
        rows = rows[rows["label"] != ""]
    pairs = rows.loc[:, ["item_id", "labeller_id"]].drop_duplicates().reset_index(drop=True)
    chosen = set(zip(rows["item_id"], rows["labeller_id"], rows["label"], strict=True))
    all_labels = list(labels) if labels is not None else list(pd.unique(rows["label"]))
    out: dict[Hashable, pd.DataFrame] = {}
    keys = list(zip(pairs["item_id"], pairs["labeller_id"], strict=True))
    for label in all_labels:
        flags = np.fromiter(((i, w, label) in chosen for i, w in keys), dtype=bool, count=len(keys))
        out[label] = pairs.assign(label=flags)
    return out
