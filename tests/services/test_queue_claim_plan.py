"""The next-task claim's plan on PostgreSQL, as the server runs it (a prepared
statement's generic plan): "not already this labeller's" stays one probe of the
(task_id, labeller_id) key per candidate, whatever the statistics say.

Keyed on the task alone, the probe read every labeller's assignment of each candidate;
PostgreSQL chose that plan after an ANALYZE of a busy project, and 50 labellers' labels
a second fell by a fifth to two fifths until the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.orm import Session

from factories import make_world
from labelops.services import queue


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _generic_plan(engine: Engine, statement: Any, params: dict[str, Any]) -> dict[str, Any]:
    """EXPLAIN of ``statement`` prepared as the loop's driver prepares it ($n
    placeholders), planned generically as a prepared statement is after five runs."""
    compiled = statement.compile(dialect=PGDialect_asyncpg())
    values = compiled.construct_params(params)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        arguments = sql.SQL(", ").join(sql.Literal(values[name]) for name in compiled.positiontup)
        # SET LOCAL ends with the transaction; a PREPAREd statement would outlive it on
        # the pooled connection, so it is deallocated.
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(f"PREPARE claim AS {compiled.string}")
        try:
            explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE claim({})").format(arguments)
            plan = connection.exec_driver_sql(explain.as_string(raw)).scalar_one()
        finally:
            connection.exec_driver_sql("DEALLOCATE claim")
            connection.rollback()
    return plan[0]["Plan"]


def test_the_claim_probes_the_labellers_own_assignment_after_analyze(
    session: Session, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans the claim's probe as NOT EXISTS on the same key")
    world = make_world(session, n_items=2_000, overlap=3)
    project_id = world.project_ids["A"]
    # A busy project: two other labellers' submitted assignments on every task, and
    # statistics that know it (an empty table's plan scans it all).
    for name in ("labeller-a1", "labeller-a2"):
        actor = world.actors[name]
        session.execute(
            text(
                "INSERT INTO assignments (task_id, project_id, labeller_id, vendor_id, status,"
                " served_at, lease_expires_at, submitted_at)"
                " SELECT id, project_id, :labeller, :vendor, 'submitted', now(), now(), now()"
                " FROM tasks WHERE project_id = :project"
            ),
            {"labeller": actor.user_id, "vendor": actor.vendor_id, "project": project_id},
        )
    session.execute(
        text("UPDATE tasks SET slots_taken = 2, n_labels = 2 WHERE project_id = :project"),
        {"project": project_id},
    )
    session.commit()
    with engine.connect() as connection:
        connection.execute(text("ANALYZE assignments, tasks"))
        connection.commit()

    statement, params = queue.lease_alone_statement(
        world.actors["labeller-a3"], project_id, lease_seconds=None
    )
    probes = [
        node
        for node in _plan_nodes(_generic_plan(engine, statement.statement, params))
        if node.get("Relation Name") == "assignments"
        and "task_id = tasks" in node.get("Index Cond", node.get("Recheck Cond", ""))
    ]
    assert len(probes) == 2  # the gold candidate's and the open candidate's
    for probe in probes:
        assert probe["Node Type"] in {"Index Scan", "Index Only Scan"}, probe
        assert probe["Index Name"] == "assignments_task_id_labeller_id_key"
        assert "labeller_id = " in probe["Index Cond"], probe["Index Cond"]
