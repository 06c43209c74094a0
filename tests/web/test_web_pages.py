"""Every page renders for its roles; admin forms work; item text is escaped (in-process)."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from factories import make_world
from labelops.i18n import translate
from labelops.services import audits, imports, labelling, lots, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Item
from web.web_support import csrf_of, give_passwords, login


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=8, overlap=2)
    give_passwords(session, world, "admin", "auditor", "manager-a", "labeller-a1")
    project = world.project_ids["A"]
    for name in ("labeller-a1", "labeller-a2"):
        actor = world.actors[name]
        for index in range(6):
            served = queue.next_task(session, actor, project)
            assert served is not None
            labelling.submit_label(
                session, actor, served.assignment_id, ["gambling" if index % 3 else "compliant"]
            )
    lot = lots.create_lot(session, world.actors["auditor"], project, world.vendor_ids["A"])
    world.lot_id = lot.id
    world.audit_id = audits.start_audit(
        session, world.actors["auditor"], lot.id, plan="margin", margin=0.3, seed=1
    ).id
    session.commit()
    return world


def _get_ok(client, url):
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    assert "web." not in response.text.replace("/static/", ""), url  # no raw message ids
    return response


def test_every_page_renders_for_its_roles(client, world):
    a, b = world.project_ids["A"], world.project_ids["B"]
    pages = {
        "admin": [
            "/admin/vendors",
            "/admin/users",
            "/admin/taxonomies",
            f"/admin/taxonomies/{world.taxonomy_id}",
            "/admin/projects",
            f"/admin/projects/{a}",
            "/admin/imports",
            "/quality",
            f"/quality/{a}",
            f"/quality/{b}",
            "/audit",
            f"/audit/lots/{world.lot_id}",
            f"/audit/audits/{world.audit_id}",
            "/audit/disputes",
            f"/audit/gold/{a}",
            f"/vendor/{world.vendor_ids['B']}",
        ],
        "auditor": [
            "/quality",
            f"/quality/{a}",
            "/audit",
            f"/audit/audits/{world.audit_id}",
            f"/audit/audits/{world.audit_id}/review",
            "/admin/taxonomies",
        ],
        "manager-a": [
            f"/vendor/{world.vendor_ids['A']}",
            "/quality",
            f"/quality/{a}",
            f"/audit/audits/{world.audit_id}",
        ],
        "labeller-a1": [f"/work/{a}", "/work?all=1"],
    }
    for username, urls in pages.items():
        client.cookies.clear()
        login(client, username)
        for url in urls:
            _get_ok(client, url)


def test_quality_page_shows_agreement_and_svg_charts(client, world):
    login(client, "auditor")
    page = _get_ok(client, f"/quality/{world.project_ids['A']}")
    assert html.unescape(page.text).count(translate("web.metric.krippendorff_alpha", "en")) >= 1
    assert page.text.count("<svg") >= 2
    assert "<script" not in page.text.split("</main>")[0].split('<main id="main"')[1]


def test_admin_creates_vendor_user_taxonomy_project_and_imports_items(
    client, session, world, tmp_path
):
    csrf = login(client, "admin")
    assert (
        client.post("/admin/vendors", data={"name": "vendor-C", "csrf_token": csrf}).status_code
        == 200
    )
    assert "vendor-C" in client.get("/admin/vendors").text
    created = client.post(
        "/admin/users",
        data={
            "username": "new-labeller",
            "role": "labeller",
            "vendor_id": str(world.vendor_ids["A"]),
            "password": "password-123",
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 200
    assert 'id="new-token">lo_' in created.text  # shown once
    assert "lo_" not in client.get("/admin/users").text.split("<table>")[0]
    user_id = world.actors["labeller-b3"].user_id
    deleted = client.post(f"/admin/users/{user_id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 200
    assert "labeller-b3" not in deleted.text
    taxonomy = {
        "key": "web-tax",
        "version": 1,
        "mode": "single",
        "name": {"en": "Web", "zh-Hant": "網頁"},
        "labels": [
            {"key": "ok", "name": {"en": "OK", "zh-Hant": "可"}},
            {"key": "bad", "name": {"en": "Bad", "zh-Hant": "不可"}},
        ],
    }
    uploaded = client.post(
        "/admin/taxonomies",
        data={"csrf_token": csrf},
        files={"file": ("web-tax.json", json.dumps(taxonomy).encode(), "application/json")},
    )
    assert uploaded.status_code == 200
    assert re.fullmatch(r"/admin/taxonomies/\d+", uploaded.url.path), uploaded.url.path
    # The new label's row shows its key and both names, each in its own language.
    row = uploaded.text.split("<code>bad</code>", 1)[1].split("</tr>", 1)[0]
    assert '<td lang="zh-Hant">不可</td>' in row and '<td lang="en">Bad</td>' in row, row
    tax_id = int(uploaded.url.path.rsplit("/", 1)[1])
    made = client.post(
        "/admin/projects",
        data={
            "name": "web-project",
            "taxonomy_id": str(tax_id),
            "overlap": "2",
            "gold_rate": "0.1",
            "sla_hours": "24",
            "vendor_ids": [str(world.vendor_ids["A"])],
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 200
    project_id = int(made.url.path.rsplit("/", 1)[1])
    edited = client.post(
        f"/admin/projects/{project_id}",
        data={
            "overlap": "3",
            "gold_rate": "0.05",
            "sla_hours": "",
            "csrf_token": csrf,
            "vendor_ids": [str(world.vendor_ids["A"]), str(world.vendor_ids["B"])],
        },
    )
    assert edited.status_code == 200 and 'value="3"' in edited.text
    rows = b'{"external_id": "w-1", "text": "hello"}\n{"external_id": "w-2"}\n{"external_id": "w-3", "text": "x"}\n'
    refused = client.post(
        "/admin/imports",
        data={"project_id": str(project_id), "csrf_token": csrf},
        files={"file": ("items.jsonl", rows, "application/jsonl")},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert "items.jsonl" in refused.text and "line 2" in refused.text
    landed = client.post(
        "/admin/imports",
        data={"project_id": str(project_id), "skip_invalid": "1", "csrf_token": csrf},
        files={"file": ("items.jsonl", rows, "application/jsonl")},
    )
    assert landed.status_code == 200
    assert "items.jsonl" in landed.text
    assert ">2<" in landed.text and ">1<" in landed.text  # created, rejected
    assert "items.jsonl" in client.get("/admin/imports").text
    other_names = "ad_id,body\nw-9,限時優惠\n".encode()
    mapped = client.post(
        "/admin/imports",
        data={"project_id": str(project_id), "columns": "nonsense", "csrf_token": csrf},
        files={"file": ("other.csv", other_names, "text/csv")},
        headers={"Accept-Language": "zh-Hant"},
    )
    assert mapped.status_code == 422 and "external_id=id" in mapped.text
    mapped = client.post(
        "/admin/imports",
        data={
            "project_id": str(project_id),
            "columns": "external_id=ad_id  text=body",
            "csrf_token": csrf,
        },
        files={"file": ("other.csv", other_names, "text/csv")},
    )
    assert mapped.status_code == 200 and "other.csv" in mapped.text
    landed_text = session.scalar(select(Item.text).where(Item.external_id == "w-9"))
    assert landed_text == "限時優惠"
    headerless = 'spam\t加LINE領"紅包"\nham\t明天見\n'.encode()
    page = client.get("/admin/imports").text
    assert 'name="no_header"' in page and 'name="hash_ids"' in page and ".tsv" in page
    tsv = client.post(
        "/admin/imports",
        data={
            "project_id": str(project_id),
            "columns": "text=#2",
            "no_header": "1",
            "hash_ids": "1",
            "csrf_token": csrf,
        },
        files={"file": ("sms.tsv", headerless, "text/tab-separated-values")},
    )
    assert tsv.status_code == 200 and "sms.tsv" in tsv.text
    session.rollback()  # a fresh read, after the request's own transaction
    landed = dict(
        session.execute(
            select(Item.text, Item.item_metadata).where(Item.text.in_(['加LINE領"紅包"', "明天見"]))
        ).all()
    )
    assert landed == {'加LINE領"紅包"': {"#1": "spam"}, "明天見": {"#1": "ham"}}


def test_item_text_is_escaped_in_cards(client, session, world):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> 加LINE @evil"
    imports.import_item_records(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        [{"external_id": "evil-1", "text": hostile, "priority": 100}],
    )
    csrf = login(client, "labeller-a1")
    task = client.post(
        f"/api/projects/{world.project_ids['A']}/next", headers={"X-CSRF-Token": csrf}
    ).json()
    assert task["item"]["external_id"] == "evil-1"
    card = client.get(f"/w/cards/{task['assignment_id']}")
    assert card.status_code == 200
    assert "<script>" not in card.text and "<img src=x" not in card.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card.text
    assert '<mark class="hl hl-line_id">' in card.text


def test_pages_send_a_strict_content_security_policy(client, world):
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"


def test_a_labeller_gets_a_page_not_json_for_an_admin_page(client, world):
    login(client, "labeller-a1")
    response = client.get("/admin/users", headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert translate("web.error.title", "zh-Hant") in response.text
    assert csrf_of(response.text)


def test_auditor_marks_and_imports_gold_items(client, world):
    csrf = login(client, "auditor")
    project = world.project_ids["A"]
    marked = client.post(
        f"/audit/gold/{project}",
        data={
            "external_id": "a-00007",
            "value": "gambling",
            "explanation_en": "Casino link",
            "explanation_zh": "賭場連結",
            "csrf_token": csrf,
        },
    )
    assert marked.status_code == 200 and "a-00007" in marked.text
    rows = "external_id,label,explanation_en,explanation_zh\na-00006,adult,Nudity,裸露\n"
    uploaded = client.post(
        f"/audit/gold/{project}/upload",
        data={"csrf_token": csrf},
        files={"file": ("gold.csv", rows.encode(), "text/csv")},
    )
    assert uploaded.status_code == 200 and "a-00006" in uploaded.text
    bad = client.post(
        f"/audit/gold/{project}/upload",
        data={"csrf_token": csrf},
        files={"file": ("gold.csv", b"external_id,label\nx,y\n", "text/csv")},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "gold.csv" in bad.text and "labelops-upload" not in bad.text


def test_labeller_reworks_items_of_a_rejected_lot(client, session, world):
    from sqlalchemy import select

    from labelops.services import rework
    from labelops.store.audit_models import ReworkItem

    auditor = world.actors["auditor"]
    error_type = audits.list_error_types(session, auditor)[0].key
    while (item := audits.next_audit_item(session, auditor, world.audit_id)) is not None:
        audits.submit_blind_answer(session, auditor, world.audit_id, item.label_id, ["adult"])
        audits.record_verdict(
            session,
            auditor,
            world.audit_id,
            item.label_id,
            "incorrect",
            error_type=error_type,
            severity="minor",
            corrected=["adult"],
        )
    assert audits.get_audit(session, auditor, world.audit_id).decision == "rejected"
    rework.create_rework(session, auditor, world.audit_id)
    session.commit()
    csrf = login(client, "labeller-a1")
    project = world.project_ids["A"]
    page = client.get(f"/work/{project}/rework", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    rework_id = int(page.text.split(f"/work/{project}/rework/")[1].split('"')[0])
    done = client.post(
        f"/work/{project}/rework/{rework_id}",
        data={"value": "adult", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.scalar(select(ReworkItem.status).where(ReworkItem.id == rework_id)) == "done"


def test_a_form_missing_a_field_gets_a_page_not_json(client, world):
    csrf = login(client, "admin")
    response = client.post(
        "/admin/vendors", data={"csrf_token": csrf}, headers={"Accept-Language": "zh-TW"}
    )
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert translate("web.error.form", "zh-Hant") in response.text
