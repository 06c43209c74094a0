"""A labeller works the queue page with the keyboard only, in Debian's chromium."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from factories import TAXONOMY, make_world
from labelops.i18n import translate
from labelops.services import gold, imports, projects, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Assignment, Label
from web.web_support import SCREENSHOTS, browser_login, run_axe

pytestmark = pytest.mark.browser

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> 加LINE @evil'


@pytest.fixture(scope="module")
def world(live_server):
    from web.web_support import give_passwords

    with live_server.session_factory() as session:
        world = make_world(session, n_items=40, overlap=2)
        give_passwords(session, world, "labeller-a1", "labeller-a2", "labeller-a3")
        from factories import make_taxonomy

        multi = make_taxonomy(session, {**TAXONOMY, "key": "ads-multi", "mode": "multi"})
        multi_project = projects.create_project(
            session,
            SYSTEM_ACTOR,
            "project-multi",
            taxonomy_id=multi,
            overlap=1,
            vendor_ids=[world.vendor_ids["A"]],
        )
        imports.import_item_records(
            session,
            SYSTEM_ACTOR,
            multi_project.id,
            [{"external_id": f"multi-{i}", "text": f"多選 {i}"} for i in range(3)],
        )
        world.project_ids["multi"] = multi_project.id
        hostile = projects.create_project(
            session,
            SYSTEM_ACTOR,
            "project-hostile",
            taxonomy_id=world.taxonomy_id,
            overlap=1,
            vendor_ids=[world.vendor_ids["A"]],
        )
        imports.import_item_records(
            session, SYSTEM_ACTOR, hostile.id, [{"external_id": "hostile-1", "text": HOSTILE}]
        )
        world.project_ids["hostile"] = hostile.id
    return world


def _card_id(page) -> str:
    return page.get_attribute(".item-card", "data-assignment") or ""


def _wait_all_sent(page) -> None:
    """Every answer has reached the server (nothing pending in sessionStorage)."""
    page.wait_for_function(
        "() => Object.keys(sessionStorage).every(k => sessionStorage.getItem(k) === '[]')"
    )


def _wait_new_card(page, old: str) -> str:
    try:
        page.wait_for_function(
            "old => { const c = document.querySelector('#card .item-card');"
            " return c && c.dataset.assignment !== old; }",
            arg=old,
            timeout=10_000,
        )
    except Exception:
        banner = page.inner_text("#banner")
        card = page.inner_html("#card")[:300]
        raise AssertionError(f"no new card after {old}: banner={banner!r} card={card!r}") from None
    return _card_id(page)


def test_labeller_labels_30_items_by_keyboard_with_a_skip_and_an_undo(live_server, world, browser):
    context = browser.new_context(locale="zh-TW", bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    browser_login(page, live_server.url, "labeller-a1")
    page.goto(f"{live_server.url}/work/{world.project_ids['A']}")
    page.wait_for_selector("#card .item-card")
    keys = "1234"
    labels = ("compliant", "gambling", "financial_scam", "adult")
    expected: dict[int, str] = {}
    skipped: int | None = None
    revised: int | None = None
    current = _card_id(page)
    submitted = 0
    step = 0
    while submitted < 30:
        if step == 5 and skipped is None:
            skipped = int(current)
            page.keyboard.press("s")
            page.wait_for_selector("#skip-dialog[open]")
            page.keyboard.press("Enter")
            current = _wait_new_card(page, current)
            step += 1
            continue
        choice = step % 4
        page.keyboard.press(keys[choice])
        page.keyboard.press("Enter")
        expected[int(current)] = labels[choice]
        submitted += 1
        previous = current
        current = _wait_new_card(page, current)
        if submitted == 12 and revised is None:
            # Undo: back to the item just submitted, change its answer, return.
            page.keyboard.press("u")
            page.wait_for_selector("#revise-banner:not([hidden])")
            assert _card_id(page) == previous
            new_choice = (choice + 1) % 4
            page.keyboard.press(keys[new_choice])
            page.keyboard.press("Enter")
            page.wait_for_selector("#revise-banner[hidden]", state="attached")
            page.wait_for_function(
                "cur => document.querySelector('#card .item-card').dataset.assignment === cur",
                arg=current,
            )
            expected[int(previous)] = labels[new_choice]
            revised = int(previous)
        step += 1
    # Double Enter on an item creates one label (the second press finds nothing selected).
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expected[int(current)] = labels[1]
    _wait_new_card(page, current)
    page.wait_for_function(
        "() => sessionStorage.length === 0 || "
        "Object.keys(sessionStorage).every(k => sessionStorage.getItem(k) === '[]')"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "work_queue_zh-Hant.png"), full_page=True)
    assert run_axe(page) == []
    assert errors == []
    context.close()

    with live_server.session_factory() as session:
        labeller = world.actors["labeller-a1"].user_id
        rows = session.execute(
            select(Label.assignment_id, Label.value, Label.revision).where(
                Label.labeller_id == labeller,
                Label.project_id == world.project_ids["A"],  # other tests label other projects
                Label.is_current.is_(True),
            )
        ).all()
        stored = {assignment_id: value[0] for assignment_id, value, _ in rows}
        assert stored == expected
        assert len(stored) == 31
        revisions = {a: r for a, _, r in rows}
        assert revisions[revised] == 2
        skip = session.get(Assignment, skipped)
        assert skip is not None and skip.status == "skipped" and skip.skip_reason


def test_item_html_is_shown_as_text_and_never_runs(live_server, world, browser):
    context = browser.new_context(bypass_csp=True)  # escaping alone must hold
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_login(page, live_server.url, "labeller-a2")
    page.goto(f"{live_server.url}/work/{world.project_ids['hostile']}")
    page.wait_for_selector("#card .item-text")
    shown = page.inner_text("#card .item-text")
    assert "<script>window.__pwned = 1</script>" in shown
    assert 'onerror="window.__pwned = 2"' in shown
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#card script").count() == 0
    assert page.locator("#card img").count() == 0
    assert page.locator("#card mark.hl-line_id").count() == 1
    assert dialogs == []
    context.close()


def test_an_answer_given_after_the_session_expired_is_sent_after_logging_in_again(
    live_server, world, browser
):
    context = browser.new_context(locale="zh-TW")
    page = context.new_page()
    browser_login(page, live_server.url, "labeller-a2")
    page.goto(f"{live_server.url}/work/{world.project_ids['A']}")
    page.wait_for_selector("#card .item-card")
    assignment = int(_card_id(page))
    context.clear_cookies()  # the session is gone (expired, or the server forgot it)
    page.keyboard.press("3")
    with page.expect_navigation(url=lambda url: "next=" in url):
        page.keyboard.press("Enter")
    pending = page.evaluate("() => JSON.stringify(Object.assign({}, sessionStorage))")
    assert str(assignment) in pending
    page.fill("#username", "labeller-a2")
    page.fill("#password", "correct horse battery")
    page.press("#password", "Enter")
    page.wait_for_selector("#card .item-card")
    page.wait_for_function(
        "() => Object.keys(sessionStorage).every(k => sessionStorage.getItem(k) === '[]')"
    )
    context.close()
    with live_server.session_factory() as session:
        value = session.scalar(
            select(Label.value).where(Label.assignment_id == assignment, Label.is_current.is_(True))
        )
    assert value == ["financial_scam"]


class _AlwaysGold(random.Random):
    """Gold draws that always ask for a gold item first (one is served when left)."""

    def random(self) -> float:
        return 0.0


@pytest.fixture(scope="module")
def gold_project(live_server, world) -> int:
    """A project of two items, one of them gold (its answer: gambling)."""
    with live_server.session_factory() as session:
        project = projects.create_project(
            session,
            SYSTEM_ACTOR,
            "project-gold",
            taxonomy_id=world.taxonomy_id,
            overlap=2,
            gold_rate=0.5,
            vendor_ids=[world.vendor_ids["A"]],
        )
        imports.import_item_records(
            session,
            SYSTEM_ACTOR,
            project.id,
            [
                {"external_id": "gold-1", "text": "線上娛樂城，首儲送一千"},
                {"external_id": "plain-1", "text": "週年慶滿千送百"},
            ],
        )
        gold.mark_gold(
            session,
            world.actors["auditor"],
            project.id,
            "gold-1",
            ["gambling"],
            explanation_en="An online casino.",
            explanation_zh="線上賭場。",
        )
        return project.id


@pytest.mark.parametrize(
    ("locale", "lang", "username"),
    [("zh-TW", "zh-Hant", "labeller-a1"), ("en-US", "en", "labeller-a2")],
    ids=["zh-Hant", "en"],
)
def test_a_wrong_answer_on_a_gold_item_shows_the_right_and_chosen_names(
    live_server, world, gold_project, browser, monkeypatch, locale, lang, username
):
    monkeypatch.setattr(queue, "_GOLD_DRAWS", _AlwaysGold())  # the gold item comes first
    context = browser.new_context(locale=locale)
    page = context.new_page()
    browser_login(page, live_server.url, username)
    page.goto(f"{live_server.url}/work/{gold_project}")
    page.wait_for_selector("#card .item-card")
    assert "線上娛樂城" in page.inner_text("#card .item-text")
    assert not page.is_visible("#gold-feedback")
    page.keyboard.press("3")  # financial_scam; the answer is gambling
    page.keyboard.press("Enter")
    page.wait_for_selector("#gold-feedback:not([hidden])")
    shown = page.inner_text("#gold-feedback")  # the visible text
    names = {label["key"]: label["name"][lang] for label in TAXONOMY["labels"]}
    expected = translate(
        "web.feedback.gold_wrong", lang, right=names["gambling"], yours=names["financial_scam"]
    )
    assert expected in shown, shown
    assert ("線上賭場。" if lang == "zh-Hant" else "An online casino.") in shown
    assert names["gambling"] in shown and names["financial_scam"] in shown
    context.close()


def _open_and_close_guide(page) -> str:
    """Open the guideline with ``g`` and close it with Esc; returns its text."""
    page.keyboard.press("g")
    page.wait_for_selector("#guide-dialog[open]")
    text: str = page.inner_text("#guide-dialog")
    page.keyboard.press("Escape")
    page.wait_for_selector("#guide-dialog:not([open])", state="attached")
    return text


def _current_value(live_server, assignment_id: str) -> list[str] | None:
    """The stored current label of an assignment."""
    with live_server.session_factory() as session:
        value: list[str] | None = session.scalar(
            select(Label.value).where(
                Label.assignment_id == int(assignment_id), Label.is_current.is_(True)
            )
        )
    return value


def test_multi_label_items_and_the_guideline_by_keyboard(live_server, world, browser):
    context = browser.new_context(locale="zh-TW")
    page = context.new_page()
    browser_login(page, live_server.url, "labeller-a3")
    page.goto(f"{live_server.url}/work/{world.project_ids['multi']}")
    page.wait_for_selector("#card .item-card")
    guide = _open_and_close_guide(page)
    assert "金融詐騙" in guide
    assert "Financial scam" in guide
    first = _card_id(page)
    page.keyboard.press("2")
    page.keyboard.press("4")
    page.keyboard.press("4")  # toggled off again
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    _wait_new_card(page, first)
    _wait_all_sent(page)
    context.close()
    assert _current_value(live_server, first) == ["gambling", "financial_scam"]


def test_enter_right_after_closing_the_guide_submits(live_server, world, browser):
    """Chrome leaves the focus on a closed dialog's Close button until its next focus
    fix-up; an Enter in that frame used to go to the button and the answer was lost."""
    context = browser.new_context(locale="en")
    page = context.new_page()
    browser_login(page, live_server.url, "labeller-a3")
    page.goto(f"{live_server.url}/work/{world.project_ids['A']}")
    page.wait_for_selector("#card .item-card")
    _open_and_close_guide(page)
    first = _card_id(page)
    page.keyboard.press("2")
    # The Enter of that frame, deterministically: sent from the closed dialog's button.
    page.evaluate(
        "() => document.querySelector('#guide-dialog button').dispatchEvent("
        "new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true}))"
    )
    _wait_new_card(page, first)
    _wait_all_sent(page)
    context.close()
    assert _current_value(live_server, first) == ["gambling"]
