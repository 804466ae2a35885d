"""Every catalog translates every message, with the English placeholders intact."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tools import check_catalogs

ROOT = check_catalogs.ROOT


def current_msgids() -> set[str]:
    """The msgids the source holds right now (the committed .pot may lag behind)."""
    found = set()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "webapp", method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", check_catalogs.translated_locales())
def test_catalog_is_complete_and_not_fuzzy(locale):
    report = check_catalogs.check(locale)
    assert report.ok, (
        f"{locale}: missing {report.missing}, untranslated {report.untranslated}, "
        f"fuzzy {report.fuzzy}, placeholders differ {report.placeholders}"
    )


@pytest.mark.parametrize("locale", check_catalogs.translated_locales())
def test_every_msgid_in_the_source_is_in_the_catalog(locale):
    with (check_catalogs.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
    missing = sorted(current_msgids() - known)
    assert not missing, f"run `make messages` and translate for {locale}: {missing}"


def test_checker_reports_problems(tmp_path, monkeypatch):
    """The checker itself fails on an untranslated, fuzzy or placeholder-broken entry."""
    translations = tmp_path / "translations"
    (translations / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (translations / "messages.pot").write_text(
        'msgid ""\nmsgstr ""\n\nmsgid "One"\nmsgstr ""\n\nmsgid "Two"\nmsgstr ""\n\n'
        'msgid "Hi %(name)s"\nmsgstr ""\n\nmsgid "Four"\nmsgstr ""\n',
        encoding="utf-8",
    )
    (translations / "xx" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: xx\\n"\n\nmsgid "One"\nmsgstr "Uno"\n\n'
        '#, fuzzy\nmsgid "Two"\nmsgstr "Dos"\n\nmsgid "Hi %(name)s"\nmsgstr "Hola %(nombre)s"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(check_catalogs, "TRANSLATIONS", translations)
    report = check_catalogs.check("xx")
    assert (report.total, report.translated) == (4, 1)
    assert report.fuzzy == ["Two"]
    assert report.placeholders == ["Hi %(name)s"]
    assert report.missing == ["Four"]
    assert not report.ok


def test_checker_command_exits_zero_for_shipped_catalogs():
    result = subprocess.run(
        [sys.executable, "tools/check_catalogs.py", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "es: " in result.stdout
