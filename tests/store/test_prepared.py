"""Prepared statements give the same values as SQLAlchemy's own execution, both ways."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import NoResultFound

from factories import make_world
from labelops.store.models import FinalLabel, Project, Task
from labelops.store.prepared import Prepared

_FINALS = cast(Table, FinalLabel.__table__)
_PROJECTS = cast(Table, Project.__table__)
_COLUMNS = ("value", "method", "confidence", "status", "n_labels", "updated_at")
_INSERT = Prepared(
    _FINALS.insert().returning(_FINALS.c.id),
    column_keys=("task_id", "project_id", "snapshot_id", *_COLUMNS),
)
_READ = Prepared(
    select(_FINALS.c.id, *(_FINALS.c[name] for name in _COLUMNS)).where(
        _FINALS.c.id == bindparam("final_id")
    )
)
_PROJECT = Prepared(
    select(_PROJECTS.c.gold_rate, _PROJECTS.c.overlap).where(_PROJECTS.c.id == bindparam("pid"))
)


def test_prepared_round_trip_matches_sqlalchemy(session):
    world = make_world(session, n_items=1, overlap=1)
    project_id = world.project_ids["A"]
    task_id = session.scalar(select(Task.id).where(Task.project_id == project_id).limit(1))
    session.commit()
    when = datetime(2026, 11, 25, 21, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    fields = {
        "task_id": task_id,
        "project_id": project_id,
        "snapshot_id": None,
        "value": ["賭博", "financial_scam"],  # zh-Hant survives the JSON column unharmed
        "method": "majority",
        "confidence": 0.666667,
        "status": "final",
        "n_labels": 3,
        "updated_at": when,
    }
    with session.begin():
        connection = session.connection()
        final_id = _INSERT.scalar(connection, fields)
        prepared = _READ.one(connection, {"final_id": final_id})
    by_sqlalchemy = session.execute(
        select(_FINALS.c.id, *(_FINALS.c[name] for name in _COLUMNS)).where(
            _FINALS.c.id == final_id
        )
    ).one()
    assert tuple(prepared) == tuple(by_sqlalchemy)
    assert prepared.value == ["賭博", "financial_scam"]
    assert prepared.updated_at == when and prepared.updated_at.utcoffset() == timedelta(0)
    assert prepared.confidence == pytest.approx(0.666667)
    gold_rate = session.scalar(select(Project.gold_rate).where(Project.id == project_id))
    session.commit()
    with session.begin():
        row = _PROJECT.one(session.connection(), {"pid": project_id})
    assert (row.gold_rate, row.overlap) == (gold_rate, 1)


def test_prepared_one_refuses_an_empty_result(session):
    with session.begin(), pytest.raises(NoResultFound):
        _READ.one(session.connection(), {"final_id": -1})
    with session.begin():
        assert _READ.first(session.connection(), {"final_id": -1}) is None


def test_prepared_refuses_expanding_parameters(session):
    statement = Prepared(
        select(_FINALS.c.id).where(_FINALS.c.id.in_(bindparam("ids", expanding=True)))
    )
    with session.begin(), pytest.raises(ValueError, match="expanding"):
        statement.rows(session.connection(), {"ids": [1]})


def test_prepared_stream_gives_every_row_in_chunks(session):
    world = make_world(session, n_items=7, overlap=1)
    project_id = world.project_ids["A"]
    session.commit()
    tasks = Prepared(
        select(Task.__table__.c.id, Task.__table__.c.created_at)
        .where(Task.__table__.c.project_id == bindparam("pid"))
        .order_by(Task.__table__.c.id)
    )
    with session.begin():
        connection = session.connection()
        chunks = list(tasks.stream(connection, {"pid": project_id}, chunk_rows=3))
        expected = [tuple(row) for row in tasks.rows(connection, {"pid": project_id})]
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    assert [tuple(row) for chunk in chunks for row in chunk] == expected
    assert all(row[1].utcoffset() == timedelta(0) for chunk in chunks for row in chunk)
