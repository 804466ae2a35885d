"""The pack's files as text, JSON and CSV rows, each problem naming its file and line.

A file is read whole up to ``MAX_FILE_BYTES``; text must be UTF-8 (a byte-order mark is
allowed, as spreadsheets write it), and a CSV row with a stray quote or a wrong number
of values is a problem of its own line rather than a crash.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from webapp.citypack.problems import Collector

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_bytes(root: Path, name: str, found: Collector, *, required: bool) -> bytes | None:
    """A file of the pack, whole, when it is there and within ``MAX_FILE_BYTES``."""
    path = root / name
    if not path.is_file():
        if required:
            found.add(name, "the file is missing")
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        found.add(name, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        return None
    return path.read_bytes()


def decoded_text(name: str, raw: bytes, found: Collector) -> str | None:
    """UTF-8 text (a byte-order mark is allowed), or a problem naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        found.add(
            name,
            f"the file is not UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8 "
            "(in a spreadsheet: CSV UTF-8)",
            line=line,
        )
        return None


def read_json(name: str, raw: bytes, found: Collector):
    """A JSON file's value, or None with the problem (line and column) recorded."""
    text = decoded_text(name, raw, found)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        found.add(name, f"not valid JSON: {error.msg} (column {error.colno})", line=error.lineno)
        return None


def csv_rows(name: str, raw: bytes, found: Collector, required_columns: tuple[str, ...]):
    """(line, row) for each data row; a stray quote or a short row is a problem."""
    text = decoded_text(name, raw, found)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = reader.fieldnames or []
        missing = [c for c in required_columns if c not in header]
        if missing:
            found.add(name, f"missing column(s): {', '.join(missing)}", line=1)
            return []
        for row in reader:
            line = reader.line_num
            if None in row:
                found.add(name, "this row has more values than the header has columns", line=line)
                continue
            if any(v is None for v in row.values()):
                found.add(name, "this row has fewer values than the header has columns", line=line)
                continue
            rows.append((line, {k.strip(): (v or "").strip() for k, v in row.items()}))
    except csv.Error as error:
        found.add(
            name,
            f"the CSV cannot be read ({error}); look for a stray or unclosed quote",
            line=reader.line_num,
        )
        return []
    return rows
