"""The labeller's one-statement calls on the event loop (``labelops.api.alone``).

On PostgreSQL a plain next-task or submit of a labeller whose token this process
looked up lately runs as one statement on the loop's own connections; every other call
takes the usual way, with the same answers. On SQLite nothing runs there.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from factories import make_world
from labelops.api.alone import LoopConnections
from labelops.services.auth import forget_token_lookups
from labelops.store.models import Assignment, FinalLabel, Label, ProjectVendor, Task


@pytest.fixture()
def loop_statements(client, monkeypatch) -> list[bool]:
    """Each statement run on the loop's connections: True when it returned a row."""
    ran: list[bool] = []
    run = LoopConnections.first

    async def spy(self, statement, params):
        row = await run(self, statement, params)
        ran.append(row is not None)
        return row

    monkeypatch.setattr(LoopConnections, "first", spy)
    forget_token_lookups()  # earlier tests' lookups must not count here
    return ran


def test_plain_calls_run_on_the_loop_after_the_first_lookup(client, session, loop_statements):
    world = make_world(session, n_items=2, overlap=2)
    project_id = world.project_ids["A"]
    postgresql = session.get_bind().dialect.name == "postgresql"
    a1 = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    a2 = {"Authorization": f"Bearer {world.tokens['labeller-a2']}"}

    # A token not looked up yet: the usual way (it looks the token up).
    first = client.get(f"/api/projects/{project_id}/next", headers=a1)
    assert first.status_code == 200 and loop_statements == []
    # Known now: the submit and the next lease are one statement each on the loop.
    stored = client.post(
        f"/api/assignments/{first.json()['assignment_id']}/label",
        json={"label": "adult", "active_ms": 1500},
        headers=a1,
    )
    assert stored.status_code == 201
    second = client.get(f"/api/projects/{project_id}/next", headers=a1)
    assert second.status_code == 200
    assert second.json()["item"]["external_id"] != first.json()["item"]["external_id"]
    assert loop_statements == ([True, True] if postgresql else [])
    # The other labeller completes the first item: the final label comes with it.
    client.get(f"/api/projects/{project_id}/next", headers=a2)  # looks a2 up
    other = client.get(f"/api/projects/{project_id}/next", headers=a2)  # the held lease
    assert other.json()["item"]["external_id"] == first.json()["item"]["external_id"]
    done = client.post(
        f"/api/assignments/{other.json()['assignment_id']}/label",
        json={"label": "adult"},
        headers=a2,
    )
    assert done.status_code == 201 and done.json()["final_status"] == "final"
    # a2's second next found a held lease: its statement wrote nothing (a row saying
    # so), and the usual way served the held lease.
    assert loop_statements == ([True, True, True, True] if postgresql else [])

    session.rollback()
    label = session.scalar(
        select(Label).where(Label.assignment_id == first.json()["assignment_id"])
    )
    assert label is not None and (label.value, label.active_ms) == (["adult"], 1500)
    assert stored.json()["id"] == label.id
    assignment = session.get(Assignment, first.json()["assignment_id"])
    assert assignment is not None and assignment.status == "submitted"
    task = session.get(Task, label.task_id)
    assert task is not None and (task.n_labels, task.status) == (2, "complete")
    final = session.scalar(select(FinalLabel).where(FinalLabel.task_id == label.task_id))
    assert final is not None and (final.value, final.confidence) == (["adult"], 1.0)


def test_calls_the_loop_cannot_answer_get_the_usual_answers(client, session, loop_statements):
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    postgresql = session.get_bind().dialect.name == "postgresql"
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    served = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
    url = f"/api/assignments/{served['assignment_id']}/label"

    # A key outside the taxonomy: the statement writes nothing, the usual way says 422
    # (twice over: the fast lane hands an error to FastAPI's way, which runs it again).
    unknown = client.post(url, json={"label": "no-such-key"}, headers=headers)
    assert unknown.status_code == 422
    assert "compliant" in unknown.json()["error"]["message"]
    # The same submit twice: the retry is not one statement, and gets the stored label.
    stored = client.post(url, json={"label": "gambling"}, headers=headers)
    again = client.post(url, json={"label": "gambling"}, headers=headers)
    assert (stored.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == stored.json()["id"]
    assert loop_statements == ([False, False, True, False] if postgresql else [])

    # The vendor loses the project: the lease statement finds it and the error is 404.
    session.execute(delete(ProjectVendor).where(ProjectVendor.project_id == project_id))
    session.commit()
    gone = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    session.rollback()
    labels = session.scalars(select(Label.value).where(Label.project_id == project_id)).all()
    assert labels == [["gambling"]]
