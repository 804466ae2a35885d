"""A bounded fuzz of every HTML form of every blueprint, on every database.

The suite's other fuzz runs cover the JSON API (schemathesis) and Open311; this one
covers the pages people use. It opens every page the app serves (each persona: signed
out, a resident with a closed request, a liaison and an admin), reads the ``<form>``
elements on them with a real HTML parser, and sends each form back with one field at
a time set to a hostile value (seeded choice from the list below), the other fields
as the page filled them. Every answer must be below 500. The run must reach a form
for each route that accepts a form post, so a new form cannot escape it.
``CIVIC311_FUZZ_EXAMPLES`` raises the count of hostile values per field by hand.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests import factories
from webapp.domain.notifications import alerts
from webapp.domain.people import links
from webapp.models import (
    Answer,
    ApiKey,
    Chat,
    ForwardTarget,
    InboundMail,
    ResponseTemplate,
    RoutingRule,
    ServiceAttribute,
    User,
)
from webapp.plumbing.extensions import db

VALUES_PER_FIELD = max(1, int(os.environ.get("CIVIC311_FUZZ_EXAMPLES", "15")) // 7)
HOSTILE = [
    "",
    " ",
    "\x00",
    "\x01\x02\x1b[31m",
    "\x7f\x85\u2028",
    "\ufffe",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "😀" * 50,
    "x" * 5000,
    "²",
    "311-²",
    "٣",
    "9" * 20,
    "-" + "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "inf",
    "abc",
    "2024-02-30",
    "9999-12-31T23:59:59-12:00",
    ",,,",
    "311-000001",
]
# Always tried on every field: the values that broke the resident forms before.
ALWAYS = ["²", "9" * 20, "x" * 5000]
# Routes whose form ends the persona's session: sent last, once, by hand.
SKIPPED_ACTIONS = {"/auth/sign-out"}
# Forms a page shows only in a state the crawl's data is not in, or that a script
# builds: declared here (endpoint → persona, fields) so they are fuzzed all the same.
CONDITIONAL_FORMS = {
    "staff.set_location": ("admin", "open", {"lat": "35.04", "long": "-85.3"}),
    "staff.retry_forwarding": ("admin", "open", {"x": ""}),
    "staff.desk_add_supporter": (
        "admin",
        "open",
        {
            "caller_name": "Sam",
            "caller_email": "sam@example.net",
            "caller_phone": "423-555-0100",
            "caller_address": "1 Main St",
            "channel": "phone",
        },
    ),
    "resident.email_updates": ("signed_out", "open", {"email": "sam@example.net"}),
    "resident.answer_question": ("signed_out", "open", {"answer": "By the blue mailbox."}),
    "staff.resume_clock": ("admin", "open", {"note": "They called back."}),
    "staff.work_action": (
        "admin",
        "open",
        {
            "key": "9e9c3a1c-0000-4000-8000-00000000000c",
            "kind": "note",
            "request": "311-000001",
            "note": "On my way",
            "public": "1",
        },
    ),
    "admin.translations": ("admin", "open", {"locale": "es"}),
}
EXTRA_PAGES = ["/admin/translations?locale=es", "/staff/desk?q=pothole", "/staff/desk?chat=1"]
# Pages that are not forms (files, scripts, exports) are not opened.
# Not pages: files, exports, photos, and the text-message webhook (/sms/: the provider's
# signed POSTs answered in TwiML, fuzzed in tests/api/test_text_messages.py).
NOT_PAGES = (
    "/static",
    "/sw",
    "/strings/",
    "/export/",
    "/staff/export/",
    "/photos/",
    "/brand/",
    "/sms/",
)


class FormReader(HTMLParser):
    """Each ``<form>``'s method, action and fields with the values the page gave them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (attributes.get("method") or "get").upper(),
                "action": attributes.get("action") or "",
                "fields": {},
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attributes.get("name")
        if not name:
            return
        fields = self._form["fields"]
        if tag == "input":
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                if kind == "submit" and "value" in attributes:
                    fields.setdefault(name, attributes["value"] or "")
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                fields.setdefault(name, None)
                return
            if fields.get(name) is None:
                fields[name] = attributes.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = name
            fields.setdefault(name, None)
        elif tag == "option" and self._select:
            if fields.get(self._select) is None or "selected" in attributes:
                fields[self._select] = attributes.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            fields[name] = ""
        elif tag == "button" and attributes.get("type", "submit") == "submit":
            fields.setdefault(name, attributes.get("value") or "")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(html: str, page: str) -> list[dict]:
    """The forms of one page, with actions made absolute paths."""
    reader = FormReader()
    reader.feed(html)
    found = []
    for form in reader.forms:
        action = urlsplit(form["action"])
        if action.netloc:
            continue
        path = action.path or urlsplit(page).path
        found.append({**form, "path": path, "page": page})
    return found


