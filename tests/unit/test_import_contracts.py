"""The architecture's contracts (pyproject.toml, held by import-linter): the real tree keeps
them, and a back-import added to a copy of it breaks them, at the top of a file or
inside a function."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """Run lint-imports over the ``webapp`` package found first in ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree), NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_tree(tmp_path):
    """webapp/, pyproject.toml and the custom contract type, copied to a scratch folder."""
    shutil.copytree(
        ROOT / "webapp",
        tmp_path / "webapp",
        ignore=shutil.ignore_patterns("static", "templates", "translations", "__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "import_contracts.py", tmp_path / "tools" / "import_contracts.py")
    return tmp_path


def broken_contracts(result: subprocess.CompletedProcess) -> list[str]:
    """The names of the contracts lint-imports reported as BROKEN (kept ones print KEPT)."""
    return [
        line.removesuffix(" BROKEN").strip()
        for line in result.stdout.splitlines()
        if line.endswith(" BROKEN")
    ]


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + "\n" + line + "\n")


def test_the_real_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert broken_contracts(result) == []


def test_the_copy_keeps_them_too_so_the_failures_below_are_the_added_lines(copy_of_the_tree):
    result = lint_imports(copy_of_the_tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_request_life_importing_a_channel_breaks_the_contracts(copy_of_the_tree):
    add_line(
        copy_of_the_tree / "webapp" / "domain" / "lifecycle" / "requests.py",
        "from webapp.domain.notifications import notify  # noqa: E402",
    )
    result = lint_imports(copy_of_the_tree)
    assert result.returncode == 1, result.stdout
    assert "webapp.domain.lifecycle.requests -> webapp.domain.notifications.notify" in result.stdout
    assert any(name.startswith("The request's life imports no channel")
               for name in broken_contracts(result)), result.stdout


def test_a_back_import_inside_a_function_is_a_cycle(copy_of_the_tree):
    add_line(
        copy_of_the_tree / "webapp" / "domain" / "geo" / "places.py",
        "def _back():\n    from webapp.domain.lifecycle import submission\n\n    return submission",
    )
    result = lint_imports(copy_of_the_tree)
    assert result.returncode == 1, result.stdout
    assert "No import cycle anywhere in webapp/, counting imports inside functions" in (
        broken_contracts(result)), result.stdout
    assert "webapp.domain.geo.places -> webapp.domain.lifecycle.submission" in result.stdout


def test_a_view_imported_by_the_rules_breaks_the_layers(copy_of_the_tree):
    add_line(
        copy_of_the_tree / "webapp" / "domain" / "figures" / "stats.py",
        "from webapp.opendata import views  # noqa: E402",
    )
    result = lint_imports(copy_of_the_tree)
    assert result.returncode == 1, result.stdout
    assert "webapp.domain is not allowed to import webapp.opendata" in result.stdout
    assert "Views call the rules, the rules use the models: never the other way" in (
        broken_contracts(result)), result.stdout
