"""A bounded fuzz of Open311 GeoReport v2: hostile strings, NUL, huge numbers, odd
dates and repeated parameters, in JSON and XML, on every database.

Every answer must be below 500 and parse with a real parser in the format asked for;
an error must be the spec's ``[{code, description}]`` / ``<errors><error>`` shape with
the response's own status. ``CIVIC311_FUZZ_EXAMPLES`` raises the count by hand.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from urllib.parse import quote
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from webapp.domain.people import api_keys
from webapp.plumbing.extensions import db

EXAMPLES = int(os.environ.get("CIVIC311_FUZZ_EXAMPLES", "15")) * 40
BASE = "/open311/v2"
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m",
    "\x7f\x85\u2028",
    "\ud800",
    "\ufffe",
    "<errors>&amp;</x>",
    "]]>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "😀" * 50,
    "x" * 5000,
    "²",
    "٣",
    "9" * 20,
    "-" + "9" * 40,
    "1e308",
    "1e309",
    "-0",
    "NaN",
    "inf",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-12:00",
    "2024-02-30",
    "2024-05-01T08:00:00",
    "2024-05-01T08:00:00 04:00",
    "2024-05-01T25:61:61Z",
    "open,closed,open",
    ",,,",
    "311-000001",
]
PARAMS = [
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "updated_after",
    "updated_before",
    "lat",
    "long",
    "radius",
    "page",
    "page_size",
    "extensions",
    "jurisdiction_id",
]
POST_FIELDS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "attribute[size]",
    "attribute[]",
    "jurisdiction_id",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


def parse_xml(body: bytes) -> ElementTree.Element:
    """Parse with a real XML parser: a malformed document raises."""
    return ElementTree.fromstring(body)  # noqa: S314 - our own output


def check_answer(response, fmt: str) -> None:
    """Below 500, parseable in its format, and an error in the spec's shape."""
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if 300 <= response.status_code < 400:
        assert response.headers["Location"]  # werkzeug folds "//" in a path by redirecting
        return
    if fmt == "json":
        body = json.loads(response.get_data(as_text=True))
        if response.status_code >= 400:
            assert body and body[0]["code"] == response.status_code
            assert isinstance(body[0]["description"], str)
    else:
        root = parse_xml(response.data)
        if response.status_code >= 400:
            assert root.tag == "errors"
            assert root.find("error/code").text == str(response.status_code)


def test_open311_reads_survive_hostile_parameters(app, city, database_backend):
    factories.gen_request()
    db.session.commit()
    client = app.test_client()
    tally: Counter = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path=st.sampled_from(
            ["requests", "services", "discovery", "requests/{v}", "services/{v}", "tokens/{v}"]
        ),
        path_value=values,
        fmt=st.sampled_from(["json", "xml"]),
        pairs=st.lists(st.tuples(st.sampled_from(PARAMS), values), min_size=1, max_size=5),
        language=st.sampled_from(["", "es", "es-US,es;q=0.9", "en", "xx, *;q=0.1"]),
    )
    def run(path, path_value, fmt, pairs, language):
        tally["cases"] += 1
        segment = quote(path_value.encode("utf-8", "surrogatepass"), safe="") or "x"
        query = "&".join(
            f"{name}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
            for name, value in pairs
        )
        url = f"{BASE}/{path.format(v=segment)}.{fmt}?{query}"
        response = client.get(url, headers={"Accept-Language": language} if language else {})
        tally[response.status_code // 100] += 1
        try:
            check_answer(response, fmt)
        except (AssertionError, ValueError) as failure:
            raise AssertionError(
                f"{url} -> {response.status_code} {response.data[:200]!r}"
            ) from failure
        finally:
            db.session.rollback()

    run()
    print(f"\nopen311 reads {database_backend[0]}: {dict(tally)}")
    assert tally["cases"] == EXAMPLES


def test_open311_submission_survives_hostile_fields(app, city, database_backend):
    key, _record = api_keys.issue("fuzz")
    db.session.commit()
    client = app.test_client()
    tally: Counter = Counter()

    @settings(
        max_examples=EXAMPLES // 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        fmt=st.sampled_from(["json", "xml"]),
        pairs=st.lists(st.tuples(st.sampled_from(POST_FIELDS), values), min_size=1, max_size=6),
        valid_base=st.booleans(),
    )
    def run(fmt, pairs, valid_base):
        tally["cases"] += 1
        form = [("api_key", key)]
        if valid_base:
            form += [
                ("service_code", "graffiti"),
                ("lat", str(factories.INSIDE[0])),
                ("long", str(factories.INSIDE[1])),
            ]
        form += pairs
        body = "&".join(
            f"{quote(name)}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
            for name, value in form
        )
        response = client.post(
            f"{BASE}/requests.{fmt}",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        tally[response.status_code // 100] += 1
        try:
            check_answer(response, fmt)
        finally:
            db.session.rollback()

    run()
    print(f"\nopen311 submissions {database_backend[0]}: {dict(tally)}")
    assert tally["cases"] == EXAMPLES // 2
