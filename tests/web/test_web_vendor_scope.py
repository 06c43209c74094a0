"""A vendor manager of vendor A gets 403/404 on every page and API route of vendor B.

The routes are enumerated from the app (not hand-picked); every path parameter is filled
with an id of vendor B's data. Unsafe methods carry a valid CSRF token, so a refusal is
the authorisation's, not the CSRF check's.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from factories import make_world
from labelops.services import audits, directory, disputes, labelling, lots, queue, rework
from labelops.services import sessions as web_sessions
from labelops.store.audit_models import ReworkItem
from labelops.store.models import ImportBatch
from web.web_support import give_passwords, login

# Sample bodies so that validation (422) does not answer before authorisation does.
JSON_BODIES: dict[str, object] = {
    "/api/assignments/{assignment_id}/label": {"label": "compliant"},
    "/api/assignments/{assignment_id}/skip": {"reason": "x"},
    "/api/projects/{project_id}": {"overlap": 2},
    "/api/projects/{project_id}/items": {"items": [{"external_id": "z-1", "text": "x"}]},
    "/api/projects/{project_id}/finalize": {"method": "majority"},
    "/api/users/{user_id}/tokens": {"name": "x"},
    "/api/users/{user_id}/password": {"password": "long-enough-pass-1"},
    "/api/projects/{project_id}/gold": {
        "external_id": "b-00000",
        "labels": ["adult"],
        "explanation_en": "x",
        "explanation_zh": "x",
    },
    "/api/projects/{project_id}/lots": {"vendor_id": 1},
    "/api/lots/{lot_id}/audits": {"plan": "margin"},
    "/api/audits/{audit_id}/labels/{label_id}/answer": {"labels": ["adult"]},
    "/api/audits/{audit_id}/labels/{label_id}/verdict": {"verdict": "correct"},
    "/api/audits/{audit_id}/rework": {},
    "/api/rework/{rework_id}/label": {"labels": ["adult"]},
    "/api/audits/{audit_id}/labels/{label_id}/disputes": {"reason": "x"},
    "/api/disputes/{dispute_id}/resolve": {"outcome": "overturn"},
}
FORM_BODIES: dict[str, dict[str, object]] = {
    "/admin/projects/{project_id}": {"overlap": "2", "gold_rate": "0"},
    "/audit/lots/{lot_id}/audits": {"plan": "margin"},
    "/audit/audits/{audit_id}/labels/{label_id}/answer": {"value": "adult"},
    "/audit/audits/{audit_id}/labels/{label_id}/verdict": {"verdict": "correct"},
    "/audit/audits/{audit_id}/labels/{label_id}/disputes": {"reason": "x"},
    "/audit/disputes/{dispute_id}/resolve": {"outcome": "overturn"},
    "/work/{project_id}/rework/{rework_id}": {"value": "adult"},
    "/audit/gold/{project_id}": {
        "external_id": "b-00000",
        "value": "adult",
        "explanation_en": "x",
        "explanation_zh": "x",
    },
}
FILE_BODIES = {
    "/audit/gold/{project_id}/upload": {
        "file": ("gold.csv", b"external_id,label,explanation_en,explanation_zh\n", "text/csv")
    },
}
# Shared (not vendor-owned) resources: a taxonomy version is read by every vendor.
NOT_VENDOR_DATA = {"taxonomy_id"}


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=6, overlap=2)
    give_passwords(session, world, "manager-a")
    project_b = world.project_ids["B"]
    for name in ("labeller-b1", "labeller-b2"):
        for _ in range(4):
            served = queue.next_task(session, world.actors[name], project_b)
            labelling.submit_label(session, world.actors[name], served.assignment_id, ["gambling"])
    # Vendor B's whole audit trail: a lot, a rejected audit, a dispute and rework.
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_b, world.vendor_ids["B"])
    audit = audits.start_audit(session, auditor, lot.id, plan="margin", margin=0.3, seed=2)
    error_type = audits.list_error_types(session, auditor)[0].key
    while (item := audits.next_audit_item(session, auditor, audit.id)) is not None:
        audits.submit_blind_answer(session, auditor, audit.id, item.label_id, ["adult"])
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            item.label_id,
            "incorrect",
            error_type=error_type,
            severity="major",
            corrected=["adult"],
        )
        world.label_b = item.label_id
    world.audit_b, world.lot_b = audit.id, lot.id
    world.dispute_b = disputes.open_dispute(
        session, world.actors["manager-b"], audit.id, world.label_b, "we disagree"
    ).id
    rework.create_rework(session, auditor, audit.id)
    world.rework_b = session.scalar(select(ReworkItem.id).limit(1))
    served = queue.next_task(session, world.actors["labeller-b3"], project_b)
    assert served is not None
    world.assignment_b = served.assignment_id

    world.import_b = session.scalar(
        select(ImportBatch.id).where(ImportBatch.project_id == world.project_ids["B"])
    )
    labeller_b = world.actors["labeller-b1"]
    world.token_b = directory.list_tokens(session, labeller_b, labeller_b.user_id)[0].id
    _, live = web_sessions.start_session(
        session, labeller_b, max_seconds=3600, ip=None, user_agent=None
    )
    world.session_b = live.id
    session.commit()
    return world


def all_routes(routes):
    """Every ``APIRoute`` of the app, through included routers (FastAPI nests them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes)


