"""Hot statements: a Core statement compiled once per dialect, run on the DBAPI cursor.

The labeller's next-task and submit calls are a dozen short statements each. SQLAlchemy's
per-execution work (cache key, execution context, parameter and result set-up) costs
several times what SQLite itself spends on such a statement, and made up about half of
the server's CPU at saturation. A ``Prepared`` statement keeps the SQL defined as a Core
expression (one definition, both dialects) and does that work once per dialect: the SQL
string, the parameter order, the type processors (UTC timestamps, JSON, booleans) and a
row class. Each call then binds, executes and converts, on the Connection's own DBAPI
connection, inside whatever transaction that Connection has open; or, with
:meth:`Prepared.first_async`, on an asyncpg connection of the event loop
(``labelops.api.alone``).

Use it only for fixed statements without expanding (``IN``) parameters.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import NoResultFound
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter, ClauseElement

__all__ = ["Prepared"]

_Processor = Callable[[Any], Any]


@dataclass
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional paramstyles)
    defaults: dict[str, Any]  # values of binds the statement carries itself
    bind_processors: dict[str, _Processor]
    columns: list[Any]  # the result columns (their types convert the values)
    row_type: Any  # a namedtuple class, or None for statements that return no rows
    # Positional paramstyles: each parameter's name and bind processor, in order.
    plan: tuple[tuple[str, _Processor | None], ...] | None
    # psycopg: the SQL has ``$n`` placeholders and runs on these cursor classes
    # (``RawCursor``, ``RawServerCursor``).
    raw_cursors: tuple[Any, Any] | None
    # Made at the first execution: some drivers' processors depend on the type code the
    # database reports for the column (PostgreSQL numerics).
    result_processors: tuple[tuple[int, _Processor], ...] | None = None
    row_converter: Callable[[Any], Any] | None = None  # made with the result processors


_NUMBERED_DIALECTS: dict[type[Dialect], Dialect] = {}


def _numbered_parameters(dialect: Dialect) -> Dialect:
    """The psycopg dialect writing PostgreSQL's own ``$n`` placeholders.

    psycopg rewrites ``%(name)s`` placeholders into ``$n`` at every execution; it
    caches the rewrite only for statements up to 4,096 characters, and the one-statement
    labeller calls are longer: their rewrite was 7 % of the server's CPU at saturation.
    A ``RawCursor`` takes ``$n`` SQL and a sequence of values as they are.
    """
    numbered = _NUMBERED_DIALECTS.get(type(dialect))
    if numbered is None:
        make: Any = type(dialect)  # PostgreSQL dialects take ``paramstyle``
        numbered = _NUMBERED_DIALECTS[type(dialect)] = make(paramstyle="numeric_dollar")
    return numbered


@functools.cache
def _asyncpg_dialect() -> Dialect:
    """SQLAlchemy's asyncpg dialect, used only to compile: ``$n`` placeholders, and bind
    processors that give asyncpg what it takes (JSON as text)."""
    from sqlalchemy.dialects.postgresql import asyncpg

    make: Any = asyncpg.dialect  # untyped in SQLAlchemy
    dialect: Dialect = make()
    return dialect


def _raw_cursor_classes() -> tuple[Any, Any]:
    # Imported here: only PostgreSQL deployments load the driver.
    from psycopg import RawCursor, RawServerCursor

    return RawCursor, RawServerCursor


class Prepared:
    """One Core statement, run without SQLAlchemy's per-execution machinery.

    Args:
        statement: A Core ``select``, ``insert``, ``update`` or ``delete`` (with or
            without ``RETURNING``) whose parameters are named ``bindparam``s or values.
        column_keys: For an ``insert``/``update`` without ``.values()``: the columns
            every call sets, each passed under its column key.
    """

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] = ()) -> None:
        self.statement = statement
        self.column_keys = list(column_keys)
        self._compiled: dict[str, _Compiled] = {}
        self._streams = 0

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every result row (attribute access by column key, like SQLAlchemy rows)."""
        compiled, cursor = self._run(connection, params)
        fetched = cursor.fetchall()
        convert = self._converter(compiled, cursor, connection.dialect)
        cursor.close()
        return [convert(row) for row in fetched]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first result row, or None."""
        compiled, cursor = self._run(connection, params)
        row = cursor.fetchone()
        convert = self._converter(compiled, cursor, connection.dialect)
        cursor.close()
        return None if row is None else convert(row)

    def one(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """The first result row.

        Raises:
            NoResultFound: The statement returned no row.
        """
        row = self.first(connection, params)
        if row is None:
            raise NoResultFound("a prepared statement that must return a row returned none")
        return row

    def scalar(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first column of the first row, or None."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def scalars(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.rows(connection, params)]

    def stream(
        self, connection: Connection, params: Mapping[str, Any], *, chunk_rows: int
    ) -> Generator[list[Any], None, None]:
        """The result rows in chunks of up to ``chunk_rows``, for results too big to hold.

        On PostgreSQL the rows come through a named (server-side) cursor, so the server
        sends them chunk by chunk. Values are converted like those of :meth:`rows`, but
        rows are plain tuples in column order (a million named rows cost a second).
        """
        if connection.dialect.name == "postgresql":
            self._streams += 1
            cursor_name = f"labelops_stream_{id(self):x}_{self._streams}"
            compiled, cursor = self._run(connection, params, cursor_name=cursor_name)
            cursor.itersize = chunk_rows
        else:
            compiled, cursor = self._run(connection, params)
        try:
            while chunk := cursor.fetchmany(chunk_rows):
                convert = self._converter(compiled, cursor, connection.dialect, make=tuple)
                yield chunk if convert is tuple else [convert(row) for row in chunk]
        finally:
            cursor.close()

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; returns the row count."""
        _compiled, cursor = self._run(connection, params)
        count: int = cursor.rowcount
        cursor.close()
        return count

    async def first_async(self, connection: Any, params: Mapping[str, Any]) -> Any | None:
        """:meth:`first` on an asyncpg connection (PostgreSQL), for a statement run on the
        event loop; asyncpg prepares it once per connection."""
        dialect = _asyncpg_dialect()
        compiled = self._compiled_for(dialect)
        row = await connection.fetchrow(compiled.sql, *self._arguments(compiled, params))
        if row is None:
            return None
        if compiled.result_processors is None:
            # asyncpg converts by the column's type itself: no type code is needed.
            compiled.result_processors = tuple(
                (index, process)
                for index, column in enumerate(compiled.columns)
                if (process := column.type._cached_result_processor(dialect, None)) is not None
            )
        return self._converter(compiled, None, dialect)(row)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"  # psycopg and asyncpg differ in binds
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect)
        return compiled

    def _run(
        self, connection: Connection, params: Mapping[str, Any], *, cursor_name: str | None = None
    ) -> tuple[_Compiled, Any]:
        compiled = self._compiled_for(connection.dialect)
        arguments = self._arguments(compiled, params)
        driver: Any = connection.connection.driver_connection
        if compiled.raw_cursors is not None:
            client_side, server_side = compiled.raw_cursors
            cursor = server_side(driver, cursor_name) if cursor_name else client_side(driver)
        else:
            cursor = driver.cursor(name=cursor_name) if cursor_name else driver.cursor()
        cursor.execute(compiled.sql, arguments)
        return compiled, cursor

    @staticmethod
    def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = {**compiled.defaults, **params} if compiled.defaults else params
        arguments: Any
        if compiled.plan is not None:
            # One pass over the parameters in order (a dozen statements per labeller
            # call: the copies and loops of the general way below add up).
            arguments = [
                values[name] if process is None else process(values[name])
                for name, process in compiled.plan
            ]
        else:
            arguments = dict(values)
            for name, process in compiled.bind_processors.items():
                arguments[name] = process(arguments[name])
        return arguments

    @staticmethod
    def _converter(
        compiled: _Compiled,
        cursor: Any,
        dialect: Dialect,
        make: Callable[[Any], Any] | None = None,
    ) -> Callable[[Any], Any]:
        if make is None and compiled.row_converter is not None:
            return compiled.row_converter
        processors = compiled.result_processors
        if processors is None:
            # Made at the first execution: a driver's processor may depend on the type
            # code the database reports for the column (PostgreSQL numerics do).
            described = [entry[1] for entry in cursor.description]
            processors = compiled.result_processors = tuple(
                (index, process)
                for index, (column, type_code) in enumerate(
                    zip(compiled.columns, described, strict=True)
                )
                if (process := column.type._cached_result_processor(dialect, type_code)) is not None
            )
        named = make is None
        make = make or compiled.row_type._make
        if not processors:
            convert = make
        else:

            def convert(row: Any) -> Any:
                values = list(row)
                for index, process in processors:
                    values[index] = process(values[index])
                return make(values)

        if named:
            compiled.row_converter = convert
        return convert

    def _compile(self, dialect: Dialect) -> _Compiled:
        if not isinstance(self.statement, ClauseElement):
            raise TypeError("Prepared needs a Core statement")
        raw = dialect.driver == "psycopg"
        compiled: Any = self.statement.compile(
            dialect=_numbered_parameters(dialect) if raw else dialect,
            column_keys=self.column_keys or None,
        )
        binds: dict[str, BindParameter[Any]] = {
            name: bind for bind, name in compiled.bind_names.items()
        }
        if any(bind.expanding for bind in binds.values()):
            raise ValueError("Prepared does not take expanding (IN) parameters")
        defaults = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
        bind_processors: dict[str, _Processor] = {
            name: process
            for name, bind in binds.items()
            if (process := bind.type._cached_bind_processor(dialect)) is not None
        }
        columns = list(getattr(self.statement, "exported_columns", ()))
        keys = [str(column.key) for column in columns]
        row_type = namedtuple("PreparedRow", keys, rename=True) if keys else None  # type: ignore[misc]
        order = tuple(compiled.positiontup) if compiled.positional else None
        return _Compiled(
            sql=compiled.string,
            order=order,
            defaults=defaults,
            bind_processors=bind_processors,
            columns=columns,
            row_type=row_type,
            raw_cursors=_raw_cursor_classes() if raw else None,
            plan=None
            if order is None
            else tuple((name, bind_processors.get(name)) for name in order),
        )
