"""The city's own texts and push notifications in the reader's language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from webapp.content_i18n import localized, missing_fields, set_translation
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications import notify
from webapp.domain.notifications.push import push_channel
from webapp.domain.people import devices
from webapp.models import Device
from webapp.plumbing.extensions import db


def spanish_pothole(city):
    pothole = city["pothole"]
    set_translation(pothole, "es", {"name": "Bache", "description": "Un hueco en la calle"})
    size = pothole.attributes[0]
    set_translation(
        size, "es", {"description": "¿Qué tan grande es?", "values": {"small": "Pequeño"}}
    )
    db.session.commit()
    return pothole


def test_fallback_is_per_field(app, city):
    pothole = spanish_pothole(city)
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert localized(pothole, "name") == "Bache"
        assert localized(pothole, "group") == "Streets"  # not translated: English
    assert localized(pothole, "name", "en") == "Pothole"
    assert missing_fields(pothole, "es") == ["group"]
    assert missing_fields(pothole.attributes[0], "es") == ["values.large"]


def test_api_services_answer_in_the_callers_language(client, city):
    spanish_pothole(city)
    body = client.get("/api/v1/services", headers={"Accept-Language": "es-MX"}).get_json()
    pothole = next(s for s in body["data"] if s["service_code"] == "pothole")
    assert pothole["name"] == "Bache"
    size = pothole["attributes"][0]
    assert size["description"] == "¿Qué tan grande es?"
    assert [v["name"] for v in size["values"]] == ["Pequeño", "Large"]
    english = client.get("/api/v1/services", headers={"Accept-Language": "en"}).get_json()
    assert "Pothole" in {s["name"] for s in english["data"]}


def test_open311_takes_accept_language_and_a_locale_parameter(client, city):
    spanish_pothole(city)
    listed = client.get("/open311/v2/services.json?locale=es").get_json()
    assert "Bache" in {s["service_name"] for s in listed}
    listed = client.get("/open311/v2/services.json", headers={"Accept-Language": "es"}).get_json()
    assert "Bache" in {s["service_name"] for s in listed}
    definition = client.get("/open311/v2/services/pothole.json?locale=es").get_json()
    assert definition["attributes"][0]["description"] == "¿Qué tan grande es?"
    listed = client.get("/open311/v2/services.json?locale=en").get_json()
    assert "Pothole" in {s["service_name"] for s in listed}


@pytest.mark.parametrize("ask", [{"query_string": {"locale": "es"}},
                                 {"headers": {"Accept-Language": "es"}}])
@pytest.mark.parametrize("form", ["json", "xml"])
def test_open311_request_lists_name_services_in_the_callers_language(client, city, ask, form):
    spanish_pothole(city)
    factories.gen_request("pothole", lat=35.0456, long=-85.3097)
    near = {"lat": "35.0456", "long": "-85.3097", "radius": "500"}
    for extra in ({}, near):
        query = {**ask.get("query_string", {}), **extra}
        response = client.get(f"/open311/v2/requests.{form}", query_string=query,
                              headers=ask.get("headers", {}))
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert "Bache" in response.get_data(as_text=True)


def test_report_page_shows_service_names_and_questions_in_spanish(client, city):
    spanish_pothole(city)
    page = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ">Bache</label>" in page
    assert "¿Qué tan grande es?" in page
    assert ">Pequeño</option>" in page


def test_subscribing_remembers_the_readers_language_on_the_device(app, city, push_service):
    _, device = devices.create()
    keys = push_service.subscription()
    with app.test_request_context(headers={"Accept-Language": "es-US"}):
        notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    db.session.commit()
    assert db.session.get(Device, device.id).locale == "es"


def test_spanish_resident_gets_spanish_push_closed_by_english_staff(app, city, push_service):
    spanish_pothole(city)
    staff = factories.gen_user("staff")
    staff.locale = "en"
    resident = factories.gen_user("resident")
    resident.locale = "es"
    _, device = devices.create()
    request = factories.gen_request("pothole", device=device, requester=resident)
    keys = push_service.subscription()
    notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=resident, device=device)
    db.session.commit()

    # The staff member's own request is in English while they close it.
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        requests_domain.transition(
            request, "closed", staff, note="Bache tapado.", resolution="fixed"
        )
        db.session.commit()
    assert push_channel.deliver_due() == 1

    [delivery] = push_service.deliveries
    title = delivery.payload["notification"]["title"]
    assert title == f"Bache {request.public_id}: Resuelta"
    assert delivery.payload["notification"]["body"] == "Bache tapado."


def test_anonymous_device_language_is_used_when_there_is_no_account(app, city, push_service):
    staff = factories.gen_user("staff")
    _, device = devices.create()
    device.locale = "es"
    request = factories.gen_request("graffiti", device=device)
    keys = push_service.subscription()
    notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    db.session.commit()
    requests_domain.transition(request, "in_progress", staff, note="")
    requests_domain.transition(request, "closed", staff, note="Limpio.", resolution="fixed")
    db.session.commit()
    push_channel.deliver_due()
    titles = [d.payload["notification"]["title"] for d in push_service.deliveries]
    assert titles and titles[-1].endswith(": Resuelta")
    assert db.session.scalars(select(Device)).one().locale == "es"


def test_staff_see_which_language_a_report_came_in(app, client, auth, city):
    with app.test_request_context(headers={"Accept-Language": "es-MX"}):
        spanish = factories.gen_request("pothole", description="Hay un bache enorme")
    english = factories.gen_request("graffiti")  # no request: the CLI, a worker
    assert (spanish.locale, english.locale) == ("es", None)
    auth.login("staff")
    page = client.get(f"/staff/requests/{spanish.public_id}").get_data(as_text=True)
    assert "<dt>Language</dt><dd>Español</dd>" in page
    assert '<dd lang="es">Hay un bache enorme</dd>' in page


def test_reporter_locale_for_e_mail_prefers_account_then_device_then_report(app, city):
    from webapp.i18n import reporter_locale

    with app.test_request_context(headers={"Accept-Language": "es"}):
        by_email_only = factories.gen_request("graffiti", contact_email="vecina@example.com")
    assert reporter_locale(by_email_only) == "es"
    _, device = devices.create()
    device.locale = "en"
    from_device = factories.gen_request("graffiti", device=device)
    from_device.locale = "es"
    assert reporter_locale(from_device) == "en"
    resident = factories.gen_user("resident")
    resident.locale = "es"
    with_account = factories.gen_request("graffiti", device=device, requester=resident)
    assert reporter_locale(with_account) == "es"
