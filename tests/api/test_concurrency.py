"""Fifty labellers at once over real HTTP: the queue neither over-assigns nor loses labels.

A real uvicorn server (in a background thread, on a free loopback port) serves the
app built from this test's settings, so the database is SQLite or PostgreSQL as the
fixtures choose. Fifty threads, each with its own HTTP client and its own labeller's
token, loop ``POST next`` -> ``POST label`` (every other one ``POST label?next=true``, one
request a label) until nothing is left for them. Afterwards the
database must show exactly what the responses said, and the final labels must equal a
majority vote computed here independently.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from factories import TAXONOMY, make_items, make_taxonomy
from labelops.config import Settings
from labelops.server import OneWriteHttpToolsProtocol
from labelops.services import directory, imports, projects
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Assignment, FinalLabel, Item, Label, Task
from labelops.types import Role

N_LABELLERS = 50
N_ITEMS = 300
OVERLAP = 3
KEYS = [label["key"] for label in TAXONOMY["labels"]]
MAX_REQUESTS_PER_LABELLER = 4 * N_ITEMS  # a bound, so a queue bug cannot loop forever


@dataclass
class LabellerLog:
    """What one labeller's client saw."""

    created: dict[int, tuple[str, str]] = field(default_factory=dict)
    """label id -> (external id, label key), from every 201 response."""
    items: list[str] = field(default_factory=list)
    """External ids served, in order."""
    unexpected: list[str] = field(default_factory=list)
    """Any response other than 200 / 201 / 204."""


def _answer(username: str, external_id: str) -> str:
    # Deterministic per (labeller, item): mostly agreeing, sometimes not, so the
    # majority vote meets clear winners, 2-1 splits and three-way ties.
    digest = hashlib.sha256(f"{username}|{external_id}".encode()).digest()
    truth = int(hashlib.sha256(external_id.encode()).hexdigest(), 16) % len(KEYS)
    return KEYS[truth] if digest[0] < 150 else KEYS[digest[1] % len(KEYS)]


@pytest.fixture()
def live_server(settings: Settings) -> Iterator[str]:
    """The app on a free 127.0.0.1 port, served by uvicorn in a background thread."""
    from labelops.api import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=OneWriteHttpToolsProtocol,  # as ``labelops serve`` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def _work(
    base_url: str, username: str, token: str, project_id: int, *, one_request: bool
) -> LabellerLog:
    """Label until nothing is left: ``POST next`` then ``POST label``, or with
    ``one_request`` a first ``POST next`` and then ``POST label?next=true`` only."""
    log = LabellerLog()
    headers = {"Authorization": f"Bearer {token}"}
    body = None
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for _ in range(MAX_REQUESTS_PER_LABELLER):
            if body is None:
                served = client.post(f"/api/projects/{project_id}/next")
                if served.status_code == 204:
                    return log
                if served.status_code != 200:
                    log.unexpected.append(f"next {served.status_code} {served.text[:200]}")
                    return log
                body = served.json()
            external_id = body["item"]["external_id"]
            log.items.append(external_id)
            key = _answer(username, external_id)
            response = client.post(
                f"/api/assignments/{body['assignment_id']}/label"
                + ("?next=true" if one_request else ""),
                json={"label": key},
            )
            if response.status_code != 201:
                log.unexpected.append(f"label {response.status_code} {response.text[:200]}")
                return log
            log.created[response.json()["id"]] = (external_id, key)
            if one_request:
                body = response.json()["next"]
                if body is None:
                    return log
            else:
                body = None
    log.unexpected.append("request bound reached")
    return log


def _majority(keys: list[str]) -> tuple[str | None, str]:
    """Plurality with ties left unresolved (written here, apart from the service)."""
    ranked = Counter(keys).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, "needs_adjudication"
    return ranked[0][0], "final"


