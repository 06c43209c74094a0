"""Item media on the queue page: thumbnails, players, placeholders, and who may fetch them."""

from __future__ import annotations

import struct
import zlib

import pytest

from factories import make_world
from labelops.i18n import translate
from labelops.services import imports
from labelops.services.policy import SYSTEM_ACTOR
from web.web_support import give_passwords, login


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture()
def world(session, settings):
    media = settings.home / "media"
    media.mkdir(parents=True)
    (media / "banner.png").write_bytes(_png(4, 3))
    world = make_world(session, n_items=0, overlap=1)
    give_passwords(session, world, "labeller-a1", "labeller-a2")
    imports.import_item_records(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        [
            {
                "external_id": "m-1",
                "text": "看圖",
                "media": [
                    {"kind": "image", "path": "banner.png"},
                    {"kind": "audio", "path": "missing.mp3"},
                    {"kind": "video", "path": "missing.mp4"},
                ],
            }
        ],
        media_root=settings.resolved_media_root,
    )
    return world


def test_card_shows_image_thumbnail_and_placeholders_for_missing_files(client, world):
    csrf = login(client, "labeller-a1")
    task = client.post(
        f"/api/projects/{world.project_ids['A']}/next", headers={"X-CSRF-Token": csrf}
    ).json()
    card = client.get(f"/w/cards/{task['assignment_id']}", headers={"Accept-Language": "en"})
    assert f'src="/w/media/{task["assignment_id"]}/0"' in card.text
    assert 'width="4" height="3"' in card.text
    assert card.text.count('class="media-missing"') == 2
    assert (
        translate("web.item.media_missing", "en", kind=translate("web.media.audio", "en"))
        in card.text
    )
    image = client.get(f"/w/media/{task['assignment_id']}/0")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert "sandbox" in image.headers["content-security-policy"]
    assert client.get(f"/w/media/{task['assignment_id']}/1").status_code == 404


def test_another_labeller_cannot_fetch_the_card_or_the_media(client, world):
    csrf = login(client, "labeller-a1")
    task = client.post(
        f"/api/projects/{world.project_ids['A']}/next", headers={"X-CSRF-Token": csrf}
    ).json()
    client.cookies.clear()
    login(client, "labeller-a2")
    assert client.get(f"/w/cards/{task['assignment_id']}").status_code == 404
    assert client.get(f"/w/media/{task['assignment_id']}/0").status_code == 404
