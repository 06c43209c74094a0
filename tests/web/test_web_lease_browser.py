"""A lease that really expires on the queue page (short leases), in Debian's chromium."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import make_world
from labelops.i18n import translate
from labelops.store.models import Assignment, Label
from labelops.store.types import utcnow
from web.web_support import browser_login, give_passwords

pytestmark = pytest.mark.browser

LIVE_SETTINGS = {"lease_seconds": 10}
"""The shortest lease the settings allow: this module's server leases for 10 s."""


@pytest.fixture(scope="module")
def world(live_server):
    with live_server.session_factory() as session:
        world = make_world(session, n_items=6, overlap=2)
        give_passwords(session, world, "labeller-a1", "labeller-a2")
    return world


def _card_id(page) -> str:
    return page.get_attribute(".item-card", "data-assignment") or ""


def _expiry_parts(lang: str, assignment: str) -> list[str]:
    """The expired-lease message around its time (which the test does not predict)."""
    marker = "\x00"
    return translate(
        "errors.assignment.expired", lang, assignment=assignment, expired_at=marker
    ).split(marker)


def test_an_answer_after_the_lease_expired_says_so_in_both_languages(live_server, world, browser):
    opened = {}
    for lang, locale, username in (
        ("en", "en-US", "labeller-a1"),
        ("zh-Hant", "zh-TW", "labeller-a2"),
    ):
        context = browser.new_context(locale=locale)
        page = context.new_page()
        browser_login(page, live_server.url, username)
        page.goto(f"{live_server.url}/work/{world.project_ids['A']}")
        page.wait_for_selector("#card .item-card")
        opened[lang] = (context, page, _card_id(page))
    with live_server.session_factory() as session:
        ends = [
            session.scalar(select(Assignment.lease_expires_at).where(Assignment.id == int(shown)))
            for _context, _page, shown in opened.values()
        ]
    assert all(end is not None for end in ends)
    latest = max(end for end in ends if end is not None)
    # Really expired: the server's clock passes the lease's end (nothing is rewritten).
    time.sleep(max(0.0, (latest - utcnow() + timedelta(milliseconds=500)).total_seconds()))

    for lang, (context, page, first) in opened.items():
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_selector("#banner.warn")
        shown = page.inner_text("#banner")
        before, after = _expiry_parts(lang, first)
        assert before in shown and after in shown, (lang, shown)
        page.wait_for_function(
            "old => { const c = document.querySelector('#card .item-card');"
            " return c && c.dataset.assignment !== old; }",
            arg=first,
        )
        context.close()
    with live_server.session_factory() as session:
        stored = session.scalars(
            select(Label.id).where(
                Label.assignment_id.in_([int(first) for _c, _p, first in opened.values()])
            )
        ).all()
    assert stored == []
