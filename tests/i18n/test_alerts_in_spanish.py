"""Area-alert e-mails are written in the language of the person who asked for the alert,
never in that of whoever's report (or which worker) triggers them. Real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests import factories
from webapp.content_i18n import set_translation
from webapp.domain.notifications import alerts
from webapp.domain.notifications.email import email_channel
from webapp.models import AreaAlert
from webapp.plumbing.extensions import db

LINK = re.compile(r"http://civic\.test(/e/[a-z-]+/[A-Za-z0-9_.\-]+)")
ES = {"Accept-Language": "es-MX,es;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def city(mail_app):
    """The test city, its pothole named in Spanish too."""
    found = factories.gen_city()
    set_translation(found["pothole"], "es", {"name": "Bache"})
    db.session.commit()
    return found


def _ask(mail_client, smtp_server, count: int, headers: dict, **form) -> tuple[AreaAlert, str]:
    """Ask for an alert in a language, confirm it; the alert and its confirmation text."""
    assert mail_client.post("/alerts", data=form, headers=headers).status_code == 200
    assert email_channel.deliver_due() == 1
    message = smtp_server.wait_for(count)[count - 1]
    text = message.get_body(("plain",)).get_content()
    path = LINK.search(text).group(1)
    assert mail_client.post(path, headers=headers).status_code == 200
    db.session.expire_all()
    alert = db.session.scalars(db.select(AreaAlert).order_by(AreaAlert.id.desc())).first()
    return alert, f"{message['Subject']}\n{text}"


def _report_in(app, headers: dict, service: str = "pothole"):
    """A report made by someone reading another language (the trigger)."""
    with app.test_request_context("/api/v1/requests", method="POST", headers=headers):
        made = factories.gen_request(service)
        db.session.commit()
    return made


def test_an_immediate_alert_is_written_in_its_askers_language(
    mail_app, city, mail_client, smtp_server
):
    hood = str(city["west"].id)
    spanish, confirmation = _ask(
        mail_client, smtp_server, 1, ES,
        email="vecina@example.org", area="neighborhood", neighborhood=hood, frequency="immediate",
    )  # fmt: skip
    assert spanish.locale == "es"
    assert "Confirme su alerta de reportes nuevos" in confirmation
    english, confirmation = _ask(
        mail_client, smtp_server, 2, EN,
        email="neighbor@example.org", area="neighborhood", neighborhood=hood, frequency="immediate",
    )  # fmt: skip
    assert english.locale == "en"
    assert "Please confirm your alert" in confirmation

    made = _report_in(mail_app, EN)  # an English reader's report triggers both
    assert email_channel.deliver_due() == 2
    received = {m["To"]: m for m in smtp_server.wait_for(4)[2:]}
    es_mail = received["vecina@example.org"]
    es_text = es_mail.get_body(("plain",)).get_content()
    assert es_mail["Subject"].startswith("Reporte nuevo en ")
    assert es_mail["Subject"].endswith(": Bache")
    assert "Se hizo un reporte nuevo" in es_text and f"{made.public_id} · Bache" in es_text
    en_mail = received["neighbor@example.org"]
    assert en_mail["Subject"].endswith(": Pothole")
    assert "A new report was made" in en_mail.get_body(("plain",)).get_content()

    _report_in(mail_app, ES)  # a Spanish reader's report: the English alert stays English
    assert email_channel.deliver_due() == 2
    later = {m["To"]: m for m in smtp_server.wait_for(6)[4:]}
    assert "A new report was made" in later["neighbor@example.org"].get_body(
        ("plain",)
    ).get_content()


def test_the_daily_digest_is_written_in_its_askers_language(
    mail_app, city, mail_client, smtp_server
):
    alert, _ = _ask(
        mail_client, smtp_server, 1, ES,
        email="resumen@example.org", area="neighborhood", neighborhood=str(city["west"].id),
        frequency="daily",
    )  # fmt: skip
    made = _report_in(mail_app, EN)
    tomorrow = alert.last_digest_at + timedelta(hours=24, minutes=1)
    assert alerts.queue_digests(now=tomorrow) == 1  # the worker: no reader at all
    db.session.commit()
    assert email_channel.deliver_due() == 1
    digest = smtp_server.wait_for(2)[1]
    text = digest.get_body(("plain",)).get_content()
    assert "Reportes nuevos" in text and f"{made.public_id} · Bache" in text
