"""The live-leases index (migration 0005): the model and migrations agree on
assignments, the migration goes down and up again, and expired leases still return
their slots through it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from factories import make_world
from labelops.services import labelling, queue
from labelops.store.migrate import alembic_config, upgrade
from labelops.store.models import Assignment, Base, Task
from labelops.store.types import utcnow
from labelops.types import AssignmentStatus


@pytest.fixture()
def _restore_head(engine: Engine) -> Iterator[None]:
    yield
    upgrade(engine)  # whatever the test did, the shared database ends at head


def _index_names(engine: Engine) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes("assignments")}


def test_model_and_migrations_agree_on_assignments(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    def on_assignments(diff: object) -> bool:
        first = diff[0] if isinstance(diff, list) else diff
        assert isinstance(first, tuple)
        subject = first[3] if first[0].startswith("modify_") else first[1]
        table = getattr(subject, "table", subject)
        name = getattr(table, "name", first[2] if first[0].startswith("modify_") else None)
        return name == "assignments"

    assert [diff for diff in diffs if on_assignments(diff)] == []


@pytest.mark.usefixtures("_restore_head")
def test_0005_downgrades_and_upgrades(session: Session, engine: Engine) -> None:
    from alembic import command

    world = make_world(session, n_items=2, overlap=1)
    served = queue.next_task(session, world.actors["labeller-a1"], world.project_ids["A"])
    assert served is not None
    session.commit()
    session.close()
    assert "ix_assignments_live_leases" in _index_names(engine)

    command.downgrade(alembic_config(engine), "0004")
    names = _index_names(engine)
    assert "ix_assignments_expiry" in names and "ix_assignments_live_leases" not in names

    upgrade(engine)
    names = _index_names(engine)
    assert "ix_assignments_live_leases" in names and "ix_assignments_expiry" not in names


def test_only_the_projects_own_expired_leases_return_their_slots(session: Session) -> None:
    world = make_world(session, n_items=1, overlap=1)
    a1, a2, b1 = (world.actors[name] for name in ("labeller-a1", "labeller-a2", "labeller-b1"))
    project_a, project_b = world.project_ids["A"], world.project_ids["B"]
    long_ago = utcnow() - timedelta(hours=1)
    for actor, project_id in ((a1, project_a), (b1, project_b)):  # abandoned leases
        assert queue.next_task(session, actor, project_id, now=long_ago, lease_seconds=60)
    # A call in project A returns A's expired slot (and takes it), not B's.
    served = queue.next_task(session, a2, project_a)
    assert served is not None
    labelling.submit_label(session, a2, served.assignment_id, ["compliant"])
    statuses = dict(session.execute(select(Assignment.project_id, Assignment.status)).all())
    assert statuses[project_a] != AssignmentStatus.LEASED.value
    assert statuses[project_b] == AssignmentStatus.LEASED.value  # expired, not yet returned
    slots = dict(
        session.execute(
            select(Task.project_id, func.sum(Task.slots_taken)).group_by(Task.project_id)
        ).all()
    )
    assert slots == {project_a: 1, project_b: 1}
    # B's own next call returns it.
    again = queue.next_task(session, world.actors["labeller-b2"], project_b)
    assert again is not None
    assert (
        session.scalar(select(Assignment.status).where(Assignment.labeller_id == b1.user_id))
        == AssignmentStatus.EXPIRED.value
    )
