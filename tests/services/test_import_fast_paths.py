"""The import's fast paths agree with the general code they short-cut."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from factories import make_world, write_jsonl
from labelops.errors import InvalidInput, InvalidRows
from labelops.services import imports
from labelops.services._item_schema import ItemValidator
from labelops.services.imports import _text_digest
from labelops.services.item_files import iter_item_batches
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Item, Task
from labelops.text.normalize import content_hash

ROWS: list[dict[str, object]] = [
    {"external_id": "a", "text": "限時優惠"},
    {"external_id": "b", "text": "x", "advertiser": "adv", "market": "TW", "language": "zh-Hant"},
    {"external_id": "c", "text": "x", "priority": 3},
    {"external_id": "d", "text": "x", "priority": True},
    {"external_id": "e", "text": "x", "priority": 1.5},
    {"external_id": "f", "text": ""},
    {"external_id": "g", "text": "x", "advertiser": ""},
    {"external_id": "h", "text": "x", "market": None},
    {"external_id": "i", "text": "x", "language": 7},
    {"external_id": "j", "text": "x", "advertiser": 42},
    {"external_id": "   ", "text": "x"},
    {"external_id": "", "text": "x"},
    {"external_id": "k" * 255, "text": "x"},
    {"external_id": "k" * 256, "text": "x"},
    {"external_id": "l\x00", "text": "x"},
    {"external_id": "m", "text": "x\x00y"},
    {"external_id": "n", "text": "x", "market": "T\x00W"},
    {"external_id": "a", "text": "again"},
    {"external_id": 17, "text": "x"},
    {"external_id": None, "text": "x"},
    {"external_id": "o", "text": None},
    {"external_id": "p", "text": 5},
    {"external_id": "q", "text": "長" * 300},
    {"external_id": "r", "text": "x", "image": "a.jpg"},
    {"external_id": "s", "text": "x", "extra": {"k": 1}},
    {"external_id": "t", "text": "x", "metadata": {"k": "v"}},
    {"text": "no id"},
]


def _validate_all(validator: ItemValidator) -> list[tuple[object, list[object]]]:
    results = []
    for line, obj in enumerate(ROWS, start=1):
        problems: list[object] = []
        row = validator.validate(dict(obj), line, problems, None)  # type: ignore[arg-type]
        results.append((row, problems))
    return results


def test_fast_row_check_agrees_with_the_full_check(monkeypatch: pytest.MonkeyPatch):
    fast = _validate_all(ItemValidator(max_text_bytes=1000))
    monkeypatch.setattr(ItemValidator, "_fast", lambda *_args: None)
    full = _validate_all(ItemValidator(max_text_bytes=1000))
    assert fast == full
    assert sum(row is not None for row, _ in fast) > 5  # the fast path was exercised


@pytest.mark.parametrize(
    "text",
    [None, "", "限時優惠", "cafe\u0301", unicodedata.normalize("NFD", "臺灣 café"), "a" * 10_000],
)
def test_text_digest_is_content_hash_without_media(text: str | None):
    assert _text_digest(text).hex() == content_hash(text, ())


@pytest.mark.parametrize("with_priority", [False, True])
def test_tasks_follow_item_order_with_or_without_priorities(
    session, tmp_path: Path, with_priority: bool
):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    rows: list[dict[str, object]] = [
        {"external_id": f"ad-{n:03d}", "text": f"廣告 {n}"} for n in range(25)
    ]
    if with_priority:
        rows[7]["priority"] = 5
    source = write_jsonl(tmp_path / "items.jsonl", rows)
    report = imports.import_items(session, SYSTEM_ACTOR, project_id, source)
    assert report.n_created == 25
    tasks = session.execute(
        select(Task.id, Item.external_id, Task.priority, Task.status, Task.is_gold)
        .join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id)
        .order_by(Task.id)
    ).all()
    session.commit()
    assert [t.external_id for t in tasks] == [r["external_id"] for r in rows]
    assert [t.priority for t in tasks] == [r.get("priority", 0) for r in rows]
    assert {(t.status, t.is_gold) for t in tasks} == {("open", False)}


def _mixed_file(tmp_path: Path) -> Path:
    rows = [
        json.dumps({"external_id": f"r{n}", "text": f"第{n}則 廣告"}, ensure_ascii=False)
        for n in range(30)
    ]
    rows[4] = json.dumps(
        {"external_id": "r4", "text": "第1則 廣告"}, ensure_ascii=False
    )  # twin of r1
    rows[9] = '{"external_id": "r9", "text": 12}'
    rows[12] = "{not json"
    rows[20] = json.dumps({"external_id": "r20", "text": "x", "image": "missing.jpg"})
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return source


@pytest.mark.parametrize("read_ahead", [False, True])
def test_read_ahead_lands_and_reports_the_same(session, tmp_path: Path, read_ahead: bool):
    world = make_world(session, n_items=0)
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        _mixed_file(tmp_path),
        skip_invalid=True,
        read_ahead=read_ahead,
    )
    assert (report.n_rows, report.n_created, report.n_duplicates, report.n_rejected) == (
        30,
        27,
        1,
        2,
    )
    assert [r["line"] for r in report.rejected] == [10, 13]
    assert report.duplicates[0]["duplicate_of"] == "r1"
    stored = dict(session.execute(select(Item.external_id, Item.media)).all())
    session.commit()
    assert stored["r20"] == [{"kind": "image", "path": "missing.jpg"}]


def test_read_ahead_raises_the_readers_errors(session, tmp_path: Path):
    world = make_world(session, n_items=0)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], empty, read_ahead=True)
    assert caught.value.message_id == "itemfiles.empty_file"
    with pytest.raises(InvalidRows) as rows:
        imports.import_items(
            session, SYSTEM_ACTOR, world.project_ids["A"], _mixed_file(tmp_path), read_ahead=True
        )
    assert [p.line for p in rows.value.problems] == [10, 13]
    assert session.scalar(select(func.count(Item.id))) == 0


def test_sqlite_page_cache_is_restored_after_an_import(session, tmp_path: Path):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    world = make_world(session, n_items=0)
    before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    imports.import_items(
        session, SYSTEM_ACTOR, world.project_ids["A"], _mixed_file(tmp_path), skip_invalid=True
    )
    assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before
    session.commit()


def test_read_ahead_carries_label_studio_annotations(session, tmp_path: Path):
    world = make_world(session, n_items=0)
    choice = [{"type": "choices", "value": {"choices": ["gambling"]}}]
    tasks = [
        {
            "id": 11,
            "data": {"text": "線上娛樂城，首儲送一千"},
            "annotations": [{"completed_by": 3, "result": choice, "lead_time": 4.5}],
        },
        {"id": 12, "data": {"text": "全新 iPhone 保固一年"}, "annotations": []},
    ]
    source = tmp_path / "export.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        source,
        format="label-studio",
        read_ahead=True,
    )
    assert report.n_created == 2
    assert [(a.external_id, a.labels, a.lead_time_s) for a in report.annotations] == [
        ("11", ("gambling",), 4.5)
    ]


def test_read_ahead_pickles_a_batch_marshal_cannot_carry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Batches cross the pipe marshalled; a value of another type (a reader's datetime,
    say) sends that batch pickled instead."""
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    batch = imports._HashedBatch(
        lines=[1],
        external_ids=["a"],
        texts=["限時優惠"],
        media=[()],
        advertisers=[None],
        markets=["TW"],
        languages=[None],
        metadata=[{"seen": stamp}],
        priorities=[None],
        hashes=["0" * 64],
        keys=[0],
        problems=[],
        n_rows=1,
        annotations=[],
    )
    monkeypatch.setattr(imports, "_hashed_batches", lambda *_args: iter([batch, batch]))
    received = list(imports._read_ahead(tmp_path / "x.jsonl", "jsonl", "x.jsonl", tmp_path, {}))
    assert received == [batch, batch]


