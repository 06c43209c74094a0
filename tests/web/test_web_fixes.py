"""Defects found when the pages were tried as a new user would (issue #19), in-process:
the vendor's random-part defects, names instead of raw label keys, curtailed audits,
forms kept on a validation error, links a role can follow, periods and time zones."""

from __future__ import annotations

import html
import re

import pytest

from factories import make_world
from labelops.i18n import translate
from labelops.services import audits, labelling, lots, queue
from web.web_support import give_passwords, login

TAGS = re.compile(r"<[^>]+>")
HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)
RAW_KEYS = ("financial_scam", "wrong_label", "missed_violation", "over_flagging")


def visible(page_html: str) -> str:
    """The text a reader sees (tags, scripts and attribute values removed)."""
    body = page_html.split("<body>", 1)[-1]
    return html.unescape(TAGS.sub(" ", HIDDEN.sub(" ", body)))


@pytest.fixture()
def world(session):
    """Vendor A's 24 labels (12 items, 2 labellers) in a lot under an AQL audit
    (lot 24, AQL 10, level II: n = 5, Ac 1, Re 2) with 2 targeted labels."""
    world = make_world(session, n_items=12, overlap=2)
    give_passwords(session, world, "admin", "auditor", "manager-a", "labeller-a1")
    project = world.project_ids["A"]
    for name in ("labeller-a1", "labeller-a2"):
        actor = world.actors[name]
        for index in range(12):
            served = queue.next_task(session, actor, project)
            assert served is not None
            labelling.submit_label(
                session, actor, served.assignment_id, ["financial_scam" if index % 2 else "adult"]
            )
    lot = lots.create_lot(session, world.actors["auditor"], project, world.vendor_ids["A"])
    world.lot_id = lot.id
    started = audits.start_audit(
        session, world.actors["auditor"], lot.id, plan="aql", aql="10", targeted=2, seed=7
    )
    world.audit_id = started.id
    session.commit()
    assert (started.design["accept"], started.design["reject"]) == (1, 2)
    assert (started.n_random, started.n_targeted) == (5, 2)
    return world


def review(session, world, wrong, *, limit: int | None = None) -> int:
    """Review the sample in order; ``wrong(item)`` says which verdicts are incorrect."""
    auditor = world.actors["auditor"]
    done = 0
    while (item := audits.next_audit_item(session, auditor, world.audit_id)) is not None:
        if limit is not None and done >= limit:
            break
        vendor = audits.get_audit_item(session, auditor, world.audit_id, item.label_id)
        if wrong(item):
            right = ["compliant"]
            audits.submit_blind_answer(session, auditor, world.audit_id, item.label_id, right)
            audits.record_verdict(
                session,
                auditor,
                world.audit_id,
                item.label_id,
                "incorrect",
                error_type="wrong_label",
                severity="major",
                corrected=right,
            )
        else:
            answer = list(vendor.vendor_value or []) if vendor.vendor_value else ["adult"]
            audits.submit_blind_answer(session, auditor, world.audit_id, item.label_id, answer)
            revealed = audits.get_audit_item(session, auditor, world.audit_id, item.label_id)
            audits.submit_blind_answer(
                session, auditor, world.audit_id, item.label_id, list(revealed.vendor_value or [])
            )
            audits.record_verdict(session, auditor, world.audit_id, item.label_id, "correct")
        done += 1
    session.commit()
    return done


def login_in(client, username: str, lang: str) -> str:
    """Log in and choose the page language (the user's choice wins over the browser's)."""
    client.cookies.clear()
    csrf = login(client, username)
    chosen = client.post("/lang", data={"lang": lang, "csrf_token": csrf, "next": "/"})
    assert chosen.status_code == 200
    return csrf


def _row_cells(page_html: str, audit_id: int) -> list[str]:
    row = page_html.split(f'<a href="/audit/audits/{audit_id}">{audit_id}</a>', 1)[1]
    row = row.split("</tr>", 1)[0]
    return [visible(cell).strip() for cell in row.split("</td>")]


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_vendor_page_defects_of_the_random_part_are_not_the_total(client, session, world, lang):
    review(session, world, lambda item: item.part == "targeted")
    summary = audits.get_audit(session, world.actors["auditor"], world.audit_id)
    assert (summary.n_defects, summary.n_defects_random) == (2, 0)
    login_in(client, "manager-a", lang)
    page = client.get(f"/vendor/{world.vendor_ids['A']}")
    assert page.status_code == 200
    header = translate("web.audit.defects", lang)
    assert header in html.unescape(page.text)
    # cells after the link: lot, plan, reviewed, defects (random part), decision, accuracy
    cells = _row_cells(page.text, world.audit_id)
    assert cells[4] == "0", cells


