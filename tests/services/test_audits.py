"""Audits: seeded plans, blind review, verdicts, final labels, decision, report, switching."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from labelops.quality.sampling import draw_simple_random, find_sampling_plan
from labelops.services import audits, labelling, lots, queue
from labelops.store.audit_models import Audit, AuditSample, SwitchingRecord
from labelops.store.models import AuditEvent, FinalLabel, Label
from labelops.store.types import utcnow


def make_lot(session, world, n_labels, *, key="gambling", vendor="A"):
    """Submit up to ``n_labels`` labels of ``key`` from the vendor's labellers; lot them."""
    project_id = world.project_ids[vendor]
    names = [n for n in world.actors if n.startswith(f"labeller-{vendor.lower()}")]
    when = utcnow() - timedelta(minutes=5)
    done = 0
    for name in names:
        actor = world.actors[name]
        while (
            done < n_labels
            and (served := queue.next_task(session, actor, project_id, now=when)) is not None
        ):
            labelling.submit_label(session, actor, served.assignment_id, [key], now=when)
            done += 1
    return lots.create_lot(session, world.actors["auditor"], project_id, world.vendor_ids[vendor])


def review_all(session, auditor, audit_id, answer):
    """Review every sampled label: blind answer ``answer``, verdict by comparison."""
    while (view := audits.next_audit_item(session, auditor, audit_id)) is not None:
        revealed = audits.submit_blind_answer(session, auditor, audit_id, view.label_id, [answer])
        if revealed.vendor_value == [answer]:
            audits.record_verdict(session, auditor, audit_id, view.label_id, "correct")
        else:
            audits.record_verdict(
                session,
                auditor,
                audit_id,
                view.label_id,
                "incorrect",
                error_type="wrong_label",
                severity="major",
                comment="見準則 3.2",
            )


def test_aql_audit_draws_recorded_seeded_sample(session):
    world = make_world(session, n_items=30, overlap=1)
    lot = make_lot(session, world, 30)
    audit = audits.start_audit(session, world.actors["auditor"], lot.id, aql="1.0", seed=42)
    plan = find_sampling_plan(30, 1.0)
    assert (audit.n_random, audit.n_targeted) == (plan.sample_size, 0)
    assert audit.design["accept"] == plan.accept and audit.design["reject"] == plan.reject
    assert audit.design["inspection"] == "normal" and audit.seed == 42
    expected = draw_simple_random(lots.lot_label_ids(session, lot.id), plan.sample_size, seed=42)
    drawn = session.scalars(
        select(AuditSample.label_id)
        .where(AuditSample.audit_id == audit.id)
        .order_by(AuditSample.position)
    ).all()
    assert list(drawn) == list(expected.ids)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.start"))
    assert event.after["random_label_ids"] == list(expected.ids) and event.after["seed"] == 42


def test_blind_review_hides_vendor_label_until_answered_and_sets_final(session):
    world = make_world(session, n_items=10, overlap=1)
    lot = make_lot(session, world, 10)
    auditor = world.actors["auditor"]
    audit = audits.start_audit(session, auditor, lot.id, seed=1)
    view = audits.next_audit_item(session, auditor, audit.id)
    assert view.stage == "blind" and view.vendor_value is None
    with pytest.raises(Conflict):
        audits.record_verdict(session, auditor, audit.id, view.label_id, "correct")
    revealed = audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["adult"])
    assert revealed.stage == "verdict" and revealed.vendor_value == ["gambling"]
    done = audits.record_verdict(
        session,
        auditor,
        audit.id,
        view.label_id,
        "incorrect",
        error_type="over_flagging",
        severity="minor",
    )
    assert done.stage == "done" and done.corrected_value == ["adult"]
    final = session.scalar(
        select(FinalLabel).where(
            FinalLabel.task_id == view.task_id, FinalLabel.snapshot_id.is_(None)
        )
    )
    assert (final.value, final.status, final.method) == (["adult"], "audited", "audit")
    with pytest.raises(Conflict):
        audits.record_verdict(session, auditor, audit.id, view.label_id, "correct")
    assert audits.get_audit(session, auditor, audit.id).n_defects_random == 1


