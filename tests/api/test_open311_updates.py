"""mySociety's servicerequestupdates, both ways, and honest extended statuses.

The FixMyStreet acceptance rules are those of its Open311 client when it pulls
updates (GetServiceRequestUpdates / UpdatesBase) and posts them
(PostServiceRequestUpdates): each is written here as a check on what we serve.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tests import factories
from tests.api.test_open311 import BASE, FORMATS, error_of, jpeg_bytes, parse_xml, requests_of
from webapp.domain.lifecycle import after_closure
from webapp.domain.lifecycle import workflow as rules
from webapp.domain.people import api_keys
from webapp.models import EventKind, Photo, PhotoKind, RequestEvent, Status, utcnow
from webapp.plumbing.extensions import db

UPDATE_FIELDS = [
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "external_status_code",
]
# FixMyStreet's own problem states (FixMyStreet::DB::Result::Problem visible states).
FMS_STATES = {
    "confirmed",
    "investigating",
    "in progress",
    "action scheduled",
    "fixed",
    "fixed - council",
    "fixed - user",
    "closed",
    "duplicate",
    "not responsible",
    "unable to fix",
    "internal referral",
}


def fms_map_state(status: str, extended: bool = True) -> str:
    """FixMyStreet's Open311::map_state: lower case, ``_`` to space, then its table."""
    word = status.lower().replace("_", " ")
    table = {
        "fixed": "fixed - council",
        "not councils responsibility": "not responsible",
        "no further action": "unable to fix",
        "open": "confirmed",
        "closed": "closed" if extended else "fixed - council",
    }
    return table.get(word, word)


def updates_of(response, fmt: str) -> list[dict]:
    """The request_update items of a GET answer, as dicts of text."""
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list)
        return body
    root = parse_xml(response)
    assert root.tag == "service_requests_updates"
    assert all(child.tag == "request_update" for child in root)
    items = []
    for child in root:
        assert [field.tag for field in child] == UPDATE_FIELDS
        items.append({field.tag: field.text for field in child})
    return items


def posted_update_id(response, fmt: str) -> str:
    """The update_id a POST answered, read as FixMyStreet reads it."""
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list) and set(body[0]) == {"update_id"}
        return body[0]["update_id"]
    root = parse_xml(response)
    assert root.tag == "service_request_updates"
    assert [child.tag for child in root] == ["request_update"]
    return root.find("request_update/update_id").text


@pytest.fixture
def api_key(app, city):
    """A valid Open311 API key (clear text)."""
    key, _ = api_keys.issue("FixMyStreet")
    db.session.commit()
    return key


@pytest.fixture
def worked(app, city):
    """Requests taken through every outcome, with private notes and a private service."""
    staff = factories.gen_user("staff")
    made = {}
    for outcome in ("fixed", "referred", "cannot_locate", "no_action_needed", "duplicate"):
        made[outcome] = factories.gen_request("graffiti", description=outcome)
    survivor = factories.gen_request("pothole")
    made["open"] = survivor
    rules.transition(survivor, "acknowledged", staff)
    rules.transition(survivor, "in_progress", staff, note="Crew on the way.")
    rules.add_note(survivor, staff, "Private: overtime", public=False)
    for outcome, item in made.items():
        if outcome == "open":
            continue
        rules.transition(
            item,
            "closed",
            staff,
            note=f"Closed: {outcome}",
            resolution=outcome,
            referred_to="TVA" if outcome == "referred" else None,
            duplicate_of=survivor if outcome == "duplicate" else None,
        )
    hidden = factories.gen_service("hidden", public=False)
    secret = factories.gen_request(hidden.service_code, channel="phone")
    rules.transition(secret, "acknowledged", staff, note="hidden note")
    db.session.commit()
    made["secret"] = secret
    return made


# --- GET servicerequestupdates ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_list_every_public_change_with_mysocietys_fields(client, worked, fmt):
    items = updates_of(client.get(f"{BASE}/servicerequestupdates.{fmt}"), fmt)
    assert items
    for item in items:
        assert list(item) == UPDATE_FIELDS
    text = " ".join(str(i["description"]) for i in items)
    assert "Crew on the way." in text
    assert "overtime" not in text and "hidden note" not in text
    assert worked["secret"].public_id not in {i["service_request_id"] for i in items}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "outcome, status, code",
    [
        ("fixed", "FIXED", "fixed"),
        ("duplicate", "DUPLICATE", "duplicate"),
        ("referred", "NOT_COUNCILS_RESPONSIBILITY", "referred"),
        ("cannot_locate", "NO_FURTHER_ACTION", "cannot_locate"),
        ("no_action_needed", "NO_FURTHER_ACTION", "no_action_needed"),
    ],
)
def test_a_closure_carries_its_real_outcome(client, worked, fmt, outcome, status, code):
    items = updates_of(client.get(f"{BASE}/servicerequestupdates.{fmt}"), fmt)
    closing = [
        i
        for i in items
        if i["service_request_id"] == worked[outcome].public_id
        and i["description"] == f"Closed: {outcome}"
    ]
    assert len(closing) == 1
    assert closing[0]["status"] == status
    assert closing[0]["external_status_code"] == code