@pytest.mark.slow
def test_fifty_labellers_over_http_lose_nothing_and_never_over_assign(
    session, settings, live_server
):
    vendor = directory.create_vendor(session, SYSTEM_ACTOR, "vendor-load")
    taxonomy_id = make_taxonomy(session)
    project = projects.create_project(
        session,
        SYSTEM_ACTOR,
        "project-load",
        taxonomy_id=taxonomy_id,
        overlap=OVERLAP,
        vendor_ids=[vendor.id],
    )
    imports.import_item_records(session, SYSTEM_ACTOR, project.id, make_items(N_ITEMS))
    tokens: dict[str, str] = {}
    for index in range(N_LABELLERS):
        username = f"load-{index:02d}"
        created = directory.create_user(
            session, SYSTEM_ACTOR, username, role=Role.LABELLER, vendor_id=vendor.id
        )
        tokens[username] = created.token
    session.commit()

    with ThreadPoolExecutor(max_workers=N_LABELLERS) as pool:
        futures = {
            # Every other labeller works with one request a label (``?next=true``).
            username: pool.submit(
                _work, live_server, username, token, project.id, one_request=index % 2 == 1
            )
            for index, (username, token) in enumerate(tokens.items())
        }
        logs = {username: future.result() for username, future in futures.items()}

    unexpected = [f"{u}: {m}" for u, log in logs.items() for m in log.unexpected]
    assert unexpected == []
    # No labeller was served one item twice.
    for username, log in logs.items():
        assert len(log.items) == len(set(log.items)), username

    created = {
        label_id: (username, external_id, key)
        for username, log in logs.items()
        for label_id, (external_id, key) in log.created.items()
    }
    assert len(created) == sum(len(log.created) for log in logs.values())  # ids unique

    session.expire_all()
    rows = session.execute(
        select(Label.id, Label.labeller_id, Label.value, Label.is_current, Item.external_id)
        .join(Task, Task.id == Label.task_id)
        .join(Item, Item.id == Task.item_id)
        .where(Label.project_id == project.id)
    ).all()
    # No lost label: every 201 is in the database, and nothing else is.
    assert len(rows) == len(created) == N_ITEMS * OVERLAP
    assert {row.id for row in rows} == set(created)
    usernames = {v: k for k, v in _user_ids(session, tokens).items()}
    for row in rows:
        username, external_id, key = created[row.id]
        assert (usernames[row.labeller_id], row.external_id, list(row.value)) == (
            username,
            external_id,
            [key],
        )
        assert row.is_current
    # No over-assignment and no labeller twice on an item: exactly OVERLAP labels per
    # item, from OVERLAP different labellers.
    by_item: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_item[row.external_id].append(row.labeller_id)
    assert len(by_item) == N_ITEMS
    for external_id, labellers in by_item.items():
        assert len(labellers) == OVERLAP, external_id
        assert len(set(labellers)) == OVERLAP, external_id
    tasks = session.execute(
        select(Task.slots_taken, Task.n_labels, Task.status).where(Task.project_id == project.id)
    ).all()
    assert {tuple(t) for t in tasks} == {(OVERLAP, OVERLAP, "complete")}
    assert (
        session.scalar(select(func.count(Assignment.id)).where(Assignment.status != "submitted"))
        == 0
    )

    # The final labels equal a majority vote computed independently.
    answers: dict[str, list[str]] = defaultdict(list)
    for _username, external_id, key in created.values():
        answers[external_id].append(key)
    expected = {external_id: _majority(keys) for external_id, keys in answers.items()}
    assert {status for _, status in expected.values()} == {"final", "needs_adjudication"}
    live = {
        row.external_id: (row.value[0] if row.value else None, row.status)
        for row in session.execute(
            select(FinalLabel.value, FinalLabel.status, Item.external_id)
            .join(Task, Task.id == FinalLabel.task_id)
            .join(Item, Item.id == Task.item_id)
            .where(FinalLabel.project_id == project.id, FinalLabel.snapshot_id.is_(None))
        )
    }
    assert live == expected
    admin = directory.create_user(session, SYSTEM_ACTOR, "load-admin", role=Role.ADMIN)
    with httpx.Client(
        base_url=live_server, headers={"Authorization": f"Bearer {admin.token}"}, timeout=60
    ) as client:
        summary = client.post(f"/api/projects/{project.id}/finalize", json={"method": "majority"})
        assert summary.status_code == 200, summary.text
        exported = client.get(f"/api/projects/{project.id}/export", params={"format": "jsonl"})
        assert exported.status_code == 200, exported.text
    import orjson

    frozen = {
        record["external_id"]: (record["final_label"], record["status"])
        for record in map(orjson.loads, exported.content.splitlines())
    }
    assert frozen == expected


def _user_ids(session, tokens: dict[str, str]) -> dict[str, int]:
    from labelops.store.models import User

    query = select(User.username, User.id).where(User.username.in_(list(tokens)))
    return dict(session.execute(query).all())
