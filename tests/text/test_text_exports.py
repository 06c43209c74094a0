"""The declared public surface of labelops.text, and its purity."""

from __future__ import annotations

import subprocess
import sys

import labelops.text


def test_public_names() -> None:
    assert sorted(labelops.text.__all__) == [
        "EncodingProblem",
        "PII_KINDS",
        "PiiKind",
        "PiiSpan",
        "Span",
        "SpanKind",
        "SuspectedEncoding",
        "TraditionalVariant",
        "content_hash",
        "decode_utf8_strict",
        "find_encoding_problem",
        "find_pii",
        "find_simplified_chars",
        "find_spans",
        "looks_simplified",
        "mask_pii",
        "to_traditional",
    ]
    assert all(hasattr(labelops.text, name) for name in labelops.text.__all__)


def test_pure_cores_import_no_shells() -> None:
    code = (
        "import sys, labelops.text, labelops.media, labelops.demo; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi') "
        "or m.startswith(('labelops.store', 'labelops.services', 'labelops.api', "
        "'labelops.web', 'labelops.cli'))]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
