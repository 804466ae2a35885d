"""Open311 discovery speaks for the city whose pack is applied: its jurisdiction, its
contact and key service, and a changeset that moves when the pack changes something."""

from __future__ import annotations

from xml.etree import ElementTree

from webapp.models import CitySettings
from webapp.plumbing.extensions import db

BASE = "/open311/v2"


def test_discovery_names_the_packs_jurisdiction_contact_and_changeset(app, city_cli, pack,
                                                                       client):
    assert city_cli("apply", str(pack)).exit_code == 0
    applied_at = db.session.get(CitySettings, 1).applied_at

    body = client.get(f"{BASE}/discovery.json").get_json()
    assert body["jurisdiction_id"] == "cityofevanston.org"
    assert body["contact"].startswith("Evanston 311")
    assert "open311@evanston.example" in body["contact"]
    assert body["key_service"] == "Ask open311@evanston.example for an API key to submit requests."
    assert body["changeset"] == applied_at.isoformat(timespec="seconds")
    [endpoint] = body["endpoints"]
    assert endpoint["jurisdiction_id"] == "cityofevanston.org"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["changeset"] == body["changeset"]
    assert endpoint["url"] == "http://localhost/open311/v2"

    root = ElementTree.fromstring(client.get(f"{BASE}/discovery.xml").data)  # noqa: S314 - ours
    assert root.findtext("jurisdiction_id") == "cityofevanston.org"
    assert root.findtext("endpoints/endpoint/jurisdiction_id") == "cityofevanston.org"
    assert root.findtext("endpoints/endpoint/changeset") == body["changeset"]

    # The jurisdiction discovery names is the one the other calls answer to.
    ours = client.get(f"{BASE}/services.json", query_string={"jurisdiction_id":
                                                            "cityofevanston.org"})
    assert ours.status_code == 200 and ours.get_json()
    theirs = client.get(f"{BASE}/services.json", query_string={"jurisdiction_id":
                                                              "chattanooga.tn.us"})
    assert theirs.status_code == 404


def test_the_changeset_moves_only_when_the_pack_changes(app, city_cli, pack, client):
    assert city_cli("apply", str(pack)).exit_code == 0
    first = client.get(f"{BASE}/discovery.json").get_json()["changeset"]
    row = db.session.get(CitySettings, 1)
    row.applied_at = row.applied_at.replace(year=row.applied_at.year - 1)  # an older apply
    db.session.commit()
    assert city_cli("apply", str(pack)).exit_code == 0  # the same pack: nothing changes
    assert client.get(f"{BASE}/discovery.json").get_json()["changeset"] < first

    toml = (pack / "city.toml").read_text(encoding="utf-8")
    (pack / "city.toml").write_text(
        toml.replace("key_service = \"Ask", "key_service = \"Write to"), encoding="utf-8"
    )
    assert city_cli("apply", str(pack)).exit_code == 0
    body = client.get(f"{BASE}/discovery.json").get_json()
    assert body["key_service"].startswith("Write to open311@evanston.example")
    assert body["changeset"] >= first


def test_without_a_pack_discovery_names_the_configured_jurisdiction(app, client):
    body = client.get(f"{BASE}/discovery.json").get_json()
    assert body["jurisdiction_id"] == app.config["JURISDICTION_ID"]
    assert body["endpoints"][0]["jurisdiction_id"] == app.config["JURISDICTION_ID"]


def test_an_unknown_open311_key_in_the_pack_is_refused(city_cli, pack):
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    (pack / "city.toml").write_text(
        toml.replace("[open311]", "[open311]\nkey_sevrice = \"typo\""), encoding="utf-8"
    )
    result = city_cli("apply", str(pack))
    assert result.exit_code != 0
    assert "open311.key_sevrice" in result.output
