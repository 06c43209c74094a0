"""The REST contract of the labelling loop, and bad input at the HTTP edge."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.services import directory
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent, Item, Label, Project, Vendor

HOSTILE = [
    "'; DROP TABLE items; --",
    "Robert'); DELETE FROM labels WHERE ('1'='1",
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '限時優惠！加LINE領取 <b>免費</b> 體驗 & "特價"',
]


def _auth(world, name):
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def test_next_and_submit_contract(client, session):
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    headers = _auth(world, "labeller-a1")
    served = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert served.status_code == 200
    body = served.json()
    assert {"assignment_id", "item", "labels", "lease_expires_at"} <= body.keys()
    assert body["item"]["external_id"].startswith("a-")
    assert "is_gold" not in body["item"] and "gold" not in str(body).lower()
    assert body["labels"] == ["compliant", "gambling", "financial_scam", "adult"]
    url = f"/api/assignments/{body['assignment_id']}/label"
    first = client.post(url, json={"label": "gambling", "active_ms": 4200}, headers=headers)
    again = client.post(url, json={"label": "gambling", "active_ms": 4200}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["active_ms"] == 4200
    assert first.json()["submitted_at"] >= first.json()["served_at"]
    second = client.get(f"/api/projects/{project_id}/next", headers=headers)
    client.post(
        f"/api/assignments/{second.json()['assignment_id']}/label",
        json={"label": "compliant"},
        headers=headers,
    )
    done = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert done.status_code == 204 and done.content == b""


def test_submit_with_next_leases_the_following_task_in_the_same_response(client, session):
    world = make_world(session, n_items=3, overlap=1)
    project_id = world.project_ids["A"]
    headers = _auth(world, "labeller-a1")
    assignment = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
    seen = [assignment["item"]["external_id"]]
    labelled = []
    while assignment is not None:
        url = f"/api/assignments/{assignment['assignment_id']}/label?next=true"
        done = client.post(url, json={"label": "compliant"}, headers=headers)
        assert done.status_code == 201
        labelled.append(done.json()["assignment_id"])
        assignment = done.json()["next"]
        if assignment is not None:
            assert assignment["labels"] == ["compliant", "gambling", "financial_scam", "adult"]
            seen.append(assignment["item"]["external_id"])
    assert len(set(seen)) == len(seen) == 3
    count = select(func.count()).select_from(Label).where(Label.project_id == project_id)
    assert session.execute(count).scalar_one() == 3
    # Without ``next`` nothing more is leased, and the field is null.
    assert client.get(f"/api/projects/{project_id}/next", headers=headers).status_code == 204
    again = client.post(
        f"/api/assignments/{labelled[0]}/label", json={"label": "compliant"}, headers=headers
    )
    assert again.status_code == 200 and again.json()["next"] is None


def test_unknown_label_is_422_listing_allowed_keys_in_the_asked_language(client, session):
    world = make_world(session, n_items=1, overlap=1)
    headers = _auth(world, "labeller-a1")
    served = client.get(f"/api/projects/{world.project_ids['A']}/next", headers=headers).json()
    url = f"/api/assignments/{served['assignment_id']}/label"
    english = client.post(url, json={"label": "weapons"}, headers=headers)
    chinese = client.post(
        url,
        json={"label": "weapons"},
        headers={**headers, "Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"},
    )
    assert english.status_code == chinese.status_code == 422
    assert (
        english.json()["error"]["params"]["allowed"] == "compliant, gambling, financial_scam, adult"
    )
    assert "Unknown label 'weapons'" in english.json()["error"]["message"]
    assert "未知的標籤「weapons」" in chinese.json()["error"]["message"]
    assert session.scalar(select(func.count(Label.id))) == 0


def test_every_error_has_one_envelope(client, session):
    world = make_world(session, n_items=1)
    responses = [
        client.get("/api/projects/999", headers=_auth(world, "admin")),  # 404 from a service
        client.get("/api/nowhere", headers=_auth(world, "admin")),  # 404 from routing
        client.post("/api/vendors", json={}, headers=_auth(world, "admin")),  # 422 validation
        client.get("/api/vendors"),  # 401
        client.post("/api/vendors", json={"name": "x"}, headers=_auth(world, "auditor")),  # 403
        client.post(
            "/api/vendors", json={"name": "vendor-A"}, headers=_auth(world, "admin")
        ),  # 409
    ]
    assert [r.status_code for r in responses] == [404, 404, 422, 401, 403, 409]
    for response in responses:
        error = response.json()["error"]
        assert {"code", "message", "message_id", "params"} <= error.keys()


def test_token_of_deleted_user_is_refused(client, session):
    world = make_world(session, n_items=1)
    headers = _auth(world, "labeller-a1")
    assert client.get("/api/me", headers=headers).status_code == 200
    user_id = world.actors["labeller-a1"].user_id
    deleted = client.delete(f"/api/users/{user_id}", headers=_auth(world, "admin"))
    assert deleted.status_code == 204
    refused = client.get(f"/api/projects/{world.project_ids['A']}/next", headers=headers)
    assert refused.status_code == 401
    assert (
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.delete"))
        == 1
    )


def test_project_with_overlap_zero_is_refused_and_not_created(client, session):
    world = make_world(session, n_items=0)
    response = client.post(
        "/api/projects",
        json={"name": "p0", "taxonomy": "ads-test@1", "overlap": 0, "vendor_ids": [1]},
        headers=_auth(world, "admin"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["params"]["field"] == "overlap"
    assert session.scalar(select(func.count(Project.id)).where(Project.name == "p0")) == 0


def test_item_batch_reports_every_bad_row_and_writes_nothing(client, session):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    items = [
        {"external_id": "ok-1", "text": "正常廣告"},
        {"external_id": "", "text": "no id"},
        {"text": "missing id"},
        {"external_id": "ok-2", "text": "x", "metadata": "not an object"},
    ]
    response = client.post(
        f"/api/projects/{project_id}/items", json={"items": items}, headers=_auth(world, "admin")
    )
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert [p["line"] for p in problems] == [2, 3, 4]
    assert session.scalar(select(func.count(Item.id))) == 0
    skipped = client.post(
        f"/api/projects/{project_id}/items",
        json={"items": items, "skip_invalid": True},
        headers=_auth(world, "admin"),
    )
    assert skipped.status_code == 201
    assert (skipped.json()["n_created"], skipped.json()["n_rejected"]) == (1, 3)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_sql_and_html_strings_are_stored_exactly_everywhere(client, session, hostile):
    world = make_world(session, n_items=0, overlap=1)
    admin = _auth(world, "admin")
    vendor = client.post("/api/vendors", json={"name": hostile}, headers=admin)
    assert vendor.status_code == 201 and vendor.json()["name"] == hostile
    project = client.post(
        "/api/projects",
        headers=admin,
        json={
            "name": hostile,
            "taxonomy": "ads-test@1",
            "overlap": 1,
            "vendor_ids": [world.vendor_ids["A"]],
        },
    )
    assert project.status_code == 201 and project.json()["name"] == hostile
    imported = client.post(
        f"/api/projects/{project.json()['id']}/items",
        headers=admin,
        json={
            "items": [
                {
                    "external_id": hostile,
                    "text": hostile,
                    "advertiser": hostile,
                    "metadata": {"note": hostile},
                }
            ]
        },
    )
    assert imported.status_code == 201, imported.text
    served = client.get(
        f"/api/projects/{project.json()['id']}/next", headers=_auth(world, "labeller-a1")
    )
    item = served.json()["item"]
    assert item["text"] == item["external_id"] == item["advertiser"] == hostile
    assert item["metadata"] == {"note": hostile}
    skipped = client.post(
        f"/api/assignments/{served.json()['assignment_id']}/skip",
        json={"reason": hostile},
        headers=_auth(world, "labeller-a1"),
    )
    assert skipped.status_code == 200 and skipped.json()["skip_reason"] == hostile
    assert session.scalar(select(Vendor.name).where(Vendor.name == hostile)) == hostile
    assert session.scalar(select(Item.text).where(Item.external_id == hostile)) == hostile


def test_username_with_hostile_text_round_trips(client, session):
    world = make_world(session, n_items=0)
    created = directory.create_user(session, SYSTEM_ACTOR, HOSTILE[2], role="auditor")
    shown = client.get(f"/api/users/{created.user.id}", headers=_auth(world, "admin"))
    assert shown.json()["username"] == HOSTILE[2]
