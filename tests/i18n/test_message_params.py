"""Every message can be rendered with its own placeholders, whatever they are named.

A placeholder that shares its name with a parameter of ``translate`` or of an error
class's constructor (``lang``, ``message_id``) used to crash the renderer with a
``TypeError`` (issue #19: a taxonomy without a zh-Hant name gave HTTP 500).
"""

from __future__ import annotations

import re
import string

import pytest

from labelops.errors import InvalidInput, LabelopsError, NotFound, RowProblem
from labelops.i18n import LANGUAGES, catalog, translate


def _placeholders(message_id: str) -> set[str]:
    names: set[str] = set()
    for lang in LANGUAGES:
        for _, name, _, _ in string.Formatter().parse(catalog()[message_id][lang]):
            if name:
                names.add(re.split(r"[.\[]", name)[0])
    return names


MESSAGES = sorted(catalog())


@pytest.mark.parametrize("message_id", MESSAGES)
def test_every_message_renders_with_its_own_placeholders(message_id: str) -> None:
    params = {name: f"<{name}-value>" for name in _placeholders(message_id)}
    for lang in LANGUAGES:
        text = translate(message_id, lang, **params)
        for name, value in params.items():
            assert value in text, (message_id, lang, name)
        # The error classes carry the same params and render them the same way.
        assert LabelopsError(message_id, **params).render(lang) == text
        assert NotFound(message_id, **params).render(lang) == text


@pytest.mark.parametrize("name", ["lang", "message_id", "self", "params"])
def test_a_placeholder_named_like_a_parameter_of_the_renderer_is_rendered(name: str) -> None:
    """The class of the bug, for names no message uses today."""
    from labelops.i18n import catalog as cached

    cached()["errors.test.placeholder"] = {"en": f"got {{{name}}}", "zh-Hant": f"收到 {{{name}}}"}
    try:
        assert translate("errors.test.placeholder", "zh-Hant", **{name: "X"}) == "收到 X"
        assert LabelopsError("errors.test.placeholder", **{name: "X"}).render("en") == "got X"
        error = InvalidInput("errors.test.placeholder", file="f.yaml", field="a", **{name: "X"})
        assert error.render("en") == "f.yaml, field 'a': got X"
        row = RowProblem(
            line=3, field=None, message_id="errors.test.placeholder", params={name: "X"}
        )
        assert row.render("en", "f.jsonl").endswith("got X")
    finally:
        del cached()["errors.test.placeholder"]
