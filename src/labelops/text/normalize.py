"""Content hashing and explicit Simplified -> Traditional conversion.

When to use what:

* :func:`content_hash` -- the dedup key of an item (text + media bytes). The stored text is
  never changed; Unicode NFC is applied only inside the hash, so the same words typed on a
  Mac (NFD from some input methods and file systems) and on Windows (NFC) dedup together.
* :func:`looks_simplified` / :func:`find_simplified_chars` -- flag Simplified Chinese in text
  that claims to be ``zh-Hant`` (an import warning, a demo-content check). Nothing is
  converted.
* :func:`to_traditional` -- convert Simplified input with OpenCC, *only* when a user asks
  for it. It is never applied silently: conversion can change policy-relevant wording
  (``软件`` -> ``軟體`` with Taiwan phrases) and labels must be given on what the advertiser
  actually wrote.
"""

from __future__ import annotations

__all__ = [
    "TraditionalVariant",
    "content_hash",
    "find_simplified_chars",
    "looks_simplified",
    "to_traditional",
]

import hashlib
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import opencc

from labelops.errors import InvalidInput

TraditionalVariant = Literal["tw", "hk", "t"]
"""Target of :func:`to_traditional`: Taiwan with phrases (``s2twp``), Hong Kong (``s2hk``),
or OpenCC's generic Traditional (``s2t``)."""

_CONFIGS: dict[str, str] = {"tw": "s2twp", "hk": "s2hk", "t": "s2t"}

# Domain separation: a future hash layout gets a new tag instead of silently colliding.
_HASH_TAG = b"labelops.content.v1\x00"


def content_hash(text: str | None, media: Sequence[bytes] = ()) -> str:
    """SHA-256 dedup key of an item's text and media.

    The text is NFC-normalised and UTF-8 encoded; then the text and each media blob are
    written with an 8-byte big-endian length prefix, so that moving bytes across a
    boundary (``("ab", [b"c"])`` vs ``("a", [b"bc"])``) can never give the same hash.
    The caller's text is not modified.

    Args:
        text: The item's text; ``None`` hashes like ``""``.
        media: The raw bytes of each media file, in the item's order.

    Returns:
        64 lowercase hex characters.

    Raises:
        TypeError: ``media`` is a single ``bytes`` object instead of a sequence of them
            (iterating it would silently hash integers).

    Example:
        >>> content_hash("台灣") == content_hash(unicodedata.normalize("NFD", "台灣"))
        True
    """
    if isinstance(media, bytes | bytearray | memoryview):
        raise TypeError("media must be a sequence of bytes objects, not a single bytes object")
    digest = hashlib.sha256(_HASH_TAG)
    encoded = unicodedata.normalize("NFC", text or "").encode("utf-8")
    digest.update(len(encoded).to_bytes(8, "big"))
    digest.update(encoded)
    digest.update(len(media).to_bytes(8, "big"))
    for blob in media:
        digest.update(len(blob).to_bytes(8, "big"))
        digest.update(blob)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _converter(config: str) -> opencc.OpenCC:
    # Building a converter loads dictionaries (~10 ms); converting is thread-safe.
    return opencc.OpenCC(config)


def to_traditional(text: str, *, variant: TraditionalVariant = "tw") -> str:
    """Convert Simplified Chinese to Traditional with OpenCC, on explicit request only.

    Args:
        text: Simplified (or mixed) Chinese text.
        variant: ``"tw"`` (Taiwan characters and phrases, ``s2twp``), ``"hk"`` (``s2hk``) or
            ``"t"`` (OpenCC's generic Traditional, ``s2t``).

    Returns:
        The converted text. Text that is already Traditional comes back unchanged for
        ordinary wording.

    Raises:
        InvalidInput: ``variant`` is not one of the three above.

    Example:
        >>> to_traditional("软件下载")
        '軟體下載'
    """
    config = _CONFIGS.get(variant)
    if config is None:
        raise InvalidInput(
            "text.unknown_variant", field="variant", value=variant, allowed=", ".join(_CONFIGS)
        )
    result: str = _converter(config).convert(text)
    return result


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x3FFFF or 0xF900 <= code <= 0xFAFF


# Simplified forms that Big5 also encodes among its common (level-1) characters, but
# that Traditional text practically never uses for these words: 什么, 于是, 儿子, 几个...
# Level-1 characters that are good Traditional in their own right (台, 里, 后, 范, 准,
# 干, 云, 佣金, 灶, 床) are deliberately absent, and so is 晒, which Hong Kong Cantonese
# writes every day (賣晒, 好返晒).
_COMMON_BIG5_SIMPLIFIED = frozenset("么于儿几听坏并愿扑虫尸")

# Big5 level-1 (frequently used) characters end at 0xC67E; level 2 starts at 0xC940.
_BIG5_LEVEL1_END = b"\xc6\x7e"


@lru_cache(maxsize=65536)
def _is_simplified_only(char: str) -> bool:
    # OpenCC's s2t also "converts" characters that are perfectly good Traditional in their
    # own right (台 -> 臺, 里 -> 裏, 后 -> 後, 范 -> 範), so "s2t changes it" alone would
    # flag every 台灣. A character counts as Simplified-only when s2t changes it AND it is
    # not one of Big5's frequently used characters: Big5 (cp950) level 1 is the repertoire
    # Taiwan text actually uses, while level 2 holds rare characters that coincide with
    # Simplified forms (优, 价, 机, 万). Hong Kong-only characters (嘅, 啲) are outside
    # cp950 too, but s2t leaves them alone.
    if char in _COMMON_BIG5_SIMPLIFIED:
        return True
    try:
        encoded = char.encode("cp950")
    except UnicodeEncodeError:
        encoded = b""
    if encoded and encoded <= _BIG5_LEVEL1_END:
        return False
    return bool(_converter("s2t").convert(char) != char)


# Taiwan terms written with a rare Big5 character that is also a Simplified form: 胜 is
# Simplified for 勝, but 胜肽 (peptide) is the standard Taiwan word on every supplement ad.
_TRADITIONAL_PHRASES = ("胜肽",)


def _mask_traditional_phrases(text: str) -> str:
    for phrase in _TRADITIONAL_PHRASES:
        if phrase in text:
            text = text.replace(phrase, " " * len(phrase))
    return text


def find_simplified_chars(text: str) -> list[str]:
    """The distinct Simplified-only characters in ``text``, in order of first appearance.

    Args:
        text: Any text.

    Returns:
        Characters that exist only in Simplified Chinese (``发``, ``为``, ``钟``...);
        empty for Traditional, English or mixed-script text without them.

    Example:
        >>> find_simplified_chars("限时优惠 限時優惠")
        ['时', '优']
    """
    found: dict[str, None] = {}
    for char in _mask_traditional_phrases(text):
        if char not in found and _is_cjk(char) and _is_simplified_only(char):
            found[char] = None
    return list(found)


def looks_simplified(text: str) -> bool:
    """Whether ``text`` contains any Simplified-only character.

    Use it to warn that an item declared ``zh-Hant`` is really Simplified, and to offer
    :func:`to_traditional`; never to convert automatically.

    Args:
        text: Any text.

    Returns:
        ``True`` if :func:`find_simplified_chars` finds at least one character.

    Example:
        >>> looks_simplified("台灣限定優惠"), looks_simplified("台湾限定优惠")
        (False, True)
    """
    return any(
        _is_cjk(char) and _is_simplified_only(char) for char in _mask_traditional_phrases(text)
    )
