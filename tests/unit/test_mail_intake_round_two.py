"""E-mail intake against a real IMAP server (dovecot) and SMTP server (aiosmtpd), in the
demo city with its Spanish content: automatic mail never starts a loop, a reply's quote
is never published, Spanish reports are understood and answered in Spanish, and a mixed
batch of 30 mails is measured."""

from __future__ import annotations

import tracemalloc
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.data.mail import batch
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from tests.unit.test_mail_intake import imap, mail, smtp  # noqa: F401 - shared fixtures
from webapp.domain.geo import geocoding
from webapp.domain.intake import mail_quotes, mail_reading, mailbox
from webapp.domain.notifications.email import email_channel
from webapp.i18n import reporter_locale
from webapp.models import InboundMail, NotificationOutbox, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db
from webapp.seed import chattanooga_es
from webapp.seed.answers import seed_answers
from webapp.seed.demo import seed_geography, seed_services

OWN = "311@civic311.example"  # the test configuration's MAIL_DEFAULT_SENDER


@pytest.fixture
def nominatim():
    """A geocoder that finds only real addresses (every word of the query must match)."""
    geocoding.reset()
    running = serve(FakeNominatim(places=batch.PLACES, strict=True))
    yield running
    running.stop()
    geocoding.reset()


@pytest.fixture
def city_app(make_app, imap, smtp, nominatim):  # noqa: F811 - fixtures from test_mail_intake
    """The app reading dovecot, sending through aiosmtpd, in the demo city (its services,
    their Spanish names and keywords, and the knowledge answers in both languages)."""
    app = make_app(
        **imap.settings(),
        **smtp.settings(),
        PUBLIC_URL="https://311.testville.example",
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
        MAIL_INTAKE_PER_SENDER_PER_DAY=50,
    )
    with app.app_context():
        seed_geography()
        seed_services()
        seed_answers()
        chattanooga_es.seed_translations()
        db.session.commit()
        yield app


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def measure(outcomes) -> dict:
    """Requests, triage and right service for the batch, overall and for Spanish."""
    figures = {"requests": 0, "triage": 0, "right": 0, "es_right": 0, "not_requests": 0}
    by_id = {o.message_id: o for o in outcomes}
    for index, entry in enumerate(batch.BATCH):
        language, expected = entry[0], entry[1]
        row = db.session.scalars(
            select(InboundMail).where(InboundMail.message_id.like(f"%batch{index}@%"))
        ).one()
        outcome = by_id[row.message_id].outcome
        figures["requests"] += outcome == "request"
        figures["triage"] += outcome == "triage"
        service = row.request.service.service_code if row.request else None
        good = service == expected if expected else outcome != "request"
        figures["right"] += good
        figures["es_right"] += good and language == "es"
        figures["not_requests"] += expected is None and outcome != "request"
    return figures


def test_a_mixed_batch_of_thirty_english_and_spanish_mails(city_app, imap, smtp):  # noqa: F811
    for index, entry in enumerate(batch.BATCH):
        imap.deliver(batch.raw(index, entry))
    result = mailbox.poll()
    assert result.ok and len(result.outcomes) == 30
    figures = measure(result.outcomes)
    print("mail batch:", figures)  # noqa: T201 - the measured figures, read with -s
    spanish = sum(1 for entry in batch.BATCH if entry[0] == "es")
    # Every mail that names a problem and a place is a request with the right service;
    # the five that are no report stay with a person (four in triage, one question).
    assert figures == {
        "requests": 25,
        "triage": 4,
        "right": 30,
        "es_right": spanish,
        "not_requests": 5,
    }

    # The ten Spanish reports (a photo or an address each): the right service, the
    # language kept on the request, and the auto-reply in Spanish.
    requests = {
        r.contact_email: r for r in db.session.scalars(select(ServiceRequest)) if r.locale == "es"
    }
    expected_es = {
        f"resident{i}@example.net": e[1] for i, e in enumerate(batch.BATCH) if e[0] == "es" and e[1]
    }
    assert len(expected_es) == 10
    assert {k: r.service.service_code for k, r in requests.items()} == expected_es
    # Stored on the request: every later message about it is written in Spanish too.
    assert {reporter_locale(r) for r in requests.values()} == {"es"}
    assert email_channel.deliver_due() == 25
    replies = {m["To"]: m for m in smtp.inbox.wait_for(25)}
    for address in expected_es:
        reply = replies[address]
        assert str(reply["Subject"]).strip().startswith("Recibimos su reporte")
        assert reply["Auto-Submitted"] == "auto-replied"
    english = next(r for a, r in replies.items() if a == "resident0@example.net")
    assert str(english["Subject"]).strip().startswith("We received your report")


