"""History import: a generated open-data CSV of N requests imported with
``flask city import-requests --csv`` into a fresh database (the Evanston example pack
applied first), in a child process whose peak memory (max RSS) is read when it ends.
Each request gets its timeline as it is imported (an opening entry, and a closing entry
with its note for the three in five that are closed).

Run ``.venv/bin/python bench/bench_import.py --rows 1000000`` (SQLite) and add
``--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench`` for PostgreSQL (the
database's public schema is dropped and re-created). ``--rows`` takes several sizes:
the peak memory staying flat as the rows grow is what "bounded memory" means.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "webapp"]
PACK = ROOT / "examples" / "evanston"
TYPES = ["Pothole in Street", "Street Light Out", "Graffiti Removal", "Missed Garbage",
         "Tree Down", "Rats", "Abandoned Car", "Sidewalk Repair"]
MAPPING = """
source = "bench-legacy"
id = "case_id"
service = "type"
received = "opened"
timezone = "America/Chicago"
channel = "phone"

[columns]
closed = "closed"
status = "state"
lat = "latitude"
long = "longitude"
address = "street_address"
description = "details"
note = "resolution"

[statuses]
"OPEN" = "submitted"
"IN PROGRESS" = "in_progress"
"CLOSED" = "closed"

[services]
"Pothole in Street" = "pothole"
"Street Light Out" = "streetlight_out"
"Graffiti Removal" = "graffiti"
"Missed Garbage" = "missed_garbage"
"Tree Down" = "tree_down"
"Rats" = "rodents"
"Abandoned Car" = "abandoned_vehicle"
"Sidewalk Repair" = "sidewalk_damage"
"""


def write_csv(path: Path, rows: int, seed: int = 311) -> None:
    """A city open-data export of ``rows`` requests over three years (streamed)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("case_id,type,opened,closed,state,latitude,longitude,street_address,details,"
                  "resolution\n")
        for n in range(rows):
            day = rng.randrange(3 * 365)
            year, rest = 2023 + day // 365, day % 365
            month, mday = 1 + rest // 31 % 12, 1 + rest % 28
            opened = f"{year}-{month:02d}-{mday:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
            state = rng.choice(("CLOSED", "CLOSED", "CLOSED", "OPEN", "IN PROGRESS"))
            closed = f"{year}-{month:02d}-{min(mday + rng.randrange(3), 28):02d} 17:00:00" \
                if state == "CLOSED" else ""
            lat = 42.022 + rng.random() * 0.045
            long = -87.725 + rng.random() * 0.05
            out.write(f"EV-{n:08d},{rng.choice(TYPES)},{opened},{closed},{state},{lat:.6f},"
                      f"{long:.6f},\"{rng.randrange(100, 2999)} Main St\",Reported by phone,"
                      f"{'Crew finished the work' if closed else ''}\n")


def run(cmd, env) -> None:
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def bench(rows: int, database_url: str, folder: Path) -> dict:
    # The commands run as production does, which wants the city's public address.
    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_DIR": str(folder / "inst"),
           "BACKGROUND_WORKER": "off", "PUBLIC_URL": "http://127.0.0.1"}
    if database_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    run([*FLASK, "db", "upgrade"], env)
    run([*FLASK, "city", "apply", str(PACK)], env)
    data, mapping = folder / f"history-{rows}.csv", folder / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    write_csv(data, rows)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([*FLASK, "city", "import-requests", "--csv", str(data), "--mapping",
                           str(mapping)], env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        print(done.stdout, done.stderr)
        raise SystemExit(1)
    print(done.stdout.strip().splitlines()[0])
    data.unlink()
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds,
            "peak_mb": max(peak_kb, before) / 1024, "size_mb": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pg", help="PostgreSQL URL (its public schema is dropped)")
    args = parser.parse_args()
    print("| database | rows | seconds (import + rollups) | rows/s | peak RSS of the import |")
    print("|---|---|---|---|---|")
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url = args.pg or f"sqlite:///{folder / 'bench.db'}"
            result = bench(rows, url, folder)
        kind = "PostgreSQL" if args.pg else "SQLite"
        print(f"| {kind} | {result['rows']:,} | {result['seconds']:.0f} | "
              f"{result['rate']:,.0f} | {result['peak_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
