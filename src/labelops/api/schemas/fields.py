"""The field types of every request schema and parameter: strict, bounded, storable.

Lenient parsing let bad input through (``sla_hours: Infinity`` stored as null,
``since=0.5`` read as a date, ``gold_rate: false`` as a number) or crash the server
(ids past 2^63, a NUL character on PostgreSQL, a date without a zone). Request schemas
and route parameters use these types instead of bare ``int``, ``float``, ``str``,
``bool`` and ``datetime``:

* ``Id`` (path and query) and ``IdField`` (JSON bodies): 1 .. 2^63-1.
* ``Int32`` / ``Count``: integers stored in 32-bit columns; ``Count`` is >= 0;
  ``Seed``: a non-negative 64-bit integer.
* ``Number``: a finite JSON number (no NaN/Infinity, no ``true``/``false``, no string).
* ``Text``: a string with no NUL character and no lone surrogate.
* ``Flag``: ``true``/``false`` only.
* ``ZonedDateTime``: ISO 8601 with a time zone (``...Z`` or ``...+08:00``).
* ``JsonObject``: a JSON object whose strings are ``Text``, whose numbers are finite and
  whose nesting is at most ``labelops.text.checks.MAX_JSON_DEPTH`` deep.

A rule broken is a 422 in the error envelope; its ``problems`` name the field and say
why in the request's language (``labelops.api.errors``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

from labelops.text.checks import MAX_JSON_DEPTH, NOT_FINITE, json_problem, text_problem

__all__ = [
    "MAX_ID",
    "Count",
    "Flag",
    "Id",
    "IdField",
    "Int32",
    "JsonObject",
    "Number",
    "Seed",
    "Text",
    "ZonedDateTime",
    "invalid",
]

MAX_ID: Final = 2**63 - 1
"""Largest id (the databases' 64-bit integer)."""
_INT32_MAX: Final = 2**31 - 1


def invalid(message_id: str, **params: Any) -> PydanticCustomError:
    """A validation error whose message is the catalog's ``message_id`` (rendered in the
    request's language by the envelope)."""
    from labelops.i18n import translate

    return PydanticCustomError(
        "labelops",
        "{message}",
        {
            "message_id": message_id,
            "params": params,
            "message": translate(message_id, "en", **params),
        },
    )


def _storable_text(value: str) -> str:
    found = text_problem(value)
    if found:
        raise invalid(found)
    return value


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise invalid(NOT_FINITE)
    return value


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    found = json_problem(value)
    if found:
        path, message_id = found
        raise invalid(message_id, limit=MAX_JSON_DEPTH, path=path)
    return value


def _iso_with_zone(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise invalid("errors.input.date_needs_zone")
        return value
    if not isinstance(value, str):
        raise invalid("errors.input.date_needs_zone")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid("errors.input.date_needs_zone") from None
    if parsed.tzinfo is None or "T" not in value.upper():
        raise invalid("errors.input.date_needs_zone")
    return parsed


Id = Annotated[int, Ge(1), Le(MAX_ID)]
"""A row id in a path or query parameter."""
IdField = Annotated[int, Strict(), Ge(1), Le(MAX_ID)]
"""A row id in a JSON body (a JSON integer; not a string, a float or a boolean)."""
Int32 = Annotated[int, Strict(), Ge(-(2**31)), Le(_INT32_MAX)]
"""An integer of a 32-bit column (priorities)."""
Count = Annotated[int, Strict(), Ge(0), Le(_INT32_MAX)]
"""A non-negative integer of a 32-bit column (counts, milliseconds)."""
Seed = Annotated[int, Strict(), Ge(0), Le(MAX_ID)]
"""A random seed (a non-negative 64-bit integer)."""
Number = Annotated[float, Strict(), AfterValidator(_finite)]
"""A finite JSON number."""
Text = Annotated[str, Strict(), AfterValidator(_storable_text)]
"""Text that can be stored (no NUL, no lone surrogate)."""
Flag = Annotated[bool, Strict()]
"""A JSON ``true`` or ``false``."""
ZonedDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_with_zone)]
"""An ISO 8601 date and time with its zone."""
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]
"""A JSON object that can be stored as JSON."""
