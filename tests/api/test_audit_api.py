"""The REST contract of the audit workflow, and vendor confidentiality on every route."""

from __future__ import annotations

import random
from datetime import timedelta

from factories import make_world
from labelops.services import gold, labelling, queue
from labelops.store.types import utcnow


def _auth(world, name):
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def _label_all(session, world, key="gambling"):
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, [key], now=when)


def _audit_through_api(client, world, *, wrong):
    """Create a lot and an audit of vendor A's project; review with ``wrong`` defects."""
    auditor = _auth(world, "auditor")
    project_id = world.project_ids["A"]
    lot = client.post(
        f"/api/projects/{project_id}/lots",
        json={"vendor_id": world.vendor_ids["A"]},
        headers=auditor,
    )
    assert lot.status_code == 201, lot.text
    lot_id = lot.json()["id"]
    started = client.post(
        f"/api/lots/{lot_id}/audits", json={"plan": "aql", "aql": "1.0", "seed": 5}, headers=auditor
    )
    assert started.status_code == 201, started.text
    audit_id = started.json()["id"]
    reviewed = []
    while (nxt := client.get(f"/api/audits/{audit_id}/next", headers=auditor)).status_code == 200:
        body = nxt.json()
        assert body["stage"] == "blind" and body["vendor_labels"] is None
        label_id = body["label_id"]
        answer = "compliant" if len(reviewed) < wrong else "gambling"
        revealed = client.post(
            f"/api/audits/{audit_id}/labels/{label_id}/answer",
            json={"labels": [answer]},
            headers=auditor,
        )
        assert revealed.status_code == 200 and revealed.json()["vendor_labels"] == ["gambling"]
        verdict = (
            {"verdict": "incorrect", "error_type": "over_flagging", "severity": "major"}
            if answer == "compliant"
            else {"verdict": "correct"}
        )
        done = client.post(
            f"/api/audits/{audit_id}/labels/{label_id}/verdict", json=verdict, headers=auditor
        )
        assert done.status_code == 200, done.text
        reviewed.append(label_id)
    assert nxt.status_code == 204
    return lot_id, audit_id, reviewed


def test_audit_flow_over_http(client, session):
    world = make_world(session, n_items=12, overlap=1)
    _label_all(session, world)
    lot_id, audit_id, reviewed = _audit_through_api(client, world, wrong=0)
    auditor = _auth(world, "auditor")
    report = client.get(f"/api/audits/{audit_id}/report", headers=auditor)
    assert report.status_code == 200
    body = report.json()
    assert body["audit"]["decision"] == "accepted"
    assert body["estimate"]["accuracy_rate"] == 1.0 and body["estimate"]["method"] == "wilson_fpc"
    assert body["class_quality"][0]["label"] == "gambling"
    lots_listed = client.get(f"/api/projects/{world.project_ids['A']}/lots", headers=auditor)
    assert [(lot["id"], lot["status"]) for lot in lots_listed.json()] == [(lot_id, "accepted")]
    again = client.post(f"/api/lots/{lot_id}/audits", json={}, headers=auditor)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    types = client.get("/api/audit/error-types", headers=auditor).json()
    assert [t["key"] for t in types][:2] == ["wrong_label", "missed_violation"]
    assert types[0]["name_zh"] == "標籤錯誤"
    assert len(reviewed) == body["audit"]["n_sample"]


