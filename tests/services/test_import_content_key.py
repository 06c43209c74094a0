"""The integer content key (migration 0004): dedup lookups by it, the migration's fill,
and the model and migrations agreeing on items and tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text, update
from sqlalchemy.orm import Session

from factories import make_world, write_jsonl
from labelops.services import imports
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.migrate import alembic_config, upgrade
from labelops.store.models import Base, Item, Task
from labelops.text.normalize import content_hash


def _key(digest: str) -> int:
    """The content key the import stores for a hex content hash."""
    return int.from_bytes(bytes.fromhex(digest)[:8], "big", signed=True)


@pytest.mark.parametrize("read_ahead", [False, True])
def test_items_store_the_key_of_their_content_hash(
    session: Session, tmp_path: Path, read_ahead: bool
):
    world = make_world(session, n_items=0)
    rows: list[dict[str, object]] = [
        {"external_id": "a", "text": "限時優惠"},
        {"external_id": "b", "text": "x", "image": "missing.jpg"},
        {"external_id": "c", "text": "x", "metadata": {"來源": "測試"}},
    ]
    imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        write_jsonl(tmp_path / "items.jsonl", rows),
        read_ahead=read_ahead,
    )
    stored = session.execute(select(Item.external_id, Item.content_hash, Item.content_key)).all()
    session.commit()
    assert len(stored) == 3
    assert {e: k for e, _h, k in stored} == {e: _key(h) for e, h, _k in stored}
    assert {e: h for e, h, _k in stored}["a"] == content_hash("限時優惠")


def test_an_item_sharing_only_the_key_is_not_a_duplicate(session: Session, tmp_path: Path):
    """A key collision (forged here; 1 pair in ~10^7 among a million items) is resolved on
    the full hash: the row lands, and a true duplicate is still found."""
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        write_jsonl(tmp_path / "one.jsonl", [{"external_id": "a", "text": "甲"}]),
    )
    session.execute(update(Item).values(content_key=_key(content_hash("乙"))))
    session.commit()
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        write_jsonl(
            tmp_path / "two.jsonl",
            [{"external_id": "b", "text": "乙"}, {"external_id": "c", "text": "乙"}],
        ),
    )
    assert (report.n_created, report.n_duplicates) == (1, 1)
    assert report.duplicates[0]["duplicate_of"] == "b"
    # A true duplicate of an item already in the project is found through the key.
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        write_jsonl(tmp_path / "three.jsonl", [{"external_id": "d", "text": "乙"}]),
    )
    assert (report.n_created, report.n_duplicates) == (0, 1)
    assert report.duplicates[0]["duplicate_of"] == "b"


def test_stored_external_ids_inside_the_batch_range_are_reused(session: Session, tmp_path: Path):
    """SQLite skips the per-id lookup when no stored id lies between the batch's smallest
    and largest; one that does must still be found and reused, not inserted twice."""
    world = make_world(session, n_items=0)
    imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        write_jsonl(tmp_path / "a.jsonl", [{"external_id": "m-5", "text": "五"}]),
    )
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["B"],
        write_jsonl(
            tmp_path / "b.jsonl",
            [{"external_id": f"m-{n}", "text": "五" if n == 5 else f"第{n}"} for n in range(1, 10)],
        ),
    )
    assert report.n_created == 9
    n_items = session.scalar(select(func.count(Item.id)))
    n_tasks = session.scalar(select(func.count(Task.id)))
    session.commit()
    assert (n_items, n_tasks) == (9, 10)


@pytest.fixture()
def _restore_head(engine: Engine) -> Iterator[None]:
    yield
    upgrade(engine)  # whatever the test did, the shared database ends at head


@pytest.mark.usefixtures("_restore_head")
def test_0004_fills_the_key_and_downgrades(session: Session, engine: Engine, tmp_path: Path):
    from alembic import command

    world = make_world(session, n_items=5)
    expected = dict(session.execute(select(Item.id, Item.content_key)).all())
    session.commit()
    session.close()
    # Both projects hold the same five texts; some keys are negative (the sign bit).
    assert len(expected) == 10 and len(set(expected.values())) == 5
    assert min(expected.values()) < 0 < max(expected.values())

    command.downgrade(alembic_config(engine), "0003")
    schema = inspect(engine)
    assert "content_key" not in {c["name"] for c in schema.get_columns("items")}
    assert "ix_items_content_hash" in {i["name"] for i in schema.get_indexes("items")}
    assert "ix_tasks_item_id" in {i["name"] for i in schema.get_indexes("tasks")}

    upgrade(engine)
    with engine.connect() as connection:
        filled = dict(connection.execute(text("SELECT id, content_key FROM items")).all())
    assert filled == expected
    schema = inspect(engine)
    assert {i["name"] for i in schema.get_indexes("items")} >= {"ix_items_content_key"}
    assert "ix_items_content_hash" not in {i["name"] for i in schema.get_indexes("items")}
    assert "ix_tasks_item_id" not in {i["name"] for i in schema.get_indexes("tasks")}
    assert world.project_ids  # the world's rows survived both directions


def test_model_and_migrations_agree_on_items_and_tasks(engine: Engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    def table_of(diff: object) -> str | None:
        first = diff[0] if isinstance(diff, list) else diff
        assert isinstance(first, tuple)
        subject = first[3] if first[0].startswith("modify_") else first[1]
        table = getattr(subject, "table", subject)
        return getattr(table, "name", first[2] if first[0].startswith("modify_") else None)

    def is_queue_index(diff: object) -> bool:
        # Alembic cannot reflect SQLite's "priority DESC" index element and reports the
        # queue index as removed and added; it is the one known false difference.
        return isinstance(diff, tuple) and getattr(diff[1], "name", None) == "ix_tasks_queue"

    ours = [d for d in diffs if table_of(d) in {"items", "tasks"} and not is_queue_index(d)]
    assert ours == []
