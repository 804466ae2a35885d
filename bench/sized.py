"""Shared by the benchmarks that run at several sizes beside a fair baseline.

Not a benchmark itself: the command-line options every such script takes (sizes, runs,
backends), the backends as settings (a SQLite file in a temporary folder; a PostgreSQL
schema of the script's own in the ``bench`` database by default, dropped at the
end), the median timer and the final table of ours, baseline and their ratio.

The ratio is baseline ÷ ours: above 1 ours is faster, below 1 the obvious SQL wins.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from webapp.plumbing.config import TestingConfig

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


def parser(description: str, sizes: str = "10000,100000") -> argparse.ArgumentParser:
    """The options of a sized benchmark (a script may add its own)."""
    found = argparse.ArgumentParser(description=description)
    found.add_argument("--sizes", default=sizes, help="comma-separated request counts")
    found.add_argument("--runs", type=int, default=15, help="timed runs per figure")
    found.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made in it)")
    found.add_argument("--no-sqlite", action="store_true")
    found.add_argument("--no-pg", action="store_true")
    return found


def sizes(args: argparse.Namespace) -> list[int]:
    """The sizes asked for, smallest first."""
    return sorted(int(size) for size in args.sizes.split(","))


def settings(url: str, folder: Path, engine_options: dict | None = None) -> dict:
    """Test settings pointed at ``url`` (no background thread), files under ``folder``."""
    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    values.update(
        SQLALCHEMY_DATABASE_URI=url,
        BACKGROUND_WORKER="off",
        UPLOAD_DIR=str(folder / "uploads"),
        INSTANCE_DIR=str(folder),
    )
    if engine_options:
        values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return values


@contextmanager
def backend(label: str, args: argparse.Namespace, schema: str, name: str) -> Iterator[dict]:
    """Settings for a fresh, empty database: SQLite file ``name`` or PostgreSQL ``schema``.

    The PostgreSQL schema is dropped and made again on entry and dropped on exit, so
    each use starts empty; the SQLite file lives in a temporary folder, removed on exit.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{schema}-"))
    if label == "SQLite":
        try:
            yield settings(f"sqlite:///{folder / name}.db", folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = create_engine(args.pg, connect_args={"connect_timeout": 3})
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield settings(args.pg, folder, {"connect_args": {"options": f"-csearch_path={schema}"}})
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def labels(args: argparse.Namespace) -> list[str]:
    """The backends asked for; PostgreSQL left out, with a line saying so, when its
    database does not answer."""
    found = [] if args.no_sqlite else ["SQLite"]
    if args.no_pg:
        return found
    engine = create_engine(args.pg, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            found.append("PostgreSQL")
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        print(f"PostgreSQL skipped ({args.pg}): {type(error).__name__}")
    finally:
        engine.dispose()
    return found


def median_ms(action: Callable[[int], object], runs: int, after: Callable[[], None]) -> float:
    """Median wall time of ``action(i)`` for i in 0..runs - 1, after two warm-up calls.

    ``after`` runs outside the timing after each call (e.g. rolling the session back so
    no identity map carries rows from one call to the next).
    """
    for number in range(2):
        action(-1 - number)
        after()
    times = []
    for number in range(runs):
        started = time.perf_counter()
        action(number)
        times.append((time.perf_counter() - started) * 1000)
        after()
    return statistics.median(times)


def print_table(title: str, rows: list[tuple], target_ms: float | None, note: str) -> None:
    """The result table: backend, size, what, ours, baseline, ratio (baseline ÷ ours)."""
    print()
    print(title)
    print(f"{'database':<11}{'requests':>10}  {'what':<30}{'ours ms':>9}{'baseline ms':>13}"
          f"{'ratio':>8}")
    for label, size, name, ours, theirs in rows:
        ratio = f"{theirs / ours:.1f}x" if theirs is not None else "-"
        base = f"{theirs:.1f}" if theirs is not None else "-"
        print(f"{label:<11}{size:>10,}  {name:<30}{ours:>9.1f}{base:>13}{ratio:>8}")
    print(f"ratio = baseline / ours (above 1: ours faster). {note}")
    if target_ms is not None:
        print(f"target: ours <= {target_ms:g} ms")