@pytest.mark.parametrize("fmt", FORMATS)
def test_fixmystreet_accepts_every_update_it_is_given(client, worked, fmt):
    """GetServiceRequestUpdates skips an update without update_id or service_request_id,
    with an unreadable updated_datetime, outside its window, or already seen; it hides
    one with no text; it maps the status to one of its states."""
    start = (utcnow() - timedelta(hours=2)).isoformat(timespec="seconds")
    end = (utcnow() + timedelta(minutes=1)).isoformat(timespec="seconds")
    url = (
        f"{BASE}/servicerequestupdates.{fmt}?start_date={quote(start)}&end_date={quote(end)}"
        "&api_key=anything"
    )
    first = updates_of(client.get(url), fmt)
    again = updates_of(client.get(url), fmt)
    assert first == again  # stable ids: a second fetch adds nothing new
    assert len({i["update_id"] for i in first}) == len(first)
    known = {r["service_request_id"]: r for r in requests_of(client.get(f"{BASE}/requests.json"), "json")}
    for item in first:
        assert item["update_id"] and item["service_request_id"] in known
        when = datetime.fromisoformat(item["updated_datetime"])
        assert when.tzinfo is not None
        assert start <= when.isoformat(timespec="seconds") <= end
        assert when >= datetime.fromisoformat(known[item["service_request_id"]]["requested_datetime"])
        assert item["description"]
        assert fms_map_state(item["status"]) in FMS_STATES


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_outside_the_window_are_left_out(client, worked, fmt):
    past = quote("2020-01-01T00:00:00Z")
    later = quote("2020-02-01T00:00:00Z")
    url = f"{BASE}/servicerequestupdates.{fmt}?start_date={past}&end_date={later}"
    assert updates_of(client.get(url), fmt) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query, words",
    [
        ("start_date=yesterday", "start_date must be a W3C"),
        ("start_date=2024-05-01T00:00:00Z&end_date=2024-04-01T00:00:00Z", "end_date"),
        ("start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z", "90 days"),
        ("jurisdiction_id=elsewhere.gov", "jurisdiction_id"),
    ],
)
def test_bad_update_queries_are_refused_in_the_spec_shape(client, city, fmt, query, words):
    response = client.get(f"{BASE}/servicerequestupdates.{fmt}?{query}")
    status = 404 if "jurisdiction" in query else 400
    assert words in error_of(response, status, fmt)


def test_a_reopening_is_an_open_update(client, worked):
    closed = worked["fixed"]
    after_closure.reopen(closed, "Still there", user=None, device=None, proven=True)
    db.session.commit()
    items = updates_of(client.get(f"{BASE}/servicerequestupdates.json"), "json")
    last = [i for i in items if i["service_request_id"] == closed.public_id][-1]
    assert last["description"] == "Still there"
    assert last["status"] == "INVESTIGATING"
    assert fms_map_state(last["status"]) == "investigating"


# --- POST servicerequestupdates -----------------------------------------------------


