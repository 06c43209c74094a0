"""Login, logout, CSRF, cookie flags and language negotiation (in-process client)."""

from __future__ import annotations

import pytest

from factories import make_world
from labelops.i18n import translate
from web.web_support import PASSWORD, csrf_of, give_passwords, login


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=5, overlap=2)
    give_passwords(session, world, "labeller-a1", "admin")
    return world


def test_anonymous_root_is_the_login_page_in_the_browser_language(client, world):
    zh = client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
    assert zh.status_code == 200
    assert translate("web.login.title", "zh-Hant") in zh.text
    assert 'lang="zh-Hant-TW"' in zh.text
    en = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert translate("web.login.intro", "en") in en.text
    assert 'lang="en"' in en.text


def test_a_typed_login_address_leads_to_the_login_form_and_keeps_a_local_next(client, world):
    there = client.get("/login?next=/work", follow_redirects=False)
    assert (there.status_code, there.headers["location"]) == (303, "/?next=%2Fwork")
    page = client.get("/login?next=/work", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200 and translate("web.login.title", "zh-Hant") in page.text
    assert 'value="/work"' in page.text
    elsewhere = client.get("/login?next=//evil.example/x", follow_redirects=False)
    assert elsewhere.headers["location"] == "/"


def test_language_choice_of_a_visitor_is_kept_in_a_cookie(client, world):
    page = client.get("/", headers={"Accept-Language": "en"})
    response = client.post(
        "/lang",
        data={"lang": "zh-Hant", "next": "/", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    again = client.get("/", headers={"Accept-Language": "en"})
    assert translate("web.login.intro", "zh-Hant") in again.text


def test_login_sets_a_http_only_same_site_cookie_and_logout_ends_it(client, world):
    page = client.get("/")
    response = client.post(
        "/login",
        data={"username": "labeller-a1", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "lo_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # settings.cookie_secure is off in tests
    assert client.get("/api/me").status_code == 200
    work = client.get(f"/work/{world.project_ids['A']}")
    assert work.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(work.text)})
    assert client.get("/api/me").status_code == 401
    assert client.get("/work", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_without_saying_which_part(client, world):
    page = client.get("/", headers={"Accept-Language": "en"})
    response = client.post(
        "/login",
        data={"username": "labeller-a1", "password": "nope-nope", "csrf_token": csrf_of(page.text)},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 401
    assert translate("web.login.failed", "en") in response.text
    assert client.get("/api/me").status_code == 401


def test_form_post_without_csrf_token_is_refused(client, world):
    client.get("/")
    response = client.post(
        "/login", data={"username": "labeller-a1", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    login(client, "admin")
    assert client.post("/admin/vendors", data={"name": "vendor-evil"}).status_code == 403
    assert (
        client.post(
            "/admin/vendors", data={"name": "vendor-evil", "csrf_token": "forged"}
        ).status_code
        == 403
    )
    assert "vendor-evil" not in client.get("/admin/vendors").text


def test_cookie_authenticated_api_needs_the_csrf_header_for_unsafe_methods(client, world):
    csrf = login(client, "labeller-a1")
    project = world.project_ids["A"]
    task = client.post(f"/api/projects/{project}/next", headers={"X-CSRF-Token": csrf}).json()
    url = f"/api/assignments/{task['assignment_id']}/label"
    refused = client.post(url, json={"label": "gambling"})
    assert refused.status_code == 403
    wrong = client.post(url, json={"label": "gambling"}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    ok = client.post(url, json={"label": "gambling"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_bearer_tokens_still_work_without_csrf(client, world):
    token = world.tokens["labeller-a1"]
    task = client.get(
        f"/api/projects/{world.project_ids['A']}/next", headers={"Authorization": f"Bearer {token}"}
    ).json()
    response = client.post(
        f"/api/assignments/{task['assignment_id']}/label",
        json={"label": "compliant"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_a_forged_cookie_is_ignored(client, world):
    client.cookies.set("lo_session", "eyJ1IjoxfQ.forged")
    assert client.get("/api/me").status_code == 401
    assert client.get("/admin/users", follow_redirects=False).status_code == 303


def test_changing_the_password_ends_other_sessions(client, session, world):
    from labelops.services import directory
    from labelops.services.policy import SYSTEM_ACTOR

    login(client, "labeller-a1")
    assert client.get("/api/me").status_code == 200
    directory.set_password(
        session, SYSTEM_ACTOR, world.actors["labeller-a1"].user_id, "another-pass-1"
    )
    assert client.get("/api/me").status_code == 401


def test_open_redirects_are_refused(client, world):
    page = client.get("/")
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/projects"


def test_an_idle_session_expires(client, world, session, settings):
    from datetime import timedelta

    from sqlalchemy import update

    from labelops.store.models import WebSession
    from labelops.store.types import utcnow

    login(client, "labeller-a1")
    assert client.get("/api/me").status_code == 200
    idle = settings.session_idle_seconds
    session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(seconds=idle + 5)))
    session.commit()
    assert client.get("/api/me").status_code == 401
    assert client.get("/work", follow_redirects=False).headers["location"].startswith("/?next=")


def test_the_language_chosen_on_the_login_page_wins_after_login(client, session, world):
    from labelops.services import directory
    from labelops.store.models import User

    labeller = world.actors["labeller-a1"]
    directory.set_user_language(session, labeller, "en")
    page = client.get("/", headers={"Accept-Language": "en"})
    client.post(
        "/lang",
        data={"lang": "zh-Hant", "next": "/", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    login(client, "labeller-a1")
    work = client.get(f"/work/{world.project_ids['A']}", headers={"Accept-Language": "en"})
    assert translate("web.work.submit", "zh-Hant") in work.text
    session.rollback()
    assert session.get(User, labeller.user_id).language == "zh-Hant"


def test_a_logged_in_users_language_choice_is_remembered(client, session, world):
    from labelops.store.models import User

    csrf = login(client, "labeller-a1")
    response = client.post(
        "/lang",
        data={"lang": "zh-Hant", "next": "/work", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(User, world.actors["labeller-a1"].user_id).language == "zh-Hant"
    client.cookies.delete("lo_lang")
    page = client.get(f"/work/{world.project_ids['A']}", headers={"Accept-Language": "en"})
    assert translate("web.work.submit", "zh-Hant") in page.text


def test_a_session_secret_is_generated_once_and_kept_private(tmp_path):
    from labelops.config import Settings
    from labelops.web.session import load_secret

    settings = Settings(home=tmp_path / "home", session_secret=None)
    first = load_secret(settings)
    assert len(first) >= 40
    assert (tmp_path / "home" / "session_secret").stat().st_mode & 0o777 == 0o600
    assert load_secret(settings) == first
    assert load_secret(Settings(home=tmp_path / "home", session_secret="given")) == "given"
