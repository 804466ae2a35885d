"""The links in our e-mail, followed from messages a real SMTP server received:
"Yes, it's fixed", "No, it's not fixed", one-click unsubscribe, the sign-in link,
and find-by-number. GETs never change anything; bad links change nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import AuthActions
from webapp.domain.lifecycle import after_closure as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.domain.notifications.email import addresses, email_channel, mail_queue
from webapp.domain.people import devices
from webapp.models import EventKind, NotificationOutbox, Photo, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

DATA = Path(__file__).resolve().parents[1] / "data"
LINK = re.compile(r"http://civic\.test(/e/[a-z-]+/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def closed_request(mail_app, smtp_server):
    """A request sent with an e-mail address, closed by staff; its mail delivered."""
    factories.gen_city()
    staff = factories.gen_user("staff")
    request = factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()
    workflow.transition(request, "closed", staff, note="Patched it.", resolution="fixed")
    db.session.commit()
    assert email_channel.deliver_due() == 2
    return request


def links_in(message) -> dict[str, str]:
    """The /e/<purpose>/<token> paths in a message's text part, by purpose."""
    text = message.get_body(("plain",)).get_content()
    found = {}
    for path in LINK.findall(text):
        found[path.split("/")[2]] = path
    return found


def closure_links(smtp_server) -> dict[str, str]:
    """Links in the closure mail."""
    return links_in(smtp_server.wait_for(2)[1])


def events(request, kind):
    """The request's timeline entries of ``kind``."""
    db.session.expire_all()
    return [e for e in db.session.get(ServiceRequest, request.id).events if e.kind == kind]


def test_fixed_link_opens_a_confirm_page_and_only_the_post_confirms(
    closed_request, smtp_server, mail_client
):
    path = closure_links(smtp_server)["fixed"]

    page = mail_client.get(path)
    assert page.status_code == 200
    assert "Yes, it's fixed" in page.get_data(as_text=True)
    assert events(closed_request, EventKind.CONFIRMED_FIXED) == []

    done = mail_client.post(path)
    assert done.status_code == 200
    assert "Thank you for confirming" in done.get_data(as_text=True)
    assert len(events(closed_request, EventKind.CONFIRMED_FIXED)) == 1

    again = mail_client.post(path)
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)
    assert len(events(closed_request, EventKind.CONFIRMED_FIXED)) == 1


def test_not_fixed_link_reopens_with_comment_and_photo_into_the_queue_flagged(
    closed_request, smtp_server, mail_client
):
    path = closure_links(smtp_server)["not-fixed"]
    assert "What is still wrong?" in mail_client.get(path).get_data(as_text=True)
    assert not events(closed_request, EventKind.REOPENED)

    empty = mail_client.post(path, data={"comment": " "})
    assert empty.status_code == 422
    assert "Please tell the city what is still wrong" in empty.get_data(as_text=True)

    with open(DATA / "progressive.jpg", "rb") as photo:
        done = mail_client.post(
            path,
            data={"comment": "The hole is back after the rain.", "photo": (photo, "hole.jpg")},
            content_type="multipart/form-data",
        )
    assert done.status_code == 200
    db.session.expire_all()
    request = db.session.get(ServiceRequest, closed_request.id)
    assert (request.status, request.reopened, request.reopen_count) == ("open", True, 1)
    [reopened] = events(request, EventKind.REOPENED)
    assert reopened.note == "The hole is back after the rain."
    assert db.session.scalars(select(Photo).where(Photo.kind == "reopen")).all()

    assert mail_client.post(path, data={"comment": "again"}).status_code == 410


def test_not_fixed_after_the_reopen_window_changes_nothing(
    closed_request, smtp_server, mail_client
):
    closed_request.closed_at = utcnow() - timedelta(days=40)
    db.session.commit()
    path = closure_links(smtp_server)["not-fixed"]
    # the link was for the closure as it was mailed; moving the closure time makes it stale
    assert mail_client.get(path).status_code == 410


