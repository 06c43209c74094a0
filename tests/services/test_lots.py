"""Lots: selection by vendor, window and batch; one lot per label; freezing on audit start;
risk scores of a lot's labels (labeller skill learned from gold answers)."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.errors import InvalidInput, NotFound, PermissionDenied
from labelops.quality.aggregation import DawidSkene
from labelops.quality.risk import compute_label_risk, estimate_label_error
from labelops.services import audits, gold, labelling, lots, queue
from labelops.store.audit_models import AuditLot, AuditLotLabel, AuditSample
from labelops.store.models import ImportBatch
from labelops.store.types import utcnow


def label_some(session, world, vendor, project, n, *, when, key="compliant"):
    """Submit ``n`` labels from the vendor's labellers, in turn, at time ``when``."""
    done = 0
    names = [name for name in world.actors if name.startswith(f"labeller-{vendor.lower()}")]
    while done < n:
        progressed = False
        for name in names:
            served = queue.next_task(
                session, world.actors[name], world.project_ids[project], now=when
            )
            if served is None:
                continue
            labelling.submit_label(
                session, world.actors[name], served.assignment_id, [key], now=when
            )
            done += 1
            progressed = True
            if done == n:
                break
        if not progressed:
            break
    return done


def test_lot_takes_vendor_labels_in_window_once(session):
    world = make_world(session, n_items=10, overlap=1)
    start = utcnow() - timedelta(days=3)
    label_some(session, world, "A", "A", 4, when=start)
    label_some(session, world, "A", "A", 3, when=start + timedelta(days=1))
    auditor = world.actors["auditor"]
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    first = lots.create_lot(
        session,
        auditor,
        project_id,
        vendor_id,
        since=start - timedelta(hours=1),
        until=start + timedelta(hours=1),
    )
    assert (first.n_labels, first.status, first.kind) == (4, "closed", "period")
    rest = lots.create_lot(session, auditor, project_id, vendor_id)
    assert rest.n_labels == 3 and rest.status == "open"
    with pytest.raises(InvalidInput) as caught:
        lots.create_lot(session, auditor, project_id, vendor_id)
    assert caught.value.message_id == "errors.lot.empty"
    assert session.scalar(select(func.count()).select_from(AuditLotLabel)) == 7
    listed = lots.list_lots(session, auditor, project_id)
    assert [lot.n_labels for lot in listed] == [4, 3]


def test_lot_by_import_batch_and_bad_input(session):
    world = make_world(session, n_items=4, overlap=1)
    label_some(session, world, "A", "A", 4, when=utcnow())
    auditor = world.actors["auditor"]
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    batch_id = session.scalar(select(ImportBatch.id).where(ImportBatch.project_id == project_id))
    with pytest.raises(NotFound):
        lots.create_lot(session, auditor, project_id, world.vendor_ids["B"])
    with pytest.raises(InvalidInput):
        lots.create_lot(
            session,
            auditor,
            project_id,
            vendor_id,
            since=utcnow(),
            until=utcnow() - timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):
        lots.create_lot(session, world.actors["manager-a"], project_id, vendor_id)
    lot = lots.create_lot(session, auditor, project_id, vendor_id, import_batch_id=batch_id)
    assert (lot.kind, lot.n_labels) == ("import_batch", 4)
    assert session.scalar(select(func.count(AuditLot.id))) == 1


def test_lots_are_vendor_scoped(session):
    world = make_world(session, n_items=3, overlap=1)
    label_some(session, world, "A", "A", 3, when=utcnow())
    lot = lots.create_lot(
        session, world.actors["auditor"], world.project_ids["A"], world.vendor_ids["A"]
    )
    assert lots.get_lot(session, world.actors["manager-a"], lot.id).n_labels == 3
    with pytest.raises(NotFound):
        lots.get_lot(session, world.actors["manager-b"], lot.id)
    with pytest.raises(NotFound):
        lots.list_lots(session, world.actors["manager-b"], world.project_ids["A"])


def test_audit_of_lot_still_being_labelled_freezes_it(session):
    world = make_world(session, n_items=12, overlap=1)
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    auditor = world.actors["auditor"]
    t0 = utcnow() - timedelta(hours=2)
    label_some(session, world, "A", "A", 4, when=t0)
    lot = lots.create_lot(session, auditor, project_id, vendor_id, now=t0 + timedelta(minutes=1))
    assert lot.status == "open" and lot.n_labels == 4
    label_some(session, world, "A", "A", 3, when=t0 + timedelta(minutes=30))
    freeze_at = t0 + timedelta(hours=1)
    audit = audits.start_audit(session, auditor, lot.id, plan="aql", aql=1.0, seed=7, now=freeze_at)
    frozen = lots.get_lot(session, auditor, lot.id)
    assert frozen.n_labels == 7 and frozen.status == "auditing" and frozen.frozen_at == freeze_at
    assert audit.design["lot_size"] == 7
    label_some(session, world, "A", "A", 2, when=freeze_at + timedelta(minutes=5))
    assert lots.get_lot(session, auditor, lot.id).n_labels == 7
    following = lots.create_lot(session, auditor, project_id, vendor_id)
    assert following.n_labels == 2


