"""The hottest public reads: SQL that SQLAlchemy compiled once, run on the driver's cursor.

The public map's page of requests is read on every pan by every resident. Its four
statements are built with SQLAlchemy like every other query, but for a read this small
SQLAlchemy's per-execution work (the cache key walk, the execution context, the result
object, a row object per row) added a quarter to what SQLite spends on it, and more on
PostgreSQL (measured in ``bench/README.md``). So each statement is compiled once per dialect and then run on the session
connection's own driver cursor, in the same transaction as the rest of the request.

The values are exactly what ``connection.execute(statement, values).all()`` returns: each
bound value goes through its type's bind processor and each column through its type's
result processor (SQLite's 0/1 booleans, JSON text, timestamps), as SQLAlchemy would do
them; ``tests/unit/test_driver_reads.py`` holds the two to the same rows on both
databases. Rows are plain tuples. A driver error is raised as SQLAlchemy's (a lost
connection invalidated), as from any other query. Statements with an expanding ``IN`` are
not supported: pass a list as one value (an array on PostgreSQL, JSON on SQLite) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select


@dataclass
class _Compiled:
    """A statement compiled for one dialect, with what the driver needs to run it."""

    statement: Select  # kept alive, so its id names it for as long as the cache lives
    sql: str
    order: tuple[str, ...] | None  # parameter names in order, for positional drivers
    defaults: dict[str, Any]  # the values bound in the statement itself
    bind_processors: dict[str, Any]
    # (column index, processor); known after the first run, from the driver's column types
    result_processors: tuple[tuple[int, Any], ...] | None = None


_COMPILED: dict[tuple[str, str, int], _Compiled] = {}


def _compile(statement: Select, dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding for bind in compiled.binds.values()):
        raise ValueError("an expanding IN cannot be run on the driver: pass one list value")
    bind_processors = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            bind_processors[name] = processor
    return _Compiled(
        statement=statement,
        sql=compiled.string,
        order=tuple(compiled.positiontup) if compiled.positional else None,
        defaults={
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required
        },
        bind_processors=bind_processors,
    )


def _result_processors(statement: Select, dialect, description) -> tuple:
    """Each column's result processor for the types the driver said it returns."""
    found = []
    for index, column in enumerate(statement.selected_columns):
        driver_type = description[index][1]
        processor = column.type.dialect_impl(dialect).result_processor(dialect, driver_type)
        if processor is not None:
            found.append((index, processor))
    return tuple(found)


def _as_sqlalchemy_error(connection: Connection, compiled: _Compiled, parameters: dict,
                         error: Exception, cursor) -> DBAPIError:
    """The driver's error as SQLAlchemy would raise it, the connection invalidated when it
    was lost: the app's error pages (a 503 while the database is away) read these."""
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    lost = dialect.is_disconnect(error, driver, cursor)
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        compiled.sql, parameters, error, dialect.loaded_dbapi.Error,
        connection_invalidated=lost, dialect=dialect,
    )


def driver_rows(connection: Connection, statement: Select, values: dict | None = None) -> list:
    """The rows of ``statement`` with ``values``, as tuples, run on ``connection``'s driver.

    ``statement`` must be built once and reused (the compiled form is kept by its
    identity), as the map read's statements are.
    """
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, id(statement))
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = _compile(statement, dialect)
    parameters = {**compiled.defaults, **(values or {})}
    for name, processor in compiled.bind_processors.items():
        if name in parameters:
            parameters[name] = processor(parameters[name])
    driver = connection.connection.driver_connection
    cursor = None
    try:
        cursor = driver.cursor()
        if compiled.order is None:
            cursor.execute(compiled.sql, parameters)
        else:
            cursor.execute(compiled.sql, [parameters[name] for name in compiled.order])
        rows = cursor.fetchall()
        if compiled.result_processors is None:
            compiled.result_processors = _result_processors(
                compiled.statement, dialect, cursor.description
            )
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, compiled, parameters, error, cursor) from error
    if not compiled.result_processors:
        return [tuple(row) for row in rows] if rows and not isinstance(rows[0], tuple) else rows
    processed = []
    for row in rows:
        cells = list(row)
        for index, processor in compiled.result_processors:
            cells[index] = processor(cells[index])
        processed.append(tuple(cells))
    return processed