def post_update(client, key, public_id, fmt="json", files=None, **fields):
    """POST a comment as FixMyStreet's PostServiceRequestUpdates sends it."""
    data = {
        "api_key": key,
        "service_request_id": public_id,
        "update_id": "8801",
        "status": "OPEN",
        "updated_datetime": utcnow().isoformat(timespec="seconds"),
        "description": "It is getting worse.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.net",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    if files:
        data.update(files)
    return client.post(f"{BASE}/servicerequestupdates.{fmt}", data=data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_comment_is_a_public_note_once(client, city, api_key, fmt):
    item = factories.gen_request("graffiti")
    response = post_update(client, api_key, item.public_id, fmt, description="Line one\r\nLine two")
    assert response.status_code == 201, response.get_data(as_text=True)
    update_id = posted_update_id(response, fmt)
    replay = post_update(client, api_key, item.public_id, fmt, description="Line one\r\nLine two")
    assert replay.status_code == 200
    assert posted_update_id(replay, fmt) == update_id
    notes = db.session.query(RequestEvent).filter_by(kind=EventKind.PUBLIC_NOTE).all()
    assert [(n.id, n.note, n.public) for n in notes] == [(int(update_id), "Line one\nLine two", True)]
    timeline = client.get(f"/api/v1/requests/{item.public_id}").get_json()["data"]["timeline"]
    assert "Line one\nLine two" in [entry["note"] for entry in timeline]
    ours = updates_of(client.get(f"{BASE}/servicerequestupdates.json"), "json")
    assert update_id in {i["update_id"] for i in ours}


def test_a_comment_with_a_photo_keeps_the_photo(client, city, api_key):
    item = factories.gen_request("graffiti")
    response = post_update(
        client, api_key, item.public_id, files={"media": (jpeg_bytes_io(), "p.jpg")}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    photo = db.session.query(Photo).filter_by(kind=PhotoKind.COMMENT).one()
    assert photo.event_id == int(posted_update_id(response, "json"))
    listed = updates_of(client.get(f"{BASE}/servicerequestupdates.json"), "json")
    assert listed[-1]["media_url"].endswith(photo.display_key)


def jpeg_bytes_io():
    """A real JPEG as a file object for a multipart post."""
    import io

    return io.BytesIO(jpeg_bytes())


def _closed(key, requester_email="ada@example.net", days_ago=0, **made):
    """A closed request that the holder of ``key`` (clear text, or None) submitted."""
    staff = factories.gen_user("staff")
    record = api_keys.verify(key) if key else None
    item = factories.gen_request(
        "graffiti",
        contact_email=requester_email,
        channel="open311" if record else "pwa",
        api_key=record,
        **made,
    )
    rules.transition(item, "closed", staff, note="Painted over.", resolution="fixed")
    if days_ago:
        item.closed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return item


@pytest.mark.parametrize("status", ["OPEN", "REOPEN", "open"])
def test_the_requester_reopens_a_closed_request(client, city, api_key, status):
    item = _closed(api_key)
    response = post_update(client, api_key, item.public_id, status=status)
    assert response.status_code == 201
    db.session.refresh(item)
    assert item.detailed_status == Status.ACKNOWLEDGED and item.reopened
    event = db.session.get(RequestEvent, int(posted_update_id(response, "json")))
    assert event.kind == EventKind.REOPENED and event.note == "It is getting worse."


@pytest.mark.parametrize(
    "fields, closed_days_ago",
    [
        ({"email": "someone-else@example.net"}, 0),
        ({"email": None}, 0),
        ({"status": "CLOSED"}, 0),
        ({}, 45),
    ],
)
def test_a_comment_that_may_not_reopen_is_a_note(client, city, api_key, fields, closed_days_ago):
    item = _closed(api_key, days_ago=closed_days_ago)
    response = post_update(client, api_key, item.public_id, **fields)
    assert response.status_code == 201
    db.session.refresh(item)
    assert item.detailed_status == Status.CLOSED and not item.reopened
    event = db.session.get(RequestEvent, int(posted_update_id(response, "json")))
    assert event.kind == EventKind.PUBLIC_NOTE


def test_the_key_that_reported_without_an_email_reopens_for_that_resident(client, city, api_key):
    """The resident gave the reporting app no e-mail: that app's key is the only one that
    speaks for them, so its OPEN reopens (a city CRM forwarded to gets the reopening)."""
    item = _closed(api_key, requester_email=None)
    response = post_update(client, api_key, item.public_id, email=None)
    assert response.status_code == 201
    db.session.refresh(item)
    assert item.detailed_status == Status.ACKNOWLEDGED and item.reopened
    other, _record = api_keys.issue("Another app")
    db.session.commit()
    someone_elses = _closed(other, requester_email=None)
    _assert_only_a_note(
        someone_elses, post_update(client, api_key, someone_elses.public_id, update_id="8803")
    )


def _assert_only_a_note(item, response):
    assert response.status_code == 201
    db.session.refresh(item)
    assert item.detailed_status == Status.CLOSED and not item.reopened
    event = db.session.get(RequestEvent, int(posted_update_id(response, "json")))
    assert event.kind == EventKind.PUBLIC_NOTE


def test_a_key_holder_naming_a_residents_account_email_does_not_act_as_them(
    client, city, api_key
):
    """A key holder cannot prove who its user is: a resident's own request (their
    account, their e-mail) is not reopened by anyone who knows their address."""
    resident = factories.gen_user("resident", email="ada@example.net")
    item = _closed(None, requester=resident)
    _assert_only_a_note(item, post_update(client, api_key, item.public_id, email="ada@example.net"))
    account_only = _closed(None, requester_email=None, requester=resident)
    _assert_only_a_note(
        account_only,
        post_update(
            client, api_key, account_only.public_id, update_id="8802", email="ada@example.net"
        ),
    )


def test_another_key_holder_with_the_contact_email_does_not_reopen(client, city, api_key):
    """Only the key that reported the request may speak again for its reporter."""
    other, _record = api_keys.issue("Another app")
    db.session.commit()
    item = _closed(other)
    _assert_only_a_note(item, post_update(client, api_key, item.public_id, email="ada@example.net"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields, status, words",
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "c311_wrong"}, 403, "api_key"),
        ({"service_request_id": "311-999999"}, 404, "311-999999"),
        ({"service_request_id": None}, 400, "service_request_id is required"),
        ({"update_id": None}, 400, "update_id is required"),
        ({"status": None}, 400, "status is required"),
        ({"status": "MAYBE"}, 400, "status must be one of"),
        ({"updated_datetime": "last tuesday"}, 400, "updated_datetime"),
        ({"description": "", "media_url": None}, 400, "description is required"),
        ({"description": "x" * 4001}, 400, "too long"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
    ],
)
def test_bad_posted_updates_are_refused_in_the_spec_shape(client, city, api_key, fmt, fields, status, words):
    item = factories.gen_request("graffiti")
    if "api_key" in fields:
        fields = {**fields, "api_key": fields["api_key"]}
    response = post_update(client, api_key, item.public_id, fmt, **fields)
    assert words in error_of(response, status, fmt)
    assert db.session.query(RequestEvent).filter_by(kind=EventKind.PUBLIC_NOTE).count() == 0


def test_an_update_id_reused_for_another_request_is_refused(client, city, api_key):
    first, second = factories.gen_request("graffiti"), factories.gen_request("graffiti")
    assert post_update(client, api_key, first.public_id).status_code == 201
    assert "already used" in error_of(post_update(client, api_key, second.public_id), 400, "json")


# --- extended statuses in requests --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_carry_the_outcome_when_asked(client, worked, fmt):
    plain = {r["service_request_id"]: r["status"] for r in requests_of(client.get(f"{BASE}/requests.{fmt}"), fmt)}
    assert plain[worked["duplicate"].public_id] == "closed"
    asked = requests_of(client.get(f"{BASE}/requests.{fmt}?extended_statuses=true"), fmt)
    statuses = {r["service_request_id"]: r["status"] for r in asked}
    assert statuses[worked["duplicate"].public_id] == "DUPLICATE"
    assert statuses[worked["referred"].public_id] == "NOT_COUNCILS_RESPONSIBILITY"
    assert statuses[worked["cannot_locate"].public_id] == "NO_FURTHER_ACTION"
    assert statuses[worked["fixed"].public_id] == "FIXED"
    assert statuses[worked["open"].public_id] == "IN_PROGRESS"
    one = requests_of(
        client.get(f"{BASE}/requests/{worked['referred'].public_id}.{fmt}?extended_statuses=true"), fmt
    )
    assert one[0]["status"] == "NOT_COUNCILS_RESPONSIBILITY"


def test_the_server_may_always_send_extended_statuses(make_app):
    app = make_app(OPEN311_EXTENDED_STATUSES=True)
    with app.app_context():
        factories.gen_city()
        item = factories.gen_request("graffiti")
        staff = factories.gen_user("staff")
        rules.transition(item, "closed", staff, note="Dup.", resolution="no_action_needed")
        db.session.commit()
        body = app.test_client().get(f"{BASE}/requests.json").get_json()
        assert body[0]["status"] == "NO_FURTHER_ACTION"


def test_extensions_carry_the_extended_status_and_code(client, worked):
    body = client.get(f"{BASE}/requests/{worked['cannot_locate'].public_id}.json?extensions=true").get_json()
    extended = body[0]["extended_attributes"]
    assert extended["extended_status"] == "NO_FURTHER_ACTION"
    assert extended["external_status_code"] == "cannot_locate"


@pytest.mark.parametrize(
    "status",
    [
        "OPEN",
        "CLOSED",
        "FIXED",
        "IN_PROGRESS",
        "ACTION_SCHEDULED",
        "INVESTIGATING",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION",
        "INTERNAL_REFERRAL",
        "REOPEN",
    ],
)
def test_every_status_fixmystreet_posts_is_accepted_and_a_resident_never_closes(
    client, city, api_key, status
):
    item = factories.gen_request("graffiti")
    response = post_update(client, api_key, item.public_id, status=status)
    assert response.status_code == 201, response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == "open" and item.detailed_status == Status.SUBMITTED
