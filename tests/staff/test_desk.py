"""The call-taker desk without a browser: the record, a new request, a supporter, an
information-only call, and moving a request to another service."""

from sqlalchemy import select

from tests import factories
from webapp.domain.intake import answers
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.models import Contact, Follow, ServiceRequest
from webapp.plumbing.extensions import db

PHONE = "423-555-0177"


def _caller_history(city):
    staff = factories.gen_user("staff")
    done = factories.gen_request(
        "graffiti", contact_phone=PHONE, contact_name="Kim Caller", age_days=10
    )
    requests_domain.transition(done, "closed", staff, note="Cleaned.", resolution="fixed")
    still = factories.gen_request("streetlight", contact_phone="(423) 555 0177", age_days=2)
    db.session.commit()
    return done, still


def test_lookup_shows_the_callers_record_open_first(client, auth, city):
    done, still = _caller_history(city)
    auth.login("staff")
    page = client.get("/staff/desk?q=4235550177").get_data(as_text=True)
    assert page.index(still.public_id) < page.index(done.public_id)
    assert "2 items on record" in page
    assert 'value="Kim Caller"' in page  # prefilled for a new request
    by_name = client.get("/staff/desk?q=kim+call").get_data(as_text=True)
    assert done.public_id in by_name and still.public_id not in by_name


def test_a_new_phone_request_from_the_desk_form(client, auth, city):
    staff = auth.login("staff")
    response = client.post(
        "/staff/desk/requests",
        data={
            "service_code": "pothole",
            "attribute[size]": "large",
            "lat": "35.045",
            "long": "-85.31",
            "description": "Deep",
            "caller_phone": PHONE,
            "caller_name": "Kim",
            "channel": "walk_in",
            "client_uuid": "6c7a0a8e-8a59-4b0e-9d0e-0a4a3e0f1d2c",
        },
    )
    assert response.status_code == 302
    req = db.session.scalars(select(ServiceRequest)).one()
    assert (req.channel, req.contact_phone, req.logged_by_id) == ("walk_in", PHONE, staff.id)
    assert f"created={req.public_id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Logged {req.public_id}" in page


def test_a_refused_request_explains_itself(client, auth, city):
    auth.login("staff")
    response = client.post(
        "/staff/desk/requests",
        data={"service_code": "pothole", "lat": "35.045", "long": "-85.31", "caller_phone": PHONE},
        follow_redirects=True,
    )
    assert "How big is it?" in response.get_data(as_text=True)
    assert db.session.scalars(select(ServiceRequest)).first() is None


def test_the_caller_supports_an_existing_request_instead(client, auth, city):
    existing = factories.gen_request("pothole")
    auth.login("staff")
    response = client.post(
        f"/staff/desk/requests/{existing.public_id}/support",
        data={"caller_phone": PHONE, "channel": "phone"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert existing.supporters_count == 1
    assert db.session.scalars(select(Follow).where(Follow.request_id == existing.id)).one()
    contact = db.session.scalars(select(Contact).where(Contact.kind == "supporter")).one()
    assert (contact.request_id, contact.caller_phone) == (existing.id, PHONE)
    assert db.session.scalar(select(db.func.count(ServiceRequest.id))) == 1


def test_an_information_only_call_is_a_contact_not_a_request(client, auth, city):
    answers.save(title="Bulky item pickup", body="Book a pickup.")
    db.session.commit()
    auth.login("staff")
    page = client.get("/staff/desk?aq=bulky").get_data(as_text=True)
    assert "Book a pickup." in page
    client.post(
        "/staff/desk/information",
        data={"answer": "bulky-item-pickup", "caller_phone": PHONE, "channel": "phone"},
    )
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.kind, contact.channel, contact.answer.slug, contact.topic) == (
        "information",
        "phone",
        "bulky-item-pickup",
        "Bulky item pickup",
    )
    assert db.session.scalars(select(ServiceRequest)).first() is None
    record = client.get("/staff/desk?q=4235550177").get_data(as_text=True)
    assert "Information call" in record


def test_staff_move_a_request_to_another_service(client, auth, city):
    req = factories.gen_request("graffiti")
    auth.login("staff")
    client.post(f"/staff/requests/{req.public_id}/service", data={"service_code": "streetlight"})
    db.session.expire_all()
    assert req.service.service_code == "streetlight"
    page = client.get(f"/staff/requests/{req.public_id}").get_data(as_text=True)
    assert "Change category" in page


def test_a_name_shared_by_several_people_lists_candidates_to_choose_from(client, auth, city):
    mine = factories.gen_request("pothole", contact_name="Ana Ruiz", contact_phone=PHONE,
                                 contact_email="ana.ruiz@example.org")
    theirs = factories.gen_request("graffiti", contact_name="Ana Soto",
                                   contact_email="asoto@example.net")
    db.session.commit()
    auth.login("staff")
    page = client.get("/staff/desk?q=ana").get_data(as_text=True)
    assert "2 people match “ana”: which one is calling?" in page
    assert 'id="caller-record"' not in page
    # Each person's details sit in their own card, never under the other's name.
    cards = page.split('<li class="candidate">')[1:]
    ruiz = next(card for card in cards if "Ana Ruiz" in card)
    soto = next(card for card in cards if "Ana Soto" in card)
    assert "ana.ruiz@example.org" in ruiz and "asoto@example.net" not in ruiz
    assert "asoto@example.net" in soto and PHONE not in soto
    assert 'value="ana.ruiz@example.org"' not in page  # no one's details prefilled
    # Choosing a candidate opens that person's record by their phone.
    chosen = client.get(f"/staff/desk?q={PHONE}").get_data(as_text=True)
    assert mine.public_id in chosen and theirs.public_id not in chosen
    assert 'value="Ana Ruiz"' in chosen
    assert "/staff/desk?q=423-555-0177" in page
