"""Every page in chromium: both languages, no English left in zh-Hant, axe, screenshots;
and an auditor completes an audit by keyboard until the lot is decided."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from factories import make_world
from labelops.i18n import catalog
from labelops.services import audits, labelling, lots, queue, taxonomies
from labelops.services.audit_config import DEFAULT_ERROR_TYPES
from labelops.store.audit_models import Audit, AuditErrorType, AuditLot
from labelops.store.models import ImportBatch, Item
from web.web_support import SCREENSHOTS, browser_login, give_passwords, run_axe

pytestmark = pytest.mark.browser

WORD = re.compile(r"[A-Za-z][A-Za-z']+")
KEY_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![A-Za-z0-9_-])")
# Shown on purpose in both languages: product and format names, brand names of methods.
ALLOWED = {"labelops", "csv", "json", "jsonl", "aql", "id", "yaml", "parquet", "ok"}

VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest('script, style, code, [lang="en"]')) continue;
    if (!parent.checkVisibility()) continue;
    out.push(text);
  }
  return out;
}"""


def _catalog_words() -> tuple[set[str], set[str]]:
    # Every page message, whichever catalog file holds it (web.json and newer files).
    data = {key: texts for key, texts in catalog().items() if key.startswith("web.")}
    english = {w.lower() for texts in data.values() for w in WORD.findall(texts["en"])}
    in_chinese = {w.lower() for texts in data.values() for w in WORD.findall(texts["zh-Hant"])}
    return english, in_chinese


@pytest.fixture(scope="module")
def world(live_server):
    with live_server.session_factory() as session:
        world = make_world(session, n_items=10, overlap=2)
        give_passwords(session, world, "admin", "auditor", "manager-a", "labeller-a1")
        for vendor in ("a", "b"):
            project = world.project_ids[vendor.upper()]
            for name in (f"labeller-{vendor}1", f"labeller-{vendor}2"):
                actor = world.actors[name]
                for index in range(5):
                    served = queue.next_task(session, actor, project)
                    value = "gambling" if index % 2 else "adult"
                    if vendor == "b" and index % 2:
                        value = "financial_scam"
                    labelling.submit_label(session, actor, served.assignment_id, [value])
        auditor = world.actors["auditor"]
        world.lots = {}
        world.audits = {}
        for vendor in ("A", "B"):
            lot = lots.create_lot(
                session, auditor, world.project_ids[vendor], world.vendor_ids[vendor]
            )
            world.lots[vendor] = lot.id
            world.audits[vendor] = audits.start_audit(
                session, auditor, lot.id, plan="margin", margin=0.3, seed=3
            ).id
        for _ in range(2):  # mistakes on B's pages: label and error-type names, never keys
            item = audits.next_audit_item(session, auditor, world.audits["B"])
            audits.submit_blind_answer(
                session, auditor, world.audits["B"], item.label_id, ["compliant"]
            )
            audits.record_verdict(
                session,
                auditor,
                world.audits["B"],
                item.label_id,
                "incorrect",
                error_type="wrong_label",
                severity="major",
                corrected=["compliant"],
            )
        world.raw_keys = sorted(
            {
                *taxonomies.label_keys(session, world.taxonomy_id),
                *session.scalars(select(AuditErrorType.key)),
                *(key for key, _, _ in DEFAULT_ERROR_TYPES),
            }
        )
        world.import_id = session.scalar(select(ImportBatch.id).limit(1))
        world.data = sorted(
            {
                *world.actors,
                "vendor-A",
                "vendor-B",
                "project-a",
                "project-b",
                "ads-test",
                "request",
                *session.scalars(select(Item.external_id)),
                *session.scalars(select(Item.text)),
            },
            key=len,
            reverse=True,
        )
        session.commit()
    return world


def _pages(world) -> dict[str | None, list[str]]:
    a, b = world.project_ids["A"], world.project_ids["B"]
    return {
        None: ["/"],
        "labeller-a1": [f"/work/{a}", "/work?all=1", f"/work/{a}/rework", "/admin/users"],
        "manager-a": [
            f"/vendor/{world.vendor_ids['A']}",
            "/quality",
            f"/quality/{a}",
            f"/audit/audits/{world.audits['A']}",
        ],
        "auditor": [
            "/audit",
            f"/audit/lots/{world.lots['B']}",
            f"/audit/audits/{world.audits['B']}/review",
            "/audit/disputes",
            f"/audit/gold/{b}",
            "/quality",
        ],
        "admin": [
            "/admin/vendors",
            "/admin/users",
            "/admin/taxonomies",
            f"/admin/taxonomies/{world.taxonomy_id}",
            "/admin/projects",
            f"/admin/projects/{a}",
            "/admin/imports",
            f"/admin/imports/{world.import_id}",
            f"/quality/{b}",
            f"/audit/audits/{world.audits['B']}",
        ],
    }