def test_bad_input_over_http(client, session):
    world = make_world(session, n_items=6, overlap=1)
    _label_all(session, world)
    auditor = _auth(world, "auditor")
    project_id = world.project_ids["A"]
    lot = client.post(
        f"/api/projects/{project_id}/lots",
        json={"vendor_id": world.vendor_ids["A"]},
        headers=auditor,
    ).json()
    bad_aql = client.post(f"/api/lots/{lot['id']}/audits", json={"aql": "0.7"}, headers=auditor)
    assert bad_aql.status_code == 422 and bad_aql.json()["error"]["params"]["field"] == "aql"
    empty = client.post(
        f"/api/projects/{project_id}/lots",
        json={"vendor_id": world.vendor_ids["A"]},
        headers=auditor,
    )
    assert empty.status_code == 422
    audit = client.post(f"/api/lots/{lot['id']}/audits", json={"seed": 1}, headers=auditor).json()
    outside = client.post(
        f"/api/audits/{audit['id']}/labels/999999/verdict",
        json={"verdict": "correct"},
        headers=auditor,
    )
    assert outside.status_code == 404
    first = client.get(f"/api/audits/{audit['id']}/next", headers=auditor).json()
    url = f"/api/audits/{audit['id']}/labels/{first['label_id']}"
    assert (
        client.post(f"{url}/verdict", json={"verdict": "correct"}, headers=auditor).status_code
        == 409
    )
    client.post(f"{url}/answer", json={"labels": ["adult"]}, headers=auditor)
    wrong_key = client.post(
        f"{url}/verdict",
        json={
            "verdict": "incorrect",
            "error_type": "wrong_label",
            "severity": "major",
            "corrected_labels": ["weapons"],
        },
        headers={**auditor, "Accept-Language": "zh-TW"},
    )
    assert wrong_key.status_code == 422 and "未知的標籤" in wrong_key.json()["error"]["message"]


