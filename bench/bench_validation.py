"""Benchmark: what declaring the API's input costs per request, and with which library.

Three measurements, each against a baseline from the same run:

1. **Library cost** — validating a typical list query (``bbox``, ``status``, ``page``,
   ``page_size``) plus a typical report body (the outbox's multipart fields) with
   pydantic v2 (our real models in ``webapp.api.inputs``) and with marshmallow 3/4
   schemas of the same rules (lengths, character rules, bounded ASCII integers).
   Baseline: hand parsing with ``dict.get`` and ``int()``/``float()`` as the views did.
2. **Framework cost** — a bare Flask app whose one route reads the same query, plain
   versus declared through spectree (``webapp.api.schema.operation``: validation,
   response re-wrapping, our error hook). Through the Flask test client.
3. **The real route** — ``GET /api/v1/requests?…`` on an empty SQLite database, to put
   the figures beside the cost of a whole request.

Prints microseconds per call (median of ``BENCH_RUNS`` rounds of ``BENCH_CALLS`` calls).
Run: ``.venv/bin/python bench/bench_validation.py``. Needs the ``dev`` extra
(marshmallow).
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, jsonify, request  # noqa: E402
from marshmallow import Schema, ValidationError, fields, validate, validates  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.api.inputs import CreateRequestForm, RequestListQuery  # noqa: E402
from webapp.api.schema import inputs, operation  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CALLS = int(os.environ.get("BENCH_CALLS", "2000"))

QUERY = {"bbox": "-85.35,35.0,-85.25,35.1", "status": "open", "page": "2", "page_size": "50"}
FORM = {
    "service_code": "pothole",
    "lat": "35.0456",
    "long": "-85.3097",
    "accuracy": "12",
    "description": "Deep pothole in the right lane\nnear the bus stop.",
    "landmark": "By the library",
    "contact_name": "Ana Ruiz",
    "contact_email": "ana@example.org",
    "contact_phone": "+1 423 555 0100",
    "attribute[size]": "large",
    "notify": "1",
    "captured_at": "2024-05-01T10:00:00Z",
}

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_DIGITS = re.compile(r"^[+-]?[0-9]{1,18}$")


def _clean(value: str) -> str:
    if _BAD.search(value):
        raise ValidationError("contains characters that are not allowed")
    return value


class WholeNumber(fields.Integer):
    """marshmallow integer with the same ASCII-digits rule."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not _DIGITS.match(value.strip()):
            raise ValidationError("must be a whole number")
        return super()._deserialize(value, attr, data, **kwargs)


def _text(length: int, **kwargs):
    return fields.String(
        validate=[validate.Length(max=length), _clean], load_default="", **kwargs
    )


class ListQuerySchema(Schema):
    bbox = fields.String(validate=[validate.Length(max=100), _clean])
    status = fields.String(validate=validate.OneOf(["open", "closed", "submitted"]))
    service_code = _text(64)
    page = WholeNumber(validate=validate.Range(1, 1_000_000), load_default=1)
    page_size = WholeNumber(validate=validate.Range(1, 200), load_default=50)

    @validates("bbox")
    def corners(self, value, **_kwargs):
        parts = [float(p) for p in value.split(",")]
        if len(parts) != 4:
            raise ValidationError("four numbers")


class ReportSchema(Schema):
    class Meta:
        unknown = "include"

    service_code = _text(64)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    long = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)
    accuracy = fields.Float(validate=validate.Range(0, 1_000_000), allow_nan=False)
    description = _text(4000)
    landmark = _text(255)
    address = _text(255)
    attributes = _text(20_000)
    contact_name = _text(120)
    contact_email = _text(254)
    contact_phone = _text(40)
    notify = _text(8)
    community_issue = _text(8)
    captured_at = _text(40)


def by_hand(query: dict, form: dict) -> tuple:
    """The old views: dict access, int()/float(), a few length checks."""
    page = int(query.get("page") or 1)
    page_size = int(query.get("page_size") or 50)
    bbox = tuple(float(p) for p in query["bbox"].split(","))
    status = query.get("status")
    lat, long = float(form["lat"]), float(form["long"])
    accuracy = float(form["accuracy"])
    description = form.get("description", "")
    if len(description) > 4000:
        raise ValueError
    return page, page_size, bbox, status, lat, long, accuracy, description


