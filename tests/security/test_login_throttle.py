"""Issue #19 item 3: password guessing is throttled per account and per address with
back-off, refused before the costly hash check, shared by server processes through the
database, reported to admins; weak passwords are refused wherever one is set."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from factories import make_world
from labelops.config import Settings
from labelops.errors import InvalidInput
from labelops.services import auth, directory
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store import models
from labelops.store.models import AuditEvent
from labelops.store.types import utcnow
from labelops.types import Role
from web.web_support import PASSWORD, csrf_of, give_passwords, login


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=2, overlap=2, n_labellers=1)
    give_passwords(session, world, "labeller-a1", "admin")
    return world


def _try(client: TestClient, username: str, password: str, lang: str = "en"):
    page = client.get("/", headers={"Accept-Language": lang})
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        headers={"Accept-Language": lang},
        follow_redirects=False,
    )


def _events(session, action: str) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_200_wrong_passwords_then_the_right_one_is_refused_without_hashing(
    client, world, session, monkeypatch
):
    verified: list[str] = []
    real_verify = auth.verify_password

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    statuses = [_try(client, "labeller-a1", f"wrong-guess-{n}").status_code for n in range(200)]
    assert statuses[:5] == [401] * 5
    assert statuses.count(429) >= 190
    assert len(verified) <= 10  # refused guesses never reach argon2
    right = _try(client, "labeller-a1", PASSWORD)
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1
    assert "Too many failed logins" in right.text
    zh = _try(client, "labeller-a1", PASSWORD, lang="zh-Hant")
    assert zh.status_code == 429 and "登入失敗次數過多" in zh.text
    assert client.get("/api/me").status_code == 401
    # When the lock has run out the right password works, and the count starts again.
    session.execute(
        update(models.LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    assert _try(client, "labeller-a1", PASSWORD).status_code == 303
    session.rollback()
    assert (
        session.scalar(select(models.LoginThrottle).where(models.LoginThrottle.kind == "account"))
        is None
    )


def test_the_back_off_doubles_up_to_the_maximum(client, world, session):
    for n in range(8):
        session.execute(update(models.LoginThrottle).values(locked_until=None))
        session.commit()
        _try(client, "labeller-a1", f"nope-{n}")
    session.rollback()
    row = session.scalar(select(models.LoginThrottle).where(models.LoginThrottle.kind == "account"))
    assert row.failures == 8
    assert (row.locked_until - row.last_failure_at).total_seconds() == pytest.approx(8, abs=0.01)


def test_one_address_guessing_many_accounts_is_locked(database_url, tmp_path, world):
    from labelops.api import create_app

    settings = Settings(
        database_url=database_url, home=tmp_path / "h", session_secret="s", login_address_free=4
    )
    with TestClient(create_app(settings)) as client:
        statuses = [_try(client, f"someone-{n}", "whatever-1").status_code for n in range(6)]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[-1] == 429
        assert _try(client, "labeller-a1", PASSWORD).status_code == 429


def test_the_lock_is_shared_by_server_processes(database_url, tmp_path, world):
    from labelops.api import create_app

    def app(folder: str) -> TestClient:
        return TestClient(
            create_app(
                Settings(database_url=database_url, home=tmp_path / folder, session_secret="s")
            )
        )

    with app("one") as first, app("two") as second:
        for n in range(5):
            assert _try(first, "labeller-a1", f"bad-{n}").status_code == 401
        # Two more failures once each lock has run out: the lock is 4 s now.
        failures = 5
        deadline = time.monotonic() + 30
        while failures < 7 and time.monotonic() < deadline:
            if _try(first, "labeller-a1", f"bad-{failures}").status_code == 401:
                failures += 1
            else:
                time.sleep(0.2)
        assert failures == 7
        assert _try(second, "labeller-a1", PASSWORD).status_code == 429


def test_a_lockout_is_audited_once_and_shown_and_cleared_by_admins(client, world, session):
    for n in range(12):
        _try(client, "labeller-a1", f"bad-{n}")
    lockouts = _events(session, "auth.lockout")
    assert len(lockouts) == 1
    assert lockouts[0].after["key"] == "labeller-a1"
    admin = TestClient(client.app)
    csrf = login(admin, "admin")
    page = admin.get("/admin/security", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "labeller-a1" in page.text and "Locked after failed logins" in page.text
    zh = admin.get("/admin/security", headers={"Accept-Language": "zh-Hant"})
    assert "登入失敗後鎖定" in zh.text or "安全性" in zh.text
    labeller = TestClient(client.app)
    assert labeller.get("/admin/security", follow_redirects=False).status_code == 303
    cleared = admin.post(
        "/admin/security/unlock",
        data={"kind": "account", "key": "labeller-a1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert cleared.status_code == 303
    assert len(_events(session, "auth.unlock")) == 1
    assert _try(client, "labeller-a1", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("username", "password", "message_id"),
    [
        ("alice", "aaaaaaaaaaaa", "errors.password.one_character"),
        ("alice", "my-ALICE-pass-9", "errors.password.has_username"),
        ("Carol.Chen", "carol.chen2026", "errors.password.has_username"),
        ("alice", "password123", "errors.password.common"),
        ("alice", "Iloveyou1", "errors.password.common"),
        ("alice", "short1", "errors.user.short_password"),
    ],
)
def test_weak_passwords_are_refused_in_the_service(session, world, username, password, message_id):
    with pytest.raises(InvalidInput) as refused:
        directory.create_user(session, SYSTEM_ACTOR, username, role=Role.AUDITOR, password=password)
    assert refused.value.message_id == message_id
    assert refused.value.field == "password"
    labeller = world.actors["labeller-a1"].user_id
    again = password.replace("alice", "labeller-a1").replace("ALICE", "LABELLER-A1")
    if username == "alice":
        with pytest.raises(InvalidInput):
            directory.set_password(session, SYSTEM_ACTOR, labeller, again)


def test_weak_passwords_are_refused_by_api_admin_page_and_cli(client, world, session, cli_env):
    from typer.testing import CliRunner

    from labelops.cli import app

    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    api = client.post(
        "/api/users",
        json={"username": "dora", "role": "auditor", "password": "Dora-1234!"},
        headers=admin,
    )
    assert api.status_code == 422
    assert api.json()["error"]["message_id"] == "errors.password.has_username"
    user_id = world.actors["labeller-a1"].user_id
    put = client.put(
        f"/api/users/{user_id}/password", json={"password": "qwertyuiop"}, headers=admin
    )
    assert put.status_code == 422
    assert put.json()["error"]["message_id"] == "errors.password.common"
    ok = client.put(
        f"/api/users/{user_id}/password", json={"password": "tall-cactus-mirror-42"}, headers=admin
    )
    assert ok.status_code == 204
    csrf = login(client, "admin")
    page = client.post(
        "/admin/users",
        data={"username": "erin", "role": "auditor", "password": "11111111", "csrf_token": csrf},
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 422
    assert "one character repeated" in page.text
    runner = CliRunner()
    weak = runner.invoke(
        app, ["user", "add", "frank", "--role", "auditor", "--password", "frank12345"]
    )
    assert weak.exit_code == 2
    passwd = runner.invoke(app, ["user", "passwd", "labeller-a1", "--password", "password1"])
    assert passwd.exit_code == 2
    good = runner.invoke(
        app, ["user", "passwd", "labeller-a1", "--password", "quiet-harbor-lamp-8"]
    )
    assert good.exit_code == 0, good.output


def test_the_api_answers_too_many_attempts_with_429_retry_after_and_the_envelope(client):
    from labelops.errors import TooManyAttempts

    def locked() -> None:
        raise TooManyAttempts("errors.auth.locked", retry_after=42)

    client.app.add_api_route("/api/test-locked", locked)
    response = client.get("/api/test-locked", headers={"Accept-Language": "zh-Hant"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert response.json()["error"] == {
        "code": "too_many_attempts",
        "message": "登入失敗次數過多，請於 42 秒後再試。",
        "message_id": "errors.auth.locked",
        "params": {"seconds": 42},
    }
