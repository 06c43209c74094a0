"""Issue 19, items 4 and 7 (second half): bodies are read only after authentication
and never past their limit (413 in the envelope, chunked bodies counted while they
arrive); every response carries the security headers; Swagger UI is served from the
package under a Content-Security-Policy that allows it and nothing else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import make_world
from labelops.config import Settings
from web.web_support import csrf_of

LIMIT = 8 * 1024
IMPORT_LIMIT = 256 * 1024
CHUNK = 4096
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.fixture()
def small_app(database_url, tmp_path) -> Any:
    from labelops.api import create_app

    settings = Settings(
        database_url=database_url,
        home=tmp_path / "home",
        session_secret="test-secret",
        max_body_bytes=LIMIT,
        max_import_bytes=IMPORT_LIMIT,
    )
    return create_app(settings)


class Endless:
    """An ASGI ``receive`` serving a body of ``CHUNK``-byte pieces (32 MiB, or ``total``
    bytes: an app that reads it all ends), counting what the app read."""

    def __init__(self, total: int | None = 32 * 1024 * 1024) -> None:
        self.total = total
        self.read = 0

    async def __call__(self) -> dict[str, Any]:
        remaining = CHUNK if self.total is None else min(CHUNK, self.total - self.read)
        self.read += remaining
        more = self.total is None or self.read < self.total
        return {"type": "http.request", "body": b"x" * remaining, "more_body": more}


def _call(app: Any, method: str, path: str, headers: dict[str, str], body: Endless) -> Any:
    """Run one request through the ASGI app; (status, headers, JSON body)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, body, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, json.loads(content) if content else None


def test_unauthenticated_big_post_is_401_before_its_body_is_read(small_app, session):
    make_world(session, n_items=0)
    body = Endless()
    status, headers, content = _call(
        small_app,
        "POST",
        "/api/projects/1/items",
        {"content-length": str(300 * 1024 * 1024), "content-type": "application/json"},
        body,
    )
    assert status == 401 and content["error"]["code"] == "authentication_failed"
    assert body.read == 0
    assert headers["x-content-type-options"] == "nosniff"


def test_unauthenticated_chunked_post_is_401_before_its_body_is_read(small_app, session):
    make_world(session, n_items=0)
    for credentials in ({}, {"authorization": "Bearer not-a-token"}):
        body = Endless()
        status, _headers, content = _call(
            small_app,
            "POST",
            "/api/vendors",
            {"transfer-encoding": "chunked", "content-type": "application/json", **credentials},
            body,
        )
        assert status == 401 and content["error"]["code"] == "authentication_failed"
        assert body.read == 0


def test_body_announced_over_the_limit_is_413_unread(small_app, session):
    world = make_world(session, n_items=0)
    body = Endless()
    status, headers, content = _call(
        small_app,
        "POST",
        "/api/vendors",
        {
            "authorization": f"Bearer {world.tokens['admin']}",
            "content-length": str(LIMIT + 1),
            "content-type": "application/json",
            "accept-language": "zh-Hant",
        },
        body,
    )
    assert status == 413
    assert content["error"]["code"] == "content_too_large"
    assert content["error"]["params"]["limit"] == LIMIT
    assert "請求內容過大" in content["error"]["message"]
    assert body.read == 0
    assert headers["connection"] == "close"


def test_chunked_body_over_the_limit_is_counted_and_stopped(small_app, session):
    world = make_world(session, n_items=0)
    body = Endless()
    status, _headers, content = _call(
        small_app,
        "POST",
        "/api/vendors",
        {
            "authorization": f"Bearer {world.tokens['admin']}",
            "transfer-encoding": "chunked",
            "content-type": "application/json",
        },
        body,
    )
    assert status == 413 and content["error"]["code"] == "content_too_large"
    assert body.read <= LIMIT + CHUNK  # stopped at the first piece past the limit


def test_import_routes_take_bigger_bodies_up_to_their_own_limit(small_app, session):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    items = [{"external_id": f"big-{i}", "text": "長文字" * 200} for i in range(20)]
    payload = json.dumps({"items": items}).encode()
    assert LIMIT < len(payload) < IMPORT_LIMIT
    with TestClient(small_app) as client:
        headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
        imported = client.post(
            f"/api/projects/{project_id}/items",
            content=payload,
            headers={**headers, "content-type": "application/json"},
        )
        assert imported.status_code == 201, imported.text
        other = client.post(
            "/api/vendors",
            content=payload,
            headers={**headers, "content-type": "application/json"},
        )
        assert other.status_code == 413
        too_big = client.post(
            f"/api/projects/{project_id}/items",
            content=b"x" * (IMPORT_LIMIT + 1),
            headers={**headers, "content-type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.json()["error"]["params"]["limit"] == IMPORT_LIMIT


def test_small_posts_and_logins_work_as_before(small_app, session):
    world = make_world(session, n_items=0)
    with TestClient(small_app) as client:
        created = client.post(
            "/api/vendors",
            json={"name": "small"},
            headers={"Authorization": f"Bearer {world.tokens['admin']}"},
        )
        assert created.status_code == 201
        form = client.get("/")
        page = client.post(
            "/login",
            data={
                "username": "nobody",
                "password": "wrong-password",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert page.status_code == 401 and "text/html" in page.headers["content-type"]


def _assert_secured(response: Any) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_every_kind_of_response_carries_the_security_headers(client, session):
    world = make_world(session, n_items=2, overlap=1)
    labeller = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    project_id = world.project_ids["A"]
    served = client.get(f"/api/projects/{project_id}/next", headers=labeller)  # fast lane
    assert served.status_code == 200
    submitted = client.post(
        f"/api/assignments/{served.json()['assignment_id']}/label",
        json={"label": "gambling"},
        headers=labeller,
    )
    assert submitted.status_code == 201
    responses = [
        served,
        submitted,
        client.get("/api/health"),
        client.get("/openapi.json"),
        client.get("/docs"),
        client.get("/docs/assets/swagger-ui-bundle.js"),
        client.get("/api/projects", headers=admin),
        client.get("/api/projects"),  # 401
        client.get("/api/projects/99999", headers=admin),  # 404
        client.get("/api/nothing-here"),  # 404 of the router
        client.get(f"/api/projects/{2**63}", headers=admin),  # 422
        client.get("/"),  # a page
        client.get("/static/app.css"),
    ]
    for response in responses:
        _assert_secured(response)


def test_swagger_ui_is_served_from_the_package_and_its_script_is_allowed(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert "cdn." not in html and "https://" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/docs/assets/") for source in sources)
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 500, source
    (script,) = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy
    assert "'/openapi.json'" in script
    assert client.get("/redoc").status_code == 404  # it loaded its script from a CDN