def _path_values(city: dict, closed, open_request) -> dict[str, str]:
    """A real value for each kind of path argument, so every page opens."""

    def first_id(model) -> str:
        return str(db.session.scalar(db.select(model.id).order_by(model.id)))

    return {
        "public_id": open_request.public_id,
        "closed_public_id": closed.public_id,
        "answer_id": first_id(Answer),
        "slug": db.session.scalar(db.select(Answer.slug)),
        "department_id": str(city["department"].id),
        "neighborhood_id": str(city["west"].id),
        "service_id": str(city["pothole"].id),
        "attribute_id": str(
            db.session.scalar(
                db.select(ServiceAttribute.id).where(
                    ServiceAttribute.service_id == city["pothole"].id
                )
            )
        ),
        "rule_id": first_id(RoutingRule),
        "template_id": first_id(ResponseTemplate),
        "user_id": first_id(User),
        "key_id": first_id(ApiKey),
        "target_id": first_id(ForwardTarget),
        "mail_id": first_id(InboundMail),
        "direction": "up",
        "chat_key": db.session.scalar(db.select(Chat.key).order_by(Chat.id)),
        "chat_id": first_id(Chat),
    }


def _pages(app, values: dict[str, str], tokens: dict[str, str]) -> list[str]:
    """Every GET page the app serves, with its path arguments filled in."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/open311/")):
            continue
        if rule.rule.startswith(NOT_PAGES) or rule.rule.endswith((".js", ".webmanifest")):
            continue
        args = {}
        for name in rule.arguments:
            if name == "token":
                args[name] = tokens[rule.rule.split("/")[2]]
            else:
                args[name] = values[name]
        pages.append(rule.build(args, append_unknown=False)[1])
        if "public_id" in rule.arguments:
            pages.append(rule.build({**args, "public_id": values["closed_public_id"]})[1])
    return sorted(set(pages)) + EXTRA_PAGES


def _collect_forms(client, pages: list[str]) -> list[dict]:
    forms = []
    for page in pages:
        response = client.get(page)
        assert response.status_code < 500, page
        if response.status_code == 200 and response.mimetype == "text/html":
            forms.extend(forms_on(response.get_data(as_text=True), page))
    return forms


def _form_key(app, form: dict) -> tuple:
    """One form per route and set of fields (the same form on many pages is sent once)."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(form["path"], method=form["method"])
    except Exception:  # noqa: BLE001 - a path no route takes is its own key
        endpoint = form["path"]
    return (form["method"], endpoint, tuple(sorted(form["fields"])))


def fuzz_forms(app, client, forms: list[dict], tally: Counter, failures: list[str]) -> None:
    """Send each distinct form back with one hostile field at a time."""
    seen = set()
    for form in forms:
        key = _form_key(app, form)
        if key in seen or form["path"] in SKIPPED_ACTIONS:
            continue
        seen.add(key)
        tally["forms"] += 1
        rng = random.Random(repr(key))
        base = {name: value for name, value in form["fields"].items() if value is not None}
        names = sorted(form["fields"]) or ["q"]
        for name in names:
            picks = ALWAYS + rng.sample(HOSTILE, VALUES_PER_FIELD)
            for value in picks:
                data = {**base, name: value}
                if form["method"] == "GET":
                    response = client.get(form["path"], query_string=data)
                else:
                    response = client.post(form["path"], data=data)
                tally["cases"] += 1
                if response.status_code >= 500:
                    tally["5xx"] += 1
                    failures.append(
                        f"{form['method']} {form['path']} {name}={value[:30]!r} "
                        f"(from {form['page']}) → {response.status_code}"
                    )
                db.session.rollback()


