"""Every request, from whichever door, is also a contact; the caller lookup finds them."""

import pytest
from sqlalchemy import select

from tests import factories
from webapp.domain.intake import contacts
from webapp.models import Contact
from webapp.plumbing.extensions import db


@pytest.mark.parametrize(
    "channel", ["pwa", "web", "liaison", "open311", "phone", "walk_in", "email"]
)
def test_a_request_from_any_channel_records_a_contact(city, channel):
    req = factories.gen_request("pothole", channel=channel, contact_phone="(423) 555-0101")
    contact = db.session.scalars(select(Contact).where(Contact.request_id == req.id)).one()
    assert (contact.channel, contact.kind, contact.service_id) == (
        channel,
        "request",
        req.service_id,
    )
    assert contact.caller_phone == "(423) 555-0101"


def test_lookup_finds_requests_and_contacts_by_phone_email_name_and_address(city):
    staff = factories.gen_user("staff")
    closed = factories.gen_request(
        "graffiti",
        contact_phone="+1 423 555 0199",
        contact_name="Ada Caller",
        contact_email="ada@example.org",
    )
    from webapp.domain.lifecycle import workflow as requests_domain

    requests_domain.transition(closed, "closed", staff, note="Cleaned.", resolution="fixed")
    still_open = factories.gen_request("pothole", contact_phone="423-555-0199")
    contacts.record_information_call(
        staff, topic="Trash days", caller_phone="4235550199", caller_address="12 Main St"
    )
    factories.gen_request("pothole", contact_phone="423-555-0000")
    db.session.commit()

    found = contacts.lookup("(423) 555-0199")
    kinds = [(i.kind, i.request.public_id if i.request else None) for i in found.items]
    assert kinds[0] == ("request", still_open.public_id)  # open first
    assert ("request", closed.public_id) in kinds
    assert ("information", None) in kinds
    assert len(found.items) == 3
    assert [i.request.public_id for i in contacts.lookup("ADA@example").items] == [closed.public_id]
    assert [i.request.public_id for i in contacts.lookup("Ada Call").items] == [closed.public_id]
    assert [i.kind for i in contacts.lookup("12 main").items] == ["information"]
    assert contacts.lookup("xy").items == []


def test_an_information_call_needs_a_topic_answer_or_note(city):
    staff = factories.gen_user("staff")
    from webapp.domain.errors import DomainError

    with pytest.raises(DomainError):
        contacts.record_information_call(staff, caller_name="Bo")
    with pytest.raises(DomainError):
        contacts.record_information_call(staff, channel="pwa", topic="x")


def _three_anas():
    """Three different residents called Ana: two requests from one phone, one by e-mail
    only, and an information call from a third person with an e-mail and a phone."""
    staff = factories.gen_user("staff")
    first = factories.gen_request("pothole", contact_name="Ana Ruiz", contact_phone="423-555-0101")
    again = factories.gen_request(
        "graffiti", contact_name="Ana R.", contact_phone="(423) 555 0101",
        contact_email="ana.ruiz@example.org",
    )
    other = factories.gen_request("streetlight", contact_name="Ana Soto",
                                  contact_email="asoto@example.net")
    contacts.record_information_call(
        staff, topic="Trash days", caller_name="Ana Lee", caller_phone="423-555-0303",
        caller_email="ana.lee@example.com",
    )
    db.session.commit()
    return first, again, other


def test_a_caller_is_one_person_known_by_phone_email_or_account(city):
    first, again, _other = _three_anas()
    by_phone = contacts.lookup("423 555 0101")
    assert by_phone.candidates == []
    assert {i.request.public_id for i in by_phone.items} == {first.public_id, again.public_id}
    assert by_phone.emails == ["ana.ruiz@example.org"]  # tied to that phone by a request
    by_email = contacts.lookup("ana.ruiz@example.org")
    assert {i.request.public_id for i in by_email.items} == {again.public_id}
    assert by_email.identity == "(423) 555 0101"


def test_a_name_search_lists_each_person_with_only_their_own_details(city):
    first, again, other = _three_anas()
    found = contacts.lookup("ana")
    assert found.items == [] and found.names == [] and found.emails == []
    people = {tuple(sorted(p.emails)): p for p in found.candidates}
    assert sorted(people) == [
        ("ana.lee@example.com",), ("ana.ruiz@example.org",), ("asoto@example.net",)]
    ruiz = people[("ana.ruiz@example.org",)]
    assert sorted(ruiz.names) == ["Ana R.", "Ana Ruiz"]
    assert {i.request.public_id for i in ruiz.items} == {first.public_id, again.public_id}
    soto = people[("asoto@example.net",)]
    assert soto.phones == [] and soto.names == ["Ana Soto"]
    assert [i.request.public_id for i in soto.items] == [other.public_id]
    assert people[("ana.lee@example.com",)].phones == ["423-555-0303"]


def test_records_with_no_phone_email_or_account_are_never_merged(city):
    one = factories.gen_request("pothole", contact_name="Sam Pike")
    two = factories.gen_request("pothole", contact_name="Sam Pike")
    db.session.commit()
    found = contacts.lookup("Sam Pike")
    assert sorted(i.request.public_id for p in found.candidates for i in p.items) == sorted(
        [one.public_id, two.public_id])
    assert all(p.identity is None and len(p.items) == 1 for p in found.candidates)
