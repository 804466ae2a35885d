"""E-mail through the outbox, delivered to a real SMTP server (aiosmtpd) in the test
process: confirmation, closure with note and after-photo, chosen updates, retries,
permanent failures, connection reuse, the embedded .eml default."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.email import addresses, email_channel, mail_queue
from webapp.domain.people import devices
from webapp.models import NotificationOutbox, PhotoKind, utcnow
from webapp.plumbing.extensions import db

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def staff(mail_app):
    """A city with a staff member to close requests."""
    factories.gen_city()
    user = factories.gen_user("staff")
    db.session.commit()
    return user


def email_rows():
    """Every e-mail outbox row, oldest first."""
    return db.session.scalars(
        select(NotificationOutbox)
        .where(NotificationOutbox.channel == mail_queue.EMAIL)
        .order_by(NotificationOutbox.id)
    ).all()


def later():
    """A moment after every backoff has run out."""
    return utcnow() + timedelta(days=3)


def close(request, staff, note="Filled and sealed the pothole this morning.", photo=None):
    """Staff closes the request as fixed (with an after-photo when given) and commits."""
    from webapp.domain.lifecycle import photos as photo_pipeline

    event = requests_domain.transition(request, "closed", staff, note=note, resolution="fixed")
    if photo is not None:
        processed = photo_pipeline.process(photo)
        photo_pipeline.attach(request, processed, kind=PhotoKind.CLOSURE, event=event)
    db.session.commit()


def test_a_report_with_an_email_gets_a_confirmation_with_number_and_tracking_link(
    staff, smtp_server
):
    request = factories.gen_request("pothole", contact_email="Rita@Example.NET")
    db.session.commit()

    assert email_channel.deliver_due() == 1

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "Rita@example.net"
    assert request.public_id in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"http://civic.test/requests/{request.public_id}"
    assert link in text and f'href="{link}"' in html
    assert message["List-Unsubscribe"].strip().startswith("<http://civic.test/e/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@civic311.example>")
    assert "<img" not in html  # nothing loads from a server: no tracking pixels
    [row] = email_rows()
    assert (row.state, row.kind, row.email_to) == ("sent", "confirmation", "Rita@example.net")


def test_closure_mail_has_resolution_note_after_photo_and_both_links(staff, smtp_server):
    request = factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()
    close(request, staff, photo=(DATA / "progressive.jpg").read_bytes())

    assert email_channel.deliver_due() == 2

    closure = smtp_server.wait_for(2)[1]
    assert "Fixed" in closure["Subject"]
    text = closure.get_body(("plain",)).get_content()
    assert "Filled and sealed the pothole this morning." in text
    assert "http://civic.test/e/fixed/" in text and "http://civic.test/e/not-fixed/" in text
    html = closure.get_body(("html",)).get_content()
    assert 'src="cid:after-photo"' in html
    [image] = [part for part in closure.walk() if part.get_content_type() == "image/jpeg"]
    assert image["Content-ID"] == "<after-photo>"
    assert image.get_content()[:2] == b"\xff\xd8"


def test_updates_are_mailed_only_when_the_resident_chose_them(staff, smtp_server):
    _, device = devices.create()
    device.notify_prefs = {"in_progress": True}
    request = factories.gen_request("pothole", device=device, contact_email="r@example.net")
    db.session.commit()
    requests_domain.transition(request, "acknowledged", staff, note="Seen")
    requests_domain.transition(request, "in_progress", staff, note="Crew on the way")
    db.session.commit()

    assert [row.kind for row in email_rows()] == ["confirmation", "in_progress"]


@pytest.mark.parametrize(
    "address", ["not-an-address", "rita@", "a b@example.net", "x" * 250 + "@e.co"]
)
def test_an_invalid_email_is_refused_with_the_field(mail_app, address):
    factories.gen_city()
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        factories.gen_request("pothole", contact_email=address)
    assert (refused.value.status, refused.value.field) == (422, "contact_email")


def test_the_api_answers_422_naming_the_field_for_an_invalid_email(mail_app, client):
    factories.gen_city()
    db.session.commit()
    response = client.post(
        "/api/v1/requests",
        data={
            "service_code": "pothole",
            "lat": "35.045",
            "long": "-85.31",
            "contact_email": "nope",
        },
        headers={
            "Idempotency-Key": "6f0c1f9e-7a51-4d5e-9d7b-0d7a1c2b3e4f",
            "X-Requested-With": "civic311",
        },
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["field"] == "contact_email"


def test_smtp_down_loses_nothing_and_retries_until_it_is_back(staff, smtp_server):
    factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()
    smtp_server.stop()

    assert email_channel.deliver_due() == 0

    [row] = email_rows()
    assert row.state == "pending" and row.attempts == 1
    assert "unreachable" in row.last_error
    assert row.next_attempt_at > utcnow()
    assert email_channel.deliver_due() == 0  # backing off: not tried again at once

    smtp_server.start()
    assert email_channel.deliver_due(now=later()) == 1
    db.session.refresh(row)
    assert row.state == "sent" and row.attempts == 2
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.parametrize("answer", ["451 4.3.0 Try again later", "421 4.7.0 Too busy, closing"])
def test_temporary_smtp_errors_are_retried_with_backoff(staff, smtp_server, answer):
    factories.gen_request("pothole", contact_email="a@example.net")
    factories.gen_request("pothole", contact_email="b@example.net")
    db.session.commit()
    smtp_server.fail_next(1, answer)

    assert email_channel.deliver_due() == 1

    first, second = email_rows()
    assert first.state == "pending" and answer.split()[0] in first.last_error
    assert second.state == "sent"  # the connection was reopened after a 421
    assert email_channel.deliver_due(now=later()) == 1
    assert {m["To"] for m in smtp_server.wait_for(2)} == {"a@example.net", "b@example.net"}


def test_a_permanently_refused_address_stops_getting_mail_and_says_why(staff, smtp_server):
    smtp_server.refuse("gone@example.net", "550 5.1.1 <gone@example.net>: Mailbox unavailable")
    request = factories.gen_request("pothole", contact_email="gone@example.net")
    db.session.commit()

    assert email_channel.deliver_due() == 0
    [row] = email_rows()
    assert row.state == "failed"
    assert "550 5.1.1" in row.last_error and "Mailbox unavailable" in row.last_error
    bounced = addresses.bounced_address(request)
    assert bounced is not None and "550" in bounced.bounce_reason

    close(request, staff)
    assert len(email_rows()) == 1  # nothing more is queued for a bounced address
    assert smtp_server.messages == []


def test_a_small_batch_goes_over_one_smtp_connection(staff, smtp_server):
    requests = [
        factories.gen_request("pothole", contact_email=f"r{n}@example.net") for n in range(4)
    ]
    db.session.commit()
    for request in requests:
        requests_domain.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()

    assert email_channel.deliver_due() == 8

    assert len(smtp_server.wait_for(8)) == 8
    assert smtp_server.connections == 1


def test_a_large_fan_out_reuses_a_few_parallel_connections(staff, smtp_server):
    requests = [
        factories.gen_request("pothole", contact_email=f"r{n}@example.net") for n in range(60)
    ]
    db.session.commit()
    for request in requests:
        requests_domain.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()

    assert email_channel.deliver_due() == 120

    messages = smtp_server.wait_for(120)
    assert sorted(m["To"] for m in messages) == sorted([f"r{n}@example.net" for n in range(60)] * 2)
    # 120 messages in two claimed batches of 100 and 20: 4 + 2 connections, not 120
    assert smtp_server.connections == 6


def test_a_change_that_rolls_back_mails_nobody(staff, smtp_server):
    request = factories.gen_request("pothole", contact_email="r@example.net")
    db.session.commit()
    requests_domain.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.rollback()

    assert [row.kind for row in email_rows()] == ["confirmation"]


def test_without_mail_server_messages_are_written_as_eml_files(make_app, tmp_path):
    app = make_app(INSTANCE_DIR=str(tmp_path / "instance"))
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    app.logger.addHandler(handler)
    # Running the migrations in this process (the test database template) loads Alembic's
    # logging config, which disables loggers that already exist; a served app does not.
    app.logger.disabled = False
    with app.app_context():
        factories.gen_city()
        public_id = factories.gen_request("pothole", contact_email="new@example.net").public_id
        db.session.commit()
        assert email_channel.deliver_due() == 1
    app.logger.removeHandler(handler)
    [path] = list((tmp_path / "instance" / "mail").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert public_id in message["Subject"]
    assert any(str(path) in line and "MAIL_SERVER" in line for line in lines)


def test_queue_email_sends_any_message_through_the_outbox(mail_app, smtp_server):
    mail_queue.queue_email(
        "someone@example.net",
        "We got your e-mail",
        "Thanks, we have it.",
        "<p>Thanks, we have it.</p>",
        kind="auto_reply",
    )
    db.session.commit()

    assert email_channel.deliver_due() == 1
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "We got your e-mail"
    assert message.get_body(("plain",)).get_content().strip() == "Thanks, we have it."


def test_a_spanish_reporter_is_mailed_in_spanish_when_english_staff_close(
    mail_app, staff, smtp_server
):
    staff.locale = "en"
    # Reported from a phone set to Spanish, without an account.
    with mail_app.test_request_context(headers={"Accept-Language": "es"}):
        request = factories.gen_request("pothole", contact_email="rita@example.net")
        db.session.commit()
    assert request.locale == "es"
    close(request, staff)

    assert email_channel.deliver_due() == 2

    confirmation, closure = smtp_server.wait_for(2)
    assert confirmation["Subject"].startswith("Recibimos su reporte")
    text = closure.get_body(("plain",)).get_content()
    assert "Filled and sealed the pothole this morning." in text  # the staff's own words
    assert "Resuelta" in closure["Subject"]
    assert "Fixed" not in closure["Subject"]
