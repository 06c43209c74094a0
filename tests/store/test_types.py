"""UTC timestamps round-trip on both databases; SQLite keeps SQLAlchemy's text format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import sqlite

from labelops.store.types import UTCDateTime

TAIPEI = timezone(timedelta(hours=8))
MOMENTS = [
    datetime(2026, 11, 26, 2, 1, 8, 563_000, tzinfo=UTC),
    datetime(2026, 11, 26, 2, 0, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 26, 10, 30, 0, 1, tzinfo=TAIPEI),  # stored as UTC
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
]


def _stamps(engine: Engine) -> Table:
    return Table(
        "stamps",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime),
        prefixes=["TEMPORARY"],
    )


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    stamps = _stamps(engine)
    with engine.connect() as connection:
        stamps.create(connection)
        connection.execute(insert(stamps), [{"id": i, "at": m} for i, m in enumerate(MOMENTS)])
        connection.execute(insert(stamps), [{"id": 99, "at": None}])
        read = dict(connection.execute(select(stamps.c.id, stamps.c.at)).all())
        earlier = connection.execute(
            select(stamps.c.id).where(stamps.c.at < MOMENTS[0]).order_by(stamps.c.id)
        ).scalars()
        assert list(earlier) == [1, 3]  # compared as times, whatever the zone given
    for index, moment in enumerate(MOMENTS):
        assert read[index] == moment and read[index].tzinfo == UTC
    assert read[99] is None


def test_sqlite_stores_sqlalchemys_datetime_text(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores timestamptz")
    stamps = _stamps(engine)
    sqlalchemy_text = sqlite.DATETIME().bind_processor(engine.dialect)
    assert sqlalchemy_text is not None
    with engine.connect() as connection:
        stamps.create(connection)
        connection.execute(insert(stamps), [{"id": i, "at": m} for i, m in enumerate(MOMENTS)])
        stored = dict(connection.execute(text("SELECT id, at FROM stamps")).all())
    for index, moment in enumerate(MOMENTS):
        assert stored[index] == sqlalchemy_text(moment.astimezone(UTC).replace(tzinfo=None))
    assert stored[1] == "2026-11-26 02:00:00.000000"


def test_a_naive_timestamp_is_refused(engine: Engine) -> None:
    stamps = _stamps(engine)
    with engine.connect() as connection:
        stamps.create(connection)
        with pytest.raises(Exception, match="naive datetime"):
            connection.execute(insert(stamps), [{"id": 1, "at": datetime(2026, 1, 1)}])
