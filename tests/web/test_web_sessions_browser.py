"""The sessions page in chromium, in both languages: a user sees their sessions, the
current one marked, and ends the others; the other browser is logged out."""

from __future__ import annotations

import pytest

from factories import make_world
from labelops.i18n import translate
from web.web_support import browser_login, give_passwords

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(live_server):
    with live_server.session_factory() as session:
        world = make_world(session, n_items=2, overlap=2, n_labellers=1)
        give_passwords(session, world, "labeller-a1")
    return world


def test_a_user_sees_their_sessions_and_ends_the_others(live_server, world, browser):
    zh = browser.new_context(locale="zh-TW")
    en = browser.new_context(locale="en-US")
    zh_page = zh.new_page()
    en_page = en.new_page()
    browser_login(zh_page, live_server.url, "labeller-a1")
    browser_login(en_page, live_server.url, "labeller-a1")

    en_page.goto(f"{live_server.url}/account/sessions")
    assert en_page.inner_text("h1") == "My sessions"
    assert en_page.locator("#sessions tbody tr").count() == 2
    assert en_page.locator("#sessions tr.current").inner_text().count("This session") == 1
    assert en_page.get_by_role("button", name="End all other sessions").is_visible()

    zh_page.goto(f"{live_server.url}/account/sessions")
    assert zh_page.inner_text("h1") == "我的登入工作階段"
    assert "目前的工作階段" in zh_page.locator("#sessions tr.current").inner_text()
    assert "登入時間" in zh_page.inner_text("#sessions thead")
    zh_page.get_by_role("button", name="結束其他所有工作階段").click()
    zh_page.wait_for_selector("p.notice")
    assert zh_page.inner_text("p.notice") == "已結束其他工作階段。"
    assert zh_page.locator("#sessions tbody tr").count() == 1

    en_page.goto(f"{live_server.url}/account/sessions")
    assert en_page.inner_text("h1") == translate("web.login.title", "en")
    assert en_page.is_visible("#password")
    zh.close()
    en.close()