@pytest.mark.parametrize("damage", ["tamper", "swap", "truncate"])
def test_tampered_links_get_a_clear_page_and_change_nothing(
    closed_request, smtp_server, mail_client, damage
):
    found = closure_links(smtp_server)
    path = found["fixed"]
    if damage == "tamper":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    elif damage == "swap":  # a not-fixed token presented as a fixed link
        path = "/e/fixed/" + found["not-fixed"].split("/")[-1]
    else:
        path = path[: len(path) // 2]
    for method in (mail_client.get, mail_client.post):
        response = method(path)
        assert response.status_code == 400
        assert "This link cannot be used" in response.get_data(as_text=True)
    assert events(closed_request, EventKind.CONFIRMED_FIXED) == []


def test_expired_links_get_a_clear_page(closed_request, smtp_server, mail_client, monkeypatch):
    path = closure_links(smtp_server)["fixed"]
    later = utcnow() + timedelta(days=31)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later.timestamp())
    response = mail_client.post(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert events(closed_request, EventKind.CONFIRMED_FIXED) == []


def test_one_click_unsubscribe_works_twice_and_stops_mail(
    closed_request, smtp_server, mail_client, mail_app
):
    closure = smtp_server.wait_for(2)[1]
    url = closure["List-Unsubscribe"].strip().strip("<>")
    path = urlsplit(url).path

    assert mail_client.get(path).status_code == 200
    assert addresses.blocked_reason("rita@example.net", closed_request.id) is None

    for _ in range(2):  # what a mail program sends (RFC 8058): no cookies, no CSRF token
        response = mail_client.post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    assert "no more e-mails about" in response.get_data(as_text=True)
    assert addresses.blocked_reason("rita@example.net", closed_request.id)

    requests_domain.reopen(closed_request, "still broken", device=None, user=None, proven=True)
    db.session.commit()
    kinds = db.session.scalars(
        select(NotificationOutbox.kind).where(NotificationOutbox.channel == "email")
    ).all()
    assert kinds == ["confirmation", "closed"]


def test_one_click_unsubscribe_needs_no_csrf_token(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), WTF_CSRF_ENABLED=True, PUBLIC_URL="http://civic.test")
    with app.app_context():
        factories.gen_city()
        request = factories.gen_request("pothole", contact_email="rita@example.net")
        db.session.commit()
        url = mail_queue.unsubscribe_url("rita@example.net", request_id=request.id)
        response = app.test_client().post(
            urlsplit(url).path, data={"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
        assert addresses.blocked_reason("rita@example.net", request.id)


def test_sign_in_link_shows_the_requests_on_another_device_once(mail_app, smtp_server, mail_client):
    factories.gen_city()
    _, first_phone = devices.create()
    request = factories.gen_request("pothole", device=first_phone, contact_email="Rita@Example.net")
    db.session.commit()
    email_channel.deliver_due()

    assert request.public_id not in mail_client.get("/my").get_data(as_text=True)
    response = mail_client.post("/my/sign-in-link", data={"email": "rita@example.net"})
    assert response.status_code == 302
    email_channel.deliver_due()
    sign_in = smtp_server.wait_for(2)[1]
    path = links_in(sign_in)["sign-in"]

    assert "Show my requests here" in mail_client.get(path).get_data(as_text=True)
    assert request.public_id not in mail_client.get("/my").get_data(as_text=True)
    assert mail_client.post(path).status_code == 302
    assert request.public_id in mail_client.get("/my").get_data(as_text=True)

    other = mail_app.test_client()
    assert other.post(path).status_code == 410


def test_sign_in_link_expires_after_15_minutes(mail_app, smtp_server, mail_client, monkeypatch):
    factories.gen_city()
    factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()
    mail_client.post("/my/sign-in-link", data={"email": "rita@example.net"})
    email_channel.deliver_due()
    path = links_in(smtp_server.wait_for(2)[1])["sign-in"]
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later.timestamp())
    assert mail_client.post(path).status_code == 410


def test_asking_for_a_sign_in_link_reveals_nothing_about_unknown_addresses(
    mail_app, smtp_server, mail_client
):
    factories.gen_city()
    db.session.commit()
    known = mail_client.post("/my/sign-in-link", data={"email": "nobody@example.net"})
    assert known.status_code == 302
    follow = mail_client.get(known.headers["Location"]).get_data(as_text=True)
    assert "If requests were sent with that address" in follow
    assert email_channel.deliver_due() == 0


def test_asking_for_a_sign_in_link_with_a_bad_address_says_so(mail_app, mail_client):
    response = mail_client.post(
        "/my/sign-in-link", data={"email": "not an address"}, follow_redirects=True
    )
    assert "is not a valid e-mail address" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["311-000001", "000001", "1", " 311-000001 "])
def test_find_a_request_by_its_number(mail_app, mail_client, typed):
    factories.gen_city()
    request = factories.gen_request("pothole")
    db.session.commit()
    response = mail_client.get("/find", query_string={"number": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{request.public_id}")


def test_find_an_unknown_number_says_so(mail_app, mail_client):
    response = mail_client.get(
        "/find", query_string={"number": "311-999999"}, follow_redirects=True
    )
    assert "We could not find request 311-999999" in response.get_data(as_text=True)
    response = mail_client.get("/find", query_string={"number": "pothole"}, follow_redirects=True)
    assert "Please type the request number" in response.get_data(as_text=True)


def test_home_and_my_requests_offer_find_by_number(mail_app, mail_client):
    factories.gen_city()
    db.session.commit()
    for page in ("/", "/my"):
        assert "Find a request by its number" in mail_client.get(page).get_data(as_text=True)
    assert "Get my requests on another phone" in mail_client.get("/my").get_data(as_text=True)


def test_workbench_shows_the_delivery_log_and_why_an_address_bounced(
    mail_app, smtp_server, mail_client
):
    factories.gen_city()
    smtp_server.refuse("gone@example.net", "550 5.1.1 Mailbox unavailable")
    sent = factories.gen_request("pothole", contact_email="rita@example.net")
    bounced = factories.gen_request("pothole", contact_email="gone@example.net")
    db.session.commit()
    email_channel.deliver_due()
    AuthActions(mail_client).login("staff")

    page = mail_client.get(f"/staff/requests/{sent.public_id}").get_data(as_text=True)
    assert "E-mail (confirmation) delivered at" in page
    assert "E-mailed at" in page
    page = mail_client.get(f"/staff/requests/{bounced.public_id}").get_data(as_text=True)
    assert "bounced on" in page and "550 5.1.1 Mailbox unavailable" in page
