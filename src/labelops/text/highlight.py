"""Find the contact points and prices in ad text, for highlighting in the labeller UI.

Scam, gambling and counterfeit ads move the buyer off-platform: a LINE ID, a phone number,
a bare domain. Prices are what misleading-claims and counterfeit policies turn on
(``LV 包 NT$1,200``). :func:`find_spans` marks these in Taiwan / Hong Kong Traditional
Chinese and in English ad copy so that a labeller sees them at a glance.

The patterns are tuned for precision over recall: a highlight that is wrong teaches
labellers to ignore highlights. Full-width digits and the full-width dollar sign (``＄``)
are recognised because ad text uses them, often to dodge keyword filters.
"""

from __future__ import annotations

__all__ = ["Span", "SpanKind", "find_spans"]

import re
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal["url", "phone", "price", "line_id"]
"""What a span marks."""

# Earlier kinds win a tie between two candidates of the same start and length.
_PRIORITY: dict[str, int] = {"url": 0, "line_id": 1, "phone": 2, "price": 3}


@dataclass(frozen=True, order=True)
class Span:
    """One highlighted run of text."""

    start: int
    """Index of the first character (Python ``str`` index, not a byte offset)."""
    end: int
    """Index just after the last character, so ``text[start:end]`` is the span."""
    kind: SpanKind
    """``"url"``, ``"phone"``, ``"price"`` or ``"line_id"``."""


_D = "[0-9０-９]"  # ASCII or full-width digit; not \d, which also takes Thai, Arabic... digits
_SEP = r"[-‐－\s.]?"  # one optional separator inside a phone number
_NOT_BEFORE_DIGIT = r"(?<![0-9０-９A-Za-z])"
_NOT_AFTER_DIGIT = r"(?![0-9０-９])"

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TLDS = (
    "com|net|org|tw|hk|io|cc|me|co|shop|store|xyz|top|vip|info|biz|asia|app|ly|gl|link|live|"
    "online|site|club|us|sg|my|uk|ee"
)
_URL = re.compile(
    rf"https?://{_URL_CHARS}+"
    # No scheme: a host with a known TLD (optionally a second-level country code, .com.tw),
    # dots may be full-width (．) as spam uses them to dodge link filters.
    rf"|(?<![A-Za-z0-9@._\-．])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,62}})[.．])+"
    rf"(?:{_TLDS})(?:[.．](?:tw|hk|uk|sg|my|au))?(?![A-Za-z0-9\-])"
    rf"(?:[/?#]{_URL_CHARS}*)?",
    re.IGNORECASE,
)

_PHONE = re.compile(
    # +886 mobile or landline, +852 Hong Kong, +1 North America.
    rf"(?:\+|＋)886[\s\-]?\(?0?\)?[2-9]{_D}{{0,2}}{_SEP}{_D}{{3,4}}{_SEP}{_D}{{3,4}}{_NOT_AFTER_DIGIT}"
    rf"|(?:\+|＋)852[\s\-]?{_D}{{4}}{_SEP}{_D}{{4}}{_NOT_AFTER_DIGIT}"
    rf"|(?:\+|＋)1[\s\-.]?\(?{_D}{{3}}\)?{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}{_NOT_AFTER_DIGIT}"
    # Taiwan mobile 09xx-xxx-xxx and toll-free 0800/0809.
    rf"|{_NOT_BEFORE_DIGIT}[0０][9９]{_D}{{2}}{_SEP}{_D}{{3}}{_SEP}{_D}{{3}}{_NOT_AFTER_DIGIT}"
    rf"|{_NOT_BEFORE_DIGIT}[0０][8８][0０][09０９]{_SEP}{_D}{{3}}{_SEP}{_D}{{3}}{_NOT_AFTER_DIGIT}"
    # Taiwan landline: (02)2345-6789, 02-2345-6789, 037-123456, 049-2345678.
    rf"|{_NOT_BEFORE_DIGIT}(?:\(0[2-8]{_D}{{0,2}}\)|0[2-8]{_D}{{0,2}}(?=[-‐－\s]))[-‐－\s]?"
    rf"{_D}{{3,4}}{_SEP}{_D}{{3,4}}{_NOT_AFTER_DIGIT}"
    # North America (555) 123-4567 / 555-123-4567, separators required.
    rf"|{_NOT_BEFORE_DIGIT}(?:\({_D}{{3}}\)\s?|{_D}{{3}}[-.])[0-9]{{3}}[-.][0-9]{{4}}{_NOT_AFTER_DIGIT}"
)
# Hong Kong numbers are written without +852 when the context says "phone"; bare
# eight-digit runs are too ambiguous (order numbers, dates) to mark on their own.
_HK_LOCAL = re.compile(
    rf"(?:電話|致電|熱線|查詢|聯絡|WhatsApp|Whatsapp|whatsapp|WA|Tel|TEL|tel)[:：\s]*"
    rf"(?P<number>[2-9]{_D}{{3}}[\s\-]?{_D}{{4}}){_NOT_AFTER_DIGIT}"
)