def test_lot_accepted_with_clean_sample_and_report(session):
    world = make_world(session, n_items=20, overlap=1)
    lot = make_lot(session, world, 20)
    auditor = world.actors["auditor"]
    audit = audits.start_audit(session, auditor, lot.id, seed=3)
    review_all(session, auditor, audit.id, "gambling")
    report = audits.get_audit_report(session, auditor, audit.id)
    assert report.audit.decision == "accepted" and report.audit.status == "decided"
    assert report.estimate.accuracy_rate == 1.0 and report.estimate.method == "wilson_fpc"
    assert report.next_inspection == "normal"
    assert [q.label for q in report.class_quality] == ["gambling"]
    assert lots.get_lot(session, auditor, lot.id).status == "accepted"
    assert audits.close_audit(session, auditor, audit.id).decision == "accepted"


def test_rejection_by_ac_re_advances_switching_state(session):
    world = make_world(session, n_items=40, overlap=1)
    auditor = world.actors["auditor"]
    first = make_lot(session, world, 20)
    audit = audits.start_audit(session, auditor, first.id, aql=1.0, seed=5)
    review_all(session, auditor, audit.id, "compliant")
    report = audits.get_audit_report(session, auditor, audit.id)
    assert report.audit.decision == "rejected"
    assert report.audit.n_defects_random >= report.reject
    assert report.errors_by_type == {"wrong_label": report.audit.n_defects}
    record = session.scalar(select(SwitchingRecord))
    assert record.inspection == "normal" and record.state["recent_normal_results"] == [False]
    second = make_lot(session, world, 20)
    audit2 = audits.start_audit(session, auditor, second.id, aql=1.0, seed=6)
    review_all(session, auditor, audit2.id, "compliant")
    assert session.scalar(select(SwitchingRecord)).inspection == "tightened"
    third = audits.get_audit_report(session, auditor, audit2.id)
    assert third.next_inspection == "tightened"


def test_bad_input_is_refused_and_nothing_written(session):
    world = make_world(session, n_items=6, overlap=1)
    auditor = world.actors["auditor"]
    lot = make_lot(session, world, 6)
    with pytest.raises(InvalidInput) as caught:
        audits.start_audit(session, auditor, lot.id, aql=0.7)
    assert "0.65" in caught.value.render("en")
    with pytest.raises(InvalidInput):
        audits.start_audit(session, auditor, lot.id, plan="vibes")
    with pytest.raises(PermissionDenied):
        audits.start_audit(session, world.actors["manager-a"], lot.id)
    assert session.scalar(select(func.count(Audit.id))) == 0
    audit = audits.start_audit(session, auditor, lot.id, seed=9)
    with pytest.raises(Conflict):
        audits.start_audit(session, auditor, lot.id)
    outside = session.scalar(
        select(Label.id).where(Label.id.not_in(select(AuditSample.label_id))).limit(1)
    )
    if outside is not None:
        with pytest.raises(NotFound):
            audits.record_verdict(session, auditor, audit.id, outside, "correct")
    with pytest.raises(NotFound) as missing:
        audits.record_verdict(session, auditor, audit.id, 999_999, "correct")
    assert "not in the sample" in missing.value.render("en")
    view = audits.next_audit_item(session, auditor, audit.id)
    audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["adult"])
    with pytest.raises(InvalidInput) as bad_label:
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            "incorrect",
            error_type="wrong_label",
            severity="major",
            corrected=["weapons"],
        )
    assert bad_label.value.field == "corrected"
    with pytest.raises(InvalidInput):
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            "incorrect",
            error_type="typo",
            severity="major",
        )
    with pytest.raises(InvalidInput):
        audits.record_verdict(
            session,
            auditor,
            audit.id,
            view.label_id,
            "incorrect",
            error_type="wrong_label",
            severity="huge",
        )
    assert (
        session.scalar(select(func.count(AuditSample.id)).where(AuditSample.verdict.is_not(None)))
        == 0
    )
    assert (
        session.scalar(select(func.count(FinalLabel.id)).where(FinalLabel.status == "audited")) == 0
    )


def test_lot_of_one_label_cannot_be_sampled(session):
    world = make_world(session, n_items=1, overlap=1)
    lot = make_lot(session, world, 1)
    with pytest.raises(InvalidInput) as caught:
        audits.start_audit(session, world.actors["auditor"], lot.id)
    assert caught.value.message_id == "sampling.lot_of_one"
    with pytest.raises(InvalidInput):
        audits.start_audit(session, world.actors["auditor"], lot.id, plan="margin")
    assert session.scalar(select(func.count(Audit.id))) == 0


