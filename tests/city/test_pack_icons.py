"""The city's app icons: drawn from its pack's image on the pack's colour when the pack
is applied, written only once the database committed, and served by the manifest in
place of the demo's."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from webapp.citypack import icons
from webapp.models import CitySettings
from webapp.plumbing.extensions import db

PURPLE = (0x4E, 0x2A, 0x84)
WHITE = (255, 255, 255)


def _manifest_icons(client) -> list[dict]:
    return client.get("/manifest.webmanifest").get_json()["icons"]


def _icon_folder(app) -> Path:
    return Path(app.instance_path) / "branding" / "icons"


def _fetch(client, src: str) -> Image.Image:
    response = client.get(src)
    assert response.status_code == 200, src
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.load()
    response.close()
    return image.convert("RGB")


def test_applied_pack_serves_icons_drawn_from_its_image_on_its_colour(app, city_cli, pack,
                                                                      client):
    result = city_cli("apply", str(pack))
    assert result.exit_code == 0, result.output
    assert "app icons: drawn from icon.png" in result.output

    listed = _manifest_icons(client)
    assert [(i["sizes"], i["purpose"]) for i in listed] == [
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")
    ]
    for entry in listed:
        assert entry["src"].startswith("/brand/icons/") and "?v=" in entry["src"]
        assert entry["type"] == "image/png"
        image = _fetch(client, entry["src"])
        side = int(entry["sizes"].split("x")[0])
        assert image.size == (side, side)
        # The pack's colour around the image, the pack's white "311" in the middle.
        edge = image.getpixel((side // 2, 2))
        assert max(abs(a - b) for a, b in zip(edge, PURPLE, strict=True)) <= 2
        colours = {c for _n, c in image.getcolors(side * side)}
        assert any(min(c) > 240 for c in colours), "the image's white is drawn"
        if entry["purpose"] == "maskable":  # full bleed: a launcher crops the corners
            assert image.getpixel((0, 0)) == PURPLE
            # nothing of the image outside the safe zone (80% circle)
            ring = [image.getpixel((x, side // 2)) for x in range(0, int(side * 0.1))]
            assert all(p == PURPLE for p in ring)

    page = client.get("/").get_data(as_text=True)
    assert 'rel="apple-touch-icon" href="/brand/icons/apple-touch-icon.png?v=' in page
    assert "icons/icon.svg" not in page
    apple = page.split('rel="apple-touch-icon" href="', 1)[1].split('"', 1)[0]
    touch = _fetch(client, apple.replace("&amp;", "&"))
    assert touch.size == (180, 180) and touch.getpixel((0, 0)) == PURPLE
    manifest = client.get("/manifest.webmanifest").get_json()
    assert all(s["icons"][0]["src"].startswith("/brand/icons/icon-192.png")
               for s in manifest["shortcuts"])

    on_disk = sorted(p.name for p in _icon_folder(app).iterdir())
    assert on_disk == sorted(icons.ICON_FILES)
    again = city_cli("apply", str(pack))
    assert "nothing changed" in again.output


def test_a_new_colour_redraws_the_icons_under_a_new_version(app, city_cli, pack, client):
    assert city_cli("apply", str(pack)).exit_code == 0
    before = _manifest_icons(client)[0]["src"]
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    (pack / "city.toml").write_text(toml.replace("#4e2a84", "#3b1f66"), encoding="utf-8")
    result = city_cli("apply", str(pack))
    assert "app icons: drawn from icon.png" in result.output
    after = _manifest_icons(client)[0]["src"]
    assert after != before
    assert _fetch(client, after).getpixel((96, 2)) == (0x3B, 0x1F, 0x66)


def test_a_png_logo_serves_when_the_pack_names_no_icon(app, city_cli, pack, client):
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    toml = toml.replace('logo = "logo.svg"', 'logo = "logo.png"')
    (pack / "city.toml").write_text(
        "\n".join(line for line in toml.splitlines() if not line.startswith("icon =")),
        encoding="utf-8",
    )
    Image.new("RGB", (300, 300), (250, 200, 0)).save(pack / "logo.png")
    result = city_cli("apply", str(pack))
    assert "app icons: drawn from logo.png" in result.output, result.output
    image = _fetch(client, _manifest_icons(client)[1]["src"])
    assert image.getpixel((256, 256)) == (250, 200, 0)
    assert image.getpixel((256, 2)) == PURPLE


def test_without_a_pack_the_demo_icons_are_served(client):
    listed = _manifest_icons(client)
    assert [i["src"].split("?")[0] for i in listed][:2] == ["/static/icons/icon.svg",
                                              "/static/icons/icon-192.png"]
    assert client.get("/brand/icons/icon-192.png").status_code == 404


def test_a_dry_run_draws_but_writes_no_icon(app, city_cli, pack):
    result = city_cli("apply", str(pack), "--dry-run")
    assert "app icons: drawn from icon.png" in result.output
    assert not _icon_folder(app).exists()


def test_an_icon_that_is_no_image_or_too_small_is_refused_and_nothing_is_applied(
    app, city_cli, pack
):
    (pack / "icon.png").write_text("not a picture", encoding="utf-8")
    result = city_cli("apply", str(pack))
    assert result.exit_code != 0
    assert "icon.png" in result.output and "not a PNG, JPEG or WebP image" in result.output
    Image.new("RGB", (64, 64), WHITE).save(pack / "icon.png")
    result = city_cli("apply", str(pack))
    assert result.exit_code != 0
    assert "at least 192×192" in result.output
    assert db.session.get(CitySettings, 1) is None
    assert not _icon_folder(app).exists()