@pytest.mark.parametrize("read_ahead", [False, True])
def test_small_batches_find_twins_and_reused_ids_across_batches(
    session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_ahead: bool
):
    """Batches of two rows: a content twin or a stored id in a later batch takes the
    row-by-row path, an all-new batch the column path; the outcome is the same."""
    world = make_world(session, n_items=0)
    imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["B"],
        write_jsonl(tmp_path / "b.jsonl", [{"external_id": "s-1", "text": "已存"}]),
    )
    monkeypatch.setattr(imports, "iter_item_batches", partial(iter_item_batches, batch_size=2))
    rows: list[dict[str, object]] = [
        {"external_id": "n-1", "text": "甲"},
        {"external_id": "n-2", "text": "乙"},
        {"external_id": "n-3", "text": "丙"},
        {"external_id": "n-4", "text": "丁"},
        {"external_id": "n-5", "text": "甲"},  # twin of n-1, two batches later
        {"external_id": "s-1", "text": "已存"},  # stored in project B: reused
        {"external_id": "n-7", "text": "戊", "priority": 2},
    ]
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        write_jsonl(tmp_path / "a.jsonl", rows),
        read_ahead=read_ahead,
    )
    assert (report.n_rows, report.n_created, report.n_duplicates) == (7, 6, 1)
    assert [(d["line"], d["duplicate_of"]) for d in report.duplicates] == [(5, "n-1")]
    tasks = session.execute(
        select(Item.external_id, Task.priority)
        .join(Task, Task.item_id == Item.id)
        .where(Task.project_id == world.project_ids["A"])
        .order_by(Task.id)
    ).all()
    session.commit()
    assert [(e, p) for e, p in tasks] == [
        ("n-1", 0),
        ("n-2", 0),
        ("n-3", 0),
        ("n-4", 0),
        ("s-1", 0),
        ("n-7", 2),
    ]
