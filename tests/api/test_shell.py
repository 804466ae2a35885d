"""The shell over HTTP: manifest, service worker, offline page, hashed static files and
compression, as a browser (or an app store) would fetch them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil

import brotli
import pytest
from PIL import Image

from tests import factories
from webapp.resident import worker_views

BROWSER_ENCODINGS = "gzip, deflate, br, zstd"
YEAR = 365 * 24 * 3600


def sw_manifest(client) -> dict:
    """The generated ``self.SHELL_MANIFEST`` at the top of /sw.js."""
    body = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"self\.SHELL_MANIFEST = (\{.*?\});", body).group(1))


def jpeg_bytes() -> bytes:
    """A small JPEG photo."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 80, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_manifest_has_everything_an_install_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "Chattanooga 311"
    assert 0 < len(manifest["short_name"]) <= 12
    assert manifest["id"] == "/"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b5c4a"
    assert manifest["background_color"].startswith("#")
    assert manifest["description"]
    icons = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    assert {shot["form_factor"] for shot in manifest["screenshots"]} == {"narrow", "wide"}


def test_manifest_icons_and_screenshots_exist_at_their_stated_sizes(client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    for image in manifest["icons"] + manifest["screenshots"]:
        with client.get(image["src"]) as response:
            assert response.status_code == 200, image["src"]
            data = response.data
        if image["type"] == "image/png":
            with Image.open(io.BytesIO(data)) as picture:
                assert "x".join(map(str, picture.size)) == image["sizes"]


def test_service_worker_is_served_from_the_root_with_no_cache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    body = response.get_data(as_text=True)
    assert body.index("self.SHELL_MANIFEST") < body.index('importScripts("/sw-shell.js")')
    part = client.get("/sw-shell.js")
    assert part.status_code == 200
    assert part.headers["Cache-Control"] == "no-cache"
    assert client.get("/sw-nope.js").status_code == 404
    assert client.get("/sw-..%2Fpyproject.js").status_code == 404


def test_service_worker_may_fetch_tiles_from_the_tile_server(make_app):
    app = make_app(TILE_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    policy = app.test_client().get("/sw.js").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://*.tiles.example.org" in policy


def test_precache_lists_the_app_shell_with_content_hashes_and_every_entry_answers(client):
    manifest = sw_manifest(client)
    precache = manifest["precache"]
    for page in ("/", "/my", "/offline?locale=en", "/offline?locale=es", "/manifest.webmanifest"):
        assert page in precache
    assert "/offline" not in precache  # the same page as the reader's language's copy
    static = [url for url in precache if url.startswith("/static/")]
    assert all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in static)
    for expected in ("/static/css/app.css", "/static/js/register-sw.js", "/static/js/push.js"):
        assert any(url.startswith(expected + "?v=") for url in static), expected
    for url in precache + manifest["later"]:
        with client.get(url) as response:
            assert response.status_code == 200, url
    assert len(set(precache)) == len(precache)


def test_the_map_library_and_help_are_kept_after_the_first_visit_not_at_install(client):
    manifest = sw_manifest(client)
    later = manifest["later"]
    for expected in (
        "/help",
        "/static/js/help-search.js?v=",
        "/static/vendor/leaflet/leaflet.js?v=",
        "/static/vendor/leaflet/leaflet.css?v=",
        "/static/vendor/leaflet/images/marker-icon.png?v=",
    ):
        assert any(url.startswith(expected) for url in later), expected
    assert not any("leaflet" in url or url == "/help" for url in manifest["precache"])
    assert not set(later) & set(manifest["precache"])
    # Nor the home-screen icons: the phone keeps them when the app is installed.
    assert not any(url.startswith("/static/icons/icon-") for url in manifest["precache"])


SCRIPT_OR_STYLE = re.compile(r'<(?:script[^>]* src|link rel="stylesheet" href)="([^"]+)"')


def test_every_script_and_style_of_the_offline_pages_is_precached_with_its_imports(client):
    precache = set(sw_manifest(client)["precache"])
    for page in ("/", "/my", "/offline?locale=en"):
        html = client.get(page).get_data(as_text=True)
        for url in SCRIPT_OR_STYLE.findall(html):
            assert url in precache, (page, url)
    # Every module a precached script imports is precached under the hashed URL the
    # page's import map sends the import to.
    imports = json.loads(
        re.search(r'<script type="importmap">(.*?)</script>', client.get("/").get_data(as_text=True))
        .group(1)
    )["imports"]
    for url in [u for u in precache if u.startswith("/static/js/")]:
        body = client.get(url).get_data(as_text=True)
        for target in re.findall(r'(?:from|import)\s*\(?\s*"\./([a-z-]+\.js)"', body):
            assert imports[f"/static/js/{target}"] in precache, (url, target)
    # The worker's own import of the outbox is the URL the page loads.
    assert sw_manifest(client)["outboxCore"] in precache


def test_pages_send_imports_to_hashed_urls_through_an_import_map_the_csp_allows(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    text = re.search(r'<script type="importmap">(.*?)</script>', html).group(1)
    imports = json.loads(text)["imports"]
    assert imports["/static/js/outbox.js"].startswith("/static/js/outbox.js?v=")
    assert imports["/static/js/push.js"].startswith("/static/js/push.js?v=")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    # Only pages carry the map; nothing else may run inline script.
    assert "sha256" not in client.get("/api/v1/services").headers["Content-Security-Policy"]
    hashed = client.get(imports["/static/js/outbox.js"])
    assert "immutable" in hashed.headers["Cache-Control"]


def test_public_files_do_not_vary_on_the_cookie_or_touch_the_session(client):
    home = client.get("/")
    assert "Cookie" in home.headers["Vary"]
    client.get("/my")  # starts a session
    html = home.get_data(as_text=True)
    for url in SCRIPT_OR_STYLE.findall(html):
        response = client.get(url, headers={"Accept-Encoding": BROWSER_ENCODINGS})
        assert "public" in response.headers["Cache-Control"], url
        assert "Cookie" not in response.headers.get("Vary", ""), url
        assert "Set-Cookie" not in response.headers, url
    # An anonymous map read is public too, but what it shows may change with signing in.
    assert "Cookie" in client.get("/api/v1/requests").headers.get("Vary", "")


def test_any_change_to_the_worker_gives_a_new_version(client, tmp_path, monkeypatch):
    before = sw_manifest(client)["version"]
    assert sw_manifest(client)["version"] == before
    changed = tmp_path / "service_worker"
    shutil.copytree(worker_views.WORKER_DIR, changed)
    (changed / "shell.js").write_text((changed / "shell.js").read_text() + "\n")
    monkeypatch.setattr(worker_views, "WORKER_DIR", changed)
    assert sw_manifest(client)["version"] != before


def test_a_different_tile_server_gives_a_new_version(make_app):
    first = sw_manifest(make_app().test_client())["version"]
    other = make_app(TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    assert sw_manifest(other.test_client())["version"] != first


def test_offline_page_is_a_real_page(client):
    response = client.get("/offline")
    assert response.status_code == 200
    assert "You are offline" in response.get_data(as_text=True)


def test_every_page_links_the_manifest_icons_and_update_banner(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(
        r'rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png\?v=\w+"', html
    )
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
    assert 'name="apple-mobile-web-app-status-bar-style"' in html
    assert 'name="apple-mobile-web-app-title" content="Chattanooga 311"' in html
    assert '<meta name="theme-color" content="#0b5c4a">' in html
    assert re.search(r'<div id="update-banner"[^>]*hidden>', html)
    assert re.search(r'src="/static/js/register-sw.js\?v=[0-9a-f]{12}"', html)


def test_hashed_static_files_are_cached_for_a_year_and_others_revalidate(client):
    html = client.get("/").get_data(as_text=True)
    css_url = re.search(r'href="(/static/css/app.css\?v=[0-9a-f]+)"', html).group(1)
    fresh = client.get(css_url)
    assert fresh.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"
    for stale in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(stale)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert response.headers.get("ETag")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
@pytest.mark.parametrize(
    "path", ["/", "/my", "/static/css/app.css", "/static/js/register-sw.js", "/sw.js"]
)
def test_text_responses_are_compressed(client, path, encoding):
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    response = client.get(path, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert int(response.headers["Content-Length"]) == len(response.data) < len(plain.data)


def test_browsers_get_brotli_and_leaflet_shrinks_by_two_thirds(client):
    response = client.get(
        "/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": BROWSER_ENCODINGS}
    )
    assert response.headers["Content-Encoding"] == "br"
    original = client.get(
        "/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "identity"}
    )
    assert brotli.decompress(response.data) == original.data
    assert len(response.data) < len(original.data) / 3


def test_compressed_static_file_still_answers_304_to_its_etag(client):
    headers = {"Accept-Encoding": "br"}
    first = client.get("/static/css/app.css", headers=headers)
    again = client.get(
        "/static/css/app.css", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_images_and_byte_ranges_are_not_compressed(app, client, city):
    accept = {"Accept-Encoding": BROWSER_ENCODINGS}
    with client.get("/static/icons/icon-512.png", headers=accept) as png:
        assert png.status_code == 200
        assert "Content-Encoding" not in png.headers
    request = factories.gen_request("graffiti", photos=[jpeg_bytes()])
    with client.get(f"/photos/{request.photos[0].display_key}", headers=accept) as photo:
        assert photo.status_code == 200
        assert photo.mimetype == "image/jpeg"
        assert "Content-Encoding" not in photo.headers
    with client.get(
        "/static/vendor/leaflet/leaflet.js", headers={**accept, "Range": "bytes=0-99"}
    ) as part:
        assert part.status_code == 206
        assert "Content-Encoding" not in part.headers
        assert len(part.data) == 100
