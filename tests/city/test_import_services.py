"""``flask city import-services URL``: a catalogue read from a second Civic311 and from
stored copies of real cities' services.json (FixMyStreet's and SeeClickFix's habits),
with remote codes kept; a slow, failing or malformed endpoint imports nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.api.test_forwarding import _crm_database
from tests.fakes import serve
from tests.fakes.open311_static import broken_endpoint, static_endpoint
from tests.fakes.silent_server import SilentServer
from webapp.models import Service
from webapp.plumbing.extensions import db


def _services() -> dict[str, Service]:
    db.session.expire_all()
    return {s.service_code: s for s in db.session.scalars(select(Service))}


@pytest.fixture
def other_city(make_app, database_backend):
    """A second Civic311 with the small test city's catalogue, served."""
    overrides = {"JURISDICTION_ID": "other.example"}
    kind, location = database_backend
    if kind == "postgres":  # a database of its own, as for the CRM in the forwarding tests
        overrides["SQLALCHEMY_DATABASE_URI"] = _crm_database(location)
    app = make_app(**overrides)
    with app.app_context():
        factories.gen_city()
        db.session.commit()
        codes = {s.service_code: [a.code for a in s.attributes]
                 for s in db.session.scalars(select(Service))}
    running = serve(app)
    yield running, codes
    running.stop()


def test_catalogue_from_a_second_civic311_keeps_codes_and_questions(app, city_cli, other_city):
    running, codes = other_city
    with app.app_context():
        result = city_cli("import-services", running.url + "/open311/v2/services.json")
        assert result.exit_code == 0, result.output
        found = _services()
        assert set(found) == set(codes)
        for code, questions in codes.items():
            assert [a.code for a in found[code].attributes] == questions
            assert found[code].department is not None
        again = city_cli("import-services", running.url + "/open311/v2/")
        assert again.exit_code == 0 and "0 change(s)" in again.output


def test_fixmystreet_and_seeclickfix_shapes(app, city_cli):
    for prefix in ("fixmystreet", "seeclickfix"):
        running = serve(static_endpoint(prefix))
        try:
            result = city_cli("import-services", running.url + "/services.json")
        finally:
            running.stop()
        assert result.exit_code == 0, result.output
    found = _services()
    pothole = found["Pothole"]
    depth = pothole.attributes[0]
    assert depth.code == "depth" and depth.required and depth.datatype == "singlevaluelist"
    assert [v["key"] for v in depth.values] == ["1", "2"]
    assert pothole.attributes[1].variable is False
    assert pothole.department.name == "Roads"
    assert [a.code for a in found["Flytipping"].attributes] == ["type"]  # repeated code once
    assert found["Flytipping"].keywords == "private,waste"
    assert found["Graffiti"].department.name == "Imported services"
    assert not found["Street lighting"].attributes
    bike = found["4821"]
    assert bike.name == "Pothole in the Street" and bike.description == ""
    assert [a.code for a in bike.attributes] == ["9001", "9002"]
    assert bike.attributes[0].values == [{"key": "1", "name": "Yes"}, {"key": "2", "name": "No"}]
    assert found["4822"].keywords == "graffiti, paint"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("error", "answered HTTP 500"),
        ("xml", "returned XML or HTML, not JSON"),
        ("malformed", "returned malformed JSON"),
    ],
)
def test_a_broken_endpoint_imports_nothing(app, city_cli, kind, expected):
    running = serve(broken_endpoint(kind))
    try:
        result = city_cli("import-services", running.url + "/services.json")
    finally:
        running.stop()
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output and expected in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 0


def test_an_endpoint_that_never_answers_times_out(app, city_cli):
    app.config["IMPORT_TIMEOUT"] = 0.5
    silent = SilentServer()
    try:
        result = city_cli("import-services", silent.url + "/services.json")
    finally:
        silent.stop()
    assert result.exit_code == 1 and "did not answer within 0.5 s" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 0
