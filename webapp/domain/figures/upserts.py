"""Adding amounts to rows of the figures' tables (rollups, map grid cell counts).

Each flush that changes requests moves a few rows of those tables by a difference. The
statement that does it is written here once per table and reused: building and compiling
an upsert through the SQL expression builder on every flush cost more than running it.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text


def statement(table, keys: tuple[str, ...]):
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column`` for
    every other column of ``table``: written once, run with one row of amounts per key.

    The text is the same on PostgreSQL and SQLite (3.24+), and being built once it is
    neither constructed nor compiled again per flush, which is most of what an upsert
    through the SQL expression builder cost.
    """
    names = [column.name for column in table.columns]
    sums = [name for name in names if name not in keys]
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join(f":{name}" for name in names)
    conflict = ", ".join(f'"{name}"' for name in keys)
    moves = ", ".join(f'"{name}" = {table.name}."{name}" + excluded."{name}"' for name in sums)
    sql = (
        f"INSERT INTO {table.name} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {moves}"
    )
    return text(sql).bindparams(
        *[bindparam(column.name, type_=column.type) for column in table.columns]
    )
