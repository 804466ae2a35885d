"""Fill a catalog's empty msgstrs from a plain file of ``English ||| translation`` lines.

A helper for translators working outside a PO editor:
``python tools/i18n/fill_catalog.py es tools/i18n/es_part1.txt ...``. Existing
translations are kept unless ``--overwrite`` is given; plural entries take
``singular ||| one ||| other``; ``\\n`` stands for a line break. Then compile with
``make translations``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]


def load_pairs(paths: list[str]) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if "|||" not in line:
                continue
            # A message spanning lines is written on one, with "\\n" for each line break.
            source, *targets = [part.strip().replace("\\n", "\n") for part in line.split("|||")]
            pairs[source] = targets
    return pairs


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    args = [a for a in argv if a != "--overwrite"]
    locale, files = args[0], args[1:]
    po_path = ROOT / "webapp" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    pairs = load_pairs(files)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = pairs.get(key)
        if not targets:
            continue
        # A fuzzy entry holds a guess from a similar msgid (pybabel update): replace it.
        replace = overwrite or "fuzzy" in message.flags
        if isinstance(message.id, tuple):
            current = message.string
            if replace or not any(current):
                # Languages with more plural forms than given (Spanish's "many") reuse the last.
                forms = [*targets, *[targets[-1]] * len(current)]
                message.string = tuple(forms[: len(current)])
                filled += 1
        elif replace or not message.string:
            message.string = targets[0]
            filled += 1
        if "fuzzy" in message.flags:
            message.flags.discard("fuzzy")
    with po_path.open("wb") as handle:
        write_po(handle, catalog, width=100)
    print(f"{locale}: filled {filled} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
