"""The fast lane of the labeller's hot calls (``labelops.api.hot``).

It must serve exactly the plain successful calls, answer them as the FastAPI routes
would, and hand everything else (errors included) to the full way intact.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, func, select

from factories import make_world
from labelops.api.hot import MAX_HOT_BODY, replaying, serve_hot
from labelops.store.models import Label, ProjectVendor


def _scope(method: str, path: str, query: bytes, headers: dict[str, str], app: Any) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
        "state": {},
    }


def _call_lane(app: Any, method: str, path: str, query: bytes, headers, chunks=(b"",)):
    """Run ``serve_hot``; returns (served, messages sent, the receive the full way gets)."""
    scope = _scope(method, path, query, headers, app)
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    queue = list(reversed(incoming))
    sent: list[dict] = []

    async def receive() -> dict:
        return queue.pop() if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> tuple[bool, list[dict]]:
        served = await serve_hot(scope, receive, send)
        rest = replaying(scope, receive)
        replayed = []
        while True:
            message = await rest()
            if message["type"] != "http.request":
                break
            replayed.append(message)
            if not message.get("more_body"):
                break
        # The loop ends here: its database connections close with it, as at shutdown.
        await app.state.loop_connections.close()
        return served, replayed

    served, replayed = asyncio.run(run())
    return served, sent, replayed, incoming


def _labels(session, project_id: int) -> int:
    session.rollback()  # a fresh snapshot: the server wrote meanwhile
    query = select(func.count()).select_from(Label).where(Label.project_id == project_id)
    return session.execute(query).scalar_one()


def test_plain_calls_are_served_in_the_lane_like_the_full_way(client, session):
    world = make_world(session, n_items=4, overlap=1)
    project_id = world.project_ids["A"]
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    json_headers = {**headers, "Content-Type": "application/json"}
    served, sent, _, _ = _call_lane(
        client.app, "GET", f"/api/projects/{project_id}/next", b"", headers
    )
    assert served and sent[0]["status"] == 200
    import orjson

    task = orjson.loads(sent[1]["body"])
    path = f"/api/assignments/{task['assignment_id']}/label"
    served, sent, _, _ = _call_lane(
        client.app, "POST", path, b"next=true", json_headers, (b'{"label": "gam', b'bling"}')
    )
    assert served and sent[0]["status"] == 201
    fast = orjson.loads(sent[1]["body"])
    assert fast["value"] == ["gambling"] and fast["next"]["assignment_id"] != task["assignment_id"]
    # The same kind of call the full way (FastAPI parses ``True``; the lane does not
    # know that spelling): the same fields and types.
    full = client.post(
        f"/api/assignments/{fast['next']['assignment_id']}/label?next=True",
        json={"label": "compliant"},
        headers=headers,
    )
    assert full.status_code == 201
    assert full.json().keys() == fast.keys()
    assert full.json()["next"].keys() == fast["next"].keys()
    assert full.json()["next"]["item"].keys() == fast["next"]["item"].keys()
    assert _labels(session, project_id) == 2


def test_everything_else_goes_the_full_way_with_its_body_intact(client, session):
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    token = world.tokens["labeller-a1"]
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    task = client.get(f"/api/projects/{project_id}/next", headers=bearer).json()
    path = f"/api/assignments/{task['assignment_id']}/label"
    big = b'{"label": "' + b"x" * (MAX_HOT_BODY + 1) + b'"}'
    cases = [
        ("no bearer token", {"Content-Type": "application/json"}, b"", (b'{"label": "adult"}',)),
        ("unknown query", bearer, b"next=1&x=2", (b'{"label": "adult"}',)),
        ("not JSON content", {**bearer, "Content-Type": "text/plain"}, b"", (b"adult",)),
        ("invalid body", bearer, b"", (b'{"label": 3}',)),
        ("body over the limit", bearer, b"", (big[:1000], big[1000:])),
        ("unknown label key", bearer, b"", (b'{"label": "nope"}',)),
        ("someone else's lease", bearer, b"", (b'{"label": "adult"}',)),
    ]
    for name, headers, query, chunks in cases:
        target = path
        if name == "someone else's lease":
            headers = {**headers, "Authorization": f"Bearer {world.tokens['labeller-a2']}"}
        served, sent, replayed, incoming = _call_lane(
            client.app, "POST", target, query, headers, chunks
        )
        assert not served and sent == [], name
        assert b"".join(m["body"] for m in replayed) == b"".join(chunks), name
        assert [m.get("more_body", False) for m in replayed] == [
            m["more_body"] for m in incoming
        ], name
    assert _labels(session, project_id) == 0
    # The full way renders those errors in the one envelope.
    refused = client.post(path, json={"label": "nope"}, headers=bearer)
    assert refused.status_code == 422
    assert "compliant" in refused.json()["error"]["message"]
    foreign = client.post(
        path,
        json={"label": "adult"},
        headers={"Authorization": f"Bearer {world.tokens['labeller-a2']}"},
    )
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"


def test_submit_with_next_is_one_transaction(client, session):
    # The vendor loses the project while its labeller holds a lease: the next task
    # cannot be leased, so the pair fails as a whole and the label is not half-kept.
    world = make_world(session, n_items=3, overlap=1)
    project_id = world.project_ids["A"]
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    task = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
    session.execute(delete(ProjectVendor).where(ProjectVendor.project_id == project_id))
    session.commit()
    url = f"/api/assignments/{task['assignment_id']}/label"
    failed = client.post(url + "?next=true", json={"label": "adult"}, headers=headers)
    assert failed.status_code == 404
    assert _labels(session, project_id) == 0
    if session.bind.dialect.name == "sqlite":
        # Inline calls run on the event loop's own connection (``api.deps``): the
        # failed pair left no transaction open on it for the next call to join.
        assert not client.app.state.loop_connection.in_transaction()
    alone = client.post(url, json={"label": "adult"}, headers=headers)
    assert alone.status_code == 201 and _labels(session, project_id) == 1
