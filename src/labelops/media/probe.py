"""What a media file is: kind, MIME type, size and (for images) pixel dimensions.

Used when items are imported with media paths: a missing file is reported as
``exists=False`` so that an import can list every missing file at once instead of
failing on the first. The file's own leading bytes ("magic") win over its extension,
because vendor exports often rename ``.webp`` to ``.jpg``; the extension is the fallback
when the bytes are not recognised.

Image dimensions are read from the headers of PNG, JPEG, GIF, WebP and BMP files by a few
bytes of parsing, so probing thousands of files reads only their first kilobytes
(JPEG may need a few segment hops). Audio and video get kind, MIME and size only.
"""

from __future__ import annotations

__all__ = ["MediaInfo", "MediaKind", "missing_media", "probe_media", "probe_open_media"]

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from labelops.errors import InvalidInput

MediaKind = Literal["image", "audio", "video", "unknown"]
"""Broad kind of a media file."""

_HEAD_BYTES = 64

_BY_EXTENSION: dict[str, tuple[MediaKind, str]] = {
    ".png": ("image", "image/png"),
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".gif": ("image", "image/gif"),
    ".webp": ("image", "image/webp"),
    ".bmp": ("image", "image/bmp"),
    ".mp3": ("audio", "audio/mpeg"),
    ".wav": ("audio", "audio/wav"),
    ".ogg": ("audio", "audio/ogg"),
    ".oga": ("audio", "audio/ogg"),
    ".flac": ("audio", "audio/flac"),
    ".m4a": ("audio", "audio/mp4"),
    ".aac": ("audio", "audio/aac"),
    ".mp4": ("video", "video/mp4"),
    ".m4v": ("video", "video/mp4"),
    ".mov": ("video", "video/quicktime"),
    ".webm": ("video", "video/webm"),
    ".mkv": ("video", "video/x-matroska"),
    ".avi": ("video", "video/x-msvideo"),
}


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`probe_media` found out about one file."""

    kind: MediaKind
    """``"image"``, ``"audio"``, ``"video"`` or ``"unknown"``; from the bytes if they are
    recognised, else from the extension (also for a missing file)."""
    exists: bool
    """Whether a regular file is at the path."""
    size_bytes: int | None
    """File size in bytes; ``None`` if the file does not exist."""
    mime: str | None
    """MIME type, e.g. ``"image/png"``; ``None`` if neither bytes nor extension tell."""
    width: int | None
    """Image width in pixels; ``None`` for audio, video, unknown or damaged headers."""
    height: int | None
    """Image height in pixels; ``None`` when ``width`` is."""


def probe_media(path: str | os.PathLike[str]) -> MediaInfo:
    """Probe one media file by its magic bytes and extension.

    Args:
        path: File path. Only regular files count as existing; a directory or a
            missing path gives ``exists=False``.

    Returns:
        A :class:`MediaInfo`. A truncated or damaged header gives ``width`` and
        ``height`` of ``None``, never an exception.

    Raises:
        InvalidInput: The file exists but cannot be read (permissions, I/O error).

    Example:
        >>> info = probe_media("missing/banner.png")
        >>> info.kind, info.exists, info.mime
        ('image', False, 'image/png')
    """
    file = Path(path)
    if not file.is_file():
        return missing_media(file.name)
    try:
        size = file.stat().st_size
        with file.open("rb") as handle:
            return probe_open_media(handle, file.name, size)
    except OSError as exc:
        raise InvalidInput(
            "media.unreadable", file=str(file), reason=exc.strerror or type(exc).__name__
        ) from exc


def _by_extension(name: str) -> tuple[MediaKind, str | None]:
    return _BY_EXTENSION.get(os.path.splitext(name)[1].lower(), ("unknown", None))


def missing_media(name: str) -> MediaInfo:
    """What is known of a file that is not there: kind and MIME from its extension only.

    Example:
        >>> missing_media("banner.webp").mime
        'image/webp'
    """
    kind, mime = _by_extension(name)
    return MediaInfo(kind, False, None, mime, None, None)


def probe_open_media(handle: BinaryIO, name: str, size: int) -> MediaInfo:
    """Probe a media file already open for reading (from its start), like :func:`probe_media`.

    For callers that open the file themselves (``labelops.media.paths.open_media``: inside
    the media root, without following a last symbolic link). ``name`` gives the extension
    to fall back on; ``size`` is the file's size in bytes.

    Raises:
        InvalidInput: Reading failed.
    """
    try:
        head = handle.read(_HEAD_BYTES)
        found = _sniff(head)
        width_height = _image_size(found[1], head, handle) if found else None
    except OSError as exc:
        raise InvalidInput(
            "media.unreadable", file=name, reason=exc.strerror or type(exc).__name__
        ) from exc
    kind, mime = (found[0], found[1]) if found else _by_extension(name)
    width, height = width_height if width_height else (None, None)
    return MediaInfo(kind, True, size, mime, width, height)


_RIFF_FORMS: dict[bytes, tuple[MediaKind, str]] = {
    b"WEBP": ("image", "image/webp"),
    b"WAVE": ("audio", "audio/wav"),
    b"AVI ": ("video", "video/x-msvideo"),
}


def _sniff(head: bytes) -> tuple[MediaKind, str] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif"
    if head.startswith(b"BM") and len(head) >= 26:
        return "image", "image/bmp"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return _RIFF_FORMS.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _sniff_iso_brand(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML DocType sits in the first few dozen bytes of the header.
        return ("video", "video/webm") if b"webm" in head else ("video", "video/x-matroska")
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio", "audio/flac"
    if head.startswith(b"ID3"):
        return "audio", "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word, layer 0
            return "audio", "audio/aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return "audio", "audio/mpeg"
    return None


def _sniff_iso_brand(brand: bytes) -> tuple[MediaKind, str]:
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return "audio", "audio/mp4"
    if brand == b"qt  ":
        return "video", "video/quicktime"
    return "video", "video/mp4"


def _image_size(mime: str, head: bytes, handle: BinaryIO) -> tuple[int, int] | None:
    try:
        if mime == "image/png" and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
        elif mime == "image/gif":
            width, height = struct.unpack("<HH", head[6:10])
        elif mime == "image/bmp":
            width, height = struct.unpack("<ii", head[18:26])
            height = abs(height)  # negative height means a top-down bitmap
        elif mime == "image/webp":
            return _webp_size(head)
        elif mime == "image/jpeg":
            return _jpeg_size(handle)
        else:
            return None
    except struct.error:
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None


# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the
# range but are tables, not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(handle: BinaryIO) -> tuple[int, int] | None:
    handle.seek(2)
    # Hop from segment to segment by their lengths: EXIF and ICC profiles can push the
    # frame header tens of kilobytes in, and reading only headers keeps probing cheap.
    for _ in range(1024):
        marker = handle.read(2)
        while marker[:1] == b"\xff" and marker[1:2] == b"\xff":  # fill bytes
            marker = marker[1:] + handle.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:  # markers without a length
            continue
        if code in (0xD9, 0xDA):  # end of image or start of scan before any frame
            return None
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        length = int.from_bytes(length_bytes, "big")
        if code in _JPEG_SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return (width, height) if width > 0 and height > 0 else None
        if length < 2:
            return None
        handle.seek(length - 2, os.SEEK_CUR)
    return None
