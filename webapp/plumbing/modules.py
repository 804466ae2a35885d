"""The app's ES modules under their hashed URLs: the import graph and the import map.

A page loads its entry script by its hashed URL (``/static/js/report.js?v=…``), but the
``import … from "./outbox.js"`` lines inside the scripts name plain paths. Without help
the browser would fetch ``/static/js/outbox.js`` (revalidated on every visit) and the
service worker would precache ``/static/js/outbox.js?v=…`` as well: the same file twice
on a phone's first visit. Every page therefore carries an import map that sends each
imported module to its hashed URL, so a page, a later import and the worker's precache
all ask for one URL, which the browser keeps for a year.

The map is inline, and the Content-Security-Policy allows no inline script but this one,
by the hash of its exact text (``import_map_csp_source``).

The import graph also tells the worker's precache which modules a page's entry scripts
need (``module_closure``), so only those are downloaded at install.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
from pathlib import Path

from flask import current_app, url_for

from webapp.plumbing.assets import file_hash, static_path

SCRIPTS_FOLDER = "js"
STATIC_PREFIX = "/static/"
# `from "./x.js"`, `import "./x.js"` and `import("/static/js/x.js")`: every way our
# scripts name another module (always a literal path ending in .js).
IMPORTED = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["']([^"'\s]+\.js)["']""")

_imports_memo: dict[str, tuple[str, tuple[str, ...]]] = {}


def _resolve(importer: str, target: str) -> str | None:
    """A module path as named inside ``importer``, relative to the static folder."""
    if target.startswith(STATIC_PREFIX):
        return target[len(STATIC_PREFIX) :]
    if target.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))
    return None


def module_imports(filename: str) -> tuple[str, ...]:
    """The static files a script imports (statically or not), relative to the static
    folder; read again only when the file's content hash changes."""
    path = static_path(filename)
    if path is None:
        return ()
    digest = file_hash(path)
    memo = _imports_memo.get(filename)
    if memo and memo[0] == digest:
        return memo[1]
    found = []
    for target in IMPORTED.findall(path.read_text(encoding="utf-8")):
        resolved = _resolve(filename, target)
        if resolved and static_path(resolved) and resolved not in found:
            found.append(resolved)
    _imports_memo[filename] = (digest, tuple(found))
    return tuple(found)


def module_closure(entries: list[str] | tuple[str, ...]) -> list[str]:
    """The entry scripts and every module they import, directly or not, sorted."""
    seen: set[str] = set()
    waiting = [entry for entry in entries if static_path(entry)]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        waiting.extend(module_imports(name))
    return sorted(seen)


_map_memo: dict[str, tuple[tuple, str, str]] = {}


def _scripts() -> list[Path]:
    return sorted((Path(current_app.static_folder) / SCRIPTS_FOLDER).glob("*.js"))


def import_map() -> dict:
    """``{"imports": {plain URL: hashed URL}}`` for every module another one imports."""
    root = Path(current_app.static_folder)
    names = [path.relative_to(root).as_posix() for path in _scripts()]
    imported = sorted({target for name in names for target in module_imports(name)})
    return {
        "imports": {
            f"{STATIC_PREFIX}{name}": url_for("static", filename=name) for name in imported
        }
    }


def _import_map_text_and_source() -> tuple[str, str]:
    """The map's text and its CSP source, worked out again only when a script changed."""
    signature = tuple(
        (path.name, stat.st_mtime_ns, stat.st_size)
        for path in _scripts()
        for stat in (path.stat(),)
    )
    memo = _map_memo.get(current_app.static_folder)
    if memo and memo[0] == signature:
        return memo[1], memo[2]
    # Our file names are [a-z0-9-] paths: nothing in them can close the <script> tag.
    text = json.dumps(import_map(), separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(text.encode()).digest()
    source = f"'sha256-{base64.b64encode(digest).decode()}'"
    _map_memo[current_app.static_folder] = (signature, text, source)
    return text, source


def import_map_json() -> str:
    """The import map as the exact text the page carries (and the CSP hashes)."""
    return _import_map_text_and_source()[0]


def import_map_csp_source() -> str:
    """The CSP source that allows exactly this import map: ``'sha256-…'``."""
    return _import_map_text_and_source()[1]


def init_app(app) -> None:
    """Templates write ``{{ import_map_json() }}`` inside ``<script type="importmap">``."""
    app.add_template_global(import_map_json, "import_map_json")
