"""E-mail intake against a real IMAP server (dovecot) and a real SMTP server (aiosmtpd):
a photo report becomes a request with its photo and an auto-reply, the resident's
reply is threaded onto it, polls and restarts never duplicate, and hostile mail
becomes a triage item with a clear note."""

from __future__ import annotations

import imaplib
import io
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from tests.conftest import skip_or_fail
from tests.fakes import serve
from tests.fakes.imap import DovecotServer, dovecot_available, dovecot_root
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.smtp import SMTPServer
from webapp import create_app
from webapp.domain.geo import geocoding
from webapp.domain.intake import mailbox
from webapp.domain.notifications.email import email_channel
from webapp.jobs import runner as workers
from webapp.jobs.mail_intake import run_mail_intake
from webapp.models import Contact, InboundMail, Photo, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

DATA = Path(__file__).resolve().parents[1] / "data"
RESIDENT = "rosa.resident@example.net"


@pytest.fixture
def imap(request):
    """A real dovecot on 127.0.0.1 with an empty 311 mailbox."""
    if not dovecot_available():
        skip_or_fail(request.config, "dovecot is not installed (apt-get install dovecot-imapd)")
    with dovecot_root() as root:
        server = DovecotServer(root).start()
        yield server
        server.stop()


@pytest.fixture
def smtp():
    """A real SMTP server that keeps what the app sends."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def nominatim():
    """The fake geocoder (addresses in the e-mail text are geocoded)."""
    geocoding.reset()
    running = serve(FakeNominatim())
    yield running
    running.stop()
    geocoding.reset()


@pytest.fixture
def intake_app(make_app, imap, smtp, nominatim):
    """The app reading the dovecot mailbox, sending through aiosmtpd, with the test city."""
    app = make_app(
        **imap.settings(),
        **smtp.settings(),
        PUBLIC_URL="https://311.testville.example",
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
    )
    with app.app_context():
        factories.gen_city()
        yield app


def mail(
    subject="Pothole",
    body="There is a deep pothole, a big hole in the road.",
    sender=RESIDENT,
    photos=(),
    html=None,
    charset=None,
    headers=None,
) -> bytes:
    """A raw e-mail as a resident's mail program would send it."""
    message = EmailMessage()
    message["From"] = f"Rosa Resident <{sender}>"
    message["To"] = "311@testville.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.net")
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        if charset:
            message.set_content(body.encode(charset), maintype="text", subtype="plain", cte="8bit")
            message.replace_header("Content-Type", f"text/plain; charset={charset}")
        else:
            message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data in photos:
        message.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    return message.as_bytes()


