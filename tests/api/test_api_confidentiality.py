"""Every API route, enumerated from the app: a vendor-B user can neither read nor change
vendor-A data, and a labeller cannot reach admin or auditor actions.

Routes are not hand-picked: the test walks the app's OpenAPI document; path parameters are filled
with vendor A's resources (created first, so their ids come first), and bodies are built
from each route's request model (with explicit examples where a generic body would be
rejected before authorisation). A route whose body the test cannot build fails the test,
so a new route must be covered here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import World, make_world
from labelops.services import labelling, queue
from labelops.store.models import Base

# Routes any authenticated user may call; they must still return only the caller's data.
SCOPED_READS = {
    ("GET", "/api/me"),
    ("GET", "/api/health"),
    ("GET", "/api/vendors"),
    ("GET", "/api/users"),
    ("GET", "/api/projects"),
    ("GET", "/api/taxonomies"),
    ("GET", "/api/taxonomies/{taxonomy_id}"),
    ("GET", "/api/audit-events"),
    ("GET", "/api/audits"),
    ("GET", "/api/audit/error-types"),
    ("GET", "/api/disputes"),
    ("GET", "/api/feedback"),
}

# Bodies that pass validation, so the request reaches authorisation.
EXAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/vendors"): {"name": "sneaky vendor"},
    ("POST", "/api/users"): {"username": "sneaky", "role": "labeller", "vendor_id": 1},
    ("POST", "/api/taxonomies"): {
        "key": "sneaky",
        "version": 1,
        "mode": "single",
        "labels": [{"key": "x", "name": {"en": "x", "zh-Hant": "x"}}],
    },
    ("POST", "/api/projects"): {"name": "sneaky", "taxonomy": "ads-test@1", "overlap": 1},
    ("POST", "/api/projects/{project_id}/items"): {"items": [{"external_id": "z", "text": "z"}]},
    ("POST", "/api/assignments/{assignment_id}/label"): {"label": "compliant"},
    ("POST", "/api/assignments/{assignment_id}/skip"): {"reason": "sneaky"},
    ("POST", "/api/projects/{project_id}/finalize"): {"method": "majority"},
    ("PATCH", "/api/projects/{project_id}"): {"overlap": 1},
}

# Vendor A names and strings that must never appear in a response to vendor B.
A_MARKERS = ("vendor-A", "labeller-a1", "manager-a", "project-a", "a-0000")


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A minimal value matching a JSON schema (from the app's OpenAPI document)."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        return _example(options[0], components) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(properties[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [_example(schema.get("items", {}), components)]
    return {"string": "compliant", "integer": 1, "number": 0.5, "boolean": False}.get(kind, "x")


def _body_for(operation: dict[str, Any], key: tuple[str, str], components: dict[str, Any]) -> Any:
    if key in EXAMPLE_BODIES:
        return EXAMPLE_BODIES[key]
    request_body = operation.get("requestBody")
    if request_body is None:
        return None
    schema = request_body["content"]["application/json"]["schema"]
    return _example(schema, components)


def _a_ids(session: Session, world: World) -> dict[str, int]:
    """Vendor A's resource ids, with work in progress so every kind of row exists."""
    a1 = world.actors["labeller-a1"]
    served = queue.next_task(session, a1, world.project_ids["A"])
    assert served is not None
    labelling.submit_label(session, a1, served.assignment_id, ["gambling"])
    held = queue.next_task(session, a1, world.project_ids["A"])
    assert held is not None
    return {
        "project_id": world.project_ids["A"],
        "vendor_id": world.vendor_ids["A"],
        "user_id": a1.user_id or 0,
        "assignment_id": held.assignment_id,
        "taxonomy_id": world.taxonomy_id,
    }


def _row_counts(session: Session) -> dict[str, int]:
    counts = {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }
    session.commit()
    return counts


@dataclass(frozen=True)
class Operation:
    """One method on one path of the app's OpenAPI document."""

    method: str
    path: str
    body: Any


def _api_routes(app: Any) -> list[Operation]:
    """Every ``/api`` operation the app serves, from its OpenAPI document."""
    document = app.openapi()
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, operations in document["paths"].items():
        if not path.startswith("/api"):
            continue
        for method, operation in operations.items():
            key = (method.upper(), path)
            found.append(Operation(method.upper(), path, _body_for(operation, key, components)))
    return found


def _call(client: Any, operation: Operation, ids: dict[str, int], token: str) -> Any:
    path = operation.path
    for name in re.findall(r"{(\w+)}", path):
        # Unknown id kinds default to 1: vendor A's rows are created first.
        path = path.replace("{" + name + "}", str(ids.get(name, 1)))
    body = operation.body
    return client.request(
        operation.method,
        path,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        content=None if body is None else json.dumps(body),
        params={"vendor_id": ids["vendor_id"]} if operation.method == "GET" else None,
    )


@pytest.mark.parametrize("intruder", ["manager-b", "labeller-b1"])
def test_vendor_b_cannot_read_or_change_vendor_a(client, session, intruder):
    world = make_world(session, n_items=6, overlap=2)
    ids = _a_ids(session, world)
    before = _row_counts(session)
    failures = []
    routes = _api_routes(client.app)
    assert len(routes) >= 20
    for operation in routes:
        method, path = operation.method, operation.path
        response = _call(client, operation, ids, world.tokens[intruder])
        text = response.text
        if (method, path) in SCOPED_READS:
            if response.status_code >= 500 or any(marker in text for marker in A_MARKERS):
                failures.append(f"{method} {path}: {response.status_code} leaks A")
            continue
        if response.status_code == 422:
            failures.append(f"{method} {path}: 422, add a body to EXAMPLE_BODIES: {text}")
        elif response.status_code not in (403, 404):
            failures.append(f"{method} {path}: {response.status_code} {text[:200]}")
        elif any(marker in text for marker in A_MARKERS):
            failures.append(f"{method} {path}: error body leaks A: {text[:200]}")
    assert not failures, "\n".join(failures)
    assert _row_counts(session) == before


ADMIN_OR_AUDITOR_ONLY_PREFIXES = (
    "POST /api/vendors",
    "POST /api/users",
    "DELETE /api/users",
    "POST /api/taxonomies",
    "POST /api/projects",
    "PATCH /api/projects",
    "GET /api/audit-events",
    "GET /api/projects/{project_id}/export",
)


def test_labeller_cannot_reach_admin_or_auditor_actions(client, session):
    world = make_world(session, n_items=6, overlap=2)
    ids = _a_ids(session, world)
    token = world.tokens["labeller-a2"]  # same vendor: only the role stands in the way
    before = _row_counts(session)
    failures = []
    checked = 0
    for operation in _api_routes(client.app):
        method, path = operation.method, operation.path
        label = f"{method} {path}"
        labeller_route = path.startswith("/api/assignments") or path.endswith("/next")
        if labeller_route or (method, path) in SCOPED_READS:
            continue
        if method == "GET" and not label.startswith(ADMIN_OR_AUDITOR_ONLY_PREFIXES):
            continue  # reads of the labeller's own project are allowed
        checked += 1
        response = _call(client, operation, ids, token)
        if response.status_code not in (403, 404):
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
    assert checked >= 8
    assert not failures, "\n".join(failures)
    assert _row_counts(session) == before
