"""The README's Open311 section keeps up with the Open311 routes."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Open311 GeoReport v2")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_open311_route_has_a_curl_example(app):
    section = _section()
    examples = [line for line in section.splitlines() if "curl" in line and "$H/" in line]
    routes = {
        (rule.rule.removeprefix("/open311/v2/").split(".<")[0], method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/open311/v2/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes
    for path, method in routes:
        stem = path.split("/<")[0]
        matching = [
            line
            for line in examples
            if f"$H/{stem}" in line and (("-X POST" in line) == (method == "POST"))
        ]
        assert matching, f"no curl example for {method} {path}"


def test_the_section_says_how_to_issue_an_api_key():
    assert "flask --app webapp api-key issue" in _section()
