"""Media files of ad creatives: probing kind, MIME type, size and image dimensions.

Pure: no database, no HTTP, no settings, and no Pillow (headers are parsed directly).
"""

from __future__ import annotations

__all__ = ["MediaInfo", "MediaKind", "probe_media"]

from labelops.media.probe import MediaInfo, MediaKind, probe_media
