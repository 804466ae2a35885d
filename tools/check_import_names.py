"""Check that every name taken from our own code still exists where it is taken from.

After modules are split or moved, a stale ``from webapp.x import name`` fails only when
that line runs, and a stale ``module.attr`` (``forwarding.send_due()``) only when that
call runs — possibly in a test that is skipped, a bench script or a worker command that
the suite never starts. This reads every Python file under ``webapp/``, ``tests/``,
``tools/`` and ``bench/`` (as text: nothing of theirs is run) and, importing only our
``webapp`` modules, checks:

- ``from webapp.x import name`` (at the top or inside a function): ``webapp.x`` imports
  and ``name`` is an attribute of it or a module beneath it;
- ``import webapp.x.y`` (with or without ``as``): the module imports;
- ``alias.attr`` where ``alias`` is bound by one of those imports to one of our modules
  and never assigned otherwise in that file: ``attr`` exists on the module (also as the
  string name in ``monkeypatch.setattr(alias, "attr", …)``).

Run: ``.venv/bin/python tools/check_import_names.py`` (exit 1 and one line per broken
name); ``tests/unit/test_import_names.py`` runs it over the tree.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("webapp", "tests", "tools", "bench")
OURS = "webapp"


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _has(module: ModuleType, name: str) -> bool:
    return hasattr(module, name) or _module(f"{module.__name__}.{name}") is not None


def _assigned_names(tree: ast.AST) -> set[str]:
    """Names the file binds other than by import (they may hide a module alias)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
    return found


def problems_in(path: Path) -> list[str]:
    """Every name of ours that ``path`` takes and that does not exist."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found: list[str] = []
    aliases: dict[str, ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
            node.module == OURS or node.module.startswith(OURS + ".")
        ):
            module = _module(node.module)
            if module is None:
                found.append(f"{where}:{node.lineno}: no module {node.module}")
                continue
            for alias in node.names:
                if alias.name == "*":
                    continue
                if not _has(module, alias.name):
                    found.append(f"{where}:{node.lineno}: {node.module} has no {alias.name}")
                    continue
                value = getattr(module, alias.name, None) or _module(
                    f"{module.__name__}.{alias.name}"
                )
                if isinstance(value, ModuleType):
                    aliases[alias.asname or alias.name] = value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == OURS or alias.name.startswith(OURS + "."):
                    module = _module(alias.name)
                    if module is None:
                        found.append(f"{where}:{node.lineno}: no module {alias.name}")
                    elif alias.asname:
                        aliases[alias.asname] = module
    shadowed = _assigned_names(tree)
    aliases = {name: module for name, module in aliases.items() if name not in shadowed}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and not _has(aliases[node.value.id], node.attr)
        ):
            found.append(f"{where}:{node.lineno}: {aliases[node.value.id].__name__} has no {node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in aliases
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and not _has(aliases[node.args[0].id], node.args[1].value)
        ):
            module = aliases[node.args[0].id]
            found.append(f"{where}:{node.lineno}: {module.__name__} has no {node.args[1].value}")
    return found


def all_problems(root: Path = ROOT) -> list[str]:
    """Every broken name across the folders, in file order."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    found: list[str] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            found += problems_in(path)
    return found


def main() -> int:
    found = all_problems()
    for line in found:
        print(line)
    print(f"{len(found)} broken name(s)" if found else "every imported name resolves")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
