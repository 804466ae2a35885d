"""List what each translation catalog still lacks.

    .venv/bin/python tools/check_catalogs.py            # every catalog
    .venv/bin/python tools/check_catalogs.py es --quiet # just the counts

For each ``webapp/translations/<lang>/LC_MESSAGES/messages.po`` it compares against the
template ``messages.pot`` (run ``make messages`` first) and prints the msgids that are
missing from the catalog, untranslated, fuzzy, obsolete, or whose placeholders
(``%(name)s``, ``{name}``) differ from the English. Exits 1 when anything is wrong.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "webapp" / "translations"
SOURCE_LOCALE = "en"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w+\}")


@dataclass
class Report:
    locale: str
    total: int = 0
    translated: int = 0
    missing: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.placeholders)


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text or ""))


def translated_locales() -> list[str]:
    return sorted(
        p.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES") if p.parent.name != SOURCE_LOCALE
    )


def check(locale: str) -> Report:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    report = Report(locale)
    wanted = {_key(m.id) for m in template if m.id}
    report.obsolete = sorted(_key(m.id) for m in catalog.obsolete.values())
    for key in sorted(wanted):
        report.total += 1
        message = catalog.get(key)
        if message is None:
            report.missing.append(key)
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not all(strings):
            report.untranslated.append(key)
            continue
        if message.fuzzy:
            report.fuzzy.append(key)
            continue
        wanted_marks = _placeholders(ids[-1])
        # A plural's singular may spell "1" out; compare the plural forms' placeholders.
        if any(set(_placeholders(s)) - set(wanted_marks) for s in strings) or (
            _placeholders(strings[-1]) != wanted_marks
        ):
            report.placeholders.append(key)
            continue
        report.translated += 1
    return report


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    locales = [a for a in argv if not a.startswith("--")] or translated_locales()
    failed = False
    for locale in locales:
        report = check(locale)
        print(f"{locale}: {report.translated}/{report.total} translated")
        if not quiet:
            for label in ("missing", "untranslated", "fuzzy", "placeholders", "obsolete"):
                for key in getattr(report, label):
                    print(f"  {label}: {key!r}")
        failed = failed or not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
