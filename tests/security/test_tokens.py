"""Issue #19 item 6: tokens expire, are revoked one by one, record their last use and
are listed without their secret: on the usual way, the hot lane and the PostgreSQL
loop lane alike (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from factories import make_world
from labelops.services import auth, directory
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import ApiToken, AuditEvent
from labelops.store.types import utcnow


@pytest.fixture()
def world(session):
    auth.forget_token_lookups()
    return make_world(session, n_items=4, overlap=2, n_labellers=1)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_token_expires_after_the_default_or_given_days(world, session, settings):
    user_id = world.actors["labeller-a1"].user_id
    rows = directory.list_tokens(session, SYSTEM_ACTOR, user_id)
    assert len(rows) == 1
    lifetime = rows[0].expires_at - rows[0].created_at
    assert lifetime == timedelta(days=settings.token_days) == timedelta(days=90)
    directory.create_token(session, SYSTEM_ACTOR, user_id, name="short", expires_days=2)
    short = directory.list_tokens(session, SYSTEM_ACTOR, user_id)[0]
    assert short.name == "short"
    assert short.expires_at - short.created_at == timedelta(days=2)


def test_an_expired_token_is_refused_even_when_remembered(client, world, session):
    token = world.tokens["labeller-a1"]
    project = world.project_ids["A"]
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200  # remembered now
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == auth.hash_token(token))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    # Only the remembered expiry is past here: the 10 s memory must not hide it.
    auth._TOKEN_CACHE[auth.hash_token(token)] = (
        auth._TOKEN_CACHE[auth.hash_token(token)][0],
        auth._TOKEN_CACHE[auth.hash_token(token)][1],
        utcnow().timestamp() - 1,
    )
    me = client.get("/api/me", headers=_bearer(token))
    assert me.status_code == 401
    assert me.json()["error"]["message_id"] == "errors.auth.expired_token"
    assert client.get(f"/api/projects/{project}/next", headers=_bearer(token)).status_code == 401
    auth.forget_token_lookups()
    assert client.get(f"/api/projects/{project}/next", headers=_bearer(token)).status_code == 401


def test_one_token_is_revoked_and_stops_at_once_while_another_works(client, world, session):
    admin = _bearer(world.tokens["admin"])
    user_id = world.actors["labeller-a1"].user_id
    first = world.tokens["labeller-a1"]
    created = client.post(
        f"/api/users/{user_id}/tokens", json={"name": "laptop", "expires_days": 30}, headers=admin
    )
    assert created.status_code == 201
    second = created.json()["token"]
    project = world.project_ids["A"]
    for token in (first, second):  # both remembered by the hot lane
        assert client.get(f"/api/projects/{project}/next", headers=_bearer(token)).status_code in (
            200,
            204,
        )
    listed = client.get(f"/api/users/{user_id}/tokens", headers=admin).json()
    assert len(listed) == 2
    assert all(second not in json.dumps(t) and first not in json.dumps(t) for t in listed)
    laptop = next(t for t in listed if t["name"] == "laptop")
    assert second.startswith(laptop["prefix"]) and len(laptop["prefix"]) < 12
    assert client.delete(f"/api/tokens/{laptop['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/tokens/{laptop['id']}", headers=admin).status_code == 409
    assert client.get(f"/api/projects/{project}/next", headers=_bearer(second)).status_code == 401
    assert client.get("/api/me", headers=_bearer(second)).status_code == 401
    assert client.get("/api/me", headers=_bearer(first)).status_code == 200
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoke")).all()
    assert [e.entity_id for e in events] == [str(laptop["id"])]


def test_a_labeller_cannot_revoke_or_list_someone_elses_tokens(client, world):
    admin_id = world.actors["admin"].user_id
    labeller = _bearer(world.tokens["labeller-a1"])
    assert client.get(f"/api/users/{admin_id}/tokens", headers=labeller).status_code == 403
    admin_tokens = client.get(
        f"/api/users/{admin_id}/tokens", headers=_bearer(world.tokens["admin"])
    ).json()
    assert (
        client.delete(f"/api/tokens/{admin_tokens[0]['id']}", headers=labeller).status_code == 404
    )
    assert client.get("/api/me", headers=_bearer(world.tokens["admin"])).status_code == 200


def test_last_used_is_recorded_on_a_lookup_not_on_every_request(client, world, session):
    token = world.tokens["labeller-a1"]
    token_hash = auth.hash_token(token)

    def last_used():
        session.rollback()  # a new snapshot
        return session.scalar(
            select(ApiToken.last_used_at).where(ApiToken.token_hash == token_hash)
        )

    assert last_used() is None
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    first = last_used()
    assert first is not None
    for _ in range(3):
        auth.forget_token_lookups()  # a lookup each time: still within the minute
        assert client.get("/api/me", headers=_bearer(token)).status_code == 200
    assert last_used() == first
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash)
        .values(last_used_at=utcnow() - timedelta(minutes=2))
    )
    session.commit()
    auth.forget_token_lookups()
    project = world.project_ids["A"]
    assert client.get(f"/api/projects/{project}/next", headers=_bearer(token)).status_code in (
        200,
        204,
    )
    assert last_used() > utcnow() - timedelta(seconds=30)


def test_cli_token_add_list_revoke(cli_env, world, session):
    from typer.testing import CliRunner

    from labelops.cli import app

    runner = CliRunner()
    added = runner.invoke(app, ["user", "token", "add", "labeller-a1", "--days", "7", "--json"])
    assert added.exit_code == 0, added.output
    made = json.loads(added.output)
    listed = runner.invoke(app, ["user", "token", "list", "labeller-a1", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert len(rows) == 2 and made["token"] not in listed.output
    revoked = runner.invoke(app, ["user", "token", "revoke", str(made["id"])])
    assert revoked.exit_code == 0, revoked.output
    session.rollback()
    assert session.get(ApiToken, made["id"]).revoked_at is not None


def test_admin_page_lists_and_revokes_tokens_and_disables(client, world, session):
    from web.web_support import give_passwords, login

    give_passwords(session, world, "admin")
    csrf = login(client, "admin")
    user_id = world.actors["labeller-a1"].user_id
    page = client.get(f"/admin/users/{user_id}/access", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    token_id = directory.list_tokens(session, SYSTEM_ACTOR, user_id)[0].id
    assert world.tokens["labeller-a1"] not in page.text
    assert world.tokens["labeller-a1"][:9] in page.text
    done = client.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert done.status_code == 200 and "Token revoked." in done.text
    assert client.get("/api/me", headers=_bearer(world.tokens["labeller-a1"])).status_code == 401
    off = client.post(
        f"/admin/users/{user_id}/disable", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert off.status_code == 200 and "User disabled" in off.text
