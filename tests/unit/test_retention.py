"""Personal data kept only as long as needed: the retention purge and the resident's own
"delete my contact details"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories
from webapp.domain.lifecycle import retention
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.models import Contact, NotificationOutbox, ServiceRequest, Status
from webapp.plumbing.extensions import db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WRITE = {"X-Requested-With": "civic311"}


def _closed(days_ago: float, **contact) -> ServiceRequest:
    staff = factories.gen_user("staff")
    request = factories.gen_request(**contact)
    requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
    request.closed_at = NOW - timedelta(days=days_ago)
    for message in db.session.query(NotificationOutbox).filter_by(request_id=request.id):
        message.state = "sent"  # long since delivered
    db.session.add(Contact(channel="phone", request_id=request.id, caller_name="Caller",
                           caller_phone="423-555-0100", created_at=request.closed_at))
    db.session.commit()
    return request


def test_retention_removes_contact_details_of_requests_closed_long_ago_only(app, city):
    old = _closed(800, contact_name="Ana", contact_email="ana@example.com",
                  contact_phone="423-555-0199")
    recent = _closed(30, contact_name="Luis", contact_email="luis@example.com")
    still_open = factories.gen_request(contact_name="Eva", contact_email="eva@example.com")
    old_id, recent_id, open_id = old.id, recent.id, still_open.id

    dry = retention.purge_expired(NOW, months=24, dry_run=True)
    assert (dry.requests, dry.contacts) == (1, 2)  # the report's own contact and a call
    assert dry.messages >= 1  # the e-mails to Ana, long since delivered
    db.session.rollback()
    assert db.session.get(ServiceRequest, old_id).contact_email == "ana@example.com"

    done = retention.purge_expired(NOW, months=24)
    db.session.commit()
    assert done == dry
    db.session.expire_all()
    gone = db.session.get(ServiceRequest, old_id)
    assert (gone.contact_name, gone.contact_email, gone.contact_phone) == (None, None, None)
    assert gone.detailed_status == Status.CLOSED and gone.description  # the record stays
    assert db.session.get(ServiceRequest, recent_id).contact_email == "luis@example.com"
    assert db.session.get(ServiceRequest, open_id).contact_email == "eva@example.com"
    old_contact = db.session.query(Contact).filter_by(request_id=old_id, channel="phone").one()
    assert (old_contact.caller_name, old_contact.caller_phone) == (None, None)
    assert db.session.query(NotificationOutbox).filter_by(
        request_id=old_id).filter(NotificationOutbox.email_to.is_not(None)).count() == 0
    # Running it again finds nothing more; 0 months keeps everything.
    assert retention.purge_expired(NOW, months=24) == retention.Purged()
    assert retention.purge_expired(NOW, months=0, dry_run=True) == retention.Purged()


def test_purge_command_dry_run_changes_nothing(app, city):
    request = _closed(2000, contact_email="old@example.com")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["purge-personal-data", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would remove personal data of requests closed over 24 months ago" in dry.output
    assert "  requests: 1" in dry.output
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).contact_email == "old@example.com"
    real = runner.invoke(args=["purge-personal-data"])
    assert "  requests: 1" in real.output
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).contact_email is None


def test_a_resident_deletes_their_own_contact_details_from_my_requests(app, client, city):
    sent = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "4a6f1f3e-0000-4000-8000-000000000001"},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
              "contact_name": "Ana", "contact_email": "Ana@Example.com",
              "contact_phone": "423-555-0123"},
    )
    assert sent.status_code == 201, sent.get_json()
    mine = db.session.query(ServiceRequest).one()
    someone_else = factories.gen_request(contact_email="other@example.com")
    # A neighbour follows my request by e-mail: their message must survive.
    neighbour = NotificationOutbox(channel="email", state="pending", payload={},
                                   request_id=mine.id, email_to="neighbour@example.com")
    db.session.add(neighbour)
    db.session.commit()
    confirmation = db.session.query(NotificationOutbox).filter_by(
        request_id=mine.id, kind="confirmation").one()
    assert confirmation.email_to.lower() == "ana@example.com"
    assert confirmation.state == "pending"

    page = client.get("/my")
    assert b"Delete my contact details" in page.data
    done = client.post("/my/contact-details/delete")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/my#my-contact-details")
    db.session.expire_all()
    mine = db.session.get(ServiceRequest, mine.id)
    assert (mine.contact_name, mine.contact_email, mine.contact_phone) == (None, None, None)
    confirmation = db.session.get(NotificationOutbox, confirmation.id)
    assert (confirmation.state, confirmation.email_to) == ("dead", None)
    assert confirmation.last_error == retention.REMOVED_BY_RESIDENT
    assert db.session.get(NotificationOutbox, neighbour.id).state == "pending"
    assert db.session.get(ServiceRequest, someone_else.id).contact_email == "other@example.com"
    # The request page still opens for its requester.
    assert client.get(f"/requests/{mine.public_id}").status_code == 200
    again = client.post("/my/contact-details/delete", follow_redirects=True)
    assert b"There were no contact details to delete." in again.data


def test_the_button_and_its_answer_are_in_spanish(client, city):
    client.set_cookie("civic_lang", "es")
    page = client.get("/my").get_data(as_text=True)
    assert "Borrar mis datos de contacto" in page
    assert "24 meses después de cerrar una solicitud" in page
    answer = client.post("/my/contact-details/delete", follow_redirects=True)
    assert "No había datos de contacto para borrar." in answer.get_data(as_text=True)


def test_retention_empties_old_chats_and_texts_but_keeps_a_stopped_number(app, city):
    from webapp.models import Chat, ChatMessage, TextMessage, TextNumber

    long_ago, lately = NOW - timedelta(days=900), NOW - timedelta(days=10)

    def chat(when, name):
        row = Chat(key=f"k{name}", status="closed", resident_name=name,
                   resident_email=f"{name}@example.com", resident_phone="423-555-0101",
                   created_at=when, closed_at=when)
        row.messages.append(ChatMessage(author="resident", body=f"I am {name} at 12 Elm St",
                                        created_at=when))
        db.session.add(row)
        return row

    old_chat, new_chat = chat(long_ago, "ana"), chat(lately, "luis")
    texts = [
        TextMessage(provider_sid="SMold", phone="+14235550111", direction="in",
                    body="pothole at my house 4 Oak", reply="Thanks", created_at=long_ago),
        TextMessage(provider_sid="SMnew", phone="+14235550112", direction="in",
                    body="STATUS 311-000001", created_at=lately),
    ]
    numbers = [
        TextNumber(phone="+14235550111", last_message_at=long_ago, created_at=long_ago),
        TextNumber(phone="+14235550113", stopped=True, stopped_at=long_ago,
                   last_message_at=long_ago, created_at=long_ago),
        TextNumber(phone="+14235550112", last_message_at=lately, created_at=lately),
    ]
    contacts = [
        Contact(channel="chat", kind="information", caller_name="Ana",
                note="ana: I am Ana at 12 Elm St", created_at=long_ago),
        Contact(channel="text", kind="information", caller_phone="+14235550111",
                note="pothole at my house 4 Oak", created_at=long_ago),
        Contact(channel="text", kind="information", caller_phone="+14235550112",
                note="STATUS 311-000001", created_at=lately),
    ]
    db.session.add_all([*texts, *numbers, *contacts])
    db.session.commit()

    dry = retention.purge_expired(NOW, months=24, dry_run=True)
    assert (dry.chats, dry.text_messages, dry.text_numbers, dry.contacts) == (1, 1, 1, 2)
    assert retention.purge_expired(NOW, months=24) == dry
    db.session.commit()
    db.session.expire_all()

    assert (old_chat.resident_name, old_chat.resident_email, old_chat.resident_phone) == (
        None, None, None)
    assert [m.body for m in old_chat.messages] == [""]
    assert old_chat.status == "closed" and old_chat.created_at  # the record of the chat stays
    assert new_chat.resident_name == "luis" and new_chat.messages[0].body
    assert (texts[0].phone, texts[0].body, texts[0].reply) == ("", "", None)
    assert texts[1].body == "STATUS 311-000001"
    kept = db.session.query(TextNumber.phone).order_by(TextNumber.phone).all()
    assert [row.phone for row in kept] == ["+14235550112", "+14235550113"]  # STOP is kept
    assert [(c.caller_name, c.caller_phone, c.note) for c in contacts[:2]] == [
        (None, None, None), (None, None, None)]
    assert contacts[2].note == "STATUS 311-000001"
    assert retention.purge_expired(NOW, months=24) == retention.Purged()


def test_a_resident_deleting_their_details_empties_their_ended_chats_not_a_live_one(
    app, client, city
):
    from webapp.models import Chat, ChatMessage, Device

    sent = client.post(  # a report gives the phone its device
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "4a6f1f3e-0000-4000-8000-000000000002"},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31"},
    )
    assert sent.status_code == 201, sent.get_json()
    device = db.session.query(Device).one()

    def chat(key, status, device_id, name):
        transcript = Contact(channel="chat", kind="information", caller_name=name,
                             caller_email=f"{name}@example.com", note=f"{name}: my address")
        row = Chat(key=key, status=status, device_id=device_id, resident_name=name,
                   resident_email=f"{name}@example.com", contact=transcript)
        row.messages.append(ChatMessage(author="resident", body=f"I am {name} at 12 Elm St"))
        db.session.add(row)
        return row

    ended = chat("k-ended", "closed", device.id, "ana")
    live = chat("k-live", "active", device.id, "ana")
    strangers = chat("k-other", "closed", None, "luis")
    db.session.commit()

    done = client.post("/my/contact-details/delete", follow_redirects=True)
    assert b"Your contact details were deleted" in done.data
    db.session.expire_all()
    assert [m.body for m in ended.messages] == [""]
    assert (ended.resident_name, ended.resident_email) == (None, None)
    assert (ended.contact.caller_name, ended.contact.caller_email, ended.contact.note) == (
        None, None, None)
    assert live.messages[0].body and live.resident_name == "ana"  # the call-taker still answers
    assert strangers.messages[0].body and strangers.contact.caller_name == "luis"