@pytest.mark.parametrize(
    ("lang", "label", "error"),
    [("en", "Financial scam", "Wrong label"), ("zh-Hant", "金融詐騙", "標籤錯誤")],
)
def test_audit_and_vendor_pages_show_label_and_error_names_not_keys(
    client, session, world, lang, label, error
):
    review(session, world, lambda _item: True)
    login_in(client, "auditor", lang)
    text = visible(client.get(f"/audit/audits/{world.audit_id}").text)
    assert label in text and error in text
    assert translate("web.audit.errors_by_type", lang) in text
    assert [key for key in RAW_KEYS if key in text] == []
    login_in(client, "manager-a", lang)
    text = visible(client.get(f"/vendor/{world.vendor_ids['A']}").text)
    assert label in text and error in text
    assert translate("web.vendor.mistakes", lang) in text
    assert [key for key in RAW_KEYS if key in text] == []


def test_curtailment_before_the_sample_is_finished(client, session, world):
    auditor = world.actors["auditor"]
    random_seen: list[int] = []

    def wrong(item) -> bool:
        if item.part == "random":
            random_seen.append(item.label_id)
            return True
        return False

    # Review until two random labels have been judged wrong (Re = 2).
    while len(random_seen) < 2:
        review(session, world, wrong, limit=1)
    summary = audits.get_audit(session, auditor, world.audit_id)
    assert summary.decision is None and summary.n_reviewed < summary.n_sample
    report = audits.get_audit_report(session, auditor, world.audit_id)
    assert report.curtailment is not None and report.curtailment.certain
    assert (report.curtailment.decision, report.curtailment.curtailed_at) == ("rejected", 2)

    login(client, "auditor")
    api = client.get(f"/api/audits/{world.audit_id}/report").json()
    assert api["decision_certain"] is True
    assert api["certain_decision"] == "rejected" and api["curtailed_at"] == 2
    assert api["audit"]["decision"] is None
    for lang in ("en", "zh-Hant"):
        login_in(client, "auditor", lang)
        expected = translate("web.audit.curtailed_rejected", lang, defects=2, reject=2, at=2, n=5)
        for url in (f"/audit/audits/{world.audit_id}", f"/audit/audits/{world.audit_id}/review"):
            page = client.get(url)
            assert page.status_code == 200, url
            assert expected in visible(page.text), (url, lang)

    # The auditor finishes the sample: the estimate uses every reviewed random label.
    review(session, world, lambda _item: False)
    summary = audits.get_audit(session, auditor, world.audit_id)
    assert summary.decision == "rejected" and summary.n_reviewed == summary.n_sample
    report = audits.get_audit_report(session, auditor, world.audit_id)
    assert report.estimate is not None and report.estimate.n_audited == 5
    assert report.curtailment is not None and report.curtailment.curtailed_at == 2
    login_in(client, "auditor", "en")
    page = client.get(f"/audit/audits/{world.audit_id}")
    done = translate("web.audit.curtailed_done", "en", decision="Rejected", at=2, n=5)
    assert translate("web.status.rejected", "en") == "Rejected"
    assert done in visible(page.text)


def test_an_audit_with_no_defect_is_accepted_once_the_rest_cannot_reach_re(client, session, world):
    # Re = 2 over 5 random labels: 4 right ones leave 1 label, which cannot reach 2.
    seen: list[str] = []

    def wrong(item) -> bool:
        seen.append(item.part)
        return False

    while seen.count("random") < 4:
        review(session, world, wrong, limit=1)
    report = audits.get_audit_report(session, world.actors["auditor"], world.audit_id)
    assert report.curtailment is not None
    assert (report.curtailment.decision, report.curtailment.curtailed_at) == ("accepted", 4)
    assert report.audit.decision is None
    login_in(client, "auditor", "zh-Hant")
    page = client.get(f"/audit/audits/{world.audit_id}")
    expected = translate("web.audit.curtailed_accepted", "zh-Hant", defects=0, reject=2, at=4, n=5)
    assert expected in visible(page.text)


NAKED_STAMP = {
    "en": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?! UTC[+-]\d)"),
    "zh-Hant": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}(?! UTC[+-]\d)"),
}


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_lot_page_shows_its_period_and_every_timestamp_carries_its_zone(
    client, session, world, lang
):
    from labelops.web.render import format_datetime

    login_in(client, "admin", lang)
    text = visible(client.get(f"/audit/lots/{world.lot_id}").text)
    assert translate("web.audit.window", lang) in text
    assert "— – —" not in text
    lot = lots.get_lot(session, world.actors["auditor"], world.lot_id)
    assert lot.since is None and lot.until is None  # a lot of everything so far
    assert lot.frozen_at is not None
    assert format_datetime(lot.frozen_at, lang) in text
    assert format_datetime(lot.first_label_at, lang) in text
    assert format_datetime(lot.last_label_at, lang) in text
    zoned = 0
    for url in (
        f"/audit/lots/{world.lot_id}",
        "/admin/imports",
        "/admin/projects",
        "/admin/taxonomies",
        "/admin/users",
    ):
        text = visible(client.get(url).text)
        assert NAKED_STAMP[lang].findall(text) == [], url
        zoned += text.count(" UTC+8")
    assert zoned >= 6


