"""Media files of ad creatives: probing kind, MIME type, size and image dimensions.

Pure: no database, no HTTP, no settings, and no Pillow (headers are parsed directly).
Which files a media path may name at all (only inside the media root) is decided by
:mod:`labelops.media.paths`, the one place that resolves item media paths.
"""

from __future__ import annotations

__all__ = [
    "MediaInfo",
    "MediaKind",
    "media_path_problem",
    "media_subfolder",
    "missing_media",
    "open_media",
    "probe_media",
    "probe_open_media",
]

from labelops.media.paths import media_path_problem, media_subfolder, open_media
from labelops.media.probe import MediaInfo, MediaKind, missing_media, probe_media, probe_open_media