def test_stratified_plan_records_weights_and_uses_stratified_estimator(session):
    world = make_world(session, n_items=30, overlap=1)
    project_id = world.project_ids["A"]
    when = utcnow() - timedelta(minutes=5)
    actor = world.actors["labeller-a1"]
    index = 0
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        key = "gambling" if index % 5 == 0 else "compliant"
        labelling.submit_label(session, actor, served.assignment_id, [key], now=when)
        index += 1
    auditor = world.actors["auditor"]
    lot = lots.create_lot(session, auditor, project_id, world.vendor_ids["A"])
    audit = audits.start_audit(
        session,
        auditor,
        lot.id,
        plan="stratified",
        margin=0.2,
        allocation="equal",
        targeted=2,
        seed=11,
    )
    assert audit.n_targeted == 2
    strata = {row["stratum"]: row for row in audit.design["strata"]}
    assert set(strata) == {"compliant", "gambling"}
    assert strata["gambling"]["population_size"] == 6
    assert sum(row["sample_size"] for row in strata.values()) == audit.n_random
    review_all(session, auditor, audit.id, "compliant")
    report = audits.get_audit_report(session, auditor, audit.id)
    assert report.estimate.method == "stratified_wilson"
    assert report.estimate.n_audited == audit.n_random and report.n_targeted_reviewed == 2
    assert report.estimate.accuracy_rate == pytest.approx(24 / 30)
    assert report.audit.decision == "rejected"  # 0.8 < target 0.95


def test_margin_plan_with_targeted_part_kept_apart(session):
    world = make_world(session, n_items=30, overlap=2)
    lot = make_lot(session, world, 30)
    auditor = world.actors["auditor"]
    audit = audits.start_audit(
        session, auditor, lot.id, plan="margin", margin=0.3, targeted=3, seed=2
    )
    assert audit.n_targeted == 3 and audit.n_random == audit.design["sample_size"]
    parts = session.execute(
        select(AuditSample.part, AuditSample.risk_score).where(AuditSample.audit_id == audit.id)
    ).all()
    assert sum(1 for part, _ in parts if part == "targeted") == 3
    assert all(score is not None for part, score in parts if part == "targeted")
    review_all(session, auditor, audit.id, "gambling")
    report = audits.get_audit_report(session, auditor, audit.id)
    assert report.estimate.n_audited == audit.n_random
    assert report.n_targeted_reviewed == 3


def test_vendor_roles_see_only_their_reviewed_items(session):
    world = make_world(session, n_items=10, overlap=1)
    lot = make_lot(session, world, 10)
    auditor = world.actors["auditor"]
    audit = audits.start_audit(session, auditor, lot.id, seed=4)
    view = audits.next_audit_item(session, auditor, audit.id)
    audits.submit_blind_answer(session, auditor, audit.id, view.label_id, ["gambling"])
    manager = world.actors["manager-a"]
    assert audits.list_audit_items(session, manager, audit.id) == []
    hidden = audits.get_audit(session, manager, audit.id)
    assert hidden.seed is None and "seed" not in hidden.design
    with pytest.raises(NotFound):
        audits.get_audit_item(session, manager, audit.id, view.label_id)
    with pytest.raises(PermissionDenied):
        audits.next_audit_item(session, manager, audit.id)
    audits.record_verdict(session, auditor, audit.id, view.label_id, "correct")
    [seen] = audits.list_audit_items(session, manager, audit.id)
    assert seen.blind_value == ["gambling"] and seen.verdict == "correct"
    for call in (
        lambda: audits.get_audit(session, world.actors["manager-b"], audit.id),
        lambda: audits.get_audit_report(session, world.actors["manager-b"], audit.id),
        lambda: audits.list_audit_items(session, world.actors["manager-b"], audit.id),
    ):
        with pytest.raises(NotFound):
            call()
    assert audits.list_audits(session, world.actors["manager-b"]) == []