def with_pydantic(query: dict, form: dict) -> tuple:
    return RequestListQuery.model_validate(query), CreateRequestForm.model_validate(form)


LIST_SCHEMA, REPORT_SCHEMA = ListQuerySchema(), ReportSchema()


def with_marshmallow(query: dict, form: dict) -> tuple:
    return LIST_SCHEMA.load(query), REPORT_SCHEMA.load(form)


def per_call_us(func, *args, calls: int = CALLS) -> float:
    """Median microseconds per call over RUNS rounds of ``calls`` calls."""
    rounds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(calls):
            func(*args)
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


def bare_apps() -> tuple[Flask, Flask]:
    """The same tiny route, plain and declared through spectree."""
    plain = Flask("plain")

    @plain.get("/api/v1/things")
    def plain_view():
        args = request.args
        page = int(args.get("page") or 1)
        page_size = int(args.get("page_size") or 50)
        bbox = tuple(float(p) for p in args["bbox"].split(","))
        return jsonify({"data": [], "meta": {"page": page, "size": page_size, "bbox": bbox}})

    declared = Flask("declared")

    @declared.get("/api/v1/things")
    @operation(tags=["bench"], query=RequestListQuery)
    def declared_view():
        args = inputs().query
        return jsonify({"data": [], "meta": {"page": args.page, "size": args.page_size}})

    return plain, declared


def main() -> None:
    rows = [("hand parsing (baseline)", per_call_us(by_hand, QUERY, FORM))]
    rows.append(("pydantic v2 models", per_call_us(with_pydantic, QUERY, FORM)))
    rows.append(("marshmallow schemas", per_call_us(with_marshmallow, QUERY, FORM)))
    base = rows[0][1]
    print(f"1. validating one list query + one report body ({RUNS}x{CALLS} calls)")
    print(f"   {'':28} {'µs/call':>9} {'× baseline':>11}")
    for name, value in rows:
        print(f"   {name:28} {value:9.1f} {value / base:11.1f}")

    plain, declared = bare_apps()
    url = "/api/v1/things?" + "&".join(f"{k}={v}" for k, v in QUERY.items())
    plain_client, declared_client = plain.test_client(), declared.test_client()
    assert plain_client.get(url).status_code == 200
    assert declared_client.get(url).status_code == 200
    calls = max(200, CALLS // 4)
    plain_rounds, declared_rounds = [], []
    for _ in range(RUNS * 2):  # interleaved, so a busy machine weighs on both alike
        plain_rounds.append(per_call_us(plain_client.get, url, calls=calls))
        declared_rounds.append(per_call_us(declared_client.get, url, calls=calls))
    plain_us, declared_us = statistics.median(plain_rounds), statistics.median(declared_rounds)
    print(f"\n2. one GET through Flask's test client ({RUNS}x{calls} calls)")
    print(f"   {'plain view (baseline)':28} {plain_us:9.1f} {1.0:11.1f}")
    print(f"   {'spectree + pydantic':28} {declared_us:9.1f} {declared_us / plain_us:11.1f}")
    print(f"   added per request: {declared_us - plain_us:.0f} µs")

    with tempfile.TemporaryDirectory() as folder:
        settings = {
            key: getattr(TestingConfig, key) for key in dir(TestingConfig) if key.isupper()
        }
        settings.update(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db",
            INSTANCE_DIR=folder,
            UPLOAD_DIR=folder,
            TESTING=False,
            # Not testing: production refuses a guessable key and wants the public address.
            SECRET_KEY=secrets.token_urlsafe(48),
            PUBLIC_URL="http://127.0.0.1",
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            client = app.test_client()
            real = "/api/v1/requests?" + "&".join(f"{k}={v}" for k, v in QUERY.items())
            assert client.get(real).status_code == 200
            real_us = per_call_us(client.get, real, calls=calls)
            db.session.remove()
            db.engine.dispose()
    print(f"\n3. the real GET /api/v1/requests (empty SQLite, {RUNS}x{calls} calls)")
    print(f"   {'whole request':28} {real_us:9.1f}")
    print(f"   validation share: {(declared_us - plain_us) / real_us:.0%}")


if __name__ == "__main__":
    main()
