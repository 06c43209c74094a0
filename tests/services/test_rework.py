"""Rework: a rejected lot's labels go back, get relabelled, and form a re-audit lot."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.errors import Conflict, NotFound, PermissionDenied
from labelops.services import audits, labelling, lots, queue, rework
from labelops.store.audit_models import ReworkItem
from labelops.store.models import AuditEvent, FinalLabel, Label
from labelops.store.types import utcnow


def rejected_audit(session, world, n_items=10):
    """Vendor A labels everything 'gambling'; the auditor says 'compliant' throughout."""
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, ["gambling"], now=when)
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, seed=1)
    while (view := audits.next_audit_item(session, auditor, audit.id)) is not None:
        audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["compliant"])
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            "incorrect",
            error_type="over_flagging",
            severity="major",
        )
    assert audits.get_audit(session, auditor, audit.id).decision == "rejected"
    return lot, audit


def test_rework_round_trip_and_re_audit_lot(session):
    world = make_world(session, n_items=8, overlap=1)
    lot, audit = rejected_audit(session, world)
    auditor = world.actors["auditor"]
    summary = rework.create_rework(session, auditor, audit.id, priority=50)
    assert summary.n_items == 8 and summary.target_vendor_id == world.vendor_ids["A"]
    with pytest.raises(Conflict):
        rework.create_rework(session, auditor, audit.id)
    project_id = world.project_ids["A"]
    own = world.actors["labeller-a1"]
    other = world.actors["labeller-a2"]
    first = rework.next_rework_task(session, own, project_id)
    assert first.previous_value == ["gambling"]
    assert rework.next_rework_task(session, own, project_id).rework_id == first.rework_id
    done = rework.submit_rework(session, own, first.rework_id, ["compliant"])
    assert done.revision == 2
    second = rework.next_rework_task(session, other, project_id)
    assert second.previous_value is None and second.rework_id != first.rework_id
    result = rework.submit_rework(session, other, second.rework_id, ["compliant"])
    assert result.revision == 1
    current = session.scalars(
        select(Label).where(Label.task_id == second.task_id, Label.is_current.is_(True))
    ).all()
    assert [(label.labeller_id, label.value) for label in current] == [
        (other.user_id, ["compliant"])
    ]
    assert session.scalar(select(func.count(Label.id)).where(Label.task_id == second.task_id)) == 2
    with pytest.raises(Conflict):
        rework.submit_rework(session, other, second.rework_id, ["adult"])
    progress = rework.get_rework_progress(session, world.actors["manager-a"], lot.id)
    assert (progress.n_total, progress.n_done, progress.n_open) == (8, 2, 6)
    again = lots.create_lot(
        session, auditor, project_id, world.vendor_ids["A"], rework_of_lot_id=lot.id
    )
    assert (again.kind, again.n_labels) == ("rework", 2)
    re_audit = audits.start_audit(session, auditor, again.id, seed=4)
    assert re_audit.n_sample == 2  # a lot of 2 is inspected in full
    while (view := audits.next_audit_item(session, auditor, re_audit.id)) is not None:
        assert view.vendor_value is None
        audits.submit_blind_answer(session, auditor, re_audit.id, view.label_id, ["compliant"])
        audits.record_verdict(session, auditor, re_audit.id, view.label_id, "correct")
    assert audits.get_audit(session, auditor, re_audit.id).decision == "accepted"
    assert (
        session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "rework.submit")
        )
        == 2
    )


def test_rework_rules_and_scoping(session):
    world = make_world(session, n_items=6, overlap=1)
    lot, audit = rejected_audit(session, world)
    project_id = world.project_ids["A"]
    with pytest.raises(PermissionDenied):
        rework.create_rework(session, world.actors["manager-a"], audit.id)
    with pytest.raises(NotFound):
        rework.create_rework(
            session, world.actors["auditor"], audit.id, target_vendor_id=world.vendor_ids["B"]
        )
    rework.create_rework(session, world.actors["auditor"], audit.id)
    with pytest.raises(NotFound):
        rework.next_rework_task(session, world.actors["labeller-b1"], project_id)
    with pytest.raises(PermissionDenied):
        rework.next_rework_task(session, world.actors["manager-a"], project_id)
    task = rework.next_rework_task(session, world.actors["labeller-a1"], project_id)
    with pytest.raises(Conflict):
        rework.submit_rework(session, world.actors["labeller-a2"], task.rework_id, ["adult"])
    with pytest.raises(NotFound):
        rework.submit_rework(session, world.actors["labeller-b1"], task.rework_id, ["adult"])
    with pytest.raises(NotFound):
        rework.get_rework_progress(session, world.actors["manager-b"], lot.id)
    assert session.scalar(select(func.count(ReworkItem.id)).where(ReworkItem.status == "done")) == 0


def test_rework_needs_a_rejected_lot_and_refreshes_unaudited_final(session):
    world = make_world(session, n_items=20, overlap=1)
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, ["gambling"], now=when)
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, plan="margin", margin=0.4, seed=3)
    with pytest.raises(Conflict):
        rework.create_rework(session, auditor, audit.id)
    while (view := audits.next_audit_item(session, auditor, audit.id)) is not None:
        audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["compliant"])
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            "incorrect",
            error_type="wrong_label",
            severity="minor",
        )
    rework.create_rework(session, auditor, audit.id)
    task = rework.next_rework_task(session, actor, project_id)
    before = session.scalar(
        select(FinalLabel).where(
            FinalLabel.task_id == task.task_id, FinalLabel.snapshot_id.is_(None)
        )
    )
    was_audited = before.status == "audited"
    rework.submit_rework(session, actor, task.rework_id, ["adult"])
    session.expire_all()
    after = session.scalar(
        select(FinalLabel).where(
            FinalLabel.task_id == task.task_id, FinalLabel.snapshot_id.is_(None)
        )
    )
    if was_audited:
        assert after.value == ["compliant"] and after.status == "audited"
    else:
        assert after.value == ["adult"] and after.status == "final"


def test_concurrent_labellers_never_share_a_rework_item(session, session_factory):
    world = make_world(session, n_items=8, overlap=1)
    _, audit = rejected_audit(session, world)
    rework.create_rework(session, world.actors["auditor"], audit.id)
    project_id = world.project_ids["A"]
    names = ["labeller-a1", "labeller-a2", "labeller-a3"]
    barrier = threading.Barrier(len(names))

    def work(name):
        done = []
        with session_factory() as own:
            barrier.wait()
            while (
                task := rework.next_rework_task(own, world.actors[name], project_id)
            ) is not None:
                rework.submit_rework(own, world.actors[name], task.rework_id, ["compliant"])
                done.append(task.rework_id)
        return done

    with ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(work, names))
    everything = [rework_id for done in results for rework_id in done]
    assert len(everything) == len(set(everything)) == 8
    assert session.scalar(select(func.count(ReworkItem.id)).where(ReworkItem.status == "done")) == 8
