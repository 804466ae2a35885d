"""The admin's City settings page: what the pack set and the go-live checks, green or
red with what to do, in English and Spanish; only admins see it. And the pack's
branding reaching the header, the manifest and e-mail."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests import factories
from webapp.models import Service
from webapp.plumbing.extensions import db


def _checks(html: str) -> dict[str, str]:
    found = re.findall(r'class="check (check-ok|check-failing)" data-check="([a-z_]+)"', html)
    return {key: state for state, key in found}


def test_only_admins_see_city_settings(client, auth):
    assert client.get("/admin/city").status_code == 302
    auth.login("staff")
    assert client.get("/admin/city").status_code == 403


def test_checks_go_green_and_red_with_what_to_do(app, city_cli, pack, client, auth):
    auth.login("admin")
    empty = client.get("/admin/city").get_data(as_text=True)
    checks = _checks(empty)
    assert checks["boundary"] == "check-failing"
    assert checks["services"] == "check-failing"
    assert "No city pack has been applied" in empty

    assert city_cli("apply", str(pack)).exit_code == 0
    page = client.get("/admin/city").get_data(as_text=True)
    checks = _checks(page)
    assert set(checks) == {
        "boundary", "services", "routing", "tiles", "geocoder", "mail", "public_url",
        "trusted_hosts", "secret_key", "workers",
    }
    assert checks["boundary"] == "check-ok"
    assert checks["services"] == "check-ok"
    assert checks["routing"] == "check-ok"
    assert checks["tiles"] == "check-ok"  # the test tiles are a local file
    assert checks["geocoder"] == "check-failing"  # nothing listens on 127.0.0.1:9
    assert checks["mail"] == "check-failing"
    assert checks["trusted_hosts"] == "check-failing"
    assert checks["secret_key"] == "check-failing"  # "test-secret"
    assert checks["workers"] == "check-ok"
    assert "What to do: Set TRUSTED_HOSTS" in page
    assert "cityofevanston.org" in page

    pothole = db.session.scalars(select(Service).where(Service.service_code == "pothole")).one()
    pothole.department_id = None
    factories.gen_department("Nobody's Office")
    db.session.commit()
    page = client.get("/admin/city").get_data(as_text=True)
    checks = _checks(page)
    assert checks["services"] == "check-failing" and "Without a department: pothole" in page
    assert checks["routing"] == "check-failing" and "Nobody&#39;s Office" in page

    client.post("/language", data={"locale": "es", "next": "/admin/city"})
    spanish = client.get("/admin/city").get_data(as_text=True)
    assert "Antes de publicar" in spanish


def test_pack_colours_reach_header_manifest_and_logo(app, city_cli, pack, client):
    assert city_cli("apply", str(pack)).exit_code == 0
    home = client.get("/").get_data(as_text=True)
    assert '<meta name="theme-color" content="#4e2a84">' in home
    assert 'href="/brand.css"' in home and 'src="/brand/logo"' in home
    css = client.get("/brand.css").get_data(as_text=True)
    assert "--brand: #4e2a84" in css and "--on-brand: #ffffff" in css
    manifest = client.get("/manifest.webmanifest").get_json()
    assert manifest["theme_color"] == "#4e2a84"
    logo = client.get("/brand/logo")
    assert logo.status_code == 200 and b"<svg" in logo.data
    logo.close()
