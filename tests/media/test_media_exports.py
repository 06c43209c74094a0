"""The declared public surface of labelops.media."""

from __future__ import annotations

import labelops.media


def test_public_names() -> None:
    assert sorted(labelops.media.__all__) == [
        "MediaInfo",
        "MediaKind",
        "media_path_problem",
        "media_subfolder",
        "missing_media",
        "open_media",
        "probe_media",
        "probe_open_media",
    ]
