"""Probing tiny hand-built media files: kind, MIME, size and image dimensions."""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import pytest

from labelops.errors import InvalidInput
from labelops.media import MediaInfo, probe_media


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg(width: int, height: int, *, exif_bytes: int = 0) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = (
        b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"E" * exif_bytes if exif_bytes else b""
    )
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + dqt + b"\xff\xff" + sof + b"\xff\xda\x00\x02" + b"\xff\xd9"


def _riff(form: bytes, body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", len(body) + 4) + form + body


def _webp_vp8(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 8
    return _riff(b"WEBP", b"VP8 " + struct.pack("<I", len(frame)) + frame)


def _webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    data = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 4
    return _riff(b"WEBP", b"VP8L" + struct.pack("<I", len(data)) + data)


def _webp_vp8x(width: int, height: int) -> bytes:
    data = (
        b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    return _riff(b"WEBP", b"VP8X" + struct.pack("<I", len(data)) + data)


def _bmp(width: int, height: int) -> bytes:
    header = b"BM" + struct.pack("<IHHI", 70, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return header + info + b"\x00" * 16


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "mime", "size"),
    [
        ("banner.png", _png(3, 2), "image/png", (3, 2)),
        ("photo.jpg", _jpeg(640, 480), "image/jpeg", (640, 480)),
        ("exif.jpeg", _jpeg(1080, 1920, exif_bytes=40_000), "image/jpeg", (1080, 1920)),
        (
            "anim.gif",
            b"GIF89a" + struct.pack("<HH", 320, 50) + b"\x00" * 20,
            "image/gif",
            (320, 50),
        ),
        ("lossy.webp", _webp_vp8(728, 90), "image/webp", (728, 90)),
        ("lossless.webp", _webp_vp8l(300, 250), "image/webp", (300, 250)),
        ("extended.webp", _webp_vp8x(1200, 628), "image/webp", (1200, 628)),
        ("topdown.bmp", _bmp(16, -9), "image/bmp", (16, 9)),
    ],
)
def test_image_dimensions(
    tmp_path: Path, name: str, data: bytes, mime: str, size: tuple[int, int]
) -> None:
    info = probe_media(_write(tmp_path, name, data))
    assert info == MediaInfo("image", True, len(data), mime, size[0], size[1])


def test_wav_written_by_the_standard_library(tmp_path: Path) -> None:
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 80)
    info = probe_media(path)
    assert (info.kind, info.mime, info.width) == ("audio", "audio/wav", None)
    assert info.size_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("name", "data", "kind", "mime"),
    [
        ("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 20, "audio", "audio/mpeg"),
        ("raw.mp3", b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio", "audio/mpeg"),
        ("clip.aac", b"\xff\xf1\x50\x80" + b"\x00" * 20, "audio", "audio/aac"),
        ("note.ogg", b"OggS\x00\x02" + b"\x00" * 20, "audio", "audio/ogg"),
        ("take.flac", b"fLaC\x00\x00\x00\x22" + b"\x00" * 20, "audio", "audio/flac"),
        ("memo.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio", "audio/mp4"),
        ("ad.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video", "video/mp4"),
        ("ad.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video", "video/quicktime"),
        ("ad.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video", "video/webm"),
        ("ad.mkv", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", "video", "video/x-matroska"),
        ("ad.avi", _riff(b"AVI ", b"LIST" + b"\x00" * 12), "video", "video/x-msvideo"),
    ],
)
def test_audio_and_video_by_magic(
    tmp_path: Path, name: str, data: bytes, kind: str, mime: str
) -> None:
    info = probe_media(_write(tmp_path, name, data))
    assert (info.kind, info.exists, info.size_bytes, info.mime) == (kind, True, len(data), mime)
    assert (info.width, info.height) == (None, None)


def test_missing_file_is_not_an_error(tmp_path: Path) -> None:
    info = probe_media(tmp_path / "nope" / "banner.PNG")
    assert info == MediaInfo("image", False, None, "image/png", None, None)
    assert probe_media(str(tmp_path / "x.unknownext")) == MediaInfo(
        "unknown", False, None, None, None, None
    )


def test_directory_does_not_count_as_a_file(tmp_path: Path) -> None:
    assert not probe_media(tmp_path).exists


def test_bytes_win_over_a_wrong_extension(tmp_path: Path) -> None:
    info = probe_media(_write(tmp_path, "renamed.jpg", _webp_vp8(10, 20)))
    assert (info.kind, info.mime, info.width, info.height) == ("image", "image/webp", 10, 20)


def test_unrecognised_bytes_fall_back_to_the_extension(tmp_path: Path) -> None:
    info = probe_media(_write(tmp_path, "clip.mp4", b"not really a video"))
    assert (info.kind, info.mime, info.exists, info.size_bytes) == ("video", "video/mp4", True, 18)
    assert probe_media(_write(tmp_path, "notes.txt", b"hello")).kind == "unknown"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.png", _png(3, 2)[:20]),
        ("cut.jpg", _jpeg(640, 480)[:30]),
        ("scan-first.jpg", b"\xff\xd8\xff\xda\x00\x02\xff\xd9"),
        ("cut.webp", _webp_vp8(728, 90)[:24]),
        ("empty.png", b""),
    ],
)
def test_damaged_headers_give_no_dimensions(tmp_path: Path, name: str, data: bytes) -> None:
    info = probe_media(_write(tmp_path, name, data))
    assert info.exists and info.size_bytes == len(data)
    assert (info.width, info.height) == (None, None)
    assert info.kind == "image"


def test_unreadable_file_is_invalid_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "locked.png", _png(1, 1))

    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    # chmod cannot lock a file against root (CI containers run as root), so fake the OS.
    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InvalidInput) as info:
        probe_media(path)
    assert info.value.message_id == "media.unreadable"
    assert info.value.file == str(path)
    assert "Permission denied" in info.value.render("en")