def _automatic(subject, headers, *, sender="away@example.org", body="I am out of the office."):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = OWN
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    return message


def _bounce() -> bytes:
    """A delivery-status report (RFC 3464) from the null sender, about our auto-reply."""
    message = EmailMessage()
    message["Return-Path"] = "<>"
    message["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    message["To"] = OWN
    message["Subject"] = "Undelivered Mail Returned to Sender"
    message["Message-ID"] = make_msgid(domain="mx.example.org")
    message.set_content("This is the mail system at host mx.example.org. The pothole is big.")
    status = EmailMessage()
    status.set_content(
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; gone@example.org\n"
        "Action: failed\nStatus: 5.1.1\n"
    )
    message.add_attachment(status)
    raw = message.as_bytes().replace(b"multipart/mixed", b"multipart/report", 1)
    return raw.replace(b"multipart/report;", b"multipart/report; report-type=delivery-status;", 1)


def test_automatic_and_own_mail_is_recorded_and_never_answered(city_app, imap, smtp):  # noqa: F811
    # A real report first: its auto-reply is what the robots below answer.
    imap.deliver(batch.raw(0, batch.BATCH[0]))
    assert [o.outcome for o in mailbox.poll().outcomes] == ["request"]
    assert email_channel.deliver_due() == 1
    [ack] = smtp.inbox.wait_for(1)
    outbox_before = _count(NotificationOutbox)
    report = "There is a deep pothole in the road at 1200 Market Street."
    cases = {
        "out of office (auto-replied)": _automatic(
            "Automatic reply: We received your report",
            {"Auto-Submitted": "auto-replied", "In-Reply-To": ack["Message-ID"]},
            sender="resident0@example.net",
        ),
        "out of office (auto-generated)": _automatic(
            "Out of office", {"Auto-Submitted": "auto-generated"}, body=report
        ),
        "x-autoreply": _automatic("Away", {"X-Autoreply": "yes"}, body=report),
        "precedence bulk": _automatic("Newsletter", {"Precedence": "bulk"}, body=report),
        "precedence auto_reply": _automatic("Away", {"Precedence": "auto_reply"}, body=report),
        "mailing list": _automatic(
            "[streets] potholes",
            {"Precedence": "list", "List-Id": "<streets.lists.example.org>"},
            body=report,
        ),
        "list without precedence": _automatic(
            "Weekly digest",
            {"List-Unsubscribe": "<https://lists.example.org/u/1>"},
            body=report,
        ),
        "own address": _automatic("Pothole", {}, sender=f"Civic311 <{OWN}>", body=report),
    }
    for message in cases.values():
        imap.deliver(message.as_bytes())
    imap.deliver(_bounce())
    imap.deliver(ack.as_bytes())  # our own auto-reply, fed back into the mailbox
    outcomes = mailbox.poll().outcomes
    assert [o.outcome for o in outcomes] == ["ignored"] * (len(cases) + 2), [
        (o.outcome, o.note) for o in outcomes
    ]
    assert _count(ServiceRequest) == 1
    assert _count(RequestEvent, RequestEvent.kind == "public_note") == 0
    assert _count(NotificationOutbox) == outbox_before  # nothing new to send
    assert email_channel.deliver_due() == 0
    assert len(smtp.inbox.wait_for(1)) == 1  # only the first auto-reply, ever
    notes = [row.note for row in db.session.scalars(select(InboundMail)) if row.note]
    assert any("Auto-Submitted: auto-replied" in n for n in notes)
    assert any("multipart/report" in n for n in notes)
    assert any("city's own address" in n for n in notes)

    admin = factories.gen_user("admin")
    db.session.commit()
    client = city_app.test_client()
    client.post("/auth/sign-in", data={"email": admin.email, "password": factories.PASSWORD})
    page = client.get("/admin/mail").get_data(as_text=True)
    section = page.split('id="automatic-mail"')[1]
    assert "Undelivered Mail Returned to Sender" in section and "Out of office" in section
    assert section.count("<tr>") >= len(cases) + 2 + 1  # header row and every message


def _reply_styles(ack: EmailMessage, resident: str) -> dict[str, tuple[str, str]]:
    """The same acknowledgement quoted by six mail programs: (new words, whole body)."""
    quoted = ack.get_body(("plain",)).get_content()
    angle = "\n".join(f"> {line}" for line in quoted.splitlines())
    outlook_en = (
        "________________________________\n"
        f"From: Civic311 <{OWN}>\nSent: Monday, March 3, 2025 10:15 AM\n"
        f"To: {resident}\nSubject: {ack['Subject']}\n\n{quoted}"
    )
    outlook_es = (
        "________________________________\n"
        f"De: Civic311 <{OWN}>\nEnviado: lunes, 3 de marzo de 2025 10:15\n"
        f"Para: {resident}\nAsunto: {ack['Subject']}\n\n{quoted}"
    )
    styles = {
        "outlook en": ("It is getting worse, please hurry.", outlook_en),
        "outlook es": ("Sigue igual, por favor vengan pronto.", outlook_es),
        "gmail en": (
            "Still there after the rain.",
            f"On Mon, Mar 3, 2025 at 10:15 AM Civic311 <{OWN}> wrote:\n\n{angle}",
        ),
        "gmail es": (
            "Sigue ahí, ahora más grande.",
            f"El lun, 3 mar 2025 a las 10:15, Civic311 (<{OWN}>) escribió:\n\n{angle}",
        ),
        "apple en": (
            "A car hit it this morning.",
            f"Sent from my iPhone\n\nOn Mar 3, 2025, at 10:15, Civic311 <{OWN}> wrote:\n\n{angle}",
        ),
        "apple es": (
            "Hoy un carro cayó en el bache.",
            f"Enviado desde mi iPhone\n\nEl 3 mar 2025, a las 10:15, Civic311 <{OWN}> "
            f"escribió:\n\n{angle}",
        ),
    }
    return {name: (new, f"{new}\n\n{rest}") for name, (new, rest) in styles.items()}


def test_replies_publish_only_the_new_words(city_app, imap, smtp):  # noqa: F811
    imap.deliver(batch.raw(0, batch.BATCH[0]))
    mailbox.poll()
    email_channel.deliver_due()
    [ack] = smtp.inbox.wait_for(1)
    req = db.session.scalars(select(ServiceRequest)).one()
    resident = req.contact_email
    quoted = ack.get_body(("plain",)).get_content()
    assert "/e/unsubscribe/" in quoted or "unsubscribe" in str(ack["List-Unsubscribe"])
    styles = _reply_styles(ack, resident)
    for _new, body in styles.values():
        imap.deliver(
            mail(
                subject=f"Re: {ack['Subject']}",
                body=body,
                sender=resident,
                headers={"In-Reply-To": ack["Message-ID"], "References": ack["Message-ID"]},
            )
        )
    assert [o.outcome for o in mailbox.poll().outcomes] == ["comment"] * len(styles)
    db.session.expire_all()
    notes = [e.note for e in req.events if e.kind == "public_note"]
    assert notes == [new for new, _body in styles.values()]
    # The public page and Open311 show the new words, never an address or a token.
    page = city_app.test_client().get(f"/requests/{req.public_id}").get_data(as_text=True)
    open311 = city_app.test_client().get(f"/open311/v2/requests/{req.public_id}.json")
    for text in (page, open311.get_data(as_text=True)):
        assert resident not in text and "/e/unsubscribe/" not in text
    assert "Sigue ahí, ahora más grande." in page


def test_public_text_never_holds_an_address_or_a_tokenised_link():
    text = (
        "Mail me at rosa.resident@example.net or mailto:rosa@example.net. Photos: "
        "https://photos.example.com/a/Xk29aPq01LmZ77bQ and https://x.example/p?token=abc, "
        "stop: https://311.testville.example/e/unsubscribe/eyJlIjoicm9zYSJ9.Zq1. "
        "Track: https://311.testville.example/requests/311-000001 and https://www.chattanooga.gov/311"
    )
    redacted = mail_quotes.redact(text)
    assert "@" not in redacted and "Xk29" not in redacted and "token=" not in redacted
    assert "/e/unsubscribe" not in redacted
    assert "https://311.testville.example/requests/311-000001" in redacted
    assert "https://www.chattanooga.gov/311" in redacted


def test_every_address_candidate_is_tried_and_polite_questions_are_reports(city_app, imap):  # noqa: F811
    assert mail_reading.address_candidates(
        "There are 2 big potholes in the road at 1200 Market Street"
    ) == ["2 big potholes in the road", "1200 Market Street"]
    imap.deliver(mail(subject="Road", body="2 potholes at 1200 Market Street, please fix."))
    imap.deliver(mail(subject="Question", body="Could you fix the streetlight at 400 Broad St?"))
    imap.deliver(mail(subject="When is bulky pickup?", body="Can you take an old sofa?"))
    outcomes = [o.outcome for o in mailbox.poll().outcomes]
    assert outcomes == ["request", "request", "contact"]
    codes = sorted(r.service.service_code for r in db.session.scalars(select(ServiceRequest)))
    assert codes == ["pothole", "streetlight"]


def test_the_size_is_checked_on_the_server_before_download(city_app, imap):  # noqa: F811
    big = b"x" * (30 * 1024 * 1024)
    imap.deliver(mail(subject="Huge pothole", photos=[("big.jpg", big)]))
    del big
    tracemalloc.start()
    try:
        outcomes = mailbox.poll().outcomes
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [o.outcome for o in outcomes] == ["triage"]
    row = db.session.scalars(select(InboundMail)).one()
    assert "over the 20 MB limit" in row.note and "not downloaded" in row.note
    assert peak < 8 * 1024 * 1024, peak  # the 30 MB (40 MB encoded) never came over


@pytest.mark.parametrize(
    ("headers", "sender", "why"),
    [
        ({"auto-submitted": ("auto-replied",)}, "a@example.org", "Auto-Submitted"),
        ({"auto-submitted": ("auto-generated; owner-email=x@y.org",)}, "a@example.org", "auto-"),
        ({"x-autoreply": ("yes",)}, "a@example.org", "x-autoreply"),
        ({"precedence": ("Bulk",)}, "a@example.org", "Precedence: bulk"),
        ({"precedence": ("auto_reply",)}, "a@example.org", "auto_reply"),
        ({"precedence": ("list",)}, "a@example.org", "Precedence: list"),
        ({"list-id": ("<x.lists.example.org>",)}, "a@example.org", "mailing list"),
        ({"content-type": ("multipart/report; report-type=delivery-status",)}, "", "report"),
        ({"return-path": ("<>",)}, "", "null sender"),
        ({}, "mailer-daemon@mx.example.org", "robot"),
        ({}, "streets-request@lists.example.org", "robot"),
        ({}, OWN, "own address"),
        (
            {"message-id": ("<179641089561.22468.4623683587026387171@civic311.example>",)},
            "a@b.org",
            "our own",
        ),
    ],
)
def test_automatic_mail_rules(headers, sender, why):
    from webapp.domain.notifications import mail_loops

    own = {OWN}
    reason = mail_loops.automatic_reason(headers, sender, own=own, our_domains={"civic311.example"})
    assert reason and why.lower() in reason.lower(), reason


def test_mail_a_person_wrote_is_not_automatic():
    from webapp.domain.notifications import mail_loops

    person = {
        "auto-submitted": ("no",),
        "message-id": ("<CAF=abc123@mail.gmail.com>",),
        "precedence": ("",),
        "content-type": ("multipart/mixed; boundary=x",),
    }
    for headers in (person, {}):
        assert (
            mail_loops.automatic_reason(
                headers, "rosa@example.net", own={OWN}, our_domains={"civic311.example"}
            )
            is None
        )
    # A city employee whose mail program uses the city's domain in Message-IDs is a person.
    staff = {"message-id": ("<DM6PR01MB1234.namprd01.prod@civic311.example>",)}
    assert (
        mail_loops.automatic_reason(
            staff, "jo@civic311.example", own={OWN}, our_domains={"civic311.example"}
        )
        is None
    )


def test_request_mail_is_never_sent_to_the_city_own_address(make_app):
    app = make_app()
    with app.app_context():
        factories.gen_city()
        own = factories.gen_request("pothole", contact_email=OWN)
        resident = factories.gen_request("pothole", contact_email="rosa@example.net")
        db.session.commit()
        mailed = {row.email_to for row in db.session.scalars(select(NotificationOutbox))}
        assert own.id != resident.id
        assert mailed == {"rosa@example.net"}  # the resident's confirmation, not ours