def _fill(path: str, world) -> str | None:
    values = {
        "project_id": world.project_ids["B"],
        "vendor_id": world.vendor_ids["B"],
        "user_id": world.actors["labeller-b1"].user_id,
        "assignment_id": world.assignment_b,
        "import_id": world.import_b,
        "index": 0,
        "lot_id": world.lot_b,
        "audit_id": world.audit_b,
        "label_id": world.label_b,
        "dispute_id": world.dispute_b,
        "rework_id": world.rework_b,
        "token_id": world.token_b,
        "session_id": world.session_b,
    }
    route = path
    for name, value in values.items():
        route = route.replace("{" + name + "}", str(value))
    return None if "{" in route else route


def test_manager_of_vendor_a_cannot_reach_any_route_of_vendor_b(client, world):
    csrf = login(client, "manager-a")
    checked = []
    for route in all_routes(client.app.routes):
        if "{" not in route.path:
            continue
        params = set(route.param_convertors)
        if params <= NOT_VENDOR_DATA:
            continue
        url = _fill(route.path, world)
        assert url is not None, f"no vendor-B id for a parameter of {route.path}"
        for method in sorted(route.methods - {"HEAD"}):
            headers = {"X-CSRF-Token": csrf, "Accept-Language": "en"}
            if route.path in FILE_BODIES:
                response = client.request(
                    method,
                    url,
                    files=FILE_BODIES[route.path],
                    headers=headers,
                    follow_redirects=False,
                )
            elif route.path in FORM_BODIES:
                response = client.request(
                    method,
                    url,
                    data=FORM_BODIES[route.path],
                    headers=headers,
                    follow_redirects=False,
                )
            else:
                response = client.request(
                    method,
                    url,
                    json=JSON_BODIES.get(route.path),
                    headers=headers,
                    follow_redirects=False,
                )
            assert response.status_code in (403, 404), (
                method,
                url,
                response.status_code,
                response.text[:300],
            )
            checked.append((method, route.path))
    paths = {path for _, path in checked}
    # The enumeration reached the pages and the API alike.
    assert "/vendor/{vendor_id}" in paths
    assert "/quality/{project_id}" in paths
    assert "/w/cards/{assignment_id}" in paths
    assert "/api/projects/{project_id}/next" in paths
    assert len(checked) >= 20


def test_manager_pages_show_only_their_vendor(client, world):
    login(client, "manager-a")
    page = client.get(f"/vendor/{world.vendor_ids['A']}")
    assert page.status_code == 200
    assert "labeller-a1" in page.text
    assert "labeller-b1" not in page.text
    quality = client.get("/quality")
    assert "project-a" in quality.text
    assert "project-b" not in quality.text


def test_no_list_page_or_route_of_manager_a_mentions_vendor_b(client, world):
    login(client, "manager-a")
    secrets_of_b = ("vendor-B", "project-b", "labeller-b1", "manager-b", "we disagree")
    checked = 0
    for route in all_routes(client.app.routes):
        if "{" in route.path or "GET" not in route.methods:
            continue
        if route.path.startswith(("/docs", "/redoc", "/openapi")):
            continue
        response = client.get(route.path, headers={"Accept-Language": "en"})
        assert response.status_code in (200, 303, 403, 404), (route.path, response.status_code)
        for secret in secrets_of_b:
            assert secret not in response.text, (route.path, secret)
        checked += 1
    assert checked >= 8
