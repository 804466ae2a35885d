"""Open311 GeoReport v2 at /open311/v2: every endpoint in JSON and XML, every error,
the filters and extensions, and a round trip through the staff workflow."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from PIL import Image

from tests import factories
from webapp.domain.lifecycle import following, merging, workflow
from webapp.domain.lifecycle import requests as rules
from webapp.domain.people import api_keys
from webapp.models import Follow, Photo, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

BASE = "/open311/v2"
FORMATS = ["json", "xml"]
SPEC_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def parse_xml(response) -> ElementTree.Element:
    """Parse an XML answer with a real parser, after checking its declaration and type."""
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(body)  # noqa: S314 - our own output


def element_dict(element: ElementTree.Element) -> dict:
    """The text of an element's direct children, by tag."""
    return {child.tag: child.text for child in element}


def requests_of(response, fmt: str) -> list[dict]:
    """The requests of a ``service_requests`` answer as dicts of text, in either format."""
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list)
        return body
    root = parse_xml(response)
    assert root.tag == "service_requests"
    assert all(child.tag == "request" for child in root)
    return [element_dict(child) for child in root]


def ids_of(response, fmt: str = "json") -> list[str]:
    """The service_request_id of every request in an answer."""
    return [r["service_request_id"] for r in requests_of(response, fmt)]


def error_of(response, status: int, fmt: str) -> str:
    """Check the spec's error shape and return the description."""
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list) and len(body) == 1
        assert set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status
        return body[0]["description"]
    root = parse_xml(response)
    assert root.tag == "errors"
    errors = list(root)
    assert [e.tag for e in errors] == ["error"]
    fields = element_dict(errors[0])
    assert set(fields) == {"code", "description"}
    assert fields["code"] == str(status)
    return fields["description"]


