"""Checks that text and JSON values can be stored: no NUL character (PostgreSQL refuses
it in text and JSON), no lone surrogate (it cannot be encoded as UTF-8), no number that
is not finite (JSON has none), no nesting deeper than a limit.

Pure: the callers (the API's request schemas, the item validator, the taxonomy
parser) turn a problem into their own error, naming the field, row or path.
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = [
    "LONE_SURROGATE",
    "MAX_JSON_DEPTH",
    "NOT_FINITE",
    "NUL_CHARACTER",
    "TOO_DEEP",
    "json_problem",
    "text_problem",
]

MAX_JSON_DEPTH: Final = 32
"""Deepest accepted nesting of objects and arrays in stored JSON (item metadata,
taxonomy files): real documents use a few levels."""

NUL_CHARACTER: Final = "errors.input.nul_character"
LONE_SURROGATE: Final = "errors.input.lone_surrogate"
NOT_FINITE: Final = "errors.input.not_finite"
TOO_DEEP: Final = "errors.input.too_deep"
"""Message ids of the problems (``TOO_DEEP`` takes ``limit``)."""


def text_problem(value: str) -> str | None:
    """The message id of what makes ``value`` unstorable (a NUL character, a lone
    surrogate), or None when it can be stored."""
    if "\x00" in value:
        return NUL_CHARACTER
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return LONE_SURROGATE
    return None


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """The first unstorable part of a JSON value, as ``(path, message id)``: a string
    (key or value) with ``text_problem``, a number that is not finite, or nesting
    deeper than ``max_depth`` (the path of the first too-deep value). None when every
    part can be stored. Iterative: any depth is walked without recursion."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        current, path, depth = pending.pop()
        if isinstance(current, str):
            found = text_problem(current)
            if found:
                return path, found
        elif isinstance(current, float):
            if not math.isfinite(current):
                return path, NOT_FINITE
        elif isinstance(current, dict | list):
            if depth >= max_depth:
                return path, TOO_DEEP
            if isinstance(current, dict):
                for key, item in current.items():
                    key_text = str(key)
                    found = text_problem(key_text)
                    if found:
                        return path, found
                    pending.append((item, f"{path}.{key_text}" if path else key_text, depth + 1))
            else:
                for index, item in enumerate(current):
                    pending.append((item, f"{path}[{index}]", depth + 1))
    return None