def test_error_type_list_is_versioned(session):
    world = make_world(session, n_items=20, overlap=1)
    auditor = world.actors["auditor"]
    first = make_lot(session, world, 10)
    old = audits.start_audit(session, auditor, first.id, seed=1)
    assert old.error_type_version == 1
    with pytest.raises(InvalidInput):
        audits.create_error_type_list(session, auditor, [("Bad Key", "x", "x")])
    with pytest.raises(InvalidInput):
        audits.create_error_type_list(session, auditor, [("policy_gap", "Policy gap", " ")])
    new = audits.create_error_type_list(
        session, auditor, [("policy_gap", "Policy gap", "政策缺口"), ("wrong_label", "Wrong", "錯")]
    )
    assert [t.list_version for t in new] == [2, 2]
    assert [t.key for t in audits.list_error_types(session, auditor)] == [
        "policy_gap",
        "wrong_label",
    ]
    second = make_lot(session, world, 10)
    fresh = audits.start_audit(session, auditor, second.id, seed=2)
    assert fresh.error_type_version == 2
    view = audits.next_audit_item(session, auditor, fresh.id)
    audits.submit_blind_answer(session, auditor, fresh.id, view.label_id, ["adult"])
    with pytest.raises(InvalidInput):
        audits.record_verdict(
            session,
            auditor,
            fresh.id,
            view.label_id,
            "incorrect",
            error_type="over_flagging",
            severity="minor",
        )
    audits.record_verdict(
        session,
        auditor,
        fresh.id,
        view.label_id,
        "incorrect",
        error_type="policy_gap",
        severity="minor",
    )
    old_view = audits.next_audit_item(session, auditor, old.id)
    audits.submit_blind_answer(session, auditor, old.id, old_view.label_id, ["adult"])
    audits.record_verdict(
        session,
        auditor,
        old.id,
        old_view.label_id,
        "incorrect",
        error_type="over_flagging",
        severity="minor",
    )


def test_switching_discontinues_after_rejections_on_tightened_and_resumes(session):
    world = make_world(session, n_items=18, overlap=1)
    auditor = world.actors["auditor"]
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    seen = []
    for seed in range(7):
        lot = make_lot(session, world, 2)
        audit = audits.start_audit(session, auditor, lot.id, seed=seed)
        review_all(session, auditor, audit.id, "compliant")
        seen.append(audits.read_switching_state(session, auditor, project_id, vendor_id).inspection)
    assert seen == [
        "normal",
        "tightened",
        "tightened",
        "tightened",
        "tightened",
        "tightened",
        "discontinued",
    ]
    blocked = make_lot(session, world, 2)
    with pytest.raises(Conflict):
        audits.start_audit(session, auditor, blocked.id)
    override = audits.start_audit(session, auditor, blocked.id, inspection="normal", seed=1)
    review_all(session, auditor, override.id, "compliant")
    assert audits.read_switching_state(session, auditor, project_id, vendor_id).inspection == (
        "discontinued"
    )
    with pytest.raises(NotFound):
        audits.read_switching_state(session, world.actors["manager-b"], project_id, vendor_id)
    resumed = audits.resume_switching(session, auditor, project_id, vendor_id)
    assert resumed.inspection == "tightened"
    with pytest.raises(Conflict):
        audits.resume_switching(session, auditor, project_id, vendor_id)


def test_parallel_verdicts_decide_once_and_advance_switching_once(session, session_factory):
    world = make_world(session, n_items=30, overlap=1)
    auditor = world.actors["auditor"]
    lot = make_lot(session, world, 30)
    audit = audits.start_audit(session, auditor, lot.id, seed=12)
    label_ids = list(
        session.scalars(select(AuditSample.label_id).where(AuditSample.audit_id == audit.id))
    )
    for label_id in label_ids:
        audits.submit_blind_answer(session, auditor, audit.id, label_id, ["compliant"])
    halves = [label_ids[0::2], label_ids[1::2]]
    barrier = threading.Barrier(2)

    def review(ids):
        with session_factory() as own:
            barrier.wait()
            for label_id in ids:
                audits.record_verdict(
                    own,
                    auditor,
                    audit.id,
                    label_id,
                    "incorrect",
                    error_type="wrong_label",
                    severity="minor",
                )

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(review, halves))
    session.expire_all()
    decided = audits.get_audit(session, auditor, audit.id)
    assert decided.n_reviewed == len(label_ids) and decided.decision == "rejected"
    decisions = session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "audit.decide")
    )
    assert decisions == 1
    state = session.scalar(select(SwitchingRecord))
    assert state.state["lots_inspected"] == 1