def jpeg_bytes(color=(200, 40, 40)) -> bytes:
    """A small real JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def api_key(app, city):
    """A valid Open311 API key (clear text)."""
    key, _ = api_keys.issue("City CRM")
    db.session.commit()
    return key


def post_request(client, key, fmt="json", **fields):
    """POST requests.{fmt} with a valid pothole report unless fields say otherwise."""
    data = {
        "api_key": key,
        "service_code": "pothole",
        "lat": "35.045",
        "long": "-85.31",
        "attribute[size]": "large",
        "description": "Deep hole in the right lane",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data=data)


# --- discovery and services -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_and_both_formats(client, fmt):
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        endpoint = response.get_json()["endpoints"][0]
        formats = endpoint["formats"]
    else:
        root = parse_xml(response)
        assert root.tag == "discovery"
        endpoint_element = root.find("endpoints/endpoint")
        endpoint = element_dict(endpoint_element)
        formats = [f.text for f in endpoint_element.findall("formats/format")]
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["type"] == "production"
    assert formats == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_only_active_public_services(client, city, fmt):
    factories.gen_service("hidden", public=False)
    factories.gen_service("retired", active=False)
    db.session.commit()
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        services = response.get_json()
        assert isinstance(services, list)
    else:
        root = parse_xml(response)
        assert root.tag == "services"
        services = [element_dict(s) for s in root.findall("service")]
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"pothole", "graffiti", "streetlight"}
    pothole = by_code["pothole"]
    assert list(pothole) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert pothole["service_name"] == "Pothole"
    assert pothole["type"] == "realtime"
    assert pothole["metadata"] == (True if fmt == "json" else "true")
    assert by_code["graffiti"]["metadata"] == (False if fmt == "json" else "false")


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_lists_attributes_with_values(client, city, fmt):
    response = client.get(f"{BASE}/services/pothole.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        body = response.get_json()
        attributes = body["attributes"]
        size = attributes[0]
        values = size["values"]
        assert size["required"] is True and size["order"] == 1
    else:
        root = parse_xml(response)
        assert root.tag == "service_definition"
        body = element_dict(root)
        elements = root.findall("attributes/attribute")
        attributes = [element_dict(a) for a in elements]
        size = attributes[0]
        values = [element_dict(v) for v in elements[0].findall("values/value")]
        assert size["required"] == "true" and size["order"] == "1"
    assert body["service_code"] == "pothole"
    assert [a["code"] for a in attributes] == ["size", "lane"]
    assert size["datatype"] == "singlevaluelist"
    assert size["description"] == "How big is it?"
    assert values == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["nope", "hidden", "retired"])
def test_unknown_private_or_retired_service_definition_is_404(client, city, fmt, code):
    factories.gen_service("hidden", public=False)
    factories.gen_service("retired", active=False)
    db.session.commit()
    description = error_of(client.get(f"{BASE}/services/{code}.{fmt}"), 404, fmt)
    assert code in description


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "path", ["services", "services/pothole", "requests", "requests/311-000001", "tokens/311-000001"]
)
def test_a_foreign_jurisdiction_is_404_and_ours_is_accepted(client, city, fmt, path):
    factories.gen_request("graffiti")
    ok = client.get(f"{BASE}/{path}.{fmt}?jurisdiction_id=chattanooga.tn.us")
    assert ok.status_code == 200
    description = error_of(client.get(f"{BASE}/{path}.{fmt}?jurisdiction_id=nyc.gov"), 404, fmt)
    assert "nyc.gov" in description and "chattanooga.tn.us" in description


def test_unknown_format_is_404_in_the_spec_error_shape(client, city):
    error_of(client.get(f"{BASE}/services.csv"), 404, "xml")


def test_wrong_method_is_405_in_the_spec_error_shape(client, city):
    error_of(client.delete(f"{BASE}/services.json"), 405, "json")


# --- POST requests ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_an_ordinary_open311_request(client, city, api_key, fmt):
    response = post_request(
        client,
        api_key,
        fmt,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.net",
        phone="423-555-0101",
        address_string="100 Market St",
        account_id="crm-77",
        **{"attribute[lane]": "right"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list) and len(body) == 1
        entry = body[0]
    else:
        root = parse_xml(response)
        assert root.tag == "service_requests"
        entry = element_dict(root.find("request"))
    assert list(entry) == ["service_request_id", "service_notice", "account_id"]
    assert entry["account_id"] == "crm-77"
    assert "aims to deal with this by" in entry["service_notice"]
    public_id = entry["service_request_id"]
    assert public_id.startswith("311-")
    assert response.headers["Location"] == f"http://localhost{BASE}/requests/{public_id}.{fmt}"

    stored = rules.get_by_public_id(public_id)
    assert stored.channel == "open311"
    assert stored.api_key_id is not None
    assert stored.attribute_values == {"size": "large", "lane": "right"}
    assert stored.contact_name == "Ada Lovelace"
    assert stored.contact_email == "ada@example.net"
    assert stored.contact_phone == "423-555-0101"
    assert stored.address == "100 Market St"
    assert stored.requester_id is None
    assert [e.kind for e in stored.events] == ["created"]


def test_post_with_a_residents_email_does_not_reach_their_account(client, city, api_key):
    resident = factories.gen_user("resident", email="resident@example.net")
    db.session.commit()
    response = post_request(client, api_key, email="Resident@Example.net")
    assert response.status_code == 201
    stored = rules.get_by_public_id(response.get_json()[0]["service_request_id"])
    assert stored.requester_id is None
    assert stored.contact_email == "Resident@Example.net"
    assert db.session.query(Follow).filter_by(request_id=stored.id).all() == []
    assert not following.is_following(stored, user=resident)


def test_post_takes_multi_value_attributes(client, city, api_key):
    factories.gen_service(
        "tree",
        attributes=[
            {
                "code": "problems",
                "datatype": "multivaluelist",
                "required": True,
                "description": "What is wrong?",
                "values": [{"key": "dead", "name": "Dead"}, {"key": "leaning", "name": "Leaning"}],
            }
        ],
    )
    db.session.commit()
    response = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "tree",
            "lat": "35.05",
            "long": "-85.32",
            "attribute[problems][]": ["dead", "leaning"],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = rules.get_by_public_id(response.get_json()[0]["service_request_id"])
    assert stored.attribute_values == {"problems": ["dead", "leaning"]}


def test_post_multipart_media_goes_through_the_photo_pipeline(client, city, api_key):
    response = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "graffiti",
            "lat": "35.05",
            "long": "-85.32",
            "media": (io.BytesIO(jpeg_bytes()), "wall.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    public_id = response.get_json()[0]["service_request_id"]
    stored = rules.get_by_public_id(public_id)
    photo = db.session.query(Photo).filter_by(request_id=stored.id).one()
    media_url = requests_of(client.get(f"{BASE}/requests/{public_id}.json"), "json")[0]["media_url"]
    assert media_url == f"http://localhost/photos/{photo.display_key}"
    served = client.get(media_url)
    try:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    finally:
        served.close()


def test_post_media_that_is_not_an_image_is_refused(client, city, api_key):
    response = client.post(
        f"{BASE}/requests.xml",
        data={
            "api_key": api_key,
            "service_code": "graffiti",
            "lat": "35.05",
            "long": "-85.32",
            "media": (io.BytesIO(b"just some text, not a photo"), "fake.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert error_of(response, 400, "xml")
    assert db.session.query(ServiceRequest).count() == 0


def test_post_media_url_is_shown_as_media_url(client, city, api_key):
    response = post_request(client, api_key, media_url="https://crm.example.org/p/1.jpg")
    public_id = response.get_json()[0]["service_request_id"]
    for fmt in FORMATS:
        entry = requests_of(client.get(f"{BASE}/requests/{public_id}.{fmt}"), fmt)[0]
        assert entry["media_url"] == "https://crm.example.org/p/1.jpg"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", [None, "", "c311_not-a-real-key", "revoked"])
def test_post_without_a_valid_api_key_is_403(client, city, api_key, fmt, key):
    if key == "revoked":
        key, record = api_keys.issue("Old CRM")
        api_keys.revoke(record)
        db.session.commit()
    description = error_of(post_request(client, key, fmt), 403, fmt)
    assert "api_key" in description
    assert db.session.query(ServiceRequest).count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields, words",
    [
        ({"service_code": None}, "service_code is required"),
        ({"service_code": "nope"}, "do not take reports of that kind"),
        ({"service_code": "hidden"}, "do not take reports of that kind"),
        ({"attribute[size]": None}, "How big is it?"),
        ({"attribute[size]": "enormous"}, "pick from the list"),
        ({"description": "x" * 4001}, "too long"),
        ({"lat": None, "long": None}, "send lat and long"),
        ({"lat": None, "long": None, "address_id": "A-17"}, "address_id is not supported"),
        ({"lat": "north"}, "lat must be a number"),
        ({"lat": "95"}, "lat is out of range"),
        ({"lat": "36.16", "long": "-86.78"}, "outside the city limits"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"email": "not-an-email"}, "email"),
        ({"attribute[size": "x"}, "not a valid attribute"),
    ],
)
def test_post_bad_input_is_400_with_a_clear_description(client, city, api_key, fmt, fields, words):
    factories.gen_service("hidden", public=False)
    db.session.commit()
    description = error_of(post_request(client, api_key, fmt, **fields), 400, fmt)
    assert words in description
    assert db.session.query(ServiceRequest).count() == 0


def test_post_with_a_foreign_jurisdiction_is_404(client, city, api_key):
    error_of(post_request(client, api_key, jurisdiction_id="nyc.gov"), 404, "json")
    assert db.session.query(ServiceRequest).count() == 0


# --- tokens -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_is_the_request_id_itself(client, city, fmt):
    created = factories.gen_request("graffiti")
    response = client.get(f"{BASE}/tokens/{created.public_id}.{fmt}")
    assert requests_of(response, fmt) == [
        {"service_request_id": created.public_id, "token": created.public_id}
    ]
    error_of(client.get(f"{BASE}/tokens/abc123.{fmt}"), 404, fmt)


# --- GET requests -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_has_exactly_the_spec_fields_and_no_private_data(client, city, fmt):
    created = factories.gen_request(
        "pothole",
        description="Hole by the bus stop",
        contact_email="secret@example.net",
        contact_name="Secret Name",
        contact_phone="423-555-9999",
    )
    response = client.get(f"{BASE}/requests/{created.public_id}.{fmt}")
    entries = requests_of(response, fmt)
    assert len(entries) == 1
    entry = entries[0]
    assert list(entry) == SPEC_FIELDS
    assert entry["service_request_id"] == created.public_id
    assert entry["status"] == "open"
    assert entry["service_code"] == "pothole" and entry["service_name"] == "Pothole"
    assert entry["agency_responsible"] == "Public Works"
    assert entry["description"] == "Hole by the bus stop"
    assert float(entry["lat"]) == pytest.approx(35.045)
    assert float(entry["long"]) == pytest.approx(-85.31)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        value = datetime.fromisoformat(entry[name])
        assert value.utcoffset() == timedelta(0), name
    assert entry["media_url"] in (None, "")
    text = response.get_data(as_text=True)
    for secret in ("secret@example.net", "Secret Name", "423-555-9999"):
        assert secret not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_or_private_request_is_404(client, city, fmt):
    factories.gen_service("internal", public=False)
    db.session.commit()
    hidden = factories.gen_request("internal", channel="phone")
    error_of(client.get(f"{BASE}/requests/311-999999.{fmt}"), 404, fmt)
    error_of(client.get(f"{BASE}/requests/{hidden.public_id}.{fmt}"), 404, fmt)
    assert ids_of(client.get(f"{BASE}/requests.json")) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_create_close_and_read_back_closed_with_the_note(client, city, api_key, fmt):
    response = post_request(client, api_key, fmt, email="crm-user@example.net")
    assert response.status_code == 201
    if fmt == "json":
        public_id = response.get_json()[0]["service_request_id"]
    else:
        public_id = parse_xml(response).find("request/service_request_id").text
    staff = factories.gen_user("staff")
    stored = rules.get_by_public_id(public_id)
    workflow.add_note(stored, staff, "Internal: crew B", public=False)
    workflow.transition(stored, "closed", staff, note="Patched this morning.", resolution="fixed")
    db.session.commit()

    entry = requests_of(client.get(f"{BASE}/requests/{public_id}.{fmt}"), fmt)[0]
    assert entry["status"] == "closed"
    assert entry["status_notes"] == "Patched this morning."
    assert entry["service_notice"] in (None, "")
    listed = requests_of(client.get(f"{BASE}/requests.{fmt}?status=closed"), fmt)
    assert [(r["service_request_id"], r["status"]) for r in listed] == [(public_id, "closed")]
    assert "crew B" not in client.get(f"{BASE}/requests.{fmt}?extensions=true").get_data(
        as_text=True
    )


def test_status_notes_is_the_latest_public_note(client, city):
    created = factories.gen_request("graffiti")
    staff = factories.gen_user("staff")
    workflow.transition(created, "acknowledged", staff, note="We have it on the list.")
    workflow.add_note(created, staff, "Crew scheduled for Tuesday.", public=True)
    workflow.add_note(created, staff, "Private: owner is difficult", public=False)
    db.session.commit()
    entry = requests_of(client.get(f"{BASE}/requests/{created.public_id}.json"), "json")[0]
    assert entry["status_notes"] == "Crew scheduled for Tuesday."


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_defaults_to_the_last_90_days_newest_first(client, city, fmt):
    old = factories.gen_request("graffiti", age_days=100)
    middle = factories.gen_request("graffiti", age_days=10)
    new = factories.gen_request("streetlight", age_days=1)
    assert ids_of(client.get(f"{BASE}/requests.{fmt}"), fmt) == [new.public_id, middle.public_id]
    assert old.public_id not in ids_of(client.get(f"{BASE}/requests.json"))


def test_service_request_id_list_overrides_every_other_filter(client, city):
    old = factories.gen_request("graffiti", age_days=200)
    new = factories.gen_request("streetlight")
    query = f"service_request_id={old.public_id},{new.public_id},311-999999&status=closed&service_code=pothole"
    assert set(ids_of(client.get(f"{BASE}/requests.json?{query}"))) == {
        old.public_id,
        new.public_id,
    }


def test_list_filters_by_service_codes_and_status(client, city):
    graffiti = factories.gen_request("graffiti")
    light = factories.gen_request("streetlight")
    pothole = factories.gen_request("pothole")
    staff = factories.gen_user("staff")
    workflow.transition(light, "closed", staff, note="Bulb replaced.", resolution="fixed")
    db.session.commit()

    def ids(query):
        return set(ids_of(client.get(f"{BASE}/requests.json?{query}")))

    assert ids("service_code=graffiti") == {graffiti.public_id}
    assert ids("service_code=graffiti,streetlight") == {graffiti.public_id, light.public_id}
    assert ids("status=open") == {graffiti.public_id, pothole.public_id}
    assert ids("status=closed") == {light.public_id}
    assert ids("status=open,closed") == {graffiti.public_id, pothole.public_id, light.public_id}
    assert ids("service_code=streetlight&status=open") == set()


def test_list_filters_by_start_and_end_date(client, city):
    old = factories.gen_request("graffiti", age_days=120)
    middle = factories.gen_request("graffiti", age_days=50)
    new = factories.gen_request("graffiti", age_days=2)
    now = utcnow()

    def ids(**dates):
        query = "&".join(f"{k}={quote(v.isoformat())}" for k, v in dates.items())
        return set(ids_of(client.get(f"{BASE}/requests.json?{query}")))

    assert ids(start_date=now - timedelta(days=130), end_date=now - timedelta(days=45)) == {
        old.public_id,
        middle.public_id,
    }
    assert ids(start_date=now - timedelta(days=60)) == {middle.public_id, new.public_id}
    assert ids(end_date=now - timedelta(days=40)) == {old.public_id, middle.public_id}
    day = (now - timedelta(days=2)).date().isoformat()
    assert new.public_id in set(ids_of(client.get(f"{BASE}/requests.json?start_date={day}")))


def test_list_filters_by_updated_after_and_before(client, city):
    quiet = factories.gen_request("graffiti", age_days=30)
    busy = factories.gen_request("graffiti", age_days=30)
    staff = factories.gen_user("staff")
    workflow.add_note(busy, staff, "Still on the list.", public=True)
    db.session.commit()
    since = quote((utcnow() - timedelta(days=1)).isoformat())
    assert ids_of(client.get(f"{BASE}/requests.json?updated_after={since}")) == [busy.public_id]
    assert ids_of(client.get(f"{BASE}/requests.json?updated_before={since}")) == [quiet.public_id]
    ancient = factories.gen_request("graffiti", age_days=400)
    staff_note_on_ancient = workflow.add_note(ancient, staff, "Revisited.", public=True)
    db.session.commit()
    assert staff_note_on_ancient.id
    found = ids_of(client.get(f"{BASE}/requests.json?updated_after={since}"))
    assert set(found) == {busy.public_id, ancient.public_id}


def test_list_filters_by_distance_in_metres(client, city):
    here = factories.gen_request("graffiti", lat=35.0500, long=-85.3200)
    near = factories.gen_request("graffiti", lat=35.0530, long=-85.3200)  # ~334 m north
    far = factories.gen_request("graffiti", lat=35.0500, long=-85.3000)  # ~1.8 km east

    def ids(query):
        return set(ids_of(client.get(f"{BASE}/requests.json?{query}")))

    assert ids("lat=35.05&long=-85.32&radius=100") == {here.public_id}
    assert ids("lat=35.05&long=-85.32&radius=400") == {here.public_id, near.public_id}
    assert ids("lat=35.05&long=-85.32&radius=2000") == {
        here.public_id,
        near.public_id,
        far.public_id,
    }
    assert ids("lat=35.05&long=-85.32") == {here.public_id, near.public_id}  # default 500 m


def test_a_busy_circle_is_paged_newest_first_without_the_box_corners_or_private_services(
    client, city
):
    inside = [
        factories.gen_request("graffiti", lat=35.05 + k * 0.0004, long=-85.32, age_days=k)
        for k in range(7)
    ]
    corner = factories.gen_request("graffiti", lat=35.054, long=-85.315, age_days=0.5)
    hidden = factories.gen_request("streetlight", lat=35.05, long=-85.32, age_days=1.5)
    factories.gen_request("graffiti", lat=35.05, long=-85.32, age_days=120)
    city["streetlight"].public = False
    db.session.commit()
    assert corner.id and hidden.id
    newest_first = [request.public_id for request in inside]
    circle = f"{BASE}/requests.json?lat=35.05&long=-85.32&radius=500&page_size=3"
    pages = [ids_of(client.get(f"{circle}&page={n}")) for n in (1, 2, 3)]
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]


def test_list_pages_with_page_and_page_size(client, city):
    made = [factories.gen_request("graffiti", age_days=5 - i) for i in range(5)]
    newest_first = [r.public_id for r in reversed(made)]
    assert ids_of(client.get(f"{BASE}/requests.json?page_size=2")) == newest_first[:2]
    assert ids_of(client.get(f"{BASE}/requests.json?page_size=2&page=2")) == newest_first[2:4]
    assert ids_of(client.get(f"{BASE}/requests.json?page_size=2&page=3")) == newest_first[4:]
    assert ids_of(client.get(f"{BASE}/requests.json?page_size=2&page=4")) == []


def test_list_is_capped_at_1000_by_default(client, city):
    from sqlalchemy import insert

    service_id = city["graffiti"].id
    now = utcnow()
    rows = [
        {
            "public_id": f"311-9{i:05d}",
            "service_id": service_id,
            "lat": 35.05,
            "long": -85.32,
            "received_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
            "attribute_values": {},
        }
        for i in range(1005)
    ]
    db.session.execute(insert(ServiceRequest), rows)
    db.session.commit()
    found = ids_of(client.get(f"{BASE}/requests.json"))
    assert len(found) == 1000
    assert found[0] == "311-900000"


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions_add_extended_attributes(client, city, fmt):
    created = factories.gen_request("graffiti", photos=[jpeg_bytes()])
    survivor = factories.gen_request("graffiti")
    staff = factories.gen_user("staff")
    workflow.add_note(created, staff, "Crew on the way.", public=True)
    workflow.add_note(created, staff, "Private remark", public=False)
    merging.merge(created, survivor, staff, note="Same wall as the other report.")
    db.session.commit()
    plain = requests_of(client.get(f"{BASE}/requests/{created.public_id}.{fmt}"), fmt)[0]
    assert "extended_attributes" not in plain
    url = f"{BASE}/requests/{created.public_id}.{fmt}?extensions=true"
    response = client.get(url)
    if fmt == "json":
        extended = response.get_json()[0]["extended_attributes"]
        photos = extended["photos"]
        notes = extended["notes"]
    else:
        element = parse_xml(response).find("request/extended_attributes")
        extended = element_dict(element)
        photos = [element_dict(p) for p in element.findall("photos/photo")]
        notes = [element_dict(n) for n in element.findall("notes/note")]
    assert extended["detailed_status"] == "closed"
    assert extended["resolution"] == "duplicate"
    assert extended["duplicate_of"] == survivor.public_id
    assert extended["channel"] == "pwa"
    assert len(photos) == 1 and photos[0]["kind"] == "report"
    assert photos[0]["url"].startswith("http://localhost/photos/")
    assert [n["summary"] for n in notes] == ["Crew on the way.", "Same wall as the other report."]
    assert "Private remark" not in response.get_data(as_text=True)
    listed = client.get(f"{BASE}/requests.json?extensions=true").get_json()
    assert all("extended_attributes" in r for r in listed)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query, words",
    [
        ("start_date=yesterday", "start_date must be a W3C"),
        ("end_date=2024-13-45T00:00:00Z", "end_date must be a W3C"),
        ("start_date=2024-05-01T08:00:00", "timezone"),
        ("start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z", "90 days"),
        ("start_date=2024-06-01T00:00:00Z&end_date=2024-05-01T00:00:00Z", "not be before"),
        ("updated_after=soon", "updated_after"),
        (
            "updated_after=2024-06-01T00:00:00Z&updated_before=2024-05-01T00:00:00Z",
            "not be before",
        ),
        ("status=pending", "status must be open or closed"),
        ("page=0", "page must be between"),
        ("page_size=1001", "page_size must be between"),
        ("page_size=ten", "page_size must be a whole number"),
        ("lat=35.05", "together"),
        ("lat=35.05&long=-85.3&radius=-5", "radius is out of range"),
        ("radius=100", "radius needs lat and long"),
        ("lat=north&long=-85.3", "lat must be a number"),
    ],
)
def test_bad_list_parameters_are_400(client, city, fmt, query, words):
    description = error_of(client.get(f"{BASE}/requests.{fmt}?{query}"), 400, fmt)
    assert words in description


def test_xml_escapes_what_residents_typed(client, city):
    created = factories.gen_request("graffiti", description='<b>Tags & "art"</b>')
    root = parse_xml(client.get(f"{BASE}/requests/{created.public_id}.xml"))
    assert root.find("request/description").text == '<b>Tags & "art"</b>'


@pytest.fixture
def geocoded_app(make_app, nominatim):
    """An app whose geocoder is a local fake Nominatim, with the test city loaded."""
    from webapp.domain.geo import geocoding

    fake, server = nominatim
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{server.port}", GEOCODER_TIMEOUT=0.3)
    geocoding.reset()
    with app.app_context():
        factories.gen_city()
        key, _record = api_keys.issue("CRM")
        db.session.commit()
        yield app, fake, key
    geocoding.reset()


def test_address_string_alone_is_placed_through_the_geocoder(geocoded_app):
    app, fake, key = geocoded_app
    response = app.test_client().post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "graffiti", "address_string": "East 11th Street",
        "description": "Tags on the wall"})
    assert response.status_code == 201, response.get_data(as_text=True)
    public_id = response.get_json()[0]["service_request_id"]
    shown = app.test_client().get(f"/open311/v2/requests/{public_id}.json").get_json()[0]
    assert (shown["lat"], shown["long"]) == (35.0456, -85.3097)
    assert "East 11th Street" in shown["address"]
    assert fake.paths() == ["/search"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_address_string_the_city_cannot_find_is_a_400(geocoded_app, fmt):
    app, _fake, key = geocoded_app
    response = app.test_client().post(f"/open311/v2/requests.{fmt}", data={
        "api_key": key, "service_code": "graffiti", "address_string": "nowhere at all"})
    assert response.status_code == 400
    assert "not found inside the city" in response.get_data(as_text=True)


def test_address_string_with_the_geocoder_down_is_a_503_to_retry(geocoded_app):
    app, fake, key = geocoded_app
    fake.mode = "down"
    response = app.test_client().post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "graffiti", "address_string": "East 11th Street"})
    assert response.status_code == 503
    assert response.get_json()[0]["code"] == 503
    assert "try again later" in response.get_json()[0]["description"]
    assert db.session.scalar(db.select(db.func.count(ServiceRequest.id))) == 0
