"""The city's app icons, drawn with Pillow from the square image its pack brings.

A phone puts the app on its home screen with the manifest's icons; a city that applied a
pack with an ``icon`` (or a PNG ``logo``) gets icons of its own instead of the demo's
map pin: the same files and sizes the demo ships (``tools/make_icons.py`` draws those),
the image centred on the pack's primary colour, the maskable one inside the central
safe zone a launcher may crop to a circle. An SVG logo cannot be drawn by Pillow, and a
wide word mark would not fit a square: such a pack names a square PNG as ``icon``.

Drawing is done while the pack is checked (a bad image is refused before the database
is touched); the files are written to the instance folder only after the database
committed, and the manifest names them with a version so browsers fetch new ones.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from flask import current_app, url_for
from PIL import Image, ImageDraw, UnidentifiedImageError

# name → (size in px, how the image sits on the square)
ICON_FILES = {
    "icon-192.png": (192, "any"),
    "icon-512.png": (512, "any"),
    "icon-maskable-512.png": (512, "maskable"),
    "apple-touch-icon.png": (180, "apple"),
}
# Share of the square the image may fill: "any" icons keep a margin, a maskable icon
# keeps to the safe zone (a circle of 80% of the width; a square inside it is ~56%).
FILL = {"any": 0.8, "maskable": 0.56, "apple": 0.8}
MIN_SIDE = 192
MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "WEBP")
ICONS_DIR = "icons"
SUPERSAMPLE = 2


class IconError(ValueError):
    """The image cannot be made into app icons (the message says why)."""


def open_image(data: bytes) -> Image.Image:
    """The pack's image, decoded whole and checked (type sniffed, size, no bomb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise IconError(f"the image has too many pixels ({image.width}×{image.height})")
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise IconError("not a PNG, JPEG or WebP image") from None
    except OSError as error:
        raise IconError(f"the image cannot be read ({error})") from None
    if min(image.size) < MIN_SIDE:
        raise IconError(f"the image is {image.width}×{image.height} px; app icons need at "
                        f"least {MIN_SIDE}×{MIN_SIDE} (512×512 is best)")
    return image.convert("RGBA")


def draw(image: Image.Image, size: int, kind: str, colour: tuple[int, int, int]) -> bytes:
    """One icon: ``image`` fitted and centred on ``colour``, as PNG bytes."""
    big = size * SUPERSAMPLE
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    paint = ImageDraw.Draw(canvas)
    if kind == "any":
        paint.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=colour)
    else:  # a maskable icon and Apple's are full bleed: the platform rounds them
        paint.rectangle((0, 0, big, big), fill=colour)
    box = round(big * FILL[kind])
    scale = box / max(image.size)
    mark = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS
    )
    canvas.alpha_composite(mark, ((big - mark.width) // 2, (big - mark.height) // 2))
    result = canvas.resize((size, size), Image.LANCZOS)
    if kind == "apple":
        result = result.convert("RGB")  # iOS shows transparency as black
    out = io.BytesIO()
    result.save(out, format="PNG", optimize=True)
    return out.getvalue()


def draw_all(data: bytes, colour: tuple[int, int, int]) -> dict[str, bytes]:
    """Every icon the manifest and the pages name, from the pack's image bytes."""
    image = open_image(data)
    return {name: draw(image, size, kind, colour) for name, (size, kind) in
            ICON_FILES.items()}


def version_of(drawn: dict[str, bytes]) -> str:
    """A short hash of the drawn icons (changes when the image or the colour does)."""
    digest = hashlib.sha256()
    for name in sorted(drawn):
        digest.update(name.encode() + hashlib.sha256(drawn[name]).digest())
    return digest.hexdigest()[:12]


def folder(branding_dir: Path) -> Path:
    """Where the city's icons are kept, inside the instance's branding folder."""
    return branding_dir / ICONS_DIR


def changed(target: Path, drawn: dict[str, bytes]) -> bool:
    """Whether any icon in ``target`` differs from ``drawn`` (or is missing)."""
    return any(not (target / name).is_file() or (target / name).read_bytes() != data
               for name, data in drawn.items())


def write(target: Path, drawn: dict[str, bytes]) -> None:
    """Write the icons, each through a temporary name so no reader sees half a file."""
    target.mkdir(parents=True, exist_ok=True)
    for name, data in drawn.items():
        temporary = target / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(target / name)


def icon_src(static_name: str) -> str | None:
    """The URL of an app icon named as in the static folder (``icons/icon-192.png``).

    With the city's own icons: their URL, or None for a demo icon the city has no
    counterpart of (the demo's SVG pin). Without: the demo's static file.
    """
    version = (current_app.config.get("CITY_PACK") or {}).get("icons")
    if not version:
        return url_for("static", filename=static_name)
    name = static_name.rsplit("/", 1)[-1]
    if name not in ICON_FILES:
        return None
    return url_for("city.brand_icon", name=name, v=version)
