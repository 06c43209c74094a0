"""Find and mask personal contact data in ad text: phone numbers, LINE IDs, e-mail addresses.

Exports can be asked to mask these (``labelops export --mask-pii``): each run becomes a
bracketed tag naming its kind (``[PHONE]``, ``[LINE_ID]``, ``[EMAIL]``) so a reader still
sees that the ad asked to be contacted off-platform, and how, without the number itself.
Everything around a span is kept character for character (Traditional Chinese included).

Phone numbers and LINE IDs are those :func:`~labelops.text.highlight.find_spans` marks for
labellers, plus LINE add-friend links (``line.me/ti/p/@abc``, ``lin.ee/AbC12``), masked as
``[LINE_ID]``; e-mail addresses are found here (the highlighter leaves them alone). Other
URLs and prices are not personal data and stay as they are.
"""

from __future__ import annotations

__all__ = ["PII_KINDS", "PiiKind", "PiiSpan", "find_pii", "mask_pii"]

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal

from labelops.text.highlight import find_spans

PiiKind = Literal["email", "line_id", "phone"]
"""What a personal-data span is."""

PII_KINDS: Final[tuple[PiiKind, ...]] = ("email", "line_id", "phone")
"""Every kind :func:`find_pii` reports, sorted."""

_TAGS: Final[dict[str, str]] = {"email": "[EMAIL]", "line_id": "[LINE_ID]", "phone": "[PHONE]"}

# Local part, an @ (or the full-width ＠ spam uses to dodge filters), then at least two
# host labels joined by dots (full-width ． too), the last one letters only.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63})[@＠]"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})[.．])+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)

# LINE's add-friend links (line.me/ti/p/@abc, lin.ee/AbC12) name an account as surely as
# the id does.
_LINE_LINK = re.compile(r"(?:https?://)?(?:[A-Za-z0-9\-]+[.．])*(?:line[.．]me|lin[.．]ee)/", re.I)


@dataclass(frozen=True, order=True)
class PiiSpan:
    """One run of personal data in a text."""

    start: int
    """Index of the first character (``str`` index)."""
    end: int
    """Index just after the last character."""
    kind: PiiKind
    """``"email"``, ``"line_id"`` or ``"phone"``."""


def find_pii(text: str) -> list[PiiSpan]:
    """E-mail addresses, LINE IDs and phone numbers in ``text``, sorted, non-overlapping.

    Where candidates overlap, the leftmost wins, then the longest (so the phone number
    in ``0912345678@gmail.com`` is part of the address). A found value written again
    elsewhere in the text is marked there too, even inside a longer word.

    Example:
        >>> [(s.kind) for s in find_pii("加LINE: abc123 或寄 a.b@shop.com.tw")]
        ['line_id', 'email']
    """
    found: list[tuple[int, int, PiiKind]] = [
        (match.start(), match.end(), "email") for match in _EMAIL.finditer(text)
    ]
    for span in find_spans(text):
        if span.kind == "phone" or span.kind == "line_id":
            found.append((span.start, span.end, span.kind))
        elif span.kind == "url" and _LINE_LINK.match(text, span.start, span.end):
            found.append((span.start, span.end, "line_id"))  # an add-friend link is the id
    spans = _leftmost_longest(found)
    # The same contact written again where no pattern ties it to a keyword ("之前加
    # cici2005 請轉加 ci2005") is the same personal data: every repeat is a span too.
    repeats: list[tuple[int, int, PiiKind]] = []
    for value, kind in {(text[s.start : s.end], s.kind) for s in spans}:
        start = text.find(value)
        while start != -1:
            repeats.append((start, start + len(value), kind))
            start = text.find(value, start + len(value))
    if len(repeats) > len(spans):
        spans = _leftmost_longest([(s.start, s.end, s.kind) for s in spans] + repeats)
    return spans


def _leftmost_longest(found: list[tuple[int, int, PiiKind]]) -> list[PiiSpan]:
    found.sort(key=lambda c: (c[0], c[0] - c[1]))
    spans: list[PiiSpan] = []
    last_end = 0
    for start, end, kind in found:
        if start >= last_end:
            spans.append(PiiSpan(start, end, kind))
            last_end = end
    return spans


def mask_pii(text: str, kinds: Collection[str] = PII_KINDS) -> str:
    """``text`` with each span of ``kinds`` replaced by its tag (``[PHONE]``...).

    Example:
        >>> mask_pii("洽詢 0912-345-678 或 service@shop.com.tw，謝謝")
        '洽詢 [PHONE] 或 [EMAIL]，謝謝'
    """
    spans = find_pii(text)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for span in spans:
        if span.kind not in kinds:
            continue
        parts.append(text[position : span.start])
        parts.append(_TAGS[span.kind])
        position = span.end
    parts.append(text[position:])
    return "".join(parts)
