"""docs/security.md names the test that holds each defence: every one must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(\w+)`")


def test_every_test_named_in_the_security_doc_exists():
    text = (ROOT / "docs" / "security.md").read_text()
    current = None
    named = []
    for path, name in REFERENCE.findall(text):
        current = path or current
        assert current, f"{name} is named before any test file"
        named.append((current, name))
    assert len(named) > 30
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert not missing, "docs/security.md names tests that do not exist: " + ", ".join(missing)
