"""Gold items: marking, file import (all or nothing), live accuracy with Wilson intervals."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import func, select

from factories import make_world
from labelops.errors import InvalidInput, InvalidRows, NotFound, PermissionDenied
from labelops.quality.intervals import wilson_interval
from labelops.services import gold, labelling, queue
from labelops.store.models import AuditEvent, GoldAnswer, Item, Task


class _AlwaysGold(random.Random):
    """Draws 0.0, so the queue always tries a gold task first."""

    def random(self) -> float:
        return 0.0


def _task_of(session, external_id):
    return session.scalar(
        select(Task).join(Item, Item.id == Task.item_id).where(Item.external_id == external_id)
    )


def test_mark_gold_sets_flag_answer_and_trail(session):
    world = make_world(session, n_items=4, overlap=1)
    auditor = world.actors["auditor"]
    answer = gold.mark_gold(
        session,
        auditor,
        world.project_ids["A"],
        "a-00001",
        ["gambling"],
        explanation_en="Online casino offer.",
        explanation_zh="線上賭場優惠。",
    )
    assert answer.value == ["gambling"]
    task = _task_of(session, "a-00001")
    assert task.is_gold and task.status == "open"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "gold.mark")).all()
    assert len(events) == 1 and events[0].after["value"] == ["gambling"]
    again = gold.mark_gold(
        session,
        auditor,
        world.project_ids["A"],
        "a-00001",
        ["adult"],
        explanation_en="Adult.",
        explanation_zh="成人。",
    )
    assert again.id == answer.id and again.value == ["adult"]
    assert session.scalar(select(func.count(GoldAnswer.id))) == 1


def test_mark_gold_refuses_bad_label_missing_explanation_and_vendor_roles(session):
    world = make_world(session, n_items=2, overlap=1)
    auditor = world.actors["auditor"]
    project_id = world.project_ids["A"]
    with pytest.raises(InvalidInput) as caught:
        gold.mark_gold(
            session,
            auditor,
            project_id,
            "a-00000",
            ["weapons"],
            explanation_en="x",
            explanation_zh="x",
        )
    assert "compliant, gambling" in caught.value.render("en")
    with pytest.raises(InvalidInput):
        gold.mark_gold(
            session,
            auditor,
            project_id,
            "a-00000",
            ["adult"],
            explanation_en="Adult",
            explanation_zh=" ",
        )
    with pytest.raises(NotFound):
        gold.mark_gold(
            session,
            auditor,
            project_id,
            "b-00000",
            ["adult"],
            explanation_en="a",
            explanation_zh="b",
        )
    with pytest.raises(PermissionDenied):
        gold.mark_gold(
            session,
            world.actors["manager-a"],
            project_id,
            "a-00000",
            ["adult"],
            explanation_en="a",
            explanation_zh="b",
        )
    assert session.scalar(select(func.count(GoldAnswer.id))) == 0


def test_import_gold_csv_and_jsonl(session, tmp_path):
    world = make_world(session, n_items=4, overlap=1)
    csv_file = tmp_path / "gold.csv"
    csv_file.write_text(
        "external_id,label,explanation_en,explanation_zh\n"
        "a-00000,gambling,Casino,賭場\n"
        "a-00001,compliant,Plain shop,一般商店\n",
        encoding="utf-8",
    )
    report = gold.import_gold_file(
        session, world.actors["auditor"], world.project_ids["A"], csv_file
    )
    assert (report.n_rows, report.n_created, report.n_updated) == (2, 2, 0)
    jsonl = tmp_path / "gold.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "external_id": "a-00001",
                "label": "adult",
                "explanation_en": "Adult",
                "explanation_zh": "成人",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    report = gold.import_gold_file(session, world.actors["auditor"], world.project_ids["A"], jsonl)
    assert (report.n_created, report.n_updated) == (0, 1)
    listed = gold.list_gold(session, world.actors["auditor"], world.project_ids["A"])
    assert [(ext, g.value) for ext, g in listed] == [
        ("a-00000", ["gambling"]),
        ("a-00001", ["adult"]),
    ]


def test_import_gold_file_lands_whole_or_not_at_all(session, tmp_path):
    world = make_world(session, n_items=4, overlap=1)
    bad = tmp_path / "gold.csv"
    bad.write_text(
        "external_id,label,explanation_en,explanation_zh\n"
        "a-00000,gambling,Casino,賭場\n"
        "a-00001,weapons,Gun,槍\n"
        "nope,adult,Adult,成人\n"
        "a-00002,adult,,成人\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidRows) as caught:
        gold.import_gold_file(session, world.actors["auditor"], world.project_ids["A"], bad)
    problems = [(p.line, p.field) for p in caught.value.problems]
    assert problems == [(3, "label"), (4, "external_id"), (5, "explanation_en")]
    assert "line 3" in caught.value.render("en")
    assert session.scalar(select(func.count(GoldAnswer.id))) == 0
    assert not _task_of(session, "a-00000").is_gold
    missing_column = tmp_path / "g2.csv"
    missing_column.write_text("external_id,label\na-00000,adult\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        gold.import_gold_file(
            session, world.actors["auditor"], world.project_ids["A"], missing_column
        )


def test_gold_accuracy_is_live_with_wilson_interval_and_vendor_scoped(session):
    world = make_world(session, n_items=3, overlap=1, gold_rate=0.5)
    project_id = world.project_ids["A"]
    auditor = world.actors["auditor"]
    for index, key in enumerate(("gambling", "compliant", "adult")):
        gold.mark_gold(
            session,
            auditor,
            project_id,
            f"a-{index:05d}",
            [key],
            explanation_en="why",
            explanation_zh="原因",
        )
    labeller = world.actors["labeller-a1"]
    answers = {"a-00000": "gambling", "a-00001": "compliant", "a-00002": "gambling"}
    always_gold = _AlwaysGold()
    while (served := queue.next_task(session, labeller, project_id, rng=always_gold)) is not None:
        labelling.submit_label(
            session, labeller, served.assignment_id, [answers[served.item["external_id"]]]
        )
    rows = gold.compute_gold_accuracy(session, auditor, project_id)
    assert len(rows) == 1
    row = rows[0]
    assert (row.username, row.n_answers, row.n_correct) == ("labeller-a1", 3, 2)
    expected = wilson_interval(2, 3)
    assert row.ci_low == pytest.approx(expected.low) and row.ci_high == pytest.approx(expected.high)
    assert (
        gold.compute_gold_accuracy(session, world.actors["manager-a"], project_id)[0].n_correct == 2
    )
    with pytest.raises(NotFound):
        gold.compute_gold_accuracy(session, world.actors["manager-b"], project_id)
