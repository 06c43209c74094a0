"""The streamed JSONL export writes exactly the bytes of the in-memory writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from factories import make_world
from labelops.services import export, imports
from labelops.services.label_files import write_final_labels
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import FinalLabel, Item, Snapshot, Task
from labelops.store.prepared import Prepared

# Code-point order differs from most collations' order for these ids.
IDS = ["B-2", "a-1", "Z-9", "é-3", "e-4", "ä-5", "測試-6", "_x", "10", "9", "A b", "A\tc"]
VALUES: list[list[str] | None] = [["gambling"], ["adult", "gambling"], None, ["compliant"]]


def _snapshot(session, project_id: int) -> int:
    records = [
        {"external_id": key, "text": f"廣告「{key}」\r\n第 {n} 則"} for n, key in enumerate(IDS)
    ]
    imports.import_item_records(session, SYSTEM_ACTOR, project_id, records)
    snapshot = Snapshot(project_id=project_id, method="majority", summary={})
    session.add(snapshot)
    session.flush()
    rows = session.execute(
        select(Task.id, Item.external_id)
        .join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id)
    ).all()
    for n, (task_id, _key) in enumerate(rows):
        session.add(
            FinalLabel(
                task_id=task_id,
                project_id=project_id,
                snapshot_id=snapshot.id,
                value=VALUES[n % len(VALUES)],
                method="majority",
                confidence=None if n % 5 == 0 else n / 7,
                status="needs_adjudication" if n % 4 == 2 else "final",
                n_labels=n % 4,
            )
        )
    session.commit()
    return snapshot.id


@pytest.mark.parametrize("chunk", [3, 20_000])
def test_streamed_jsonl_equals_the_in_memory_writer(session, tmp_path: Path, monkeypatch, chunk):
    monkeypatch.setattr(export, "_STREAM_ROWS", chunk)
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    snapshot_id = _snapshot(session, project_id)
    streamed = tmp_path / "streamed.jsonl"
    summary = export.export_project(session, SYSTEM_ACTOR, project_id, streamed, format="jsonl")
    reference = tmp_path / "reference.jsonl"
    write_final_labels(export.snapshot_rows(session, project_id, snapshot_id), reference)
    session.commit()
    assert summary.n_items == len(IDS)
    assert streamed.read_bytes() == reference.read_bytes()
    assert not list(tmp_path.glob("*.partial"))


def test_rows_out_of_order_fall_back_to_the_sorting_writer(session, tmp_path: Path, monkeypatch):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    snapshot_id = _snapshot(session, project_id)
    reference = tmp_path / "reference.jsonl"
    write_final_labels(export.snapshot_rows(session, project_id, snapshot_id), reference)
    session.commit()
    # A database that sorted by another collation: reversed order must be caught.
    reversed_order = {
        collate: Prepared(
            export._snapshot_query(collate_c=collate)
            .order_by(None)
            .order_by(Item.external_id.desc())
        )
        for collate in (False, True)
    }
    monkeypatch.setattr(export, "_SNAPSHOT_STATEMENTS", reversed_order)
    fallback = export._fallback
    calls: list[int] = []

    def counted(*args):
        calls.append(1)
        return fallback(*args)

    monkeypatch.setattr(export, "_fallback", counted)
    out = tmp_path / "out.jsonl"
    summary = export.export_project(session, SYSTEM_ACTOR, project_id, out, format="jsonl")
    assert calls == [1]
    assert summary.n_items == len(IDS)
    assert out.read_bytes() == reference.read_bytes()
