"""The bilingual catalog: every message exists in both languages, every id the code
uses is defined, and Traditional Chinese texts are Traditional."""

from __future__ import annotations

import re
from pathlib import Path

from labelops.i18n import LANGUAGES, catalog, negotiate_language, translate
from labelops.text import looks_simplified

SOURCE = Path(__file__).resolve().parents[2] / "src" / "labelops"
ID_PATTERN = re.compile(
    r"[\"']((?:errors|cli|itemfiles|text|media|demo|quality|sampling)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)[\"']"
)


def test_every_message_has_both_languages_and_no_simplified_text():
    messages = catalog()
    assert len(messages) > 100
    for message_id, texts in messages.items():
        for lang in LANGUAGES:
            assert texts.get(lang, "").strip(), (message_id, lang)
        assert not looks_simplified(texts["zh-Hant"]), (message_id, texts["zh-Hant"])


def test_every_id_used_in_the_code_is_defined():
    from typing import get_args

    from labelops.services.policy import Action

    actions = set(get_args(Action))  # policy action names share the dotted shape
    messages = catalog()
    missing = set()
    for path in SOURCE.rglob("*.py"):
        for message_id in ID_PATTERN.findall(path.read_text(encoding="utf-8")):
            if message_id not in messages and message_id not in actions:
                missing.add(f"{path.relative_to(SOURCE)}: {message_id}")
    assert not missing, sorted(missing)


def test_placeholders_match_between_languages():
    for message_id, texts in catalog().items():
        names = [set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGUAGES]
        assert names[0] == names[1], message_id


def test_accept_language_negotiation():
    assert negotiate_language("zh-TW,zh;q=0.9,en;q=0.8") == "zh-Hant"
    assert negotiate_language("en-US,en;q=0.9,zh-TW;q=0.8") == "en"
    assert negotiate_language("fr-FR, zh-HK;q=0.5") == "zh-Hant"
    assert negotiate_language(None) == "en"
    assert translate("errors.vendor.exists", "zh-Hant", name="甲") == "供應商「甲」已存在"
