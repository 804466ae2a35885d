"""Script texts per language: generated from the catalog, hashed, precached."""

from __future__ import annotations

import json
import re

from webapp.js_strings import STRINGS, script_hash


def registered(script: str, locale: str) -> dict:
    match = re.search(rf'self\.CIVIC_STRINGS\["{locale}"\] = (\{{.*\}});', script)
    return json.loads(match.group(1))


def test_each_language_has_its_own_texts(client):
    english = registered(client.get("/strings/en.js").get_data(as_text=True), "en")
    spanish = registered(client.get("/strings/es.js").get_data(as_text=True), "es")
    assert set(english) == set(spanish) == {*STRINGS, "appName"}
    assert english["offlineTitle"] == "You are offline"
    assert spanish["offlineTitle"] == "Está sin conexión"
    assert spanish["pushSaved"] == "Guardado."


def test_hashed_url_is_immutable_and_others_revalidate(client, app):
    digest = script_hash("es")
    hashed = client.get(f"/strings/es.js?v={digest}")
    assert "immutable" in hashed.headers["Cache-Control"]
    assert hashed.mimetype == "text/javascript"
    stale = client.get("/strings/es.js?v=000000000000")
    assert stale.headers["Cache-Control"] == "no-cache"
    assert stale.headers.get("ETag")
    assert script_hash("en") != digest
    assert client.get("/strings/xx.js").status_code == 404
    assert client.get("/strings/es-MX.js").status_code == 404


def test_pages_load_their_language_and_the_worker_precaches_every_language(client):
    page = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert f'src="/strings/es.js?v={script_hash("es")}"' in page
    worker = client.get("/sw.js").get_data(as_text=True)
    manifest = json.loads(re.search(r"self\.SHELL_MANIFEST = (\{.*\});", worker).group(1))
    for code in ("en", "es"):
        assert f"/strings/{code}.js?v={script_hash(code)}" in manifest["precache"]
        assert f"/offline?locale={code}" in manifest["precache"]
    assert "importScripts(...self.SHELL_MANIFEST.strings);" in worker


def test_offline_page_in_each_language(client):
    spanish = client.get("/offline?locale=es", headers={"Accept-Language": "en"})
    assert '<html lang="es" ' in spanish.get_data(as_text=True)
    assert "Está sin conexión" in spanish.get_data(as_text=True)
    english = client.get("/offline?locale=en", headers={"Accept-Language": "es"})
    assert "You are offline" in english.get_data(as_text=True)


def test_the_worker_is_the_same_in_every_language(client):
    """A reader switching language must not be offered an "update" of the app."""
    english = client.get("/sw.js", headers={"Accept-Language": "en"}).get_data(as_text=True)
    spanish = client.get("/sw.js", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert english == spanish
    manifest = client.get("/manifest.webmanifest", headers={"Accept-Language": "es"}).get_json()
    assert manifest["lang"] == "es"
    assert manifest["shortcuts"][1]["name"] == "Mis solicitudes"
