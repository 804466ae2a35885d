"""Every resident and liaison page under a pseudo-language whose every message is marked.

The catalog for the pseudo-language is made here from the current source (each
translation is ``⟦English⟧``) and the city's own texts get marked translations too. A
page that still shows unmarked words has text that did not go through gettext (or
content that skips ``localized``). User content (descriptions, names) and numbers are
allowed through.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo

from tests import factories
from tests.conftest import AuthActions
from webapp.content_i18n import CONTENT_FIELDS, set_translation
from webapp.domain.intake import answers as answers_domain
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.people import devices
from webapp.i18n import locale_name
from webapp.models import Answer, Department, Neighborhood, ResponseTemplate, User
from webapp.plumbing.extensions import db

PSEUDO = "eo"  # a real locale code no catalog uses, so Babel can format dates for it
OPEN, CLOSE = "⟦", "⟧"
ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
SKIP_TAGS = {"script", "style", "template"}
VISIBLE_ATTRIBUTES = {"alt", "aria-label", "placeholder", "title"}


def mark(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


@pytest.fixture(scope="module")
def pseudo_catalog(tmp_path_factory) -> str:
    """Compile ``eo`` with every msgstr marked; returns the translations directory."""
    catalog = Catalog(locale=PSEUDO)
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    for _f, _l, message, _c, _ctx in extract_from_dir(
        ROOT / "webapp", method_map, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            forms = tuple(m for m in message if m)
            catalog.add(forms, tuple(mark(forms[-1]) for _ in range(catalog.num_plurals)))
            catalog[forms[0]].string = (
                mark(forms[0]),
                *[mark(forms[1])] * (catalog.num_plurals - 1),
            )
        else:
            catalog.add(message, mark(message))
    directory = tmp_path_factory.mktemp("pseudo")
    target = directory / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return str(directory)


@pytest.fixture
def pseudo_app(make_app, pseudo_catalog):
    real = str(ROOT / "webapp" / "translations")
    app = make_app(
        SUPPORTED_LOCALES=("en", "es", PSEUDO),
        BABEL_TRANSLATION_DIRECTORIES=f"{real};{pseudo_catalog}",
    )
    with app.app_context():
        yield app


class VisibleText(HTMLParser):
    """Text nodes and visible attributes outside scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skipping += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.found.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") == "submit":
                self.found.append(value or "")

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.found.append(data)


def unmarked_words(html: str, allowed: set[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    leftovers = []
    for text in parser.found:
        previous = None
        while previous != text:  # innermost markers first: messages inside messages
            previous = text
            text = re.sub(rf"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
        for word in text.split():
            bare = word.strip(".,:;!?()[]{}«»“”\"'·—–-/×%#+*…")
            if not bare or re.fullmatch(r"[\d\W_]+", bare) or bare.casefold() in allowed:
                continue
            leftovers.append(word)
    return leftovers


def content_words(app) -> set[str]:
    """Words that come from people and data, not from the app's wording."""
    texts = [app.config["CITY_NAME"]]
    texts += [n.name for n in db.session.query(Neighborhood)]
    texts += [d.name for d in db.session.query(Department)]
    texts += [u.display_name for u in db.session.query(User)]
    texts += ["Something needs fixing", "Filled the hole."]
    locale = Locale.parse(PSEUDO)
    for width in ("abbreviated", "wide"):
        texts += list(locale.months["format"][width].values())
        texts += list(locale.days["format"][width].values())
    texts += ["atm", "ptm"]  # Esperanto's am/pm
    # The switcher names each language in itself; file formats are names too.
    texts += [locale_name(code) for code in app.config["SUPPORTED_LOCALES"]]
    texts += ["CSV", "GeoJSON", "contacts.csv"]
    # Knowledge answers are the city's writing (their Markdown splits into many text nodes).
    # Their translations are theirs too: a marked body's first and last words land in
    # separate text nodes once the Markdown is rendered.
    for answer in db.session.query(Answer):
        texts += [answer.title, answer.summary, answer.body]
        texts += [v for v in ((answer.translations or {}).get(PSEUDO) or {}).values()]
        texts += [topic.topic for topic in answer.topic_rows]
    words = set()
    for text in texts:
        words |= {w.strip(".,*").casefold() for w in text.split()}
    return words


def mark_content() -> None:
    for model, fields in CONTENT_FIELDS.items():
        for row in db.session.query(model):
            values = {f: mark(getattr(row, f)) for f in fields if getattr(row, f)}
            if model.__name__ == "ServiceAttribute":
                values["values"] = {str(v["key"]): mark(v["name"]) for v in row.values or []}
            set_translation(row, PSEUDO, values)
    db.session.commit()


def pages(pseudo_app, client, auth, city) -> dict[str, str]:
    """Every resident and liaison GET page, as the people who see them."""
    staff = factories.gen_user("staff")
    db.session.add(ResponseTemplate(service_id=None, status="closed", title="Done", body="Done."))
    token, device = devices.create()
    open_request = factories.gen_request("pothole", device=device)
    closed = factories.gen_request("graffiti", device=device)
    requests_domain.transition(closed, "in_progress", staff, note="")
    requests_domain.transition(closed, "closed", staff, note="Filled the hole.", resolution="fixed")
    answer = answers_domain.save(
        title="Bulky item pickup",
        summary="Twice a year, free.",
        body="Put **bulky items** out by 7 a.m.\n\n- Sofas\n- Mattresses",
        service_ids=[open_request.service_id],
        topics=["trash days"],
    )
    db.session.commit()
    mark_content()

    headers = {"Accept-Language": PSEUDO}
    client.set_cookie("civic_device", token)
    shown = {}
    for path in [
        "/",
        "/my",
        "/map",
        f"/requests/{open_request.public_id}",
        f"/requests/{closed.public_id}",
        "/offline",
        "/auth/sign-in",
        "/auth/sign-up",
        "/stats",
        "/help",
        "/help?q=bulky",
        f"/help?topic={answer.topic_rows[0].topic}",
        f"/help/{answer.slug}",
        "/no-such-page",
    ]:
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 404), path
        shown[path] = response.get_data(as_text=True)
    liaison = AuthActions(client).login("liaison", neighborhood=city["west"])
    liaison.locale = PSEUDO
    db.session.commit()
    client.get("/", headers=headers)  # shows the sign-in flash, written before the choice
    shown["/liaison"] = client.get("/liaison/", headers=headers).get_data(as_text=True)
    shown["/ (liaison)"] = client.get("/", headers=headers).get_data(as_text=True)
    return shown


def test_every_visible_word_went_through_gettext(pseudo_app):
    city = factories.gen_city()
    client = pseudo_app.test_client()
    shown = pages(pseudo_app, client, None, city)
    allowed = content_words(pseudo_app)
    problems = {}
    for path, html in shown.items():
        assert f'<html lang="{PSEUDO}"' in html, path
        words = unmarked_words(html, allowed)
        if words:
            problems[path] = words
    assert not problems, f"text that skipped gettext: {problems}"


def test_the_detector_finds_unmarked_text():
    html = f"<p>{mark('Hello')} <b>Hard-coded words</b> 311-000001 12</p><script>x='no'</script>"
    assert unmarked_words(html, set()) == ["Hard-coded", "words"]
    assert unmarked_words(f'<img alt="A photo">{mark("Ok")}', set()) == ["A", "photo"]
