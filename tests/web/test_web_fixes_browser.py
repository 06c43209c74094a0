"""The issue #19 page defects in chromium, by what a person sees in both languages:
the import form's layout, names instead of raw keys, the curtailed audit, the lot's
period with its zone, and a refused verdict kept on its form."""

from __future__ import annotations

import pytest

from factories import make_world
from labelops.i18n import translate
from labelops.services import audits, labelling, lots, queue
from web.web_support import SCREENSHOTS, browser_login, give_passwords

pytestmark = pytest.mark.browser

LANGS = ("en", "zh-Hant")


@pytest.fixture(scope="module")
def world(live_server):
    """Vendor A's 24 labels in a lot under an AQL audit (n = 5, Ac 1, Re 2, 2 targeted)
    whose first two random labels were judged wrong: rejected, sample not finished."""
    with live_server.session_factory() as session:
        world = make_world(session, n_items=12, overlap=2)
        give_passwords(session, world, "admin", "auditor", "manager-a")
        project = world.project_ids["A"]
        for name in ("labeller-a1", "labeller-a2"):
            actor = world.actors[name]
            for index in range(12):
                served = queue.next_task(session, actor, project)
                labelling.submit_label(
                    session,
                    actor,
                    served.assignment_id,
                    ["financial_scam" if index % 2 else "adult"],
                )
        auditor = world.actors["auditor"]
        lot = lots.create_lot(session, auditor, project, world.vendor_ids["A"])
        world.lot_id = lot.id
        world.audit_id = audits.start_audit(
            session, auditor, lot.id, plan="aql", aql="10", targeted=2, seed=7
        ).id
        wrong = 0
        while wrong < 2:
            item = audits.next_audit_item(session, auditor, world.audit_id)
            audits.submit_blind_answer(
                session, auditor, world.audit_id, item.label_id, ["compliant"]
            )
            if item.part == "random":
                audits.record_verdict(
                    session,
                    auditor,
                    world.audit_id,
                    item.label_id,
                    "incorrect",
                    error_type="wrong_label",
                    severity="major",
                    corrected=["compliant"],
                )
                wrong += 1
            else:
                vendor = audits.get_audit_item(session, auditor, world.audit_id, item.label_id)
                audits.submit_blind_answer(
                    session, auditor, world.audit_id, item.label_id, list(vendor.vendor_value)
                )
                audits.record_verdict(session, auditor, world.audit_id, item.label_id, "correct")
        session.commit()
    return world


def _page(browser, live_server, username: str, lang: str):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, live_server.url, username)
    page.click(f'.lang-switch button[value="{lang}"]')
    page.wait_for_load_state("domcontentloaded")
    return context, page


def _box_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", [1280, 900, 600])
def test_import_form_help_text_does_not_overlap_the_inputs(
    live_server, world, browser, lang, width
):
    context, page = _page(browser, live_server, "admin", lang)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/admin/imports")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"fixes_admin_imports_{width}_{lang}.png"), full_page=True
    )
    help_box = page.locator("#i-columns-help").bounding_box()
    assert help_box is not None and help_box["height"] > 0
    assert translate("web.import.columns_help", lang) in page.inner_text("#i-columns-help")
    for selector in ("#i-file", "#i-project", "#i-columns", 'input[name="no_header"]'):
        box = page.locator(selector).bounding_box()
        assert box is not None
        assert not _box_overlap(box, help_box), (selector, box, help_box)
    # and no input sticks out of its own grid cell into the next one
    cells = page.locator("form.form-grid > div")
    for index in range(cells.count()):
        cell = cells.nth(index).bounding_box()
        for child in cells.nth(index).locator("input, select").all():
            box = child.bounding_box()
            if box is None or box["width"] <= 1:
                continue
            assert (
                box["x"] >= cell["x"] - 1
                and box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
            )
    context.close()


RAW_KEYS = ("financial_scam", "wrong_label", "compliant")


@pytest.mark.parametrize("lang", LANGS)
def test_curtailed_audit_names_and_random_defects_as_a_person_sees_them(
    live_server, world, browser, lang
):
    context, page = _page(browser, live_server, "auditor", lang)
    page.goto(f"{live_server.url}/audit/audits/{world.audit_id}")
    page.screenshot(path=str(SCREENSHOTS / f"fixes_audit_curtailed_{lang}.png"), full_page=True)
    notice = page.inner_text("#curtailment")
    assert notice == translate("web.audit.curtailed_rejected", lang, defects=2, reject=2, at=2, n=5)
    assert page.inner_text("#decision") == translate("web.status.in_progress", lang)
    main = page.inner_text("main")
    assert ("Financial scam" if lang == "en" else "金融詐騙") in main
    assert ("Wrong label" if lang == "en" else "標籤錯誤") in main
    assert [key for key in RAW_KEYS if key in main] == []
    page.click("#review-link")
    page.wait_for_load_state("domcontentloaded")
    assert page.inner_text("#curtailment") == notice  # said on the review page too
    context.close()

    context, page = _page(browser, live_server, "manager-a", lang)
    page.goto(f"{live_server.url}/vendor/{world.vendor_ids['A']}")
    page.screenshot(path=str(SCREENSHOTS / f"fixes_vendor_{lang}.png"), full_page=True)
    header = page.locator("table", has=page.locator(f'a[href="/audit/audits/{world.audit_id}"]'))
    columns = [c.strip() for c in header.locator("thead th").all_inner_texts()]
    row = header.locator("tbody tr", has=page.locator(f'a[href="/audit/audits/{world.audit_id}"]'))
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[columns.index(translate("web.audit.defects", lang))] == "2"
    main = page.inner_text("main")
    assert ("Financial scam" if lang == "en" else "金融詐騙") in main
    assert [key for key in RAW_KEYS if key in main] == []
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_lot_period_with_zone_and_a_refused_verdict_kept_on_its_form(
    live_server, world, browser, lang
):
    context, page = _page(browser, live_server, "auditor", lang)
    page.goto(f"{live_server.url}/audit/lots/{world.lot_id}")
    period = page.inner_text("#lot-period")
    assert period.startswith(translate("web.audit.window", lang))
    assert "—" not in period and period.endswith("UTC+8")
    assert "UTC+8" in page.inner_text("#lot-span")

    page.goto(f"{live_server.url}/audit/audits/{world.audit_id}/review")
    form = page.locator("#review-form")
    if form.get_attribute("data-stage") == "blind":
        page.locator('#review-form input[name="value"]').first.check()
        with page.expect_navigation():
            page.click('#review-form button[type="submit"]')
    vendor_name = page.inner_text("#vendor-label")
    page.check('input[name="verdict"][value="incorrect"]')
    page.check('input[name="severity"][value="minor"]')
    page.select_option("#corrected", label=vendor_name)  # the vendor's own label: refused
    page.fill("#comment", "留言 kept")
    with page.expect_navigation():
        page.click('#review-form button[type="submit"]')
    page.screenshot(path=str(SCREENSHOTS / f"fixes_verdict_refused_{lang}.png"), full_page=True)
    assert page.inner_text("#err-corrected") == translate("errors.audit.corrected_same", lang)
    assert page.is_checked('input[name="verdict"][value="incorrect"]')
    assert page.is_checked('input[name="severity"][value="minor"]')
    assert page.input_value("#comment") == "留言 kept"
    context.close()
