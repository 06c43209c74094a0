"""A JSON parser's error, told in the user's language.

``orjson`` and the standard ``json`` module explain a syntax error in English
("unexpected end of data", "Expecting ',' delimiter"). The messages shown to users say
what is wrong in their language, with the column, and keep the parser's own words only
as a detail at the end.
"""

from __future__ import annotations

__all__ = ["json_syntax_message"]

from typing import Any, Final

_KINDS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("end of data", "unterminated", "eof while"), "errors.json.ends_early"),
    (("empty",), "errors.json.empty"),
    (("utf-8", "surrogate"), "errors.json.not_utf8"),
    (("trailing comma",), "errors.json.trailing_comma"),
    (("string key", "property name"), "errors.json.key_not_string"),
    (("':'",), "errors.json.missing_colon"),
    (("','",), "errors.json.missing_comma"),
    (("after document", "extra data"), "errors.json.extra_data"),
    (("escape",), "errors.json.bad_escape"),
    (("control character",), "errors.json.control_character"),
    (("leading zero", "digit", "number"), "errors.json.bad_number"),
    (("literal", "json value", "expecting value"), "errors.json.bad_value"),
)
"""Words of the parsers' messages (both ``orjson`` and ``json``, lower-cased) -> the
message id that explains them; the first match wins."""


def json_syntax_message(exc: ValueError) -> tuple[str, dict[str, Any]]:
    """The message id and params of a JSON syntax error: ``column`` (1-based, None when
    the parser gave none) and ``reason`` (the parser's English text, shown as a detail).

    The line is not among the params: the caller knows it and puts it in the error's
    ``line``, which every message shows before the reason.

    Example:
        >>> import json
        >>> try:
        ...     json.loads('{"a": 1')
        ... except ValueError as exc:
        ...     json_syntax_message(exc)
        ('errors.json.missing_comma', {'column': 8, 'reason': "Expecting ',' delimiter"})
    """
    reason = str(getattr(exc, "msg", None) or exc)
    column = getattr(exc, "colno", None)
    lowered = reason.lower()
    for needles, message_id in _KINDS:
        if any(needle in lowered for needle in needles):
            return message_id, {"column": column, "reason": reason}
    return "errors.json.syntax", {"column": column, "reason": reason}