def _switch(page, lang: str) -> None:
    page.click(f'.lang-switch button[value="{lang}"]')
    page.wait_for_load_state("domcontentloaded")


def _left_in_english(
    texts: list[str], data: list[str], english: set[str], in_chinese: set[str]
) -> list[str]:
    leaks = []
    for text in texts:
        for value in data:
            if value and value in text:
                text = text.replace(value, " ")
        for word in WORD.findall(text):
            lowered = word.lower()
            if lowered in english and lowered not in in_chinese and lowered not in ALLOWED:
                leaks.append(f"{word!r} in {text[:80]!r}")
    return leaks


def _raw_keys_shown(texts: list[str], data: list[str], keys: list[str]) -> list[str]:
    """Label and error-type keys (``financial_scam``, ``wrong_label``, ``adult``) shown as
    text: a page shows their names. Data (item texts, user names...) is taken out first."""
    shown = []
    for text in texts:
        for value in data:
            if value and value in text:
                text = text.replace(value, " ")
        tokens = set(KEY_TOKEN.findall(text))
        shown += [f"raw key {key!r} in {text[:80]!r}" for key in keys if key in tokens]
    return shown


def test_every_page_in_both_languages_is_translated_accessible_and_photographed(
    live_server, world, browser
):
    from labelops.web.routes import _deps  # noqa: F401  (the app's page routes are imported)

    english, in_chinese = _catalog_words()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    visited: list[str] = []
    for username, urls in _pages(world).items():
        context = browser.new_context(
            locale="en-US", bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        if username:
            browser_login(page, live_server.url, username)
        for lang in ("en", "zh-Hant"):
            page.goto(live_server.url + urls[0])
            _switch(page, lang)
            for url in urls:
                page.goto(live_server.url + url)
                page.wait_for_load_state("load")
                if re.fullmatch(r"/work/\d+", url):
                    page.wait_for_selector("#card .item-card, #card .done")
                name = f"{username or 'visitor'}_{url.strip('/').replace('/', '_').replace('?', '_') or 'login'}_{lang}"
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
                assert page.get_attribute("html", "lang") == (
                    "zh-Hant-TW" if lang == "zh-Hant" else "en"
                )
                texts = page.evaluate(VISIBLE_TEXT)
                problems += [
                    f"{url} ({lang}): {shown}"
                    for shown in _raw_keys_shown(texts, world.data, world.raw_keys)
                ]
                if lang == "zh-Hant":
                    problems += [
                        f"{url}: {leak}"
                        for leak in _left_in_english(texts, world.data, english, in_chinese)
                    ]
                    problems += [f"{url}: axe {v}" for v in run_axe(page)]
                    visited.append(url)
        problems += [f"{username}: script error {e}" for e in errors]
        context.close()
    assert problems == [], "\n".join(problems)
    assert len(visited) >= 20


def test_auditor_completes_an_audit_by_keyboard_and_the_lot_is_decided(live_server, world, browser):
    context = browser.new_context(locale="zh-TW")
    page = context.new_page()
    browser_login(page, live_server.url, "auditor")
    audit_id = world.audits["A"]
    page.goto(f"{live_server.url}/audit/audits/{audit_id}")
    page.click("#review-link")
    reviewed = 0
    for step in range(200):
        page.wait_for_load_state("domcontentloaded")
        form = page.query_selector("#review-form")
        if form is None:
            break
        stage = form.get_attribute("data-stage")
        if stage == "blind":
            page.keyboard.press("4" if step % 3 else "2")  # adult / gambling
        else:
            page.keyboard.press("x" if reviewed % 4 == 0 else "c")
            reviewed += 1
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert page.url.endswith(f"/audit/audits/{audit_id}")
    decision = page.inner_text("#decision")
    page.screenshot(path=str(SCREENSHOTS / "auditor_audit_decided_zh-Hant.png"), full_page=True)
    context.close()
    with live_server.session_factory() as session:
        audit = session.get(Audit, audit_id)
        lot = session.get(AuditLot, world.lots["A"])
        assert audit is not None and audit.status == "decided"
        assert audit.decision in ("accepted", "rejected")
        assert lot is not None and lot.status == audit.decision
        assert reviewed == audit.n_sample if hasattr(audit, "n_sample") else reviewed > 0
    assert decision in ("允收", "拒收")