def test_vendor_b_gets_404_on_every_vendor_a_audit_route(client, session):
    world = make_world(session, n_items=10, overlap=1)
    _label_all(session, world)
    lot_id, audit_id, reviewed = _audit_through_api(client, world, wrong=1)
    label_id = reviewed[0]
    manager_a, manager_b = _auth(world, "manager-a"), _auth(world, "manager-b")
    gets = [
        f"/api/lots/{lot_id}",
        f"/api/lots/{lot_id}/rework",
        f"/api/audits/{audit_id}",
        f"/api/audits/{audit_id}/items",
        f"/api/audits/{audit_id}/labels/{label_id}",
        f"/api/audits/{audit_id}/report",
        f"/api/projects/{world.project_ids['A']}/lots",
        f"/api/projects/{world.project_ids['A']}/gold/accuracy",
        f"/api/projects/{world.project_ids['A']}/vendors/{world.vendor_ids['A']}/switching",
    ]
    for url in gets:
        assert client.get(url, headers=manager_b).status_code == 404, url
        assert client.get(url, headers=manager_a).status_code == 200, url
    dispute_url = f"/api/audits/{audit_id}/labels/{label_id}/disputes"
    assert client.post(dispute_url, json={"reason": "no"}, headers=manager_b).status_code == 404
    assert client.get("/api/audits", headers=manager_b).json() == []
    assert client.get("/api/feedback", headers=manager_b).json() == []
    # Vendor roles never run audits, and see no blind answers before a verdict.
    assert client.get(f"/api/audits/{audit_id}/next", headers=manager_a).status_code == 403
    items = client.get(f"/api/audits/{audit_id}/items", headers=manager_a).json()
    assert all(item["verdict"] is not None for item in items)
    opened = client.post(dispute_url, json={"reason": "見廣告政策 2.1"}, headers=manager_a)
    assert opened.status_code == 201
    dispute_id = opened.json()["id"]
    assert client.get(f"/api/disputes/{dispute_id}", headers=manager_b).status_code == 404
    resolved = client.post(
        f"/api/disputes/{dispute_id}/resolve",
        json={"outcome": "uphold", "comment": "維持"},
        headers=_auth(world, "auditor"),
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "upheld"
    feedback = client.get("/api/feedback", headers=_auth(world, "labeller-a1")).json()
    assert len(feedback) == 1 and feedback[0]["right_labels"] == ["compliant"]
    assert feedback[0]["guideline"][0]["definition_zh"] == "合規"


def test_rework_over_http(client, session):
    world = make_world(session, n_items=6, overlap=1)
    _label_all(session, world)
    lot_id, audit_id, _ = _audit_through_api(client, world, wrong=6)
    auditor = _auth(world, "auditor")
    created = client.post(f"/api/audits/{audit_id}/rework", json={"priority": 5}, headers=auditor)
    assert created.status_code == 201, created.text
    project_id = world.project_ids["A"]
    labeller = _auth(world, "labeller-a2")
    task = client.get(f"/api/projects/{project_id}/rework/next", headers=labeller)
    assert task.status_code == 200
    rework_id = task.json()["rework_id"]
    done = client.post(
        f"/api/rework/{rework_id}/label", json={"labels": ["compliant"]}, headers=labeller
    )
    assert done.status_code == 201 and done.json()["revision"] == 1
    progress = client.get(f"/api/lots/{lot_id}/rework", headers=_auth(world, "manager-a")).json()
    assert progress["n_done"] == 1
    assert (
        client.get(
            f"/api/projects/{project_id}/rework/next", headers=_auth(world, "labeller-b1")
        ).status_code
        == 404
    )


class _AlwaysGold(random.Random):
    def random(self) -> float:
        return 0.0


def test_gold_routes_and_feedback_stay_hidden(client, session):
    world = make_world(session, n_items=3, overlap=1, gold_rate=0.5)
    project_id = world.project_ids["A"]
    auditor = _auth(world, "auditor")
    marked = client.post(
        f"/api/projects/{project_id}/gold",
        json={
            "external_id": "a-00000",
            "labels": ["gambling"],
            "explanation_en": "Casino",
            "explanation_zh": "賭場",
        },
        headers=auditor,
    )
    assert marked.status_code == 201
    assert (
        client.get(
            f"/api/projects/{project_id}/gold", headers=_auth(world, "manager-a")
        ).status_code
        == 403
    )
    labeller = world.actors["labeller-a1"]
    served = queue.next_task(session, labeller, project_id, rng=_AlwaysGold())
    gold.list_gold(session, world.actors["auditor"], project_id)
    session.commit()
    shown = client.post(
        f"/api/assignments/{served.assignment_id}/label",
        json={"label": "gambling"},
        headers=_auth(world, "labeller-a1"),
    )
    assert shown.status_code == 201 and shown.json()["feedback"]["is_correct"] is True
    # No call of its own: its 200 (gold) or 404 (ordinary) told gold items apart.
    url = f"/api/assignments/{served.assignment_id}/feedback"
    assert client.get(url, headers=_auth(world, "labeller-a1")).status_code == 404
    accuracy = client.get(f"/api/projects/{project_id}/gold/accuracy", headers=auditor).json()
    assert accuracy[0]["n_answers"] == 1 and accuracy[0]["accuracy_rate"] == 1.0


def test_gold_batch_lands_whole_or_not_at_all(client, session):
    world = make_world(session, n_items=3, overlap=1)
    url = f"/api/projects/{world.project_ids['A']}/gold/batch"
    auditor = _auth(world, "auditor")
    row = {"explanation_en": "why", "explanation_zh": "原因"}
    bad = client.post(
        url,
        json=[
            {"external_id": "a-00000", "labels": ["adult"], **row},
            {"external_id": "a-00001", "labels": ["weapons"], **row},
        ],
        headers=auditor,
    )
    assert bad.status_code == 422
    assert [p["line"] for p in bad.json()["error"]["problems"]] == [2]
    assert client.get(f"/api/projects/{world.project_ids['A']}/gold", headers=auditor).json() == []
    good = client.post(
        url, json=[{"external_id": "a-00000", "labels": ["adult"], **row}], headers=auditor
    )
    assert good.status_code == 200 and good.json()["n_created"] == 1
    assert client.post(url, headers=auditor).status_code == 422
    assert client.post(url, headers=_auth(world, "manager-a")).status_code == 403
