"""Draw Civic311's app icons and store screenshots with Pillow (our own simple art).

Run ``python tools/make_icons.py`` after changing the art; the PNGs it writes under
``webapp/static/icons/`` are committed. The mark is a white map pin on the brand green,
the same shape as ``icon.svg``. Screenshots are flat mockups of the report screen, kept
small (few colours, palette PNG) because the manifest ships them to app stores.

A city's own icons are drawn when its pack is applied (``webapp/citypack/icons.py``, the
same files and sizes). To look at them first::

    python tools/make_icons.py --from examples/evanston/icon.png --colour "#4e2a84" --out /tmp/icons
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the city preview draws with the app's own code
ICONS = ROOT / "webapp" / "static" / "icons"
BRAND = (11, 92, 74)
BRAND_DARK = (7, 61, 49)
WASH = (243, 245, 244)
PAPER = (255, 255, 255)
INK = (26, 26, 26)
LINE = (201, 207, 204)
MAP = (217, 222, 220)
SUPERSAMPLE = 4


def draw_pin(draw: ImageDraw.ImageDraw, cx: float, top: float, height: float, fill, hole) -> None:
    """A map pin: a circle head narrowing to a point, with a round hole."""
    radius = height * 0.34
    head_cy = top + radius
    draw.ellipse((cx - radius, head_cy - radius, cx + radius, head_cy + radius), fill=fill)
    draw.polygon(
        [
            (cx - radius * 0.93, head_cy + radius * 0.38),
            (cx + radius * 0.93, head_cy + radius * 0.38),
            (cx, top + height),
        ],
        fill=fill,
    )
    hole_r = radius * 0.4
    draw.ellipse((cx - hole_r, head_cy - hole_r, cx + hole_r, head_cy + hole_r), fill=hole)


def icon(size: int, *, maskable: bool = False, rounded: bool = True) -> Image.Image:
    """The app icon at ``size`` px; maskable keeps the pin inside the central safe circle."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable or not rounded:
        draw.rectangle((0, 0, big, big), fill=BRAND)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=BRAND)
    pin_height = big * (0.5 if maskable else 0.68)
    draw_pin(draw, big / 2, (big - pin_height) / 2, pin_height, PAPER, BRAND)
    return image.resize((size, size), Image.LANCZOS)


def screenshot(width: int, height: int) -> Image.Image:
    """A flat mockup of the report screen: header, title, map with a pin, a button."""
    image = Image.new("RGB", (width, height), WASH)
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 20
    draw.rectangle((0, 0, width, unit * 2.2), fill=BRAND)
    draw.rounded_rectangle((unit, unit * 0.7, unit * 6, unit * 1.5), radius=unit / 3, fill=PAPER)
    column = min(width, unit * 16)
    left = (width - column) / 2
    draw.rectangle((left, unit * 2.2, left + column, height), fill=PAPER)
    draw.rounded_rectangle(
        (left + unit, unit * 3.2, left + column * 0.7, unit * 4.2), radius=unit / 4, fill=INK
    )
    for row in range(2):
        y = unit * (5 + row * 0.9)
        draw.rounded_rectangle(
            (left + unit, y, left + column - unit * (2 + row * 3), y + unit * 0.45),
            radius=unit / 5,
            fill=LINE,
        )
    map_top, map_bottom = unit * 7, height - unit * 4
    draw.rounded_rectangle(
        (left + unit, map_top, left + column - unit, map_bottom), radius=unit / 2, fill=MAP
    )
    for step in range(1, 4):
        x = left + unit + (column - 2 * unit) * step / 4
        draw.line((x, map_top, x, map_bottom), fill=PAPER, width=max(2, int(unit / 6)))
    pin_height = unit * 3
    draw_pin(
        draw,
        left + column / 2,
        (map_top + map_bottom) / 2 - pin_height,
        pin_height,
        BRAND_DARK,
        MAP,
    )
    draw.rounded_rectangle(
        (left + unit, height - unit * 3, left + column - unit, height - unit * 1.6),
        radius=unit / 3,
        fill=BRAND,
    )
    return image


def save_png(image: Image.Image, name: str, *, palette: bool = False) -> Path:
    """Write a small palette PNG (flat art needs few colours; 64 keep the edges smooth)."""
    path = ICONS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if palette:
        image = image.convert("RGB").quantize(colors=16)
    else:
        image = image.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    image.save(path, optimize=True)
    return path


def city_preview(image: Path, colour: str, out: Path) -> list[Path]:
    """Draw a city's icons from ``image`` on ``colour`` into ``out``, as applying its pack
    would."""
    from webapp.citypack import branding, icons

    rgb = branding.parse_hex(colour)
    if rgb is None:
        raise SystemExit(f"{colour!r} is not a colour like #4e2a84")
    try:
        drawn = icons.draw_all(image.read_bytes(), rgb)
    except (OSError, icons.IconError) as error:
        raise SystemExit(f"{image}: {error}") from None
    icons.write(out, drawn)
    return [out / name for name in drawn]


def main() -> None:
    """Write every icon and screenshot the manifest and base template refer to (or, with
    ``--from``, preview a city's icons)."""
    parser = argparse.ArgumentParser(description="Draw the app icons.")
    parser.add_argument("--from", dest="image", type=Path,
                        help="a city's square image: preview its icons instead")
    parser.add_argument("--colour", default="#0b5c4a", help="the city's primary colour")
    parser.add_argument("--out", type=Path, default=Path("city-icons"),
                        help="where the preview goes")
    args = parser.parse_args()
    if args.image:
        for path in city_preview(args.image, args.colour, args.out):
            print(f"{path}  {path.stat().st_size:>7} bytes")
        return
    written = [
        save_png(icon(192), "icon-192.png"),
        save_png(icon(512), "icon-512.png"),
        save_png(icon(512, maskable=True), "icon-maskable-512.png"),
        save_png(icon(180, rounded=False).convert("RGB"), "apple-touch-icon.png"),
        save_png(screenshot(1080, 1920), "screenshot-narrow.png", palette=True),
        save_png(screenshot(1920, 1080), "screenshot-wide.png", palette=True),
    ]
    for path in written:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:>7} bytes")


if __name__ == "__main__":
    main()
