"""The labeller's one-statement calls on the event loop (``labelops.api.alone``).

On PostgreSQL a plain next-task or submit of a labeller runs as one statement on the
loop's own connections (and, when this process has not looked the token up lately, a
lookup of the token before it); every other call takes the usual way, with the same
answers. On SQLite nothing runs there.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from sqlalchemy import delete, func, select

from factories import make_world, serve_each, while_rows_held
from labelops.api.alone import LoopConnections
from labelops.services import directory, labelling
from labelops.services.auth import TOKEN_LOOKUP, TOKEN_TOUCH, forget_token_lookups
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Assignment, FinalLabel, Label, ProjectVendor, Task


@pytest.fixture()
def loop_spy(client, monkeypatch) -> tuple[list[bool], list[bool]]:
    """The statements run on the loop's connections, each True when it returned a row:
    the calls' statements, and the token lookups (a lookup's record of the token's use,
    ``TOKEN_TOUCH``, about once a minute, is neither)."""
    ran: list[bool] = []
    looked_up: list[bool] = []
    run = LoopConnections.first

    async def spy(self, statement, params):
        row = await run(self, statement, params)
        if statement is not TOKEN_TOUCH:
            (looked_up if statement is TOKEN_LOOKUP else ran).append(row is not None)
        return row

    monkeypatch.setattr(LoopConnections, "first", spy)
    forget_token_lookups()  # earlier tests' lookups must not count here
    return ran, looked_up


@pytest.fixture()
def loop_statements(loop_spy) -> list[bool]:
    """The calls' statements run on the loop: True when it returned a row."""
    return loop_spy[0]


@pytest.fixture()
def token_lookups(loop_spy) -> list[bool]:
    """The token lookups run on the loop: True when the token was found."""
    return loop_spy[1]


class _Start(NamedTuple):
    """Labeller-a1's project, whether it is on PostgreSQL, a1's token headers and the
    task a1 was first served."""

    project_id: int
    postgresql: bool
    headers: dict[str, str]
    first: dict[str, Any]


def _a1_served(client, session, *, n_items: int, overlap: int) -> _Start:
    """A world of ``n_items`` at ``overlap``, and labeller-a1's first next-task over HTTP
    (on PostgreSQL one statement on the loop, after the token's lookup there)."""
    world = make_world(session, n_items=n_items, overlap=overlap)
    project_id = world.project_ids["A"]
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    first = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
    postgresql = session.get_bind().dialect.name == "postgresql"
    return _Start(project_id, postgresql, headers, first)


def test_plain_calls_run_on_the_loop_with_their_token_lookup(
    client, session, loop_statements, token_lookups
):
    world = make_world(session, n_items=2, overlap=2)
    project_id = world.project_ids["A"]
    postgresql = session.get_bind().dialect.name == "postgresql"
    a1 = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    a2 = {"Authorization": f"Bearer {world.tokens['labeller-a2']}"}

    # A token not looked up yet: looked up on the loop, then the lease statement.
    first = client.get(f"/api/projects/{project_id}/next", headers=a1)
    assert first.status_code == 200
    assert (loop_statements, token_lookups) == (([True], [True]) if postgresql else ([], []))
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
    assert loop_statements == ([True] * 3 if postgresql else [])
    assert token_lookups == ([True] if postgresql else [])  # remembered since
    # The other labeller completes the first item: the final label comes with it.
    client.get(f"/api/projects/{project_id}/next", headers=a2)  # looks a2 up
    other = client.get(f"/api/projects/{project_id}/next", headers=a2)  # the held lease
    assert other.json()["item"]["external_id"] == first.json()["item"]["external_id"]
    done = client.post(
        f"/api/assignments/{other.json()['assignment_id']}/label",
        json={"label": "adult"},
        headers=a2,
    )
    assert done.status_code == 201
    # a2's second next found a held lease: its statement wrote nothing (a row saying
    # so), and the usual way served the held lease.
    assert loop_statements == ([True] * 6 if postgresql else [])
    assert token_lookups == ([True, True] if postgresql else [])

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
    assert final is not None
    assert (final.value, final.confidence, final.status) == (["adult"], 1.0, "final")


