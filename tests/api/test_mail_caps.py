"""Nobody can turn the city's mail into a bomb aimed at someone else's address.

Measured at a real SMTP server (aiosmtpd): however many times, and from however many
IP addresses, the sign-in-link and area-alert forms are posted with one victim's
address, at most ``MAIL_UNCONFIRMED_PER_HOUR`` mails reach that inbox in an hour, and
the forms answer exactly the same whether or not a mail was sent.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from webapp.domain.notifications import mail_caps
from webapp.domain.notifications.email import email_channel, mail_queue
from webapp.domain.people import devices
from webapp.models import DeviceEmail, NotificationOutbox, utcnow
from webapp.plumbing.extensions import db

VICTIM = "victim@example.net"


def _visible(response) -> str:
    """What the person sees after the form (the page, with its flashed message), less
    the time the page was made and its fresh anti-forgery token."""
    return response.status_code, re.sub(
        r'\d{1,2}:\d{2}:\d{2}\s?[AP]M|name="csrf_token" value="[^"]*"',
        "",
        response.get_data(as_text=True),
    )


def test_the_forms_mail_an_unconfirmed_address_at_most_the_cap_from_any_ip(
    mail_app, mail_client, smtp_server
):
    city = factories.gen_city()
    factories.gen_request(contact_email=VICTIM)  # the report's confirmation: mail 1
    db.session.commit()
    pages = []
    for attempt in range(10):
        environ = {"REMOTE_ADDR": f"198.51.100.{attempt + 1}"}
        pages.append(
            _visible(
                mail_client.post(
                    "/my/sign-in-link",
                    data={"email": VICTIM.upper() if attempt % 2 else VICTIM},
                    environ_base=environ,
                    follow_redirects=True,
                )
            )
        )
        pages.append(
            _visible(
                mail_client.post(
                    "/alerts",
                    data={
                        "email": VICTIM,
                        "frequency": "daily",
                        "neighborhood": str(city["west"].id),
                    },
                    environ_base=environ,
                )
            )
        )
    email_channel.deliver_due()

    received = [m for m in smtp_server.inbox.wait_for(4, timeout=1.0) if VICTIM in m["To"].lower()]
    print(f"\nmail cap: 20 form posts from 10 IPs → {len(received)} mails in the victim's inbox")
    assert len(received) == mail_app.config["MAIL_UNCONFIRMED_PER_HOUR"] == 3
    # The first sign-in answer (mail sent) and the last (capped) read the same.
    assert pages[0] == pages[-2]
    assert pages[1] == pages[-1]


def test_the_day_cap_counts_mail_from_earlier_hours(mail_app, smtp_server):
    now = utcnow()
    for hours_ago in range(2, 8):  # one an hour: never over the hour's cap
        db.session.add(
            NotificationOutbox(
                channel="email",
                email_to=VICTIM,
                kind="sign_in",
                payload={},
                created_at=now - timedelta(hours=hours_ago),
            )
        )
    db.session.flush()
    assert not mail_caps.allows(VICTIM, "sign_in", now=now)
    assert mail_caps.allows(VICTIM, "sign_in", now=now + timedelta(days=1))
    # Mail staff or the resident's own requests cause is never capped.
    assert mail_caps.allows(VICTIM, "closed", now=now)


def test_an_address_its_owner_confirmed_is_not_capped(mail_app, smtp_server):
    _token, device = devices.create()
    db.session.flush()
    db.session.add(DeviceEmail(device_id=device.id, address=VICTIM))
    for _ in range(8):
        assert mail_queue.queue_email(VICTIM, "Subject", "Text", kind="sign_in") is not None
    db.session.flush()
    assert len(db.session.scalars(select(NotificationOutbox)).all()) == 8
