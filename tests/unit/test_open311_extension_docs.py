"""The README's Open311 extension examples are run, as written, against a live server."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from xml.etree import ElementTree

import requests

from tests import factories
from tests.fakes import serve
from webapp.domain.people import api_keys
from webapp.models import EventKind, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> list[list[str]]:
    """Each curl command of the extensions section's first sh block, as argv lists."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Open311 extensions")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL).group(1)
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def _run(argv: list[str], base: str, swaps: dict[str, str]) -> requests.Response:
    """Do what curl would do for the few options the README uses (-X, -d)."""
    assert argv[0] == "curl"
    method, url, data = "GET", None, []
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-d":
            name, _sep, value = next(args).partition("=")
            for old, new in swaps.items():
                value = value.replace(old, new)
            data.append((name, value))
        else:
            url = arg
    for old, new in swaps.items():
        url = url.replace(old, new)
    url = url.replace("$H", base)
    if method == "POST" or data:
        return requests.request("POST" if method == "GET" else method, url, data=data, timeout=20)
    return requests.get(url, timeout=20)


def test_every_extension_example_works_as_written(app, city):
    first = factories.gen_request("pothole")
    second = factories.gen_request("graffiti", contact_email="ada@example.net")
    key, _record = api_keys.issue("Docs")
    db.session.commit()
    swaps = {"c311_...": key, "311-000123": first.public_id, "311-000124": second.public_id}
    running = serve(app)
    try:
        answers = [
            (argv, _run(argv, running.url + "/open311/v2", swaps)) for argv in _commands()
        ]
    finally:
        running.stop()
    assert len(answers) >= 4
    paths = set()
    for argv, response in answers:
        assert response.status_code in (200, 201), (argv, response.text)
        if response.headers["Content-Type"].startswith("text/xml"):
            ElementTree.fromstring(response.content)  # noqa: S314 - our own output
        else:
            json.loads(response.text)
        paths.add(response.url.split("/open311/v2/")[1].split("?")[0])
    assert {"servicerequestupdates.xml", "servicerequestupdates.json", "requests.xml", "requests.json"} <= paths
    db.session.expire_all()
    note = db.session.query(RequestEvent).filter_by(kind=EventKind.PUBLIC_NOTE).one()
    assert note.note == "Still not fixed" and note.request_id == first.id
    placed = db.session.query(ServiceRequest).filter(ServiceRequest.needs_location.is_(True)).one()
    assert placed.lat is None and "library" in placed.description
