"""The audit trail over the API: filters, pages, who may read it; exports with masking
and bulk reads of item content are recorded."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import World, make_world
from labelops.services import audits, finals, imports, labelling, lots, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent


def _h(world: World, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def _labelled(session: Session, world: World, project: str = "A") -> int:
    project_id = world.project_ids[project]
    labeller = world.actors[f"labeller-{project.lower()}1"]
    while (served := queue.next_task(session, labeller, project_id)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    return project_id


def test_filters_pages_and_readers(client: TestClient, session: Session) -> None:
    world = make_world(session, n_items=3, overlap=1)
    admin = _h(world, "admin")
    response = client.get("/api/audit-events", params={"action": "project.create"}, headers=admin)
    assert response.status_code == 200
    assert [e["after"]["name"] for e in response.json()] == ["project-b", "project-a"]
    response = client.get(
        "/api/audit-events", params={"project_id": world.project_ids["B"]}, headers=admin
    )
    assert {(e["action"], e["entity_type"]) for e in response.json()} == {
        ("project.create", "project"),
        ("items.import", "import"),
    }
    first = client.get("/api/audit-events", params={"limit": 2}, headers=admin)
    assert len(first.json()) == 2 and first.headers["X-Has-More"] == "true"
    second = client.get("/api/audit-events", params={"limit": 2, "offset": 2}, headers=admin)
    assert {e["id"] for e in second.json()}.isdisjoint({e["id"] for e in first.json()})
    response = client.get(
        "/api/audit-events",
        params={"actor": "cli", "entity_type": "vendor", "until": "2000-01-01T00:00:00+08:00"},
        headers=admin,
    )
    assert response.status_code == 200 and response.json() == []
    assert client.get("/api/audit-events", headers=_h(world, "auditor")).status_code == 200
    for name in ("manager-a", "labeller-a1"):
        assert client.get("/api/audit-events", headers=_h(world, name)).status_code == 403
    bad = client.get("/api/audit-events", params={"limit": -1}, headers=admin)
    assert bad.status_code == 422 and "error" in bad.json()
    naive = client.get("/api/audit-events", params={"since": "2026-01-01T00:00:00"}, headers=admin)
    assert naive.status_code == 422
    assert [p["field"] for p in naive.json()["error"]["problems"]] == ["query.since"]


def test_export_mask_pii_states_it_in_the_manifest_and_the_trail(
    client: TestClient, session: Session
) -> None:
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    imports.import_item_records(
        session,
        SYSTEM_ACTOR,
        project_id,
        [{"external_id": "pii-1", "text": "限時優惠 洽 0912-345-678 或 ads@shop.com.tw 唷"}],
    )
    _labelled(session, world)
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    url = f"/api/projects/{project_id}/export"
    plain = client.get(url, headers=_h(world, "admin"))
    masked = client.get(url, params={"mask_pii": "true"}, headers=_h(world, "auditor"))
    assert plain.status_code == masked.status_code == 200
    assert "0912-345-678" in plain.text and "ads@shop.com.tw" in plain.text
    assert "0912-345-678" not in masked.text and "ads@shop.com.tw" not in masked.text
    assert "限時優惠 洽 [PHONE] 或 [EMAIL] 唷" in masked.text
    assert json.loads(plain.headers["X-Labelops-Manifest"])["pii_masked"] is False
    manifest = json.loads(masked.headers["X-Labelops-Manifest"])
    assert manifest["pii_masked"] is True and manifest["n_items"] == 3
    assert manifest["masked_kinds"] == ["email", "line_id", "phone"]
    events = list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.run").order_by(AuditEvent.id)
        )
    )
    assert [(e.actor_name, e.after["pii_masked"], e.after["via"]) for e in events] == [
        ("admin", False, "api"),
        ("auditor", True, "api"),
    ]
    assert events[1].after["n_items"] == 3 and events[1].after["format"] == "jsonl"
    assert "0912" not in str(events[1].after)


def test_listing_an_audit_sample_is_a_recorded_bulk_read(
    client: TestClient, session: Session
) -> None:
    world = make_world(session, n_items=8, overlap=1)
    project_id = _labelled(session, world)
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, seed=3)
    response = client.get(f"/api/audits/{audit.id}/items", headers=_h(world, "auditor"))
    assert response.status_code == 200
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "items.read_bulk")).one()
    assert event.actor_name == "auditor" and event.entity_id == str(audit.id)
    assert event.after == {
        "what": "audit_sample",
        "project_id": project_id,
        "n_items": len(response.json()),
        "via": "api",
    }
