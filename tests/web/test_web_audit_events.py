"""The audit-trail page: filters, pages, zone-marked times, who may see it; both languages
in a real browser."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_world
from labelops.services import audit_trail
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent
from web.web_support import SCREENSHOTS, browser_login, give_passwords, login, run_axe


def test_page_filters_pages_and_is_for_in_house_roles(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(session, n_items=2, overlap=1)
    give_passwords(session, world, "admin", "auditor", "manager-a")
    login(client, "admin")
    page = client.get("/admin/audit-events", params={"action": "project.create"})
    assert page.status_code == 200
    assert "Audit trail" in page.text
    assert page.text.count("<code>project.create</code>") == 2
    assert "<code>items.import</code>" not in page.text
    assert "+08:00</time>" in page.text  # every time says its zone
    assert 'href="/admin/audit-events"' in page.text  # in the navigation
    by_project = client.get(
        "/admin/audit-events", params={"project_id": str(world.project_ids["A"])}
    )
    assert "<code>items.import</code>" in by_project.text
    assert by_project.text.count("<code>project.create</code>") == 1
    # Taiwan time when no zone is given: the project events happened after this.
    since = client.get("/admin/audit-events", params={"since": "2099-01-01T00:00"})
    assert "No events match these filters." in since.text
    bad = client.get("/admin/audit-events", params={"since": "yesterday"})
    assert bad.status_code == 422 and "time zone" in bad.text
    monkeypatch.setattr("labelops.web.routes.trail.PAGE_SIZE", 3)
    first = client.get("/admin/audit-events", params={"action": "user.*"})
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = client.get("/admin/audit-events", params={"action": "user.*", "page": "2"})
    assert 'rel="prev"' in second.text and "action=user.%2A" in second.text
    client.cookies.clear()
    login(client, "auditor")
    assert client.get("/admin/audit-events").status_code == 200
    client.cookies.clear()
    login(client, "manager-a")
    assert client.get("/admin/audit-events").status_code == 403


@pytest.mark.browser
def test_the_trail_in_a_browser_in_both_languages(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    with live_server.session_factory() as session:
        world = make_world(session, n_items=2, overlap=1)
        give_passwords(session, world, "admin")
        audit_trail.record_event(
            session,
            SYSTEM_ACTOR,
            "export.run",
            "project",
            world.project_ids["A"],
            after={"project_id": world.project_ids["A"], "pii_masked": True, "n_items": 2},
        )
        session.commit()
        n_exports = session.query(AuditEvent).filter_by(action="export.run").count()
    context = browser.new_context(locale="en-US", bypass_csp=True)
    page = context.new_page()
    browser_login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/audit-events")
    assert page.inner_text("h1") == "Audit trail"
    assert "Who" in page.inner_text("#trail thead") and "Before" in page.inner_text("#trail thead")
    page.fill("#f-action", "export.*")
    page.click("#trail-filters button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    rows = page.locator("#trail tbody tr")
    assert rows.count() == n_exports
    assert "export.run" in rows.first.inner_text() and "+08:00" in rows.first.inner_text()
    assert '"pii_masked":true' in rows.first.inner_text().replace(" ", "")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin_audit-events_en.png"), full_page=True)
    assert run_axe(page) == []
    page.click('.lang-switch button[value="zh-Hant"]')
    page.wait_for_load_state("domcontentloaded")
    page.goto(live_server.url + "/admin/audit-events?action=export.*")
    assert page.inner_text("h1") == "稽核軌跡"
    header = page.inner_text("#trail thead")
    assert "操作者" in header and "變更前" in header and "變更後" in header
    assert "篩選條件" in page.inner_text("main")
    assert "臺灣時間" in page.inner_text("#trail caption")
    page.screenshot(path=str(SCREENSHOTS / "admin_audit-events_zh-Hant.png"), full_page=True)
    assert run_axe(page) == []
    page.fill("#f-since", "2099-01-01T00:00")
    page.click("#trail-filters button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert page.inner_text("#trail-empty") == "沒有符合篩選條件的事件。"
    context.close()


def test_export_from_the_project_page_masks_on_request_and_is_recorded(
    client: TestClient, session: Session
) -> None:
    from labelops.services import finals, imports, labelling, queue

    world = make_world(session, n_items=2, overlap=1)
    give_passwords(session, world, "admin", "manager-a")
    project_id = world.project_ids["A"]
    imports.import_item_records(
        session, SYSTEM_ACTOR, project_id, [{"external_id": "p-1", "text": "加賴 vip8888 詳談"}]
    )
    labeller = world.actors["labeller-a1"]
    while (served := queue.next_task(session, labeller, project_id)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    csrf = login(client, "admin")
    page = client.get(f"/admin/projects/{project_id}")
    assert "Mask phone numbers, LINE IDs and e-mail addresses in the text" in page.text
    url = f"/admin/projects/{project_id}/export"
    masked = client.post(url, data={"csrf_token": csrf, "format": "csv", "mask_pii": "1"})
    assert masked.status_code == 200, masked.text
    assert "加賴 [LINE_ID] 詳談" in masked.text and "vip8888" not in masked.text
    assert '"pii_masked": true' in masked.headers["X-Labelops-Manifest"]
    plain = client.post(url, data={"csrf_token": csrf})
    assert "加賴 vip8888 詳談" in plain.text
    assert client.post(url, data={"format": "csv"}).status_code == 403  # no CSRF token
    session.expire_all()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.run").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_name, e.after["via"], e.after["pii_masked"]) for e in events] == [
        ("admin", "web", True),
        ("admin", "web", False),
    ]
    client.cookies.clear()
    csrf = login(client, "manager-a")
    assert client.post(url, data={"csrf_token": csrf}).status_code in (403, 404)
