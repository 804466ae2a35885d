"""JSON answers are encoded by orjson and say what Flask's own encoder would say."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from flask import jsonify
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from webapp.plumbing.json_provider import OrjsonProvider


@dataclasses.dataclass
class Place:
    name: str
    lat: float


VALUES = {
    "when": datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
    "day": date(2026, 12, 5),
    "amount": Decimal("12.50"),
    "id": UUID("12345678-1234-5678-1234-567812345678"),
    "place": Place("Parque Central", 35.05),
    "markup": Markup("<b>¡Hola!</b>"),
    "text": "Señal rota en la esquina",
    "zebra": [1, 2.5, None, True],
    "alpha": {"b": 1, "a": {"d": 2, "c": 3}},
    "numbers": {3: "three", 1: "one"},
}


def test_the_app_encodes_with_orjson(app):
    assert isinstance(app.json, OrjsonProvider)


def test_every_value_reads_back_as_flask_s_own_encoder_writes_it(app):
    ours = json.loads(app.json.dumps(VALUES))
    flask_s = json.loads(DefaultJSONProvider(app).dumps(VALUES))
    assert ours == flask_s
    assert ours["when"] == "Sat, 05 Dec 2026 09:30:00 GMT"
    assert ours["amount"] == "12.50"
    assert ours["place"] == {"name": "Parque Central", "lat": 35.05}


def test_keys_come_sorted_and_spanish_comes_as_utf8(app):
    with app.test_request_context():
        body = jsonify({"zeta": "Señal", "alpha": {"b": 1, "a": 2}}).get_data()
    assert body == '{"alpha":{"a":2,"b":1},"zeta":"Señal"}\n'.encode()


def test_a_value_orjson_refuses_is_written_the_standard_way(app):
    huge = 2**70
    with app.test_request_context():
        answer = jsonify({"n": huge})
    assert json.loads(answer.get_data()) == {"n": huge}
    assert app.json.dumps({"n": huge}) == '{"n":1180591620717411303424}'


def test_an_unknown_type_is_refused_as_flask_refuses_it(app):
    import pytest

    with pytest.raises(TypeError):
        app.json.dumps({"x": object()})


def test_debug_answers_are_indented(app):
    app.debug = True
    try:
        with app.test_request_context():
            body = jsonify({"b": 1, "a": 2}).get_data(as_text=True)
    finally:
        app.debug = False
    assert body == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_stored_json_reads_back_as_the_standard_library_reads_it():
    from webapp.plumbing.json_provider import read_json

    for text in ('{"size": "large", "depth_cm": 12.5, "tags": ["a", "é"]}', "[]", "null",
                 '{"n": NaN}', '{"big": 123456789012345678901234567890}', '"\\ud800"'):
        value = read_json(text)
        expected = json.loads(text)
        assert repr(value) == repr(expected), text


def test_the_database_reads_json_columns_with_it(app):
    from webapp.plumbing.extensions import db
    from webapp.plumbing.json_provider import read_json

    assert db.engine.dialect._json_deserializer is read_json
