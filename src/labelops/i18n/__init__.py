"""Bilingual (en + zh-Hant) message catalog.

Every user-facing text has an id; the texts live in ``messages/*.json`` files, one per
area (``core.json``, ``quality.json``, ``audit.json``, ``web.json``...), each mapping
``id -> {"en": ..., "zh-Hant": ...}``. Areas are separate files so that teams add
messages without touching each other's; an id defined twice is an error.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "catalog", "negotiate_language", "translate"]

LANGUAGES: tuple[str, ...] = ("en", "zh-Hant")
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """All messages, ``{message_id: {"en": text, "zh-Hant": text}}``.

    Raises:
        ValueError: An id is defined in two files, or lacks one of the languages.
    """
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("labelops.i18n") / "messages"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        data: dict[str, dict[str, str]] = json.loads(entry.read_text(encoding="utf-8"))
        for message_id, texts in data.items():
            if message_id in merged:
                raise ValueError(f"message id {message_id!r} defined twice ({entry.name})")
            missing = [lang for lang in LANGUAGES if not texts.get(lang)]
            if missing:
                raise ValueError(f"message id {message_id!r} in {entry.name} lacks {missing}")
            merged[message_id] = texts
    return merged


def translate(message_id: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text of ``message_id`` in ``lang`` with ``{name}`` placeholders filled.

    ``message_id`` and ``lang`` are positional-only, so a placeholder may have any name,
    ``{lang}`` included. Unknown ids render as the id itself (so a missing entry is
    visible, not fatal); a test checks that every id used in the code exists.
    """
    texts = catalog().get(message_id)
    if texts is None:
        return message_id
    template = texts.get(normalise_language(lang), texts[DEFAULT_LANGUAGE])
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def normalise_language(lang: str | None) -> str:
    """Map ``zh-TW``, ``zh_Hant``, ``zh-HK``... to ``zh-Hant``; anything else to ``en``."""
    if not lang:
        return DEFAULT_LANGUAGE
    lowered = lang.strip().lower().replace("_", "-")
    if lowered.startswith("zh"):
        # Simplified Chinese readers get Traditional rather than English: the product
        # has no zh-Hans catalog and silently converting would harm policy wording.
        return "zh-Hant"
    return DEFAULT_LANGUAGE


def negotiate_language(accept_language: str | None) -> str:
    """Pick ``en`` or ``zh-Hant`` from an HTTP ``Accept-Language`` header (q-values honoured)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        quality = 1.0
        for extra in pieces[1:]:
            if extra.strip().startswith("q="):
                try:
                    quality = float(extra.strip()[2:])
                except ValueError:
                    quality = 0.0
        if tag and tag != "*":
            choices.append((-quality, position, tag))
    for _, _, tag in sorted(choices):
        lowered = tag.lower()
        if lowered.startswith("zh") or lowered.startswith("en"):
            return normalise_language(tag)
    return DEFAULT_LANGUAGE