def _blind_agreeing(session, world):
    """Serve the next sampled label and answer it as the vendor did; its label id."""
    auditor = world.actors["auditor"]
    item = audits.next_audit_item(session, auditor, world.audit_id)
    assert item is not None
    audits.submit_blind_answer(session, auditor, world.audit_id, item.label_id, ["adult"])
    vendor = audits.get_audit_item(session, auditor, world.audit_id, item.label_id).vendor_value
    audits.submit_blind_answer(session, auditor, world.audit_id, item.label_id, list(vendor or []))
    session.commit()
    return item.label_id, list(vendor or [])


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_a_refused_verdict_shows_the_form_again_with_the_reason_and_what_was_entered(
    client, session, world, lang
):
    label_id, vendor = _blind_agreeing(session, world)
    csrf = login_in(client, "auditor", lang)
    comment = "看起來像賭博 <b>x</b>"
    # "Incorrect" with the vendor's own label as the correction: refused.
    response = client.post(
        f"/audit/audits/{world.audit_id}/labels/{label_id}/verdict",
        data={
            "verdict": "incorrect",
            "error_type": "over_flagging",
            "severity": "minor",
            "corrected": vendor,
            "comment": comment,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="review-form" data-stage="verdict"' in page
    message = translate("errors.audit.corrected_same", lang)
    error = page.split('id="err-corrected"', 1)[1].split("</p>", 1)[0]
    assert message in html.unescape(error)
    assert 'name="verdict" value="incorrect" data-hotkey="x" checked' in page
    assert 'name="error_type" value="over_flagging" checked' in page
    assert 'name="severity" value="minor" checked' in page
    assert f'value="{html.escape(comment)}"' in page
    assert (
        audits.get_audit_item(session, world.actors["auditor"], world.audit_id, label_id).verdict
        is None
    )


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_a_refused_import_shows_the_form_again_with_the_reason_next_to_the_field(
    client, world, lang
):
    csrf = login_in(client, "admin", lang)
    project = world.project_ids["B"]
    bad_columns = client.post(
        "/admin/imports",
        data={
            "project_id": str(project),
            "columns": "external_id=ad_id nonsense",
            "no_header": "1",
            "csrf_token": csrf,
        },
        files={"file": ("ads.csv", b"ad_id,body\nx-1,hello\n", "text/csv")},
    )
    assert bad_columns.status_code == 422
    page = bad_columns.text
    assert 'action="/admin/imports"' in page  # the form, not an error page
    assert 'id="i-columns-error"' in page and 'aria-invalid="true"' in page
    assert 'value="external_id=ad_id nonsense"' in page
    assert f'<option value="{project}" selected>' in page
    assert 'name="no_header" value="1" checked' in page
    assert 'name="hash_ids" value="1" checked' not in page
    rows = b'{"external_id": "w-1", "text": "hello"}\n{"external_id": "w-2"}\n'
    bad_file = client.post(
        "/admin/imports",
        data={"project_id": str(project), "csrf_token": csrf},
        files={"file": ("items.jsonl", rows, "application/jsonl")},
    )
    assert bad_file.status_code == 422
    error = html.unescape(bad_file.text.split('id="i-file-error"', 1)[1].split("</p>", 1)[0])
    assert "items.jsonl" in error
    assert translate("errors.where.line", lang, line=2) in error
    assert translate("web.form.file_again", lang, file="items.jsonl") in html.unescape(
        bad_file.text
    )


HREF = re.compile(r'<a [^>]*href="(/[^"#]*)"')


@pytest.mark.parametrize("username", ["labeller-a1", "manager-a", "auditor", "admin"])
def test_every_link_a_role_is_shown_leads_somewhere_it_may_go(client, session, world, username):
    """Follow every link of the pages a role reaches from its home and of every page of
    the registry meant for it that it may open (e.g. a labeller typing ``/quality``), two
    clicks deep: none may answer 403 (or any error): a link it cannot follow is not shown."""
    from labelops.web.render import PAGES

    review(session, world, lambda item: item.part == "random")  # decided, with mistakes
    login_in(client, username, "en")
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    seen: dict[str, int] = {}
    frontier = [str(home.url.path)]
    role = world.actors[username].role
    frontier += [p.path for p in PAGES if role in p.roles and client.get(p.path).status_code == 200]
    for _depth in range(2):
        found: list[str] = []
        for url in frontier:
            response = client.get(url)
            seen[url] = response.status_code
            if response.status_code == 200:
                found += [h for h in HREF.findall(response.text) if not h.startswith("/static/")]
        frontier = sorted({h for h in found if h not in seen})
    for url in frontier:
        seen[url] = client.get(url).status_code
    refused = {url: status for url, status in seen.items() if status != 200}
    assert refused == {}, username
    assert len(seen) >= 3


def test_a_labeller_typing_quality_sees_no_link_that_refuses_them(client, world):
    """The reported case: a labeller's ``/quality`` led to project links answering 403;
    the policy gives labellers no ``quality.read``, so the page lists without links."""
    login_in(client, "labeller-a1", "en")
    page = client.get("/quality")
    assert page.status_code == 200
    nav = page.text.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert 'href="/quality"' not in nav
    links = [h for h in HREF.findall(page.text) if h.startswith("/quality/")]
    assert {h: client.get(h).status_code for h in links if client.get(h).status_code != 200} == {}
    assert "project-a" in visible(page.text)
