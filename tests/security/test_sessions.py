"""Issue #19 item 2: logout, password change and disable end a session for good; idle
and absolute expiry; a page to see and end one's sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from factories import make_world
from labelops.config import Settings
from labelops.services import directory
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store import models
from labelops.store.models import AuditEvent
from labelops.store.types import utcnow
from web.web_support import csrf_of, give_passwords, login


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=3, overlap=2, n_labellers=1)
    give_passwords(session, world, "labeller-a1", "admin")
    return world


def _cookie(client: TestClient) -> str:
    value = client.cookies.get("lo_session")
    assert value
    return value


def _actions(session, action: str) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_copied_cookie_stops_working_after_logout(client, settings, world, session):
    csrf = login(client, "labeller-a1")
    copied = _cookie(client)
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    assert client.get("/api/me").status_code == 401
    from labelops.api import create_app

    with TestClient(create_app(settings)) as thief:
        thief.cookies.set("lo_session", copied)
        assert thief.get("/api/me").status_code == 401
        assert thief.get("/work", follow_redirects=False).status_code == 303
    assert len(_actions(session, "session.logout")) == 1
    assert len(_actions(session, "session.start")) == 1


def test_the_cookie_is_an_opaque_id_and_the_database_keeps_only_its_hash(client, world, session):
    login(client, "labeller-a1")
    value = _cookie(client)
    assert value.startswith("s-") and "." not in value
    secret = value[2:]
    rows = session.scalars(select(models.WebSession)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.secret_hash, row.csrf, row.user_agent or "", row.ip or ""}
    assert row.user_id == world.actors["labeller-a1"].user_id


def test_an_old_style_signed_cookie_naming_a_user_opens_nothing(client, world):
    import time

    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("test-secret", salt="labelops.session").dumps(
        {"u": world.actors["admin"].user_id, "c": "x" * 43, "t": int(time.time()), "p": ""}
    )
    client.cookies.set("lo_session", forged)
    assert client.get("/api/me").status_code == 401


def test_an_idle_session_ends(client, world, session, settings):
    login(client, "labeller-a1")
    assert client.get("/api/me").status_code == 200
    idle = settings.session_idle_seconds
    session.execute(
        update(models.WebSession).values(last_seen_at=utcnow() - timedelta(seconds=idle + 5))
    )
    session.commit()
    assert client.get("/api/me").status_code == 401
    assert client.get("/work", follow_redirects=False).headers["location"].startswith("/?next=")


def test_a_session_ends_at_its_absolute_limit_however_active(client, world, session, settings):
    login(client, "labeller-a1")
    row = session.scalars(select(models.WebSession)).one()
    assert abs((row.expires_at - row.created_at).total_seconds() - settings.session_max_seconds) < 2
    session.execute(
        update(models.WebSession).values(
            last_seen_at=utcnow(), expires_at=utcnow() - timedelta(seconds=1)
        )
    )
    session.commit()
    assert client.get("/api/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(client, world, session):
    login(client, "labeller-a1")
    first = session.scalars(select(models.WebSession)).one().last_seen_at
    for _ in range(3):
        assert client.get("/api/me").status_code == 200
    session.rollback()
    assert session.scalars(select(models.WebSession)).one().last_seen_at == first
    old = utcnow() - timedelta(seconds=61)
    session.execute(update(models.WebSession).values(last_seen_at=old))
    session.commit()
    assert client.get("/api/me").status_code == 200
    session.rollback()
    assert session.scalars(select(models.WebSession)).one().last_seen_at > old + timedelta(
        seconds=30
    )


def test_a_password_change_ends_every_session(client, world, session):
    login(client, "labeller-a1")
    directory.set_password(
        session, SYSTEM_ACTOR, world.actors["labeller-a1"].user_id, "a-brand-new-secret-7"
    )
    assert client.get("/api/me").status_code == 401
    assert session.scalars(select(models.WebSession)).one().end_reason == "password"


def test_disabling_a_user_ends_sessions_tokens_and_logins_until_enabled(
    client, settings, world, session
):
    from labelops.api import create_app

    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    labeller = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    user_id = world.actors["labeller-a1"].user_id
    login(client, "labeller-a1")
    assert client.get("/api/me", headers=labeller).status_code == 200
    with TestClient(create_app(settings)) as other:
        assert other.post(f"/api/users/{user_id}/disable", headers=admin).status_code == 204
        assert other.post(f"/api/users/{user_id}/disable", headers=admin).status_code == 409
    assert client.get("/api/me").status_code == 401  # the cookie session ended
    client.cookies.clear()
    assert client.get("/api/me", headers=labeller).status_code == 401
    page = client.get("/")
    refused = client.post(
        "/login",
        data={
            "username": "labeller-a1",
            "password": "correct horse battery",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert refused.status_code == 401
    assert client.post(f"/api/users/{user_id}/enable", headers=admin).status_code == 204
    assert client.get("/api/me", headers=labeller).status_code == 200
    assert [e.entity_id for e in _actions(session, "user.disable")] == [str(user_id)]
    assert len(_actions(session, "user.enable")) == 1


def test_cli_user_disable_and_enable(cli_env, world, session):
    from typer.testing import CliRunner

    from labelops.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["user", "disable", "labeller-a1"])
    assert done.exit_code == 0, done.output
    assert "disabled" in done.output
    session.rollback()
    user = directory.get_user(session, SYSTEM_ACTOR, world.actors["labeller-a1"].user_id)
    assert user.disabled_at is not None
    assert runner.invoke(app, ["user", "enable", "labeller-a1"]).exit_code == 0


def test_the_sessions_page_lists_them_and_ends_the_others(client, settings, world, session):
    from labelops.api import create_app

    csrf = login(client, "labeller-a1")
    with TestClient(create_app(settings)) as phone:
        phone.headers["User-Agent"] = "PhoneBrowser/1.0"
        login(phone, "labeller-a1")
        assert phone.get("/api/me").status_code == 200
        page = client.get("/account/sessions", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "PhoneBrowser/1.0" in page.text
        assert len(re.findall(r"/account/sessions/[0-9]+/end", page.text)) == 2
        assert "This session" in page.text
        refused = client.post("/account/sessions/others/end", follow_redirects=False)
        assert refused.status_code == 403  # CSRF
        done = client.post(
            "/account/sessions/others/end", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert done.status_code == 303
        assert phone.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200
    assert len(_actions(session, "session.end_others")) == 1


def test_a_user_cannot_end_someone_elses_session(client, settings, world, session):
    from labelops.api import create_app

    with TestClient(create_app(settings)) as other:
        login(other, "admin")
        admin_session = session.scalars(select(models.WebSession)).one().id
        csrf = login(client, "labeller-a1")
        response = client.post(f"/account/sessions/{admin_session}/end", data={"csrf_token": csrf})
        assert response.status_code == 404
        assert other.get("/api/me").status_code == 200


def test_cookies_are_secure_over_https_or_by_setting(database_url, tmp_path, world):
    from labelops.api import create_app

    plain = Settings(database_url=database_url, home=tmp_path / "h1", session_secret="s")
    with TestClient(create_app(plain), base_url="https://testserver") as https:
        https.get("/")
        page = https.get("/")
        response = https.post(
            "/login",
            data={
                "username": "labeller-a1",
                "password": "correct horse battery",
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()
    forced = Settings(
        database_url=database_url, home=tmp_path / "h2", session_secret="s", cookie_secure=True
    )
    with TestClient(create_app(forced)) as http:
        assert "secure" in http.get("/").headers["set-cookie"].lower()
