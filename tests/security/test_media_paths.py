"""Issue #19 item 1: item media can never read a file outside the media folder.

The attack: an item imported with media ``/etc/passwd``, ``../session_secret`` or
``../labelops.db`` was served to the labeller who leased it at ``/w/media/...``; with the
session secret (and the admin's password hash from the database file) a labeller forged an
admin cookie and created an admin. Every media path is now resolved by one function inside
the configured media root: refused at import (row and field named, nothing imported) and
checked again when the card probes it and when it is served.

The layout used here is the default one: ``LABELOPS_HOME`` holds the session secret (and,
on SQLite, the database file), and the media root is ``LABELOPS_HOME/media``.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from factories import World, make_world
from labelops.cli import app as cli_app
from labelops.config import Settings
from labelops.errors import InvalidInput
from labelops.i18n import translate
from labelops.services import imports
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import ImportBatch, Item, User
from web.web_support import give_passwords, login

ATTACKS = ["/etc/passwd", "../session_secret", "../labelops.db"]
"""The paths of the report; ``..`` inside a path and a Windows-style one join them below."""
REASON = {
    "/etc/passwd": "media.path_absolute",
    "../session_secret": "media.path_parent",
    "../labelops.db": "media.path_parent",
    "images/../../session_secret": "media.path_parent",
    "..\\session_secret": "media.path_parent",
    "C:\\Windows\\win.ini": "media.path_absolute",
}


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


BANNER = _png(5, 2)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """``LABELOPS_HOME`` of the default layout: the session secret (and on SQLite the test's
    database file, ``tmp_path/labelops.db``) beside ``media/``."""
    media = tmp_path / "media"
    media.mkdir()
    (media / "banner.png").write_bytes(BANNER)
    (tmp_path / "session_secret").write_text("the-real-signing-secret", encoding="utf-8")
    (tmp_path / "incoming").mkdir()
    return tmp_path


@pytest.fixture()
def home_settings(database_url: str, home: Path) -> Settings:
    """No ``session_secret`` given: the server signs with ``home/session_secret``."""
    return Settings(database_url=database_url, home=home)


@pytest.fixture()
def web(home_settings: Settings) -> Iterator[TestClient]:
    from labelops.api import create_app

    with TestClient(create_app(home_settings)) as test_client:
        yield test_client


@pytest.fixture()
def world(session: Session) -> World:
    world = make_world(session, n_items=0, overlap=1)
    give_passwords(session, world, "labeller-a1", "admin")
    return world


def _n_items(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count(Item.id))) or 0)


def _n_imports(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count(ImportBatch.id))) or 0)


def _rows(media_path: str) -> list[dict[str, Any]]:
    return [
        {
            "external_id": "ok-1",
            "text": "一般廣告",
            "media": [{"kind": "image", "path": "banner.png"}],
        },
        {"external_id": "evil", "text": "看圖", "media": [{"kind": "image", "path": media_path}]},
    ]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    return path


def _lease(client: TestClient, world: World, csrf: str) -> int:
    """Lease labeller-a1's next task of project A through the page's own call."""
    task = client.post(
        f"/api/projects/{world.project_ids['A']}/next", headers={"X-CSRF-Token": csrf}
    ).json()
    return int(task["assignment_id"])


# --- refused at import ------------------------------------------------------------------


@pytest.fixture()
def cli(cli_env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "400")  # one message a line, whatever the terminal
    return CliRunner()


@pytest.mark.parametrize(
    "media_path", [*ATTACKS, "images/../../session_secret", "..\\session_secret"]
)
def test_cli_import_refuses_the_attack_paths_and_imports_nothing(
    cli: CliRunner, world: World, session: Session, home: Path, media_path: str
):
    source = _write_jsonl(home / "incoming" / "items.jsonl", _rows(media_path))
    result = cli.invoke(cli_app, ["import", "project-a", str(source)])
    assert result.exit_code == 2, result.output
    expected = translate(REASON[media_path], "en", path=media_path)
    assert "line 2" in result.output and "media[0].path" in result.output
    assert expected in result.output
    assert _n_items(session) == 0 and _n_imports(session) == 0


def test_cli_import_names_the_reason_in_traditional_chinese(
    cli: CliRunner, world: World, session: Session, home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    source = _write_jsonl(home / "incoming" / "items.jsonl", _rows("/etc/passwd"))
    result = cli.invoke(cli_app, ["import", "project-a", str(source)])
    assert result.exit_code == 2, result.output
    assert translate("media.path_absolute", "zh-Hant", path="/etc/passwd") in result.output
    assert "media[0].path" in result.output
    assert _n_items(session) == 0


@pytest.mark.parametrize("media_path", [*ATTACKS, "C:\\Windows\\win.ini"])
def test_api_import_refuses_the_attack_paths_and_imports_nothing(
    web: TestClient, world: World, session: Session, media_path: str
):
    response = web.post(
        f"/api/projects/{world.project_ids['A']}/items",
        json={"items": _rows(media_path)},
        headers={"Authorization": f"Bearer {world.tokens['admin']}", "Accept-Language": "zh-TW"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [(p["line"], p["field"]) for p in error["problems"]] == [(2, "media[0].path")]
    assert (
        translate(REASON[media_path], "zh-Hant", path=media_path) in error["problems"][0]["message"]
    )
    assert _n_items(session) == 0 and _n_imports(session) == 0


def test_api_import_refuses_per_kind_fields_too(web: TestClient, world: World, session: Session):
    response = web.post(
        f"/api/projects/{world.project_ids['A']}/items",
        json={"items": [{"external_id": "e", "text": "x", "video": ["ok.mp4", "/dev/zero"]}]},
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["problems"]
    assert [(p["line"], p["field"]) for p in problems] == [(1, "video[1]")]
    assert _n_items(session) == 0


def _import(session: Session, world: World, home: Path, rows: list[dict[str, Any]]) -> Any:
    return imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        _write_jsonl(home / "incoming" / "items.jsonl", rows),
        media_root=home / "media",
    )


@pytest.mark.parametrize("read_ahead", [False, True])
def test_a_symlink_leaving_the_media_root_is_refused(
    session: Session, world: World, home: Path, read_ahead: bool
):
    media = home / "media"
    (media / "leak.png").symlink_to(home / "session_secret")
    outside = home / "elsewhere"
    outside.mkdir()
    (outside / "x.png").write_bytes(BANNER)
    (media / "sub").symlink_to(outside, target_is_directory=True)
    (media / "dangling.png").symlink_to(home / "not-there.png")
    rows = [
        {"external_id": "a", "image": "leak.png"},
        {"external_id": "b", "image": ["banner.png", "sub/x.png"]},
        {"external_id": "c", "media": [{"kind": "image", "path": "dangling.png"}]},
    ]
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(
            session,
            SYSTEM_ACTOR,
            world.project_ids["A"],
            _write_jsonl(home / "incoming" / "items.jsonl", rows),
            media_root=media,
            read_ahead=read_ahead,
        )
    problems = [(p.line, p.field, p.message_id) for p in caught.value.problems]  # type: ignore[attr-defined]
    assert problems == [
        (1, "image", "media.path_outside_root"),
        (2, "image[1]", "media.path_outside_root"),
        (3, "media[0].path", "media.path_outside_root"),
    ]
    assert _n_items(session) == 0


def test_a_folder_or_a_pipe_is_refused(session: Session, world: World, home: Path):
    media = home / "media"
    (media / "album").mkdir()
    os.mkfifo(media / "pipe.png")
    rows = [
        {"external_id": "a", "image": "album"},
        {"external_id": "b", "image": "pipe.png"},
        {"external_id": "c", "image": "."},
    ]
    with pytest.raises(InvalidInput) as caught:
        _import(session, world, home, rows)
    problems = [(p.line, p.field, p.message_id) for p in caught.value.problems]  # type: ignore[attr-defined]
    assert problems == [
        (1, "image", "media.path_directory"),
        (2, "image", "media.path_not_regular"),
        (3, "image", "media.path_directory"),
    ]
    assert _n_items(session) == 0


def test_a_symlink_staying_inside_the_root_and_a_missing_file_are_accepted(
    session: Session, world: World, home: Path
):
    (home / "media" / "alias.png").symlink_to(home / "media" / "banner.png")
    report = _import(
        session,
        world,
        home,
        [
            {"external_id": "a", "image": "alias.png"},
            {"external_id": "b", "text": "x", "image": "not-yet-uploaded.png"},
        ],
    )
    assert report.n_created == 2


# --- a legitimate image is still imported and served ----------------------------------


def test_a_relative_image_inside_the_root_is_imported_and_served(
    web: TestClient, world: World, session: Session
):
    response = web.post(
        f"/api/projects/{world.project_ids['A']}/items",
        json={"items": _rows("banner.png")[:1]},
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    assert response.status_code == 201, response.text
    csrf = login(web, "labeller-a1")
    assignment = _lease(web, world, csrf)
    card = web.get(f"/w/cards/{assignment}")
    assert f'src="/w/media/{assignment}/0"' in card.text and 'width="5" height="2"' in card.text
    served = web.get(f"/w/media/{assignment}/0")
    assert served.status_code == 200 and served.content == BANNER
    assert served.headers["content-type"] == "image/png"
    part = web.get(f"/w/media/{assignment}/0", headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.content == BANNER[:8]


def test_cli_media_root_names_a_folder_inside_the_root(
    cli: CliRunner, world: World, session: Session, home: Path, web: TestClient
):
    batch = home / "media" / "vendor-7"
    batch.mkdir()
    (batch / "ad.png").write_bytes(BANNER)
    source = _write_jsonl(
        home / "incoming" / "items.jsonl", [{"external_id": "v", "image": "ad.png"}]
    )
    result = cli.invoke(cli_app, ["import", "project-a", str(source), "--media-root", str(batch)])
    assert result.exit_code == 0, result.output
    session.rollback()
    assert session.scalar(select(Item.media)) == [{"kind": "image", "path": "vendor-7/ad.png"}]
    csrf = login(web, "labeller-a1")
    assert web.get(f"/w/media/{_lease(web, world, csrf)}/0").content == BANNER
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    refused = cli.invoke(
        cli_app, ["import", "project-a", str(source), "--media-root", str(elsewhere)]
    )
    assert refused.exit_code == 2
    assert "--media-root" in refused.output and str(elsewhere) in refused.output


# --- checked again when probed and served ----------------------------------------------


def _smuggle(session: Session, media_path: str) -> None:
    """Put a path in the database the way no import lets it in."""
    session.rollback()
    session.execute(update(Item).values(media=[{"kind": "image", "path": media_path}]))
    session.commit()


@pytest.mark.parametrize(
    "media_path", [*ATTACKS, "../media/../session_secret", "/etc/no-such-file"]
)
def test_a_stored_path_outside_the_root_is_neither_served_nor_probed(
    web: TestClient, world: World, session: Session, home: Path, media_path: str
):
    _import(session, world, home, _rows("banner.png")[:1])
    _smuggle(session, media_path)
    csrf = login(web, "labeller-a1")
    assignment = _lease(web, world, csrf)
    served = web.get(f"/w/media/{assignment}/0")
    assert served.status_code == 404
    assert served.json()["error"]["code"] == "not_found"
    assert b"the-real-signing-secret" not in served.content
    card = web.get(f"/w/cards/{assignment}")
    assert card.status_code == 200
    # The same placeholder as a missing file: nothing tells whether the file exists.
    assert 'class="media-missing"' in card.text
    assert f"/w/media/{assignment}/0" not in card.text and "width=" not in card.text


def test_a_file_swapped_for_a_symlink_after_import_is_not_served(
    web: TestClient, world: World, session: Session, home: Path
):
    _import(session, world, home, _rows("banner.png")[:1])
    banner = home / "media" / "banner.png"
    banner.unlink()
    banner.symlink_to(home / "session_secret")
    csrf = login(web, "labeller-a1")
    assignment = _lease(web, world, csrf)
    assert web.get(f"/w/media/{assignment}/0").status_code == 404
    assert 'class="media-missing"' in web.get(f"/w/cards/{assignment}").text


def test_the_forged_admin_chain_is_closed(
    web: TestClient, world: World, session: Session, home: Path
):
    """The report's chain, step by step: read the secret through an item's media, sign an
    admin session with it, create an admin. The first step now gets a 404, so the cookie
    signed with what came back is refused and no admin is made."""
    _import(session, world, home, _rows("banner.png")[:1])
    _smuggle(session, "../session_secret")
    csrf = login(web, "labeller-a1")
    leaked = web.get(f"/w/media/{_lease(web, world, csrf)}/0")
    # The hash the report read from ``../labelops.db``; taken from the database here.
    session.rollback()
    admin_hash = session.scalar(select(User.password_hash).where(User.username == "admin"))
    forged = URLSafeSerializer(leaked.text.strip(), salt="labelops.session").dumps(
        {
            "u": world.actors["admin"].user_id,
            "c": "csrf",
            "t": 2**40,
            "p": hashlib.sha256(admin_hash.encode()).hexdigest()[:16],
        }
    )
    web.cookies.clear()
    web.cookies.set("lo_session", forged)
    created = web.post(
        "/api/users",
        json={"username": "evil-admin", "role": "admin", "password": "evil-password-1"},
        headers={"X-CSRF-Token": "csrf"},
    )
    assert created.status_code in (401, 403), created.text
    session.rollback()
    assert session.scalar(select(User.id).where(User.username == "evil-admin")) is None
    assert leaked.status_code == 404


# --- secrets and the database never live under the served folder -----------------------


def test_the_default_layout_keeps_secrets_out_of_the_media_root(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", database_url=None, media_root=None)
    root = settings.resolved_media_root
    assert root == tmp_path / "home" / "media"
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    for secret in (database, settings.home / "session_secret"):
        assert secret.parent == tmp_path / "home" and not secret.is_relative_to(root)


def test_a_pipe_or_a_folder_stored_directly_is_not_served(
    web: TestClient, world: World, session: Session, home: Path
):
    _import(session, world, home, _rows("banner.png")[:1])
    os.mkfifo(home / "media" / "pipe.png")
    (home / "media" / "album").mkdir()
    csrf = login(web, "labeller-a1")
    assignment = _lease(web, world, csrf)
    for stored in ("pipe.png", "album"):
        _smuggle(session, stored)
        assert web.get(f"/w/media/{assignment}/0").status_code == 404
        assert 'class="media-missing"' in web.get(f"/w/cards/{assignment}").text


@pytest.mark.parametrize("where", ["home", "filesystem root", "database folder"])
def test_a_media_root_holding_secrets_or_the_database_is_refused(tmp_path: Path, where: str):
    home = tmp_path / "home"
    options: dict[str, Any] = {"home": home}
    if where == "home":
        options["media_root"] = home
    elif where == "filesystem root":
        options["media_root"] = Path("/")
    else:
        options["media_root"] = tmp_path / "shared"
        options["database_url"] = f"sqlite:///{tmp_path / 'shared' / 'data' / 'labelops.db'}"
    with pytest.raises(InvalidInput) as caught:
        Settings(**options)
    assert caught.value.field == "media_root"
    assert caught.value.message_id.startswith("media.root_")


def test_the_server_refuses_to_start_on_an_unsafe_media_root(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LABELOPS_MEDIA_ROOT", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "400")

    def serve_anyway(*_args: object) -> None:
        raise AssertionError("the server would have started")

    monkeypatch.setattr(os, "execv", serve_anyway)
    result = CliRunner().invoke(cli_app, ["serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "session_secret" in result.output or "labelops.db" in result.output
