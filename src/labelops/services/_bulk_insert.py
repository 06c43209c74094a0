"""Driver-level bulk reads and writes of an import: items and their tasks by the million.

Through SQLAlchemy's ORM an item row cost ~40 us; here rows go to the driver
(SQLite ``executemany``, PostgreSQL ``COPY``) with ids reserved up front, and the
tasks of a contiguous run of new items come from one ``INSERT ... SELECT``. The
per-batch lookups (items by external id) run on the driver too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, text

from labelops.store.models import Item, Task

IN_CHUNK = 2000  # bound parameters per IN (...) query, safe on SQLite and PostgreSQL

__all__ = [
    "IN_CHUNK",
    "Binder",
    "ITEMS",
    "ITEM_COLUMNS",
    "TASKS",
    "TASK_COLUMNS",
    "insert_rows",
    "items_by_external_id",
    "reserve_ids",
    "rows_in",
    "tasks_from_items",
]

ITEMS = cast(Table, Item.__table__)
TASKS = cast(Table, Task.__table__)
ITEM_COLUMNS = (
    "external_id",
    "text",
    "media",
    "advertiser",
    "market",
    "language",
    "metadata",
    "content_hash",
    "content_key",
    "created_at",
)
TASK_COLUMNS = (
    "project_id",
    "item_id",
    "import_batch_id",
    "priority",
    "is_gold",
    "status",
    "slots_taken",
    "n_labels",
    "created_at",
)


def rows_in(
    connection: Connection,
    template: str,
    postgres: str,
    fixed: tuple[Any, ...],
    values: Sequence[Any],
) -> Iterator[Any]:
    """Rows of a driver-level query over ``values`` in chunks.

    SQLite runs ``template`` (``{p}`` for each fixed parameter, ``{}`` for the IN list):
    through SQLAlchemy, building an expanding IN of 2,000 values cost more than running
    it. PostgreSQL runs ``postgres`` (the chunk as one array parameter, then the fixed
    ones): joined to ``unnest`` the planner probes the indexes, where a long IN list made
    it scan the whole table on every chunk of the import.
    """
    is_postgres = connection.dialect.name == "postgresql"
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = template.replace("{p}", placeholder)
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start : start + IN_CHUNK])
        if is_postgres:
            yield from connection.exec_driver_sql(postgres, (chunk, *fixed))
        else:
            statement = sql.format(", ".join([placeholder] * len(chunk)))
            yield from connection.exec_driver_sql(statement, (*fixed, *chunk))


class Binder:
    """A column's own bind conversion (JSON text, UTC timestamp, boolean) for raw rows."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect

    def __call__(self, column: Any, value: Any) -> Any:
        processor = column.type._cached_bind_processor(self.dialect)
        return value if processor is None or value is None else processor(value)


def items_by_external_id(
    connection: Connection, external_ids: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """``external_id -> (id, content_hash)`` of the stored items among ``external_ids``.

    SQLite first asks whether any stored id lies between the smallest and the largest
    of the batch (one probe of the unique index): the ids of a fresh file usually share
    a prefix that no stored item has, and then the 2,000-value IN queries (~0.8 us a
    row) are skipped. Python orders strings by code point, as SQLite's default BINARY
    collation orders UTF-8 bytes, so the bounds are exact. PostgreSQL compares by the
    database's collation, so there every chunk is looked up.
    """
    if not external_ids:
        return {}
    if connection.dialect.name == "sqlite" and (
        connection.exec_driver_sql(
            "SELECT 1 FROM items WHERE external_id BETWEEN ? AND ? LIMIT 1",
            (min(external_ids), max(external_ids)),
        ).first()
        is None
    ):
        return {}
    return {
        external_id: (item_id, digest)
        for item_id, external_id, digest in rows_in(
            connection,
            "SELECT id, external_id, content_hash FROM items WHERE external_id IN ({})",
            "SELECT id, external_id, content_hash FROM items"
            " JOIN unnest(%s::text[]) AS wanted(k) ON items.external_id = wanted.k",
            (),
            external_ids,
        )
    }


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows of already-converted values, each led by an id from :func:`reserve_ids`.

    The bulk path of an import: with the ids reserved up front no RETURNING is needed,
    and the rows go straight to the driver's ``executemany`` (PostgreSQL: ``COPY``).
    The caller builds each row with its id in one tuple (a second tuple per row to
    prepend it was ~0.3 us). Through the ORM this cost ~40 us per row.

    Args:
        columns: Every column of ``table`` but ``id``, in the order of each row's values
            after the id.
    """
    if not rows:
        return
    expected = {column.name for column in table.columns} - {"id"}
    if set(columns) != expected:  # a column added to the model must be filled in here
        raise TypeError(f"bulk insert into {table.name}: columns {sorted(expected)} expected")
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in ("id", *columns))
    if dialect.name == "postgresql":
        # COPY: one stream instead of a round trip per row (executemany took ~1 ms
        # per row on a local server).
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"VALUES ({', '.join([placeholder] * (len(columns) + 1))})"
    )
    connection.exec_driver_sql(statement, rows)


def tasks_from_items(
    connection: Connection,
    item_ids: list[int],
    values: tuple[int, int, Any, Any],
    *,
    any_priority: bool,
) -> bool:
    """Insert the tasks of freshly inserted items in one ``INSERT ... SELECT``.

    The common case of a large import: the items' ids are one contiguous range and no
    row sets a priority, so every task column but ``item_id`` is a constant and the
    database can make the rows itself, instead of Python binding ten parameters for each
    of them. Task ids follow item order, as they do on the per-row path. Returns False
    (nothing done) when the case does not apply; the caller then inserts row by row.

    Args:
        values: ``(project_id, import_batch_id, is_gold, created_at)``, bind-converted.
        any_priority: Some of the items' rows set a priority.
    """
    if not item_ids or item_ids[-1] - item_ids[0] + 1 != len(item_ids) or any_priority:
        return False
    dialect = connection.dialect
    expected = {column.name for column in TASKS.columns} - {"id"}
    if set(TASK_COLUMNS) != expected:
        raise TypeError(f"bulk insert into tasks: columns {sorted(expected)} expected")
    p = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    # Same order as TASK_COLUMNS: project_id, item_id, import_batch_id, priority,
    # is_gold, status, slots_taken, n_labels, created_at.
    statement = (
        f"INSERT INTO tasks ({', '.join(quote(name) for name in TASK_COLUMNS)}) "
        f"SELECT {p}, id, {p}, 0, {p}, {p}, 0, 0, {p} FROM items "
        f"WHERE id BETWEEN {p} AND {p} ORDER BY id"
    )
    project_id, batch_id, is_gold, created = values
    connection.exec_driver_sql(
        statement, (project_id, batch_id, is_gold, "open", created, item_ids[0], item_ids[-1])
    )
    return True


def reserve_ids(connection: Connection, table: Table, n: int) -> list[int]:
    """``n`` fresh ids of ``table``, ascending (contiguous on SQLite)."""
    if connection.dialect.name == "postgresql":
        # One row back instead of n: the range when the values are contiguous (no other
        # session drew from the sequence meanwhile), else the values themselves.
        low, high, spread = connection.execute(
            text(
                "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 <> count(*)"
                " THEN array_agg(v ORDER BY v) END FROM (SELECT"
                " nextval(pg_get_serial_sequence(:table, 'id')) AS v"
                " FROM generate_series(1, :n)) AS reserved"
            ),
            {"table": table.name, "n": n},
        ).one()
        return list(spread) if spread is not None else list(range(low, high + 1))
    start = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(start) + 1, int(start) + 1 + n))
