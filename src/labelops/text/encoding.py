"""Strict UTF-8 decoding of uploaded files, with a useful message when it fails.

Vendor files from Taiwan and Hong Kong are still often saved by Excel or old tools as
Big5 (cp950 / Big5-HKSCS) or UTF-16. Guessing the encoding and decoding anyway would
silently corrupt ad text, so labelops accepts UTF-8 only and says exactly where the file
is wrong and, when it can tell, what it probably is ("looks like Big5 -- re-save as UTF-8").

When to use what:

* :func:`decode_utf8_strict` -- importers: bytes in, text out, or :class:`InvalidInput`.
* :func:`find_encoding_problem` -- when you want to report rather than raise (a preview,
  a lint of many files): returns an :class:`EncodingProblem` or ``None``.
"""

from __future__ import annotations

__all__ = ["EncodingProblem", "SuspectedEncoding", "decode_utf8_strict", "find_encoding_problem"]

import codecs
from dataclasses import dataclass
from typing import Literal

from labelops.errors import InvalidInput

SuspectedEncoding = Literal["big5", "utf-16", "unknown"]
"""What non-UTF-8 bytes probably are."""

# How many bytes either side of the first bad byte are tried as Big5 when a line is long
# (a minified JSON file can be one huge line).
_WINDOW_BYTES = 256


@dataclass(frozen=True)
class EncodingProblem:
    """Where bytes stop being UTF-8, and what they probably are."""

    line: int
    """1-based line of the first byte that is not UTF-8 (``b"\\n"`` ends a line)."""
    byte_offset: int
    """0-based offset of that byte in the data as given (a UTF-8 BOM included)."""
    suspected: SuspectedEncoding
    """``"big5"`` if the bytes around it decode cleanly as Big5/cp950 into CJK text,
    ``"utf-16"`` if the data starts with a UTF-16 byte-order mark, else ``"unknown"``."""

    @property
    def message_id(self) -> str:
        """Catalog id of the matching message."""
        return {
            "big5": "text.not_utf8_big5",
            "utf-16": "text.not_utf8_utf16",
            "unknown": "text.not_utf8",
        }[self.suspected]


def find_encoding_problem(data: bytes) -> EncodingProblem | None:
    """The first place where ``data`` is not valid UTF-8, or ``None`` if it all is.

    Args:
        data: Raw file bytes; a leading UTF-8 BOM is allowed.

    Returns:
        An :class:`EncodingProblem`, or ``None`` when ``data`` is valid UTF-8.

    Example:
        >>> find_encoding_problem("標題\\n優惠".encode("big5")).suspected
        'big5'
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingProblem(line=1, byte_offset=0, suspected="utf-16")
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = skip + exc.start
    else:
        return None
    line = data.count(b"\n", 0, bad) + 1
    suspected: SuspectedEncoding = "big5" if _looks_big5(data, bad) else "unknown"
    return EncodingProblem(line=line, byte_offset=bad, suspected=suspected)


def decode_utf8_strict(data: bytes, *, file: str) -> str:
    """Decode UTF-8 bytes exactly, dropping a leading BOM, or say where and why not.

    Args:
        data: Raw file bytes.
        file: File name, used in the error.

    Returns:
        The text, byte-exact apart from the removed BOM (no normalisation, no
        newline conversion).

    Raises:
        InvalidInput: The bytes are not UTF-8. ``line`` is the 1-based line of the first
            bad byte; the message (``text.not_utf8_big5``, ``text.not_utf8_utf16`` or
            ``text.not_utf8``) names the probable encoding and how to fix it.

    Example:
        >>> decode_utf8_strict("\\ufeff廣告".encode("utf-8"), file="ads.csv")
        '廣告'
    """
    problem = find_encoding_problem(data)
    if problem is not None:
        raise InvalidInput(
            problem.message_id, file=file, line=problem.line, byte_offset=problem.byte_offset
        )
    text = data.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def _looks_big5(data: bytes, bad: int) -> bool:
    start = data.rfind(b"\n", 0, bad) + 1
    end = data.find(b"\n", bad)
    end = len(data) if end == -1 else end
    # A Big5 character is two bytes, so a window cut inside a long line may split one at
    # either edge; trying both alignments at each edge covers that.
    lo, hi = max(start, bad - _WINDOW_BYTES), min(end, bad + _WINDOW_BYTES)
    starts = [lo] if lo == start else [lo, lo + 1]
    ends = [hi] if hi == end else [hi, hi - 1]
    for encoding in ("cp950", "big5hkscs"):
        for a in starts:
            for b in ends:
                try:
                    decoded = data[a:b].decode(encoding)
                except UnicodeDecodeError:
                    continue
                if _is_plausible_cjk(decoded):
                    return True
    return False


def _is_plausible_cjk(decoded: str) -> bool:
    # Random binary often decodes as *some* Big5; real text has CJK and no control bytes.
    has_cjk = any("\u4e00" <= char <= "\u9fff" for char in decoded)
    controls = any(ord(char) < 0x20 and char not in "\t\r" for char in decoded)
    return has_cjk and not controls
