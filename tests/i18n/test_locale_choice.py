"""Which language a reader gets, and how the header switcher remembers the choice."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.i18n import LANG_COOKIE, normalise, recipient_locale
from webapp.models import Device, User
from webapp.plumbing.extensions import db


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("header", ["es", "es-US", "es-MX", "es-419,en;q=0.5", "fr,es;q=0.8"])
def test_spanish_browsers_get_spanish(client, header):
    response = client.get("/", headers={"Accept-Language": header})
    assert html_lang(response) == "es"


@pytest.mark.parametrize("header", ["en-US", "fr", ""])
def test_other_browsers_get_the_default(client, header):
    assert html_lang(client.get("/", headers={"Accept-Language": header})) == "en"


def test_normalise_accepts_regional_variants_only_of_supported_languages(app):
    assert normalise("es-MX") == "es"
    assert normalise("ES_us") == "es"
    assert normalise("fr-CA") is None
    assert normalise(None) is None


def test_switcher_is_a_plain_form_on_every_resident_page(client):
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'action="/language"' in page
    assert 'name="locale" value="es" lang="es"' in page
    assert "Español" in page


def test_switching_sets_cookie_and_device_before_accept_language(client):
    client.get("/")  # the page offers a device token the browser keeps
    response = client.post("/language", data={"locale": "es", "next": "/my?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my?x=1")
    assert client.get_cookie(LANG_COOKIE).value == "es"
    device = db.session.scalars(select(Device)).one()
    assert device.locale == "es"
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "es"
    # The device remembers it even when the cookie is lost.
    client.delete_cookie(LANG_COOKIE)
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "es"


def test_switching_signed_in_saves_it_on_the_account(client, auth):
    user = auth.login()
    client.post("/language", data={"locale": "es"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "es"
    assert recipient_locale(db.session.get(User, user.id), None) == "es"


def test_account_choice_beats_the_cookie(client, auth):
    user = auth.login()
    client.post("/language", data={"locale": "es"})
    client.post("/language", data={"locale": "en"})
    assert db.session.get(User, user.id).locale == "en"
    client.set_cookie(LANG_COOKIE, "es")
    assert html_lang(client.get("/my", headers={"Accept-Language": "es"})) == "en"


def test_unknown_language_and_foreign_next_are_refused(client):
    assert client.post("/language", data={"locale": "xx"}).status_code == 400
    response = client.post("/language", data={"locale": "es", "next": "//evil.example/"})
    assert response.headers["Location"].endswith("/")
    assert "evil" not in response.headers["Location"]


def test_spanish_pages_are_in_spanish(client):
    page = client.get("/", headers={"Accept-Language": "es-US"}).get_data(as_text=True)
    assert "Reportar un problema" in page
    assert "Mis solicitudes" in page
    assert "Report a problem" not in page
    assert 'value="en" lang="en"' in page and "English" in page