def test_a_token_refused_by_its_lookup_on_the_loop_gets_the_usual_401(
    client, session, loop_statements, token_lookups
):
    """An unknown token, and the token of a user deleted meanwhile (whom this process
    remembered): the lookup on the loop finds no live token, no call statement runs,
    and the usual way answers 401 in the error envelope."""
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    postgresql = session.get_bind().dialect.name == "postgresql"
    url = f"/api/projects/{project_id}/next"
    unknown = client.get(url, headers={"Authorization": "Bearer lo_no-such-token"})
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "authentication_failed"
    # Looked up twice: by the fast lane, then by FastAPI's way that renders the 401.
    refused = [False, False]
    assert (loop_statements, token_lookups) == (([], refused) if postgresql else ([], []))

    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    served = client.get(url, headers=headers)
    assert served.status_code == 200
    directory.delete_user(session, SYSTEM_ACTOR, world.actors["labeller-a1"].user_id)
    gone = client.get(url, headers=headers)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "authentication_failed"
    assert loop_statements == ([True] if postgresql else [])  # only the first lease
    assert token_lookups == ([*refused, True, *refused] if postgresql else [])
    session.rollback()
    assert session.scalar(select(func.count(Assignment.id))) == 1


def test_calls_the_loop_cannot_answer_get_the_usual_answers(client, session, loop_statements):
    project_id, postgresql, headers, served = _a1_served(client, session, n_items=2, overlap=1)
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
    assert loop_statements == ([True, False, False, True, False] if postgresql else [])

    # The vendor loses the project: the lease statement finds it and the error is 404.
    session.execute(delete(ProjectVendor).where(ProjectVendor.project_id == project_id))
    session.commit()
    gone = client.get(f"/api/projects/{project_id}/next", headers=headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    session.rollback()
    labels = session.scalars(select(Label.value).where(Label.project_id == project_id)).all()
    assert labels == [["gambling"]]


@pytest.mark.parametrize("with_next", [False, True], ids=["submit", "submit-next"])
def test_a_submit_that_waits_for_the_tasks_other_label_runs_again_on_the_loop(
    client, session, session_factory, engine, loop_statements, monkeypatch, with_next
):
    """The completing label's statement (alone, or with the next lease) waits for the
    task row while another label of the task commits: it writes nothing (its snapshot
    misses that label), then runs again on the loop and stores the final vote of all
    three (and leases the next task), without a thread."""
    world = make_world(session, n_items=2, overlap=3)
    project_id = world.project_ids["A"]
    a1, a2 = world.actors["labeller-a1"], world.actors["labeller-a2"]
    postgresql = engine.dialect.name == "postgresql"
    first, second = serve_each(session, world, project_id, "labeller-a1", "labeller-a2")
    labelling.submit_label(session, a1, first.assignment_id, ["adult"])
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a3']}"}
    third = client.get(f"/api/projects/{project_id}/next", headers=headers)  # looks a3 up
    assert third.status_code == 200 and loop_statements == ([True] if postgresql else [])
    assert third.json()["item"]["external_id"] == first.item["external_id"]
    usual_way: list[int] = []
    submit_label = labelling.submit_label

    def counted(*args, **kwargs):
        usual_way.append(args[2])
        return submit_label(*args, **kwargs)

    def hold(holder):
        # The second label is written, its task row locked, not yet committed.
        submit_label(holder, a2, second.assignment_id, ["gambling"])
        monkeypatch.setattr(labelling, "submit_label", counted)

    url = f"/api/assignments/{third.json()['assignment_id']}/label"
    response = while_rows_held(
        session_factory,
        engine,
        hold,
        lambda: client.post(
            url + ("?next=true" if with_next else ""), json={"label": "gambling"}, headers=headers
        ),
    )

    assert response.status_code == 201
    # Two runs on the loop, each a row: "nothing written, run again", then the label.
    assert loop_statements == ([True, True, True] if postgresql else [])
    assert usual_way == ([] if postgresql else [third.json()["assignment_id"]])
    session.rollback()
    final = session.scalar(select(FinalLabel).where(FinalLabel.task_id == first.task_id))
    assert final is not None
    assert (final.value, final.n_labels, final.status) == (["gambling"], 3, "final")
    labels = session.scalars(select(Label.value).where(Label.project_id == project_id)).all()
    assert sorted(value[0] for value in labels) == ["adult", "gambling", "gambling"]
    if with_next:
        following = response.json()["next"]
        assert following["item"]["external_id"] != first.item["external_id"]
        lease = session.get(Assignment, following["assignment_id"])
        assert lease is not None and lease.status == "leased"


def test_submit_with_next_is_one_statement_on_the_loop(client, session, loop_statements):
    """``submit?next=true`` of a known token is one statement on the loop: the label,
    its item's final label (overlap 1) and the next lease, committed together; when
    nothing is left the label is still stored and ``next`` is null."""
    project_id, postgresql, headers, first = _a1_served(client, session, n_items=2, overlap=1)
    assert loop_statements == ([True] if postgresql else [])

    url = f"/api/assignments/{first['assignment_id']}/label?next=true"
    done = client.post(url, json={"label": "gambling", "active_ms": 900}, headers=headers)
    assert done.status_code == 201
    following = done.json()["next"]
    assert following["item"]["external_id"] != first["item"]["external_id"]
    assert following["labels"] == ["compliant", "gambling", "financial_scam", "adult"]
    last = client.post(
        f"/api/assignments/{following['assignment_id']}/label?next=true",
        json={"label": "adult"},
        headers=headers,
    )
    assert last.status_code == 201 and last.json()["next"] is None
    assert loop_statements == ([True] * 3 if postgresql else [])

    session.rollback()
    labels = session.scalars(
        select(Label).where(Label.project_id == project_id).order_by(Label.id)
    ).all()
    assert [(label.value, label.active_ms) for label in labels] == [
        (["gambling"], 900),
        (["adult"], None),
    ]
    lease = session.get(Assignment, following["assignment_id"])
    assert lease is not None and lease.status == "submitted"
    # Leased by the first pair: on PostgreSQL by its one statement, at the submit's time.
    assert lease.served_at >= labels[0].submitted_at
    if postgresql:
        assert lease.served_at == labels[0].submitted_at
    finals = session.execute(
        select(FinalLabel.value, FinalLabel.status).where(FinalLabel.project_id == project_id)
    ).all()
    assert sorted((value[0], status) for value, status in finals) == [
        ("adult", "final"),
        ("gambling", "final"),
    ]


def test_a_submit_with_next_that_cannot_be_whole_writes_nothing_on_the_loop(
    client, session, loop_statements
):
    """The pair's statement writes nothing, neither label nor lease, when either half
    cannot be done: a key outside the taxonomy (the usual way says 422), or another
    lease held (``prefetch``: the usual way submits and serves the held one)."""
    project_id, postgresql, headers, first = _a1_served(client, session, n_items=3, overlap=1)
    url = f"/api/assignments/{first['assignment_id']}/label?next=true"

    unknown = client.post(url, json={"label": "weapons"}, headers=headers)
    assert unknown.status_code == 422
    session.rollback()
    assert session.scalar(select(func.count(Label.id))) == 0
    assert session.scalar(select(func.count(Assignment.id))) == 1

    held = client.get(f"/api/projects/{project_id}/next?prefetch=true", headers=headers).json()
    assert held["assignment_id"] != first["assignment_id"]
    stored = client.post(url, json={"label": "adult"}, headers=headers)
    assert (
        stored.status_code == 201
        and stored.json()["next"]["assignment_id"] == held["assignment_id"]
    )
    # On the loop, after the first lease, each a row and nothing written: the pair with
    # the unknown key (twice: the fast lane, then FastAPI's way that renders the 422),
    # the prefetch lease (a lease is held), the pair again (the lease held besides this
    # one).
    assert loop_statements == ([True] * 5 if postgresql else [])
    session.rollback()
    assert session.scalar(select(func.count(Label.id))) == 1
    assert session.scalar(select(func.count(Assignment.id))) == 2
