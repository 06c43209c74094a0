"""Disputes and feedback: vendor managers contest verdicts, auditors decide; labellers
see their audited mistakes and gold answers."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelops.services import audits, disputes, feedback, gold, labelling, lots, queue, rework
from labelops.store.audit_models import ReworkItem
from labelops.store.models import AuditEvent, FinalLabel
from labelops.store.types import utcnow


def audited(session, world, n_items, wrong):
    """Vendor A labels all 'gambling'; the auditor marks the first ``wrong`` sampled
    labels incorrect ('compliant') and the rest correct. Returns (lot, audit, views)."""
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, ["gambling"], now=when)
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(session, auditor, lot.id, seed=8)
    views = []
    while (view := audits.next_audit_item(session, auditor, audit.id)) is not None:
        if len(views) < wrong:
            audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["compliant"])
            audits.record_verdict(
                session,
                auditor,
                audit.id,
                view.label_id,
                "incorrect",
                error_type="over_flagging",
                severity="major",
                comment="不是賭博廣告",
            )
        else:
            audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["gambling"])
            audits.record_verdict(session, auditor, audit.id, view.label_id, "correct")
        views.append(view)
    return lot, audits.get_audit(session, auditor, audit.id), views


def test_overturn_flips_verdict_final_label_decision_and_cancels_rework(session):
    world = make_world(session, n_items=10, overlap=1)
    lot, audit, views = audited(session, world, 10, wrong=1)
    plan_reject = audit.design["reject"]
    assert audit.n_defects_random == 1
    if plan_reject > 1:  # make the single defect decisive for this test
        pytest.skip("plan accepts one defect")
    assert audit.decision == "rejected"
    auditor, manager = world.actors["auditor"], world.actors["manager-a"]
    rework.create_rework(session, auditor, audit.id)
    label_id = views[0].label_id
    dispute = disputes.open_dispute(session, manager, audit.id, label_id, "Casino ad, see 2.1")
    with pytest.raises(Conflict):
        disputes.open_dispute(session, manager, audit.id, label_id, "again")
    resolved = disputes.resolve_dispute(session, auditor, dispute.id, "overturn", comment="同意")
    assert resolved.status == "overturned" and resolved.verdict == "correct"
    after = audits.get_audit(session, auditor, audit.id)
    assert after.n_defects_random == 0 and after.decision == "accepted"
    assert lots.get_lot(session, auditor, lot.id).status == "accepted"
    final = session.scalar(
        select(FinalLabel).where(
            FinalLabel.task_id == views[0].task_id, FinalLabel.snapshot_id.is_(None)
        )
    )
    assert final.value == ["gambling"] and final.status == "audited"
    assert session.scalar(select(func.count(ReworkItem.id)).where(ReworkItem.status == "open")) == 0
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"dispute.open", "dispute.resolve", "audit.verdict_overturn", "rework.cancel"} <= actions
    with pytest.raises(Conflict):
        disputes.resolve_dispute(session, auditor, dispute.id, "uphold")


def test_uphold_keeps_verdict_and_rules(session):
    world = make_world(session, n_items=10, overlap=1)
    _, audit, views = audited(session, world, 10, wrong=2)
    auditor, manager = world.actors["auditor"], world.actors["manager-a"]
    wrong_label, right_label = views[0].label_id, views[-1].label_id
    with pytest.raises(NotFound):
        disputes.open_dispute(session, world.actors["manager-b"], audit.id, wrong_label, "no")
    with pytest.raises(PermissionDenied):
        disputes.open_dispute(session, world.actors["labeller-a1"], audit.id, wrong_label, "no")
    with pytest.raises(InvalidInput):
        disputes.open_dispute(session, manager, audit.id, wrong_label, "   ")
    if right_label != wrong_label and len(views) > 2:
        with pytest.raises(Conflict):
            disputes.open_dispute(session, manager, audit.id, right_label, "it was right")
    dispute = disputes.open_dispute(session, manager, audit.id, wrong_label, "I disagree")
    with pytest.raises(PermissionDenied):
        disputes.resolve_dispute(session, manager, dispute.id, "overturn")
    with pytest.raises(InvalidInput):
        disputes.resolve_dispute(session, auditor, dispute.id, "maybe")
    upheld = disputes.resolve_dispute(session, auditor, dispute.id, "uphold")
    assert upheld.status == "upheld" and upheld.verdict == "incorrect"
    assert audits.get_audit(session, auditor, audit.id).n_defects == 2
    assert [d.id for d in disputes.list_disputes(session, manager)] == [dispute.id]
    assert disputes.list_disputes(session, world.actors["manager-b"]) == []
    with pytest.raises(NotFound):
        disputes.get_dispute(session, world.actors["manager-b"], dispute.id)


def test_feedback_shows_mistakes_with_guideline_to_owner_and_manager_only(session):
    world = make_world(session, n_items=10, overlap=1)
    _, audit, views = audited(session, world, 10, wrong=1)
    mine = feedback.list_feedback(session, world.actors["labeller-a1"])
    assert len(mine) == 1
    entry = mine[0]
    assert entry.your_value == ["gambling"] and entry.right_value == ["compliant"]
    assert entry.error_name_zh == "過度標記" and entry.comment == "不是賭博廣告"
    assert entry.guideline[0].key == "compliant" and entry.guideline[0].definition_zh == "合規"
    assert feedback.list_feedback(session, world.actors["labeller-a2"]) == []
    assert len(feedback.list_feedback(session, world.actors["manager-a"])) == 1
    assert feedback.list_feedback(session, world.actors["manager-b"]) == []
    assert len(feedback.list_feedback(session, world.actors["auditor"])) == 1
    assert views[0].label_id == entry.label_id and entry.audit_id == audit.id


class _AlwaysGold(random.Random):
    def random(self) -> float:
        return 0.0


def test_gold_feedback_only_for_owner_after_submit_when_project_allows(session):
    world = make_world(session, n_items=3, overlap=1, gold_rate=0.5)
    project_id = world.project_ids["A"]
    gold.mark_gold(
        session,
        world.actors["auditor"],
        project_id,
        "a-00000",
        ["gambling"],
        explanation_en="Casino chips.",
        explanation_zh="賭場籌碼。",
    )
    labeller = world.actors["labeller-a1"]
    served = queue.next_task(session, labeller, project_id, rng=_AlwaysGold())
    assert served.item["external_id"] == "a-00000"
    assert feedback.gold_feedback(session, labeller, served.assignment_id) is None
    submitted = labelling.submit_label(session, labeller, served.assignment_id, ["compliant"])
    assert submitted.is_gold
    shown = feedback.gold_feedback(session, labeller, served.assignment_id)
    assert shown is not None
    assert shown.right_value == ["gambling"] and not shown.is_correct
    assert shown.explanation_zh == "賭場籌碼。"
    assert (
        feedback.gold_feedback(session, world.actors["labeller-a2"], served.assignment_id) is None
    )
    ordinary = queue.next_task(session, labeller, project_id, rng=random.Random(1))
    assert not labelling.submit_label(
        session, labeller, ordinary.assignment_id, ["compliant"]
    ).is_gold
    assert feedback.gold_feedback(session, labeller, ordinary.assignment_id) is None
    from labelops.store.models import Project

    session.get(Project, project_id).show_gold_feedback = False
    session.commit()
    assert feedback.gold_feedback(session, labeller, served.assignment_id) is None
