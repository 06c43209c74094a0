"""Queue and labelling services on a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from factories import make_world, serve_each, while_rows_held
from labelops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelops.quality.voting import compute_item_vote
from labelops.services import finals, labelling, queue
from labelops.store.models import FinalLabel, Label, Task
from labelops.store.types import utcnow


def test_next_task_leases_and_submit_is_idempotent(session):
    world = make_world(session, n_items=5, overlap=2)
    labeller = world.actors["labeller-a1"]
    served = queue.next_task(session, labeller, world.project_ids["A"])
    assert served is not None
    assert served.labels == ("compliant", "gambling", "financial_scam", "adult")
    first = labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    again = labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    assert first.created and not again.created
    assert again.label.id == first.label.id
    assert session.scalar(select(func.count(Label.id))) == 1


def test_held_lease_is_served_again_not_a_new_slot(session):
    world = make_world(session, n_items=5, overlap=2)
    labeller = world.actors["labeller-a1"]
    one = queue.next_task(session, labeller, world.project_ids["A"])
    two = queue.next_task(session, labeller, world.project_ids["A"])
    assert one is not None and two is not None
    assert one.assignment_id == two.assignment_id
    assert session.scalar(select(func.sum(Task.slots_taken))) == 1


def test_item_never_gets_two_labels_from_one_labeller_and_respects_overlap(session):
    world = make_world(session, n_items=4, overlap=2)
    project_id = world.project_ids["A"]
    seen: dict[str, list[str]] = {}
    for name in ("labeller-a1", "labeller-a2", "labeller-a3"):
        actor = world.actors[name]
        while (served := queue.next_task(session, actor, project_id)) is not None:
            seen.setdefault(served.item["external_id"], []).append(name)
            labelling.submit_label(session, actor, served.assignment_id, ["compliant"])
    assert len(seen) == 4
    for labellers in seen.values():
        assert len(labellers) == 2
        assert len(set(labellers)) == 2


def test_unknown_label_lists_allowed_keys(session):
    world = make_world(session, n_items=2, overlap=1)
    labeller = world.actors["labeller-a1"]
    served = queue.next_task(session, labeller, world.project_ids["A"])
    assert served is not None
    with pytest.raises(InvalidInput) as caught:
        labelling.submit_label(session, labeller, served.assignment_id, ["weapons"])
    assert "compliant, gambling, financial_scam, adult" in caught.value.render("en")
    assert "未知的標籤" in caught.value.render("zh-Hant")
    assert session.scalar(select(func.count(Label.id))) == 0


def test_expired_lease_is_refused_and_slot_returns_to_queue(session):
    world = make_world(session, n_items=1, overlap=1)
    project_id = world.project_ids["A"]
    first, second = world.actors["labeller-a1"], world.actors["labeller-a2"]
    long_ago = utcnow() - timedelta(hours=1)
    served = queue.next_task(session, first, project_id, now=long_ago, lease_seconds=60)
    assert served is not None
    with pytest.raises(Conflict) as caught:
        labelling.submit_label(session, first, served.assignment_id, ["compliant"])
    assert "expired" in caught.value.render("en")
    other = queue.next_task(session, second, project_id)
    assert other is not None and other.task_id == served.task_id
    assert session.scalar(select(func.count(Label.id))) == 0


def test_expired_lease_goes_back_to_the_same_labeller_as_the_same_assignment(session):
    # The claim passes over tasks the labeller holds or did, but not ones whose lease
    # expired: those are served again, reviving the assignment (one per task and labeller).
    world = make_world(session, n_items=2, overlap=1)
    project_id = world.project_ids["A"]
    labeller = world.actors["labeller-a1"]
    long_ago = utcnow() - timedelta(hours=1)
    first = queue.next_task(session, labeller, project_id, now=long_ago, lease_seconds=60)
    assert first is not None
    again = queue.next_task(session, labeller, project_id)
    assert again is not None
    assert (again.task_id, again.assignment_id) == (first.task_id, first.assignment_id)
    labelling.submit_label(session, labeller, again.assignment_id, ["compliant"])
    last = queue.next_task(session, labeller, project_id)
    assert last is not None and last.task_id != first.task_id
    labelling.submit_label(session, labeller, last.assignment_id, ["adult"])
    assert queue.next_task(session, labeller, project_id) is None
    assert session.scalar(select(func.sum(Task.slots_taken))) == 2


def test_a_returned_lease_is_revived_for_its_labeller_on_a_later_call(session, monkeypatch):
    # The expired lease was already returned by another labeller's call, so the
    # labeller's own call has nothing to return first: on PostgreSQL it is the one
    # statement (``_LEASE_ALONE_PG``) that claims the task again and revives the lease.
    world = make_world(session, n_items=1, overlap=2)
    project_id = world.project_ids["A"]
    first_labeller, other = world.actors["labeller-a1"], world.actors["labeller-a2"]
    long_ago = utcnow() - timedelta(hours=1)
    first = queue.next_task(session, first_labeller, project_id, now=long_ago, lease_seconds=60)
    assert first is not None
    taken = queue.next_task(session, other, project_id)  # returns the expired slot
    assert taken is not None and taken.task_id == first.task_id
    labelling.submit_label(session, other, taken.assignment_id, ["adult"])
    one_statement = _runs_of(
        monkeypatch, queue._LEASE_ALONE_PG, lambda row: row is not None and row.task_id is not None
    )
    again = queue.next_task(session, first_labeller, project_id)
    assert again is not None
    assert (again.task_id, again.assignment_id) == (first.task_id, first.assignment_id)
    assert again.lease_expires_at > utcnow() + timedelta(seconds=500)  # the default 600 s
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert one_statement == ([True] if postgresql else [])
    labelling.submit_label(session, first_labeller, again.assignment_id, ["adult"])
    task = session.get(Task, first.task_id)
    session.refresh(task)
    assert (task.slots_taken, task.n_labels, task.status) == (2, 2, "complete")


def _runs_of(monkeypatch, statement, judge) -> list[bool]:
    """Each run of ``statement.first`` from now on: ``judge(row)``."""
    runs: list[bool] = []
    run = statement.first

    def spy(connection, params):
        row = run(connection, params)
        runs.append(judge(row))
        return row

    monkeypatch.setattr(statement, "first", spy)
    return runs


@pytest.fixture()
def one_statement(monkeypatch) -> list[bool]:
    """Each run of the one-statement submit (PostgreSQL): True when it stored the label."""
    return _runs_of(
        monkeypatch,
        labelling._SUBMIT_ALONE_PG,
        lambda row: row is not None and row.label_id is not None,
    )


def test_every_plain_submit_is_one_statement_the_last_also_finalises(session, one_statement):
    world = make_world(session, n_items=1, overlap=3)
    project_id = world.project_ids["A"]
    stored = []
    for name, key in (
        ("labeller-a1", "adult"),
        ("labeller-a2", "adult"),
        ("labeller-a3", "compliant"),
    ):
        actor = world.actors[name]
        served = queue.next_task(session, actor, project_id)
        assert served is not None
        stored.append(labelling.submit_label(session, actor, served.assignment_id, [key]))
    postgresql = session.get_bind().dialect.name == "postgresql"
    # The last label completes the task: the same statement stores its final label.
    assert one_statement == ([True, True, True] if postgresql else [])
    assert [result.final_status for result in stored] == [None, None, "final"]
    assert [result.label.revision for result in stored] == [1, 1, 1]
    task = session.scalar(select(Task).where(Task.project_id == project_id))
    assert (task.n_labels, task.status) == (3, "complete")
    final = session.scalar(select(FinalLabel).where(FinalLabel.task_id == task.id))
    assert final is not None and final.value == ["adult"]
    assert final.confidence == pytest.approx(2 / 3, abs=1e-6)
    rows = session.execute(
        select(Label.value, Label.served_at, Label.submitted_at).where(Label.task_id == task.id)
    ).all()
    assert sorted(row.value[0] for row in rows) == ["adult", "adult", "compliant"]
    assert all(row.submitted_at >= row.served_at for row in rows)
    # A retry of a submit stored by the one statement gets the stored label back.
    again = labelling.submit_label(
        session, world.actors["labeller-a1"], stored[0].label.assignment_id, ["adult"]
    )
    assert not again.created and again.label.id == stored[0].label.id


VOTE_PATTERNS = [
    ["adult"],
    ["adult", "gambling"],
    ["gambling", "gambling"],
    ["adult", "adult", "compliant"],
    ["compliant", "adult", "gambling"],
    ["gambling", "adult", "adult", "gambling"],
    ["adult", "gambling", "adult", "compliant"],
    ["compliant", "adult", "adult", "gambling", "gambling"],
    ["financial_scam", "financial_scam", "adult", "financial_scam", "gambling"],
]


@pytest.mark.parametrize("keys", VOTE_PATTERNS, ids=["-".join(keys) for keys in VOTE_PATTERNS])
def test_the_completing_submit_stores_the_majority_vote_of_every_label(
    session, one_statement, keys
):
    """The final label a completing submit stores is ``compute_item_vote``'s: the
    plurality key, a tie needs adjudication, the top share as confidence. On
    PostgreSQL that vote is SQL inside the submit's one statement, checked here against
    the Python rule; on SQLite it is the Python rule itself."""
    world = make_world(session, n_items=1, overlap=len(keys), n_labellers=len(keys))
    project_id = world.project_ids["A"]
    results = []
    for index, key in enumerate(keys, start=1):
        actor = world.actors[f"labeller-a{index}"]
        served = queue.next_task(session, actor, project_id)
        assert served is not None
        results.append(labelling.submit_label(session, actor, served.assignment_id, [key]))
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert one_statement == ([True] * len(keys) if postgresql else [])
    expected = compute_item_vote([[key] for key in keys])
    status = "needs_adjudication" if expected.tied else "final"
    assert [result.final_status for result in results] == [None] * (len(keys) - 1) + [status]
    session.expire_all()
    final = session.scalar(select(FinalLabel).where(FinalLabel.project_id == project_id))
    assert final is not None and final.snapshot_id is None
    assert final.value == (None if expected.label is None else list(expected.label))
    assert (final.status, final.method, final.n_labels) == (status, "majority", len(keys))
    assert final.confidence == round(expected.share, 6)
    assert final.updated_at == results[-1].label.submitted_at
    task = session.scalar(select(Task).where(Task.project_id == project_id))
    assert (task.n_labels, task.status) == (len(keys), "complete")


def test_a_completing_submit_keeps_an_audited_live_final_label(session):
    world = make_world(session, n_items=1, overlap=2)
    project_id = world.project_ids["A"]
    a1, a2 = world.actors["labeller-a1"], world.actors["labeller-a2"]
    first, second = serve_each(session, world, project_id, "labeller-a1", "labeller-a2")
    labelling.submit_label(session, a1, first.assignment_id, ["gambling"])
    session.add(
        FinalLabel(
            task_id=first.task_id,
            project_id=project_id,
            value=["compliant"],
            method="audit",
            confidence=1.0,
            status="audited",
            n_labels=1,
        )
    )
    session.commit()
    result = labelling.submit_label(session, a2, second.assignment_id, ["gambling"])
    assert result.created and result.final_status is None
    session.expire_all()
    final = session.scalar(select(FinalLabel).where(FinalLabel.task_id == first.task_id))
    assert final is not None
    assert (final.value, final.status, final.method) == (["compliant"], "audited", "audit")
    assert session.get(Task, first.task_id).status == "complete"


def test_a_label_committed_while_a_submit_waits_is_in_the_final_vote(
    session, session_factory, engine, one_statement
):
    """READ COMMITTED: the last submit's statement reads the task's labels before it
    waits for the task row; a label committed meanwhile must still be in its vote. On
    PostgreSQL that statement writes nothing and runs again, seeing the new label."""
    world = make_world(session, n_items=1, overlap=3)
    project_id = world.project_ids["A"]
    names = [f"labeller-a{index}" for index in (1, 2, 3)]
    actors = [world.actors[name] for name in names]
    served = serve_each(session, world, project_id, *names)
    labelling.submit_label(session, actors[0], served[0].assignment_id, ["adult"])
    result = while_rows_held(
        session_factory,
        engine,
        # The second label is written, its task row locked, not yet committed.
        lambda holder: labelling.submit_label(
            holder, actors[1], served[1].assignment_id, ["gambling"]
        ),
        lambda: _submit_in_a_session(session_factory, actors[2], served[2], "gambling"),
    )
    assert result.final_status == "final"
    postgresql = engine.dialect.name == "postgresql"
    # The first label's statement, then the waiting one's two runs (the holder's
    # submit is inside a transaction: not one statement).
    assert one_statement == ([True, False, True] if postgresql else [])
    session.expire_all()
    final = session.scalar(select(FinalLabel).where(FinalLabel.project_id == project_id))
    assert final is not None
    assert (final.value, final.n_labels, final.status) == (["gambling"], 3, "final")
    assert final.confidence == pytest.approx(2 / 3, abs=1e-6)


def _submit_in_a_session(session_factory, actor, served, key):
    with session_factory() as session:
        return labelling.submit_label(session, actor, served.assignment_id, [key])


def test_submit_on_someone_elses_lease_is_not_found(session):
    world = make_world(session, n_items=2, overlap=2)
    served = queue.next_task(session, world.actors["labeller-a1"], world.project_ids["A"])
    assert served is not None
    with pytest.raises(NotFound):
        labelling.submit_label(
            session, world.actors["labeller-a2"], served.assignment_id, ["compliant"]
        )


def test_other_vendor_labeller_gets_no_tasks(session):
    world = make_world(session, n_items=2)
    with pytest.raises(NotFound):
        queue.next_task(session, world.actors["labeller-b1"], world.project_ids["A"])


def test_only_labellers_take_tasks(session):
    world = make_world(session, n_items=2)
    with pytest.raises(PermissionDenied):
        queue.next_task(session, world.actors["auditor"], world.project_ids["A"])


def test_tie_needs_adjudication_and_revision_is_kept(session):
    world = make_world(session, n_items=1, overlap=2)
    project_id = world.project_ids["A"]
    a1, a2 = world.actors["labeller-a1"], world.actors["labeller-a2"]
    s1 = queue.next_task(session, a1, project_id)
    assert s1 is not None
    labelling.submit_label(session, a1, s1.assignment_id, ["compliant"])
    revised = labelling.submit_label(session, a1, s1.assignment_id, ["gambling"])
    assert revised.created and revised.label.revision == 2
    s2 = queue.next_task(session, a2, project_id)
    assert s2 is not None
    result = labelling.submit_label(session, a2, s2.assignment_id, ["compliant"])
    assert result.final_status == "needs_adjudication"
    live = session.scalar(select(FinalLabel).where(FinalLabel.snapshot_id.is_(None)))
    assert live is not None and live.value is None and live.status == "needs_adjudication"
    # A tie is not final: the first labeller may still revise, which settles it.
    settled = labelling.submit_label(session, a1, s1.assignment_id, ["compliant"])
    assert settled.final_status == "final"
    assert session.scalar(select(func.count(Label.id))) == 4  # every revision kept
    with pytest.raises(Conflict):
        labelling.submit_label(session, a1, s1.assignment_id, ["adult"])


def test_skip_releases_slot_and_needs_reason(session):
    world = make_world(session, n_items=1, overlap=1)
    project_id = world.project_ids["A"]
    a1 = world.actors["labeller-a1"]
    served = queue.next_task(session, a1, project_id)
    assert served is not None
    with pytest.raises(InvalidInput):
        labelling.skip_assignment(session, a1, served.assignment_id, "   ")
    labelling.skip_assignment(session, a1, served.assignment_id, "圖片無法載入")
    assert queue.next_task(session, a1, project_id) is None
    assert queue.next_task(session, world.actors["labeller-a2"], project_id) is not None


def test_finalize_snapshot_counts(session):
    world = make_world(session, n_items=3, overlap=1)
    project_id = world.project_ids["A"]
    a1 = world.actors["labeller-a1"]
    for _ in range(2):
        served = queue.next_task(session, a1, project_id)
        assert served is not None
        labelling.submit_label(session, a1, served.assignment_id, ["compliant"])
    summary = finals.finalize_project(session, world.actors["admin"], project_id)
    assert (summary.n_final, summary.n_incomplete, summary.n_items) == (2, 0, 2)


def test_prefetch_leases_a_second_task_and_no_more(session):
    world = make_world(session, n_items=5, overlap=1)
    project_id = world.project_ids["A"]
    a1 = world.actors["labeller-a1"]
    current = queue.next_task(session, a1, project_id)
    ahead = queue.next_task(session, a1, project_id, prefetch=True)
    again = queue.next_task(session, a1, project_id, prefetch=True)
    assert current is not None and ahead is not None and again is not None
    assert ahead.assignment_id != current.assignment_id
    assert again.assignment_id == ahead.assignment_id
    assert queue.next_task(session, a1, project_id).assignment_id == current.assignment_id
    labelling.submit_label(session, a1, current.assignment_id, ["compliant"])
    assert queue.next_task(session, a1, project_id).assignment_id == ahead.assignment_id


def test_vendor_progress_hides_gold_and_other_vendors_work(session):
    from labelops.services import projects
    from labelops.services.policy import SYSTEM_ACTOR

    world = make_world(session, n_items=4, overlap=1)
    project_id = world.project_ids["A"]
    projects.update_project(
        session, SYSTEM_ACTOR, project_id, vendor_ids=[world.vendor_ids["A"], world.vendor_ids["B"]]
    )
    session.execute(Task.__table__.update().where(Task.id == 1).values(is_gold=True))
    session.commit()
    b1 = world.actors["labeller-b1"]
    served = queue.next_task(session, b1, project_id)
    assert served is not None
    labelling.submit_label(session, b1, served.assignment_id, ["compliant"])
    admin_view = projects.get_project_progress(session, world.actors["admin"], project_id)
    a_view = projects.get_project_progress(session, world.actors["manager-a"], project_id)
    b_view = projects.get_project_progress(session, world.actors["manager-b"], project_id)
    assert (admin_view.n_tasks, admin_view.n_gold_tasks, admin_view.n_final) == (4, 1, 1)
    assert (a_view.n_tasks, a_view.n_gold_tasks, a_view.n_final, a_view.n_labels) == (3, 0, 0, 0)
    assert (b_view.n_final, b_view.n_labels, b_view.n_complete) == (1, 1, 1)


def test_a_lease_alone_skips_the_disk_sync_but_not_in_a_submits_transaction(session, monkeypatch):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    world = make_world(session, n_items=4, overlap=1)
    labeller, project_id = world.actors["labeller-a1"], world.project_ids["A"]

    def setting() -> str:
        return str(session.connection().exec_driver_sql("SHOW synchronous_commit").scalar())

    # Alone, the lease is one statement in autocommit (its own transaction) that turns
    # the sync off for itself; the setting does not outlive it on the connection.
    seen_alone: list[tuple[bool, str, str]] = []
    lease_alone = queue._LEASE_ALONE_PG.first

    def then_look(connection, params):
        row = lease_alone(connection, params)
        driver = connection.connection.driver_connection
        after = driver.execute("SHOW synchronous_commit").fetchone()[0]
        seen_alone.append((driver.autocommit, row.synchronous_commit, after))
        return row

    monkeypatch.setattr(queue._LEASE_ALONE_PG, "first", then_look)
    served = queue.next_task(session, labeller, project_id)
    assert served is not None and seen_alone == [(True, "off", "on")]
    # Sharing a submit's transaction, it leaves the commit synchronous.
    seen_shared: list[str] = []
    lease = queue.next_task

    def lease_then_look(*args, **kwargs):
        served = lease(*args, **kwargs)
        seen_shared.append(setting())  # still inside the shared transaction
        return served

    monkeypatch.setattr(labelling, "next_task", lease_then_look)
    labelling.submit_label_and_lease_next(session, labeller, served.assignment_id, ["adult"])
    assert seen_shared == ["on"]
    assert len(seen_alone) == 1  # the shared transaction never ran the relaxing statement
