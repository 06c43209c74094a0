"""Plain factory functions for tests: build a small world through the services."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from labelops.services import directory, imports, projects, queue, taxonomies
from labelops.services._tx import one_transaction
from labelops.services.auth import actor_for_user
from labelops.services.policy import SYSTEM_ACTOR, Actor
from labelops.types import Role

TAXONOMY: dict[str, Any] = {
    "key": "ads-test",
    "version": 1,
    "mode": "single",
    "name": {"en": "Test ads policy", "zh-Hant": "測試廣告政策"},
    "labels": [
        {
            "key": key,
            "name": {"en": en, "zh-Hant": zh},
            "definition": {"en": en, "zh-Hant": zh},
            "examples": [],
        }
        for key, en, zh in (
            ("compliant", "Compliant", "合規"),
            ("gambling", "Gambling", "賭博"),
            ("financial_scam", "Financial scam", "金融詐騙"),
            ("adult", "Adult", "成人內容"),
        )
    ],
}


@dataclass
class World:
    """Two vendors, their people, a project of vendor A and one of vendor B."""

    actors: dict[str, Actor] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    vendor_ids: dict[str, int] = field(default_factory=dict)
    project_ids: dict[str, int] = field(default_factory=dict)
    taxonomy_id: int = 0


def make_taxonomy(session: Session, document: dict[str, Any] | None = None) -> int:
    """Store a taxonomy version; returns its id."""
    spec = taxonomies.parse_taxonomy(document or TAXONOMY)
    taxonomy, _ = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
    return taxonomy.id


def make_user(
    session: Session,
    world: World,
    username: str,
    role: Role,
    vendor: str | None = None,
    password: str | None = None,
) -> Actor:
    """Create a user, remember its actor and token in ``world``."""
    created = directory.create_user(
        session,
        SYSTEM_ACTOR,
        username,
        role=role,
        vendor_id=world.vendor_ids[vendor] if vendor else None,
        password=password,
    )
    actor = actor_for_user(created.user)
    world.actors[username] = actor
    world.tokens[username] = created.token
    return actor


def make_items(n: int, prefix: str = "item") -> list[dict[str, Any]]:
    """``n`` distinct zh-Hant / English item records."""
    return [
        {
            "external_id": f"{prefix}-{index:05d}",
            "text": f"限時優惠 第{index}號 商品 NT${100 + index} 加LINE @shop{index} / offer {index}",
        }
        for index in range(n)
    ]


def make_world(
    session: Session,
    *,
    n_items: int = 20,
    overlap: int = 3,
    gold_rate: float = 0.0,
    n_labellers: int = 3,
) -> World:
    """Vendors A and B, an admin, an auditor, a manager and labellers per vendor, a project
    per vendor (``project-a`` for A, ``project-b`` for B) with ``n_items`` items each."""
    world = World()
    for name in ("A", "B"):
        world.vendor_ids[name] = directory.create_vendor(session, SYSTEM_ACTOR, f"vendor-{name}").id
    world.taxonomy_id = make_taxonomy(session)
    make_user(session, world, "admin", Role.ADMIN)
    make_user(session, world, "auditor", Role.AUDITOR)
    for name in ("A", "B"):
        make_user(session, world, f"manager-{name.lower()}", Role.VENDOR_MANAGER, name)
        for index in range(1, n_labellers + 1):
            make_user(session, world, f"labeller-{name.lower()}{index}", Role.LABELLER, name)
        project = projects.create_project(
            session,
            SYSTEM_ACTOR,
            f"project-{name.lower()}",
            taxonomy_id=world.taxonomy_id,
            overlap=overlap,
            gold_rate=gold_rate,
            vendor_ids=[world.vendor_ids[name]],
        )
        world.project_ids[name] = project.id
        if n_items:
            imports.import_item_records(
                session, SYSTEM_ACTOR, project.id, make_items(n_items, prefix=f"{name.lower()}")
            )
    return world


def serve_each(
    session: Session, world: World, project_id: int, *labellers: str
) -> list[queue.ServedTask]:
    """Each named labeller's next task of the project, in order (each must get one)."""
    served = [queue.next_task(session, world.actors[name], project_id) for name in labellers]
    missing = [name for name, task in zip(labellers, served, strict=True) if task is None]
    assert not missing, f"no task for {missing}"
    return [task for task in served if task is not None]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` as a UTF-8 JSONL file (non-ASCII kept as is); returns ``path``."""
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


def wait_until_blocked(engine: Engine, future: Future[Any], timeout_s: float = 10.0) -> None:
    """Until another thread's statement (``future``) waits for a row lock (PostgreSQL),
    or, on SQLite (one writer at a time), a moment for it to start waiting there."""
    deadline = time.monotonic() + timeout_s
    if engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    with engine.connect() as watcher:
        while time.monotonic() < deadline and not future.done():
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the other thread's statement never waited for a row lock")


def while_rows_held(
    session_factory: sessionmaker[Session],
    engine: Engine,
    hold: Callable[[Session], object],
    call: Callable[[], Any],
) -> Any:
    """``call()`` on another thread while the writes of ``hold(session)``, in a
    transaction not yet committed, keep their rows locked; the transaction commits once
    the call waits for them (``wait_until_blocked``). Returns what ``call`` returned."""
    with ThreadPoolExecutor(1) as pool, session_factory() as holder:
        with one_transaction(holder):
            hold(holder)
            waiting = pool.submit(call)
            wait_until_blocked(engine, waiting)
        return waiting.result(timeout=30)