_AMOUNT = rf"{_D}{{1,3}}(?:[,，]{_D}{{3}})+(?:\.{_D}{{1,2}})?|{_D}+(?:\.{_D}{{1,2}})?"
_CURRENCY_BEFORE = (
    r"NT\$|NTD|NT|HK\$|HKD|US\$|USD|S\$|SGD|RM|\$|＄|新台幣|新臺幣|台幣|臺幣|港幣|港元|美金"
)
# 元 is skipped before 旦/宵/素/月/氣 (元旦, 元宵...), which follow years and counts.
_CURRENCY_AFTER = (
    r"元(?![旦宵素月氣])|圓|塊錢|塊|蚊|港元|港幣|美元|美金|台幣|臺幣|NTD|HKD|USD|[Dd]ollars?"
)
_PRICE = re.compile(
    # A letter before the code means a word ("different 5", "form 3"), not a currency.
    rf"(?<![A-Za-z])(?:{_CURRENCY_BEFORE})\s?(?:{_AMOUNT})(?:\s?[萬千kK])?(?:\s?(?:{_CURRENCY_AFTER}))?"
    rf"|{_NOT_BEFORE_DIGIT}(?:{_AMOUNT})\s?[萬千]?\s?(?:{_CURRENCY_AFTER})"
)

_LINE_ID_CHARS = r"[A-Za-z0-9._\-]"
# "加LINE: abc123", "LINE ID：abc", "加賴 abc123", "官方LINE @abc". A keyword alone
# ("LINE Pay") is not enough: an add-verb, "ID", a colon or an @ must tie it to the id.
_LINE_ID = re.compile(
    rf"(?:(?:加|加入|搜尋|官方|私)\s?(?:LINE|ＬＩＮＥ|line|Line|賴)\s?(?:ID|id|Id)?\s?[:：]?\s?"
    rf"|(?:LINE|ＬＩＮＥ|line|Line|賴)\s?(?:ID|id|Id)\s?[:：]?\s?"
    rf"|(?:LINE|ＬＩＮＥ|line|Line|賴)\s?[:：]\s?"
    rf"|(?:LINE|ＬＩＮＥ|line|Line)\s?(?=[@＠]))"
    rf"(?P<id>[@＠]?[A-Za-z0-9]{_LINE_ID_CHARS}{{2,19}})(?!{_LINE_ID_CHARS}|[.．][A-Za-z])"
)
# A bare "@abc123" handle, which in Taiwan ads is almost always a LINE official account;
# not an e-mail (word character before) and not a domain (dot and letters after).
_AT_HANDLE = re.compile(
    rf"(?<![A-Za-z0-9._\-])(?P<id>[@＠][A-Za-z0-9]{_LINE_ID_CHARS}{{2,19}})"
    rf"(?!{_LINE_ID_CHARS}|[.．][A-Za-z])"
)

_TRAILING_URL_PUNCT = ".,;:!?'\")]．"


def _trim_url(text: str, start: int, end: int) -> int:
    # Sentence punctuation after a link is not part of it; a closing bracket is kept only
    # when the link opened one, as in Wikipedia-style paths.
    while end > start and text[end - 1] in _TRAILING_URL_PUNCT:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def _candidates(text: str) -> list[tuple[int, int, SpanKind]]:
    found: list[tuple[int, int, SpanKind]] = []
    for match in _URL.finditer(text):
        end = _trim_url(text, match.start(), match.end())
        if end > match.start():
            found.append((match.start(), end, "url"))
    for pattern in (_LINE_ID, _AT_HANDLE):
        for match in pattern.finditer(text):
            found.append((match.start("id"), match.end("id"), "line_id"))
    for match in _PHONE.finditer(text):
        found.append((match.start(), match.end(), "phone"))
    for match in _HK_LOCAL.finditer(text):
        found.append((match.start("number"), match.end("number"), "phone"))
    for match in _PRICE.finditer(text):
        start, end = match.start(), match.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        found.append((start, end, "price"))
    return found


def find_spans(text: str) -> list[Span]:
    """URLs, phone numbers, prices and LINE IDs in ``text``, sorted and non-overlapping.

    Recognised forms include ``https://x.tw/a``, ``shop.example.com.tw``, ``www．abc．com``;
    Taiwan ``0912-345-678``, ``(02)2345-6789``, ``+886 912 345 678``, ``0800-123-456``;
    Hong Kong ``+852 9123 4567`` (and eight digits after 電話/WhatsApp); US
    ``(415) 555-0134``; prices ``NT$1,200``, ``$99``, ``1,999元``, ``港幣 300``, ``HK$88``,
    ``新台幣 5000 元``, ``＄399``, ``10萬元``; LINE IDs ``加LINE: abc123``, ``LINE ID：abc``,
    ``加賴 abc123``, ``@abc123`` (the span covers the id, with its ``@``, not the keyword).

    Where candidates overlap, the leftmost wins, then the longest, then the order
    url > line_id > phone > price.

    Args:
        text: Ad text, any script.

    Returns:
        Spans with ``0 <= start < end <= len(text)``, sorted by ``start``, no two
        overlapping.

    Example:
        >>> [(text[s.start:s.end], s.kind) for text in ["加LINE: abc123 現折NT$200"]
        ...  for s in find_spans(text)]
        [('abc123', 'line_id'), ('NT$200', 'price')]
    """
    ordered = sorted(_candidates(text), key=lambda c: (c[0], c[0] - c[1], _PRIORITY[c[2]]))
    spans: list[Span] = []
    last_end = 0
    for start, end, kind in ordered:
        if start >= last_end and end > start:
            spans.append(Span(start, end, kind))
            last_end = end
    return spans