def _post_endpoints(app) -> set[str]:
    """The endpoints that take a form post (the HTML doors; the text provider's webhook
    is not one: its hostile input is tested in tests/api/test_text_messages.py)."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and not rule.rule.startswith(("/api/", "/open311/", "/sms/"))
        and rule.rule not in SKIPPED_ACTIONS
    }


def _endpoint(app, path: str) -> str | None:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path, method="POST")
    except Exception:  # noqa: BLE001 - a path no route takes
        return None
    return endpoint


@pytest.fixture
def fuzz_world(app):
    """A city with requests in both states, one of each object the admin pages edit,
    and the four personas."""
    from webapp.domain.intake import chat as chat_domain
    from webapp.domain.lifecycle import workflow as requests_domain
    from webapp.domain.people import api_keys

    city = factories.gen_city()
    resident = factories.gen_user()
    liaison = factories.gen_user("liaison", neighborhood=city["west"])
    admin = factories.gen_user("admin")
    open_request = factories.gen_request("pothole", contact_email="someone@example.net")
    closed = factories.gen_request(requester=resident, contact_email="someone@example.net")
    requests_domain.transition(closed, "closed", admin, note="Done", resolution="fixed")
    api_keys.issue("Partner", admin)
    db.session.add_all(
        [
            Answer(slug="trash-day", title="Trash day", summary="When", body="Mondays."),
            ResponseTemplate(title="Thanks", body="Thank you."),
            RoutingRule(name="All potholes", department_id=city["department"].id),
            ForwardTarget(name="CRM", endpoint="https://crm.example/open311/v2"),
            InboundMail(message_id="<m1@example.net>", sender="a@example.net", outcome="review"),
        ]
    )
    # A live chat the resident started: its page (theirs) and the desk's side of it.
    chat_domain.start(
        chat_domain.Resident(user=resident), "A pothole by my house", now=factories.utcnow()
    )
    db.session.commit()
    return {
        "city": city,
        "resident": resident,
        "liaison": liaison,
        "admin": admin,
        "open": open_request,
        "closed": closed,
    }


def _sign_in(client, user) -> None:
    response = client.post(
        "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302


# About 2,000 requests: half a minute on a quiet machine, minutes on a loaded one. The
# suite's timeout is there to catch a hang, not a slow machine.
@pytest.mark.timeout(1200)
def test_every_html_form_answers_hostile_values_without_a_server_error(
    app, fuzz_world, database_backend
):
    world = fuzz_world
    closed = world["closed"]
    address = "someone@example.net"
    closure = {"r": closed.id, "e": address, "c": int(closed.closed_at.timestamp())}
    alert = alerts.create(
        address,
        frequency="daily",
        base_url="http://localhost",
        neighborhood_id=world["city"]["west"].id,
    )
    db.session.commit()
    tokens = {
        "fixed": links.make(links.FIXED, **closure),
        "not-fixed": links.make(links.NOT_FIXED, **closure),
        "unsubscribe": links.make(links.UNSUBSCRIBE, e=address),
        "sign-in": links.make(links.SIGN_IN, e=address),
        "alert": links.make(links.ALERT, a=alert.id, e=address),
        "set-password": links.make(
            links.SET_PASSWORD, u=world["liaison"].id, e=world["liaison"].email
        ),
    }
    values = _path_values(world["city"], closed, world["open"])
    pages = _pages(app, values, tokens)

    tally: Counter = Counter()
    failures: list[str] = []
    reached: set[str] = set()
    # Every persona's forms are read before any is sent: sending may change what pages show.
    found = []
    for persona in ("signed_out", "resident", "liaison", "admin"):
        client = app.test_client()
        if persona != "signed_out":
            _sign_in(client, world[persona])
        forms = _collect_forms(client, pages)
        for endpoint, (who, which, fields) in CONDITIONAL_FORMS.items():
            if who == persona:
                rule = next(app.url_map.iter_rules(endpoint))
                values = {"public_id": world[which].public_id} if "public_id" in rule.arguments else {}
                path = app.url_map.bind("localhost").build(endpoint, values)
                forms.append({"method": "POST", "path": path, "fields": fields, "page": "-"})
        reached.update(form["path"] for form in forms if form["method"] == "POST")
        found.append((client, forms))
    for client, forms in found:
        fuzz_forms(app, client, forms, tally, failures)

    print(  # the run's figures, shown with -s or in the report
        f"\nhtml forms {database_backend[0]}: {tally['forms']} forms, "
        f"{tally['cases']} cases, {tally['5xx']} 5xx"
    )
    unreached = _post_endpoints(app) - {_endpoint(app, path) for path in reached}
    assert not failures, "\n".join(failures[:30])
    assert not unreached, f"no form on any page posts to: {sorted(unreached)}"
