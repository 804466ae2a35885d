"""Every route × every persona → allowed or refused, from one table.

A route missing from the table fails the test, so each new route needs an explicit
access decision here. "Refused" means 401/403, or a redirect to sign in; anything
else (200, a redirect elsewhere, a 4xx about the input) means the caller got in.
"""

from __future__ import annotations

import re

import pytest

from tests.staff.conftest import PERSONAS

EVERYONE = set(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
STAFF = {"staff", "admin"}
ADMIN = {"admin"}
LIAISONS = {"liaison_here", "liaison_elsewhere"} | STAFF
LIAISON_OF_THE_NEIGHBORHOOD = {"liaison_here"} | STAFF
REQUESTER = {"resident"}

# "METHOD endpoint" → who gets in.
MATRIX: dict[str, set[str]] = {
    "GET static": EVERYONE,
    "GET resident.home": EVERYONE,
    "GET resident.map_page": EVERYONE,
    "GET resident.my_requests": EVERYONE,
    "GET resident.photo": EVERYONE,
    "GET resident.request_page": EVERYONE,
    "GET resident.service_worker": EVERYONE,
    "GET resident.service_worker_part": EVERYONE,
    "GET resident.offline": EVERYONE,
    "GET resident.script_strings": EVERYONE,
    "GET resident.web_app_manifest_file": EVERYONE,
    "POST resident.confirm_fixed": REQUESTER,
    "POST resident.reopen": REQUESTER,
    "POST resident.rate": REQUESTER,
    "POST resident.choose_language": EVERYONE,
    "GET auth.sign_in": EVERYONE,
    "POST auth.sign_in": EVERYONE,
    "GET auth.sign_up": EVERYONE,
    "POST auth.sign_up": EVERYONE,
    "POST auth.sign_out": SIGNED_IN,
    "GET auth.set_password": EVERYONE,
    "POST auth.set_password": EVERYONE,
    "GET city.brand_css": EVERYONE,
    "GET city.brand_logo": EVERYONE,
    "GET city.brand_icon": EVERYONE,
    "GET api.openapi_document": EVERYONE,
    "GET api.list_services": EVERYONE,
    "GET api.list_requests": EVERYONE,
    "GET api.get_request": EVERYONE,
    "GET api.request_clusters": EVERYONE,
    "GET opendata.export_manifest": EVERYONE,
    "GET opendata.export_changes": EVERYONE,
    "POST api.create_request": EVERYONE,
    "GET api.geocode_search": EVERYONE,
    "GET api.nearby_requests": EVERYONE,
    "POST api.follow_request": EVERYONE,
    "DELETE api.unfollow_request": EVERYONE,
    "GET api.push_public_key": EVERYONE,
    "POST api.push_subscribe": EVERYONE,
    "DELETE api.push_unsubscribe": EVERYONE,
    "GET api.push_preferences": EVERYONE,
    "PUT api.push_set_preferences": EVERYONE,
    "GET open311.discovery": EVERYONE,
    "GET open311.list_services": EVERYONE,
    "GET open311.service_definition": EVERYONE,
    "GET open311.list_requests": EVERYONE,
    "GET open311.get_request": EVERYONE,
    "GET open311.get_token": EVERYONE,
    # A forwarded request's photo for the city's CRM: the signed, expiring link decides.
    "GET open311.shared_photo": EVERYONE,
    # Open311 writes need an API key: no signed-in session is enough on its own.
    "POST open311.create_request": set(),
    "POST api.staff_transition": STAFF,
    "POST api.staff_assign": STAFF,
    "POST api.staff_note": STAFF,
    "POST api.staff_merge": STAFF,
    "GET opendata.stats_page": EVERYONE,
    "GET opendata.export": EVERYONE,
    "GET staff.queue": STAFF,
    "GET staff.workbench": STAFF,
    "GET staff.export": STAFF,
    "POST staff.change_status": STAFF,
    "POST staff.assign": STAFF,
    "POST staff.note": STAFF,
    "POST staff.close": STAFF,
    "POST staff.merge": STAFF,
    "POST staff.ask_resident": STAFF,
    "POST staff.resume_clock": STAFF,
    "GET staff.alerts": STAFF,
    "POST staff.alerts": STAFF,
    "GET staff.work_page": STAFF,
    "GET staff.work_data": STAFF,
    "POST staff.work_action": STAFF,
    "POST resident.answer_question": REQUESTER,
    "GET liaison.dashboard": LIAISONS,
    "POST liaison.follow": LIAISON_OF_THE_NEIGHBORHOOD,
    "GET admin.index": ADMIN,
    "GET admin.translations": ADMIN,
    "GET admin.city_settings": ADMIN,
    "POST admin.translations": ADMIN,
    "GET admin.departments": ADMIN,
    "POST admin.departments": ADMIN,
    "GET admin.department": ADMIN,
    "POST admin.department": ADMIN,
    "GET admin.services": ADMIN,
    "POST admin.services": ADMIN,
    "GET admin.service": ADMIN,
    "POST admin.service": ADMIN,
    "POST admin.add_attribute": ADMIN,
    "GET admin.edit_attribute": ADMIN,
    "POST admin.edit_attribute": ADMIN,
    "POST admin.remove_attribute": ADMIN,
    "GET admin.neighborhoods": ADMIN,
    "POST admin.neighborhoods": ADMIN,
    "GET admin.neighborhood": ADMIN,
    "POST admin.neighborhood": ADMIN,
    "GET admin.users": ADMIN,
    "POST admin.users": ADMIN,
    "GET admin.user": ADMIN,
    "POST admin.user": ADMIN,
    "GET admin.keys": ADMIN,
    "POST admin.keys": ADMIN,
    "POST admin.revoke_key": ADMIN,
    "GET admin.templates": ADMIN,
    "POST admin.templates": ADMIN,
    "POST admin.delete_template": ADMIN,
    # One front door: answers, the call-taker desk, routing rules, contacts.
    "GET help.index": EVERYONE,
    "GET help.answer_page": EVERYONE,
    "GET api.list_answers": EVERYONE,
    "GET api.get_answer": EVERYONE,
    "POST api.answer_resolved": EVERYONE,
    "POST api.staff_create_request": STAFF,
    "GET staff.desk_page": STAFF,
    "POST staff.desk_new_request": STAFF,
    "POST staff.desk_add_supporter": STAFF,
    "POST staff.desk_information_call": STAFF,
    "POST staff.change_service": STAFF,
    "GET admin.answers": ADMIN,
    "POST admin.answers": ADMIN,
    "GET admin.answer": ADMIN,
    "POST admin.answer": ADMIN,
    "GET admin.routing_rules": ADMIN,
    "POST admin.routing_rules": ADMIN,
    "GET admin.routing_rule": ADMIN,
    "POST admin.routing_rule": ADMIN,
    "POST admin.move_rule": ADMIN,
    "POST admin.delete_rule": ADMIN,
    "GET staff.contact_figures": STAFF,
    # Live chat: anyone may start one; a chat's pages answer only the browser that
    # started it (404 for anyone else); the desk's side is the call-takers'.
    "GET resident.chat_start_page": EVERYONE,
    "POST resident.chat_start": EVERYONE,
    "GET resident.chat_page": EVERYONE,
    "POST resident.chat_write": EVERYONE,
    "GET resident.chat_events": EVERYONE,
    "POST resident.chat_close": EVERYONE,
    "GET staff.chat_list": STAFF,
    "POST staff.chat_take": STAFF,
    "POST staff.chat_answer": STAFF,
    "GET staff.chat_events": STAFF,
    "POST staff.chat_close": STAFF,
    "GET staff.contacts_export": STAFF,
    "GET opendata.contacts_export": EVERYONE,
    "GET admin.mail_intake": ADMIN,
    "POST admin.mail_handled": ADMIN,
    "GET open311.list_updates": EVERYONE,
    "POST open311.post_update": set(),
    # The text provider's webhook: only a call signed with the account's token gets in.
    "POST sms.incoming": set(),
    "POST staff.retry_forwarding": STAFF,
    "POST staff.set_location": STAFF,
    "GET admin.forwarding_targets": ADMIN,
    "POST admin.forwarding_targets": ADMIN,
    "GET admin.forwarding_target": ADMIN,
    "POST admin.forwarding_target": ADMIN,
    # E-mail links: the signed token in the link is the access decision, so the pages
    # open for anyone (a bad token gets a plain 400/410 page and changes nothing).
    "GET resident.email_fixed": EVERYONE,
    "POST resident.email_fixed": EVERYONE,
    "GET resident.email_not_fixed": EVERYONE,
    "POST resident.email_not_fixed": EVERYONE,
    "GET resident.email_unsubscribe": EVERYONE,
    "POST resident.email_unsubscribe": EVERYONE,
    "GET resident.email_sign_in": EVERYONE,
    "POST resident.email_sign_in": EVERYONE,
    "POST resident.send_sign_in_link": EVERYONE,
    "GET resident.find_request": EVERYONE,
    "POST resident.email_updates": EVERYONE,  # a follower gives their own address
    "GET resident.alerts_page": EVERYONE,
    "POST resident.create_alert": EVERYONE,
    "GET resident.email_alert": EVERYONE,
    "POST resident.email_alert": EVERYONE,
    # Probes for the load balancer; metrics answer local scrapes (the test client is local).
    "GET probes.healthz": EVERYONE,
    "GET probes.readyz": EVERYONE,
    "GET probes.metrics_page": EVERYONE,
    # Removes the caller's own contact details (nobody's requests: nothing to remove).
    "POST resident.delete_my_contact_details": EVERYONE,
}

SAMPLE_ARGS = {
    "filename": "css/app.css",
    "key": "00/00/0000-display.jpg",
    "name": "push",
    "kind": "csv",
    "period": "2026-11-30",
    "fmt": "json",
    "service_code": "pothole",
    "token": "311-000001",
    "slug": "bulky-item-pickup",
    "direction": "up",
    "mail_id": "1",
    "target_id": "1",
    "locale": "es",
    "chat_key": "0" * 32,
    "chat_id": "1",
}


def routes(app) -> list[tuple[str, str, str]]:
    """(key, method, rule) for every route and method, sign-out last."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((f"{method} {rule.endpoint}", method, rule))
    return sorted(found, key=lambda item: (item[0] == "POST auth.sign_out", item[0]))


@pytest.fixture
def app(make_app):
    """The shared app with the text door open (a made-up account), so the matrix sees
    the webhook's own access decision, the provider's signature, rather than the 404
    of a door that is off."""
    application = make_app(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="matrix-token",
        TWILIO_FROM_NUMBER="+14235550100",
    )
    with application.app_context():
        yield application


def url_for_rule(rule, ids: dict) -> str:
    """The rule's path with sample values for its arguments."""
    values = {**SAMPLE_ARGS, **{k: str(v) for k, v in ids.items()}}
    values.setdefault("request_id", values["public_id"])

    def fill(match):
        return values[match.group(1)]

    return re.sub(r"<(?:[^:>]+(?:\([^)]*\))?:)?([^>]+)>", fill, rule.rule)


def refused(response) -> bool:
    """True when the access decision said no."""
    if response.status_code in (401, 403):
        return True
    return response.status_code in (301, 302, 303) and "/auth/sign-in" in response.headers.get(
        "Location", ""
    )


def test_every_route_is_in_the_permission_matrix(app):
    missing = sorted({key for key, _m, _r in routes(app)} - set(MATRIX))
    assert not missing, "routes without an entry in MATRIX: " + ", ".join(missing)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reaches_exactly_the_routes_the_matrix_allows(
    app, world, persona_client, persona
):
    client = persona_client(persona)
    wrong = []
    for key, method, rule in routes(app):
        url = url_for_rule(rule, world.ids)
        headers = {"X-Requested-With": "civic311"}
        response = client.open(url, method=method, headers=headers, data={})
        response.get_data()
        response.close()
        assert response.status_code < 500, f"{key} {url} → {response.status_code}"
        expected = persona in MATRIX.get(key, set())
        if refused(response) == expected:
            wrong.append(f"{key} {url}: got {response.status_code}, expected "
                         f"{'allow' if expected else 'deny'}")
    assert not wrong, "\n".join(wrong)
