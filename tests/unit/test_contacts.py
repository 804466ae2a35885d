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
    from webapp.domain.lifecycle import requests as requests_domain

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
