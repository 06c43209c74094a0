"""Hot calls on the event loop share a write transaction (``labelops.api.deps.InlineCalls``).

On SQLite the calls that arrive together run one after another in one transaction, each
in a savepoint: each keeps its own outcome (a failed call changes nothing, the others
are stored), and the transaction is committed before anyone is answered.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from starlette.requests import Request

from factories import make_world
from labelops.api.deps import run_as_actor
from labelops.errors import NotFound
from labelops.services import labelling, queue
from labelops.store.models import Assignment, Label, ProjectVendor
from labelops.types import AssignmentStatus


def _request(app: Any, token: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "app": app,
        }
    )


def _lease(app: Any, token: str, project_id: int) -> int:
    async def lease() -> Any:
        return await run_as_actor(
            _request(app, token), lambda s, actor: queue.next_task(s, actor, project_id)
        )

    served = asyncio.run(lease())
    assert served is not None
    return int(served.assignment_id)


def _submit_and_next(assignment_id: int, key: str) -> Any:
    def use_case(session: Any, actor: Any) -> Any:
        return labelling.submit_label_and_lease_next(session, actor, assignment_id, [key])

    return use_case


def _together(app: Any, calls: list[tuple[str, Any]]) -> tuple[list[Any], int]:
    """Run the calls concurrently on one event loop; their outcomes and the commits."""
    commits: list[None] = []

    def count(_connection: Any) -> None:
        commits.append(None)

    async def run_all() -> list[Any]:
        return await asyncio.gather(
            *(run_as_actor(_request(app, token), use_case) for token, use_case in calls),
            return_exceptions=True,
        )

    engine = app.state.engine
    event.listen(engine, "commit", count)
    try:
        outcomes = asyncio.run(run_all())
    finally:
        event.remove(engine, "commit", count)
    return outcomes, len(commits)


@pytest.fixture()
def sqlite_only(client):
    if client.app.state.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL runs each hot call in its own transaction on a thread")


def test_calls_that_arrive_together_commit_together_and_fail_alone(client, session, sqlite_only):
    world = make_world(session, n_items=6, overlap=1)
    app = client.app
    tokens = world.tokens
    a1_lease = _lease(app, tokens["labeller-a1"], world.project_ids["A"])
    b1_lease = _lease(app, tokens["labeller-b1"], world.project_ids["B"])
    # Vendor B loses its project: b1's label would be stored, then leasing its next
    # task fails, so its whole call must come to nothing.
    session.execute(delete(ProjectVendor).where(ProjectVendor.project_id == world.project_ids["B"]))
    session.commit()

    outcomes, commits = _together(
        app,
        [
            (tokens["labeller-a1"], _submit_and_next(a1_lease, "gambling")),
            (tokens["labeller-b1"], _submit_and_next(b1_lease, "adult")),
            (
                tokens["labeller-a2"],
                lambda s, actor: queue.next_task(s, actor, world.project_ids["A"]),
            ),
        ],
    )

    assert commits == 1
    submitted, following = outcomes[0]
    assert submitted.created and submitted.label.value == ["gambling"]
    assert following is not None and following.assignment_id != a1_lease
    assert isinstance(outcomes[1], NotFound)
    assert outcomes[2] is not None and outcomes[2].assignment_id != following.assignment_id
    session.rollback()
    stored = session.execute(select(Label.assignment_id, Label.value)).all()
    assert stored == [(a1_lease, ["gambling"])]
    b1_status = session.scalar(select(Assignment.status).where(Assignment.id == b1_lease))
    assert b1_status == AssignmentStatus.LEASED.value
    leased = session.scalars(
        select(Assignment.id).where(Assignment.status == AssignmentStatus.LEASED.value)
    ).all()
    assert set(leased) == {b1_lease, following.assignment_id, outcomes[2].assignment_id}
    # Nothing is left open on the event loop's connection for the next batch.
    assert not app.state.loop_connection.in_transaction()


def test_a_revision_s_orm_work_is_kept_in_a_shared_transaction(client, session, sqlite_only):
    world = make_world(session, n_items=6, overlap=2)  # one label: the item is not final yet
    app = client.app
    tokens = world.tokens
    lease = _lease(app, tokens["labeller-a1"], world.project_ids["A"])
    first, _ = _together(
        app,
        [(tokens["labeller-a1"], lambda s, a: labelling.submit_label(s, a, lease, ["adult"]))],
    )
    assert first[0].created

    outcomes, commits = _together(
        app,
        [
            (tokens["labeller-a1"], lambda s, a: labelling.submit_label(s, a, lease, ["gambling"])),
            (tokens["labeller-a2"], lambda s, a: queue.next_task(s, a, world.project_ids["A"])),
        ],
    )

    assert commits == 1
    revised = outcomes[0]
    assert revised.created and revised.label.revision == 2
    session.rollback()
    rows = session.execute(
        select(Label.revision, Label.value, Label.is_current)
        .where(Label.assignment_id == lease)
        .order_by(Label.revision)
    ).all()
    assert rows == [(1, ["adult"], False), (2, ["gambling"], True)]


def test_calls_go_to_threads_while_another_process_writes(client, session, sqlite_only):
    world = make_world(session, n_items=4, overlap=1)
    app = client.app
    database = app.state.engine.url.database
    # Another process's writer: an flock on the lock file through a descriptor of its
    # own (flock locks belong to open file descriptions, not to processes).
    other = os.open(os.path.realpath(database) + ".writer-lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    loop_threads: list[int] = []
    ran_on: list[int] = []

    def use_case(s: Any, actor: Any) -> Any:
        ran_on.append(threading.get_ident())
        return queue.next_task(s, actor, world.project_ids["A"])

    async def call() -> Any:
        loop_threads.append(threading.get_ident())
        asyncio.get_running_loop().call_later(0.2, fcntl.flock, other, fcntl.LOCK_UN)
        return await run_as_actor(_request(app, world.tokens["labeller-a1"]), use_case)

    try:
        served = asyncio.run(call())
    finally:
        os.close(other)
    assert served is not None
    # It waited for the other writer on a worker thread, not on the event loop.
    assert ran_on and ran_on[0] != loop_threads[0]


def test_at_most_hot_threads_calls_run_on_worker_threads_at_once(settings, session):
    """``Settings.hot_threads`` caps the labeller calls running on threads; the rest wait
    on the event loop (more threads only queue on Python's global lock)."""
    from labelops.api import create_app

    world = make_world(session, n_items=2, overlap=1)
    app = create_app(settings.model_copy(update={"hot_threads": 2}))
    engine = app.state.engine
    other = None
    if engine.dialect.name == "sqlite":
        # Another process's writer sends SQLite's hot calls to threads too.
        database = os.path.realpath(engine.url.database) + ".writer-lock"
        other = os.open(database, os.O_RDWR | os.O_CREAT)
        fcntl.flock(other, fcntl.LOCK_EX)
    guard = threading.Lock()
    running = [0]
    most = [0]
    loop_thread: list[int] = []
    threads: set[int] = set()

    def use_case(_session: Any, actor: Any) -> str:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
            threads.add(threading.get_ident())
        threading.Event().wait(0.1)
        with guard:
            running[0] -= 1
        return actor.username

    async def calls() -> list[Any]:
        loop_thread.append(threading.get_ident())
        labellers = ["labeller-a1", "labeller-a2", "labeller-b1"] * 2
        return await asyncio.gather(
            *(run_as_actor(_request(app, world.tokens[name]), use_case) for name in labellers)
        )

    try:
        answered = asyncio.run(calls())
    finally:
        if other is not None:
            os.close(other)
        engine.dispose()
    assert sorted(answered) == sorted(["labeller-a1", "labeller-a2", "labeller-b1"] * 2)
    assert most[0] == 2
    assert loop_thread[0] not in threads