def jpeg(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def bomb_png() -> bytes:
    """A small file that would decode to 400 megapixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_photo_report_by_email_end_to_end(intake_app, imap, smtp):
    imap.deliver(mail(photos=[("hole.jpg", (DATA / "orientation6_gps.jpg").read_bytes())]))
    result = mailbox.poll()
    assert result.ok and [o.outcome for o in result.outcomes] == ["request"]
    req = db.session.scalars(select(ServiceRequest)).one()
    assert (req.channel, req.service.service_code, req.contact_email) == (
        "email",
        "pothole",
        RESIDENT,
    )
    assert (round(req.lat, 3), round(req.long, 3)) == (35.045, -85.31)  # from the photo's GPS
    assert _count(Photo, Photo.request_id == req.id) == 1
    assert _count(Contact, Contact.channel == "email", Contact.request_id == req.id) == 1

    assert email_channel.deliver_due() == 1  # the auto-reply goes through the notification outbox
    [reply] = smtp.inbox.wait_for(1)
    assert reply["To"] == RESIDENT and req.public_id in reply["Subject"]
    assert reply["Auto-Submitted"] == "auto-replied" and reply["In-Reply-To"]
    text = reply.get_body(("plain",)).get_content()
    assert f"https://311.testville.example/requests/{req.public_id}" in text
    assert "reply to this e-mail" in text

    # The resident answers the acknowledgement: a public comment on the request.
    imap.deliver(
        mail(
            subject=f"Re: {reply['Subject']}",
            body="It is getting bigger.\n\n> old",
            headers={"In-Reply-To": reply["Message-ID"], "References": reply["Message-ID"]},
        )
    )
    assert [o.outcome for o in mailbox.poll().outcomes] == ["comment"]
    db.session.expire_all()
    notes = [e.note for e in req.events if e.kind == "public_note"]
    assert notes == ["It is getting bigger."]

    # Polling again, and a restart that sees the messages unread again, change nothing.
    assert mailbox.poll().outcomes == []
    client = imaplib.IMAP4("127.0.0.1", imap.port)
    client.login(imap.settings()["IMAP_USER"], imap.settings()["IMAP_PASSWORD"])
    client.select("INBOX")
    client.store("1:*", "-FLAGS", "\\Seen")
    client.logout()
    db.session.remove()
    restarted = create_app(dict(intake_app.config))
    with restarted.app_context():
        outcomes = mailbox.poll().outcomes
        assert [o.outcome for o in outcomes] == ["duplicate", "duplicate"]
        assert _count(ServiceRequest) == 1
        assert _count(RequestEvent, RequestEvent.kind == "public_note") == 1
        assert email_channel.deliver_due() == 0
        db.session.remove()
        db.engine.dispose()
    assert imap.unread_count() == 0
    assert len(smtp.inbox.wait_for(2, timeout=0.5)) == 1  # one auto-reply, ever


def test_an_address_in_the_text_is_geocoded_and_a_question_is_a_contact(intake_app, imap):
    imap.deliver(
        mail(
            subject="Graffiti on the library wall",
            body="Someone sprayed graffiti at 101 East 11th Street last night.",
        )
    )
    imap.deliver(mail(subject="When is bulky pickup?", body="Can you take an old sofa?"))
    # The command a worker process runs (the background runner calls the same job).
    assert "mail-intake" in workers._JOBS
    result = intake_app.test_cli_runner().invoke(args=["mail-intake"])
    assert result.exit_code == 0 and "1 contact, 1 request" in result.output, result.output
    assert run_mail_intake() == 0  # nothing new on the next poll
    req = db.session.scalars(select(ServiceRequest)).one()
    assert (req.service.service_code, round(req.lat, 4)) == ("graffiti", 35.0456)
    question = db.session.scalars(select(Contact).where(Contact.kind == "information")).one()
    assert (question.channel, question.caller_email) == ("email", RESIDENT)


def test_hostile_and_odd_mail_becomes_triage_with_a_clear_note(intake_app, imap, smtp):
    victim = factories.gen_request("pothole", contact_email="victim@example.org")
    forged_parent = f"<{victim.public_id}.1@civic311.local>"
    big = b"x" * (30 * 1024 * 1024)
    cases = {
        "no text": mail(subject="", body=""),
        "html only": mail(
            subject="Lights",
            body=None,
            html="<p>The <b>lamp</b> is broken somewhere</p><script>x</script>",
        ),
        "odd charset": mail(subject="Граффити", body="Стена расписана", charset="koi8-r"),
        "twenty attachments": mail(
            subject="Pothole photos", photos=[(f"{n}.jpg", jpeg((n * 10, 0, 0))) for n in range(20)]
        ),
        "bomb": mail(subject="Pothole bomb", photos=[("bomb.png", bomb_png())]),
        "thirty megabytes": mail(subject="Huge pothole", photos=[("big.jpg", big)]),
        "forged reply": mail(
            subject="Re: your request",
            body="Close it, it is fine.",
            sender="mallory@example.com",
            headers={"In-Reply-To": forged_parent},
        ),
    }
    for raw in cases.values():
        imap.deliver(raw)
    result = mailbox.poll()
    assert result.ok
    notes = {row.subject: row for row in db.session.scalars(select(InboundMail))}
    assert len(notes) == len(cases)
    assert all(row.outcome == "triage" for row in notes.values()), {
        k: (v.outcome, v.note) for k, v in notes.items()
    }
    assert "no text and no photo" in notes[""].note
    assert "only HTML" in notes["Lights"].note and "<script" not in notes["Lights"].body
    assert notes["Граффити"].body == "Стена расписана"
    assert "first 10 were looked at" in notes["Pothole photos"].note
    assert "refused" in notes["Pothole bomb"].note
    assert "MB, over the 20 MB limit" in notes["Huge pothole"].note
    assert f"claims to answer {victim.public_id}" in notes["Re: your request"].note
    db.session.expire_all()
    assert [e.kind for e in victim.events] == ["created"]  # nothing added to the victim
    assert _count(ServiceRequest) == 1
    assert imap.unread_count() == 0  # read once, kept in the mailbox


def test_imap_down_is_recorded_retried_and_shown(intake_app, imap):
    imap.stop()
    failed = mailbox.poll()
    assert not failed.ok and failed.error
    assert mailbox.status().failures == 1 and mailbox.status().last_success_at is None
    imap.start()
    imap.deliver(mail())
    assert mailbox.poll().ok
    assert mailbox.status().last_success_at is not None
    admin = factories.gen_user("admin")
    db.session.commit()
    client = intake_app.test_client()
    client.post("/auth/sign-in", data={"email": admin.email, "password": factories.PASSWORD})
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Last successful poll" in page and "never" not in page.split("Last attempt")[0]


def test_a_flood_from_one_sender_waits_for_staff(make_app, imap, smtp, nominatim):
    app = make_app(
        **imap.settings(),
        MAIL_INTAKE_PER_SENDER_PER_DAY=2,
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
    )
    with app.app_context():
        factories.gen_city()
        for n in range(3):
            imap.deliver(
                mail(subject=f"Graffiti {n}", body="Graffiti at 101 East 11th Street again.")
            )
        outcomes = [o.outcome for o in mailbox.poll().outcomes]
        assert outcomes == ["request", "request", "triage"]
        flooded = db.session.scalars(
            select(InboundMail).where(InboundMail.outcome == "triage")
        ).one()
        assert "flood limit" in flooded.note
