"""Contact details and private notes never reach a public or resident response.

Every GET route open to non-staff (walked from the URL map) is fetched as each
non-staff persona, plus the JSON API and the public export, and every body is
scanned for the seeded contact values and the private note.
"""

from __future__ import annotations

import pytest

from tests.staff.conftest import CONTACT, PRIVATE_NOTE
from tests.staff.test_permission_matrix import MATRIX, routes, url_for_rule

SECRETS = [*CONTACT.values(), PRIVATE_NOTE, "PRIVATE-NOTE"]
NON_STAFF = ("anonymous", "resident", "other_resident", "liaison_here", "liaison_elsewhere")
EXTRA_URLS = [
    "/api/v1/requests",
    "/api/v1/requests?status=closed",
    "/export/requests.csv",
    "/export/requests.geojson",
    "/stats",
    "/liaison/",
    "/my",
]


def leaks(body: str) -> list[str]:
    """The secrets found in a response body."""
    return [secret for secret in SECRETS if secret.lower() in body.lower()]


def test_the_staff_workbench_does_show_them(persona_client, world):
    body = persona_client("staff").get(f"/staff/requests/{world.closed.public_id}").get_data(
        as_text=True
    )
    assert set(leaks(body)) >= {CONTACT["contact_email"], PRIVATE_NOTE}


@pytest.mark.parametrize("persona", NON_STAFF)
def test_no_public_or_resident_response_contains_contact_details_or_private_notes(
    app, world, persona_client, persona
):
    client = persona_client(persona)
    urls = list(EXTRA_URLS)
    for public_id in (world.closed.public_id, world.open.public_id):
        urls += [f"/requests/{public_id}", f"/api/v1/requests/{public_id}"]
    for key, method, rule in routes(app):
        if method == "GET" and persona in MATRIX.get(key, set()) and key != "GET static":
            urls.append(url_for_rule(rule, world.ids))
    scanned = 0
    for url in urls:
        response = client.get(url)
        body = response.get_data(as_text=True)
        response.close()
        if response.status_code == 200:
            scanned += 1
        assert not leaks(body), f"{url} leaks {leaks(body)} to {persona}"
    assert scanned >= 10


def test_requester_sees_own_request_page_without_private_entries(persona_client, world):
    body = persona_client("resident").get(f"/requests/{world.closed.public_id}").get_data(
        as_text=True
    )
    assert "Patched the hole today." in body
    assert not leaks(body)
