"""Traditional Chinese ad text: hashing, encoding checks, Simplified detection, highlights,
personal-data masking.

Pure: no database, no HTTP, no settings. Stored text is never altered by anything here;
normalisation happens only inside :func:`content_hash`, and Simplified -> Traditional
conversion only when a caller asks for it with :func:`to_traditional`.
"""

from __future__ import annotations

__all__ = [
    "PII_KINDS",
    "EncodingProblem",
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

from labelops.text.encoding import (
    EncodingProblem,
    SuspectedEncoding,
    decode_utf8_strict,
    find_encoding_problem,
)
from labelops.text.highlight import Span, SpanKind, find_spans
from labelops.text.normalize import (
    TraditionalVariant,
    content_hash,
    find_simplified_chars,
    looks_simplified,
    to_traditional,
)
from labelops.text.pii import PII_KINDS, PiiKind, PiiSpan, find_pii, mask_pii
