"""The declared public surface of labelops.media."""

from __future__ import annotations

import labelops.media


def test_public_names() -> None:
    assert sorted(labelops.media.__all__) == ["MediaInfo", "MediaKind", "probe_media"]
