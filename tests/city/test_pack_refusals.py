"""A broken pack is refused whole: a message naming the file, line and field, and
nothing written to the database or the instance folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.citypack.apply import count_rows


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _boundary(pack, ring):
    (pack / "boundary.geojson").write_text(
        json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8"
    )


SQUARE_CCW = [[-87.70, 42.02], [-87.67, 42.02], [-87.67, 42.06], [-87.70, 42.06], [-87.70, 42.02]]


def broken_toml(pack):
    _edit(pack / "city.toml", 'name = "Evanston"', 'name = "Evanston')


def self_intersecting(pack):
    _boundary(pack, [[-87.70, 42.02], [-87.67, 42.06], [-87.67, 42.02], [-87.70, 42.06],
                     [-87.70, 42.02]])


def clockwise(pack):
    _boundary(pack, list(reversed(SQUARE_CCW)))


def swapped(pack):
    _boundary(pack, [[lat, long] for long, lat in SQUARE_CCW][::-1])


def projected(pack):
    _boundary(pack, [[1160000.0, 1950000.0], [1170000.0, 1950000.0], [1170000.0, 1960000.0],
                     [1160000.0, 1950000.0]])


def no_department(pack):
    _edit(pack / "services.csv", "Bache,Streets and sidewalks,Calles y aceras,Public Works Agency",
          "Bache,Streets and sidewalks,Calles y aceras,")


def duplicate_code(pack):
    _edit(pack / "services.csv", "alley_pothole,", "pothole,")


def unknown_language(pack):
    _edit(pack / "city.toml", 'languages = ["en", "es"]', 'languages = ["en", "xx"]')


def stray_quote(pack):
    _edit(pack / "services.csv", "Pothole,Bache", 'Pothole,"Bache')


def wrong_encoding(pack):
    raw = (pack / "services.csv").read_text(encoding="utf-8")
    (pack / "services.csv").write_bytes(raw.encode("latin-1", errors="replace"))


def low_contrast(pack):
    _edit(pack / "city.toml", 'primary = "#4e2a84"', 'primary = "#9b8fd0"')


def bad_question(pack):
    _edit(pack / "questions.csv", "pothole,size,singlevaluelist", "nosuch,size,singlevaluelist")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (broken_toml, r"city.toml, line 2: not valid TOML"),
        (self_intersecting, "boundary.geojson: the outline crosses itself"),
        (clockwise, "boundary.geojson: wrong winding: the outer ring runs clockwise"),
        (swapped, "latitude and longitude are swapped"),
        (projected, "are not degrees: the layer is projected"),
        (no_department, "services.csv, line 2, field 'department': the service 'pothole' has "
                        "no department"),
        (duplicate_code, "services.csv, line 3, field 'code': duplicate service code 'pothole'"),
        (unknown_language, "city.toml, field 'languages': unknown language 'xx'"),
        (stray_quote, "services.csv, line"),
        (wrong_encoding, "services.csv, line 2: the file is not UTF-8"),
        (low_contrast, "field 'colours': text in #ffffff on #9b8fd0 has a contrast of"),
        (bad_question, "questions.csv, line 2, field 'service': no service with code 'nosuch'"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_a_broken_pack_is_refused_whole_with_where_and_why(app, city_cli, pack, breakage, expected):
    breakage(pack)
    before = count_rows()
    result = city_cli("apply", str(pack))
    assert result.exit_code == 1
    assert "Nothing was changed" in result.output
    assert expected in result.output, result.output
    assert count_rows() == before
    assert not (Path(app.instance_path) / "branding").exists()
