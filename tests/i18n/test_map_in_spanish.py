"""The public map's reads name each service in the caller's language, and their HTTP
caching never hands one language's answer to a reader of another."""

from __future__ import annotations

from tests import factories
from webapp.content_i18n import set_translation
from webapp.plumbing.extensions import db

CITY_BBOX = "-85.35,35.0,-85.25,35.1"
ES = {"Accept-Language": "es-MX,es;q=0.9"}


def _spanish_city(city) -> dict:
    set_translation(city["pothole"], "es", {"name": "Bache"})
    pothole = factories.gen_request("pothole", lat=35.045, long=-85.27)
    graffiti = factories.gen_request("graffiti", lat=35.0451, long=-85.3101)
    db.session.commit()
    return {"pothole": pothole, "graffiti": graffiti}


def _names(response) -> dict:
    return {r["id"]: r["service_name"] for r in response.get_json()["data"]}


def test_request_list_names_services_in_the_callers_language(client, city):
    made = _spanish_city(city)
    spanish = client.get(f"/api/v1/requests?bbox={CITY_BBOX}", headers=ES)
    assert _names(spanish) == {
        made["pothole"].public_id: "Bache",
        made["graffiti"].public_id: "Graffiti",  # no Spanish name yet: the English one
    }
    english = client.get(f"/api/v1/requests?bbox={CITY_BBOX}", headers={"Accept-Language": "en"})
    assert _names(english)[made["pothole"].public_id] == "Pothole"
    one = client.get(f"/api/v1/requests/{made['pothole'].public_id}", headers=ES).get_json()
    assert one["data"]["service_name"] == "Bache"


def test_clusters_name_lone_requests_in_the_callers_language(client, city):
    made = _spanish_city(city)
    body = client.get(f"/api/v1/requests/clusters?bbox={CITY_BBOX}&zoom=18", headers=ES)
    names = {c["request"]["id"]: c["request"]["service_name"] for c in body.get_json()["data"]}
    assert names[made["pothole"].public_id] == "Bache"


def test_cached_map_reads_vary_by_language(client, city):
    _spanish_city(city)
    url = f"/api/v1/requests?bbox={CITY_BBOX}"
    spanish = client.get(url, headers=ES)
    english = client.get(url, headers={"Accept-Language": "en"})
    for response in (spanish, english):
        assert "Accept-Language" in response.headers["Vary"]
        assert response.headers["Cache-Control"].startswith("public")
    assert spanish.headers["ETag"] != english.headers["ETag"]
    # An English reader revalidating with the Spanish copy's tag gets the English list.
    again = client.get(
        url, headers={"Accept-Language": "en", "If-None-Match": spanish.headers["ETag"]}
    )
    assert again.status_code == 200 and "Pothole" in again.get_data(as_text=True)
    same = client.get(url, headers={**ES, "If-None-Match": spanish.headers["ETag"]})
    assert same.status_code == 304


def test_a_language_chosen_by_cookie_is_never_shared_by_a_proxy(client, city):
    made = _spanish_city(city)
    client.set_cookie("civic_lang", "es")
    response = client.get(f"/api/v1/requests?bbox={CITY_BBOX}", headers={"Accept-Language": "en"})
    assert _names(response)[made["pothole"].public_id] == "Bache"
    assert response.headers["Cache-Control"].startswith("private")