def test_freeze_replaces_revised_labels_by_their_current_revision(session):
    world = make_world(session, n_items=3, overlap=2)
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    labeller, auditor = world.actors["labeller-a1"], world.actors["auditor"]
    when = utcnow() - timedelta(hours=1)
    assignments = []
    while (served := queue.next_task(session, labeller, project_id, now=when)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["compliant"], now=when)
        assignments.append(served.assignment_id)
    lot = lots.create_lot(session, auditor, project_id, vendor_id, until=utcnow())
    assert lot.status == "closed"
    revised = labelling.submit_label(session, labeller, assignments[0], ["adult"])
    assert revised.created and revised.label.revision == 2
    audits.start_audit(session, auditor, lot.id, seed=1)
    members = set(lots.lot_label_ids(session, lot.id))
    assert revised.label.id in members and len(members) == 3


class _GoldFirst(random.Random):
    """Draws 0.0, so the queue serves a labeller's gold tasks before the others."""

    def random(self) -> float:
        return 0.0


def test_risk_scores_learn_labeller_skill_from_gold_answers(session):
    """Two labellers who look alike on the lot; only gold shows that ``bad`` is unreliable.

    On the 30 lot items they agree on 20 and split on 10, taking each side of the split
    equally often, so nothing in the lot itself says whose label to distrust. On the 10 gold
    items ``good`` gives the gold answer and ``bad`` a wrong one. A risk score that uses the
    gold answers as known truth (Dawid-Skene fitted with gold clamped, then
    ``estimate_label_error(..., gold=...)``) must rank every split label of ``bad`` above
    every split label of ``good``; one that skips gold items cannot tell them apart.
    """
    world = make_world(session, n_items=40, overlap=2, n_labellers=2, gold_rate=0.5)
    project_id, vendor_id = world.project_ids["A"], world.vendor_ids["A"]
    auditor = world.actors["auditor"]
    good, bad = world.actors["labeller-a1"], world.actors["labeller-a2"]
    classes = ("compliant", "gambling")
    for index in range(10):
        gold.mark_gold(
            session,
            auditor,
            project_id,
            f"a-{index:05d}",
            [classes[index % 2]],
            explanation_en="why",
            explanation_zh="原因",
        )

    def answer(actor, index):
        right = classes[index % 2]
        wrong = classes[1 - index % 2]
        if index < 10:  # gold
            return right if actor is good else wrong
        if index < 30:  # agreed
            return right
        # split: good takes "right" on even items, bad on odd ones
        return right if (actor is good) == (index % 2 == 0) else wrong

    when = utcnow() - timedelta(minutes=5)
    label_of: dict[int, tuple[str, int]] = {}
    answers: list[tuple[int, str, str, int]] = []
    gold_of: dict[int, str] = {}
    for name, actor in (("good", good), ("bad", bad)):
        while (
            served := queue.next_task(session, actor, project_id, now=when, rng=_GoldFirst())
        ) is not None:
            index = int(served.item["external_id"].split("-")[1])
            result = labelling.submit_label(
                session, actor, served.assignment_id, [answer(actor, index)], now=when
            )
            label_of[result.label.id] = (name, index)
            answers.append((served.task_id, name, answer(actor, index), result.label.id))
            if index < 10:
                gold_of[served.task_id] = classes[index % 2]
    lot = lots.create_lot(session, auditor, project_id, vendor_id)
    label_ids = lots.lot_label_ids(session, lot.id)
    assert lot.n_labels == 60  # gold labels are never lot members
    assert all(label_of[i][1] >= 10 for i in label_ids)

    scores = lots.compute_label_risk_scores(session, project_id, label_ids)
    assert set(scores) == set(label_ids)
    split = {
        who: [scores[i] for i in label_ids if label_of[i][0] == who and label_of[i][1] >= 30]
        for who in ("good", "bad")
    }
    assert len(split["good"]) == len(split["bad"]) == 10
    assert min(split["bad"]) > max(split["good"]) + 0.2
    agreed = [scores[i] for i in label_ids if label_of[i][1] < 30]
    assert max(agreed) < min(split["bad"])
    # ... and is exactly the pipeline of bench/audit_yield.py (no speed signal here).
    frame = pd.DataFrame(answers, columns=["item_id", "labeller_id", "label", "label_id"])
    truth = pd.Series(gold_of)
    posterior = DawidSkene().fit(frame, gold=truth).probas_
    error = estimate_label_error(frame, posterior, gold=truth).probability
    risk = compute_label_risk(posterior_disagreement=error)
    expected = dict(zip(frame["label_id"], risk, strict=True))
    assert [scores[i] for i in label_ids] == pytest.approx([expected[i] for i in label_ids])
    # Scores come from the label's own project only (project B has no labels).
    elsewhere = lots.compute_label_risk_scores(session, world.project_ids["B"], label_ids[:1])
    assert list(elsewhere) == label_ids[:1] and math.isnan(elsewhere[label_ids[0]])

    # The production audit path ranks the same way: its targeted part is bad's split labels.
    audit = audits.start_audit(
        session, auditor, lot.id, plan="margin", margin=0.3, targeted=5, seed=3
    )
    targeted = session.scalars(
        select(AuditSample.label_id).where(
            AuditSample.audit_id == audit.id, AuditSample.part == "targeted"
        )
    ).all()
    assert len(targeted) == 5
    assert {label_of[i][0] for i in targeted} == {"bad"}
    assert all(label_of[i][1] >= 30 for i in targeted)
