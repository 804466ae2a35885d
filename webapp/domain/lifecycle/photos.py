"""The photo pipeline (Pillow): sniff, check, orient, strip, derive, store.

Only sanitized derivatives are kept: a display image (long edge ≤ 1600 px) and a
thumbnail (≤ 400 px), both baseline JPEG in 8-bit sRGB without any metadata, stored
under the content hash of the display image. The upload itself is never stored.

Every refusal is a ``DomainError`` with a plain-language message and a machine
``details.reason`` (``empty``, ``too_large``, ``not_a_photo``, ``unsupported_type``,
``animated``, ``hidden_markup``, ``too_many_pixels``, ``unreadable``), so the app can
tell the resident what to do instead of failing with a 500.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageCms

from webapp.domain.errors import DomainError
from webapp.domain.lifecycle.storage import photo_store
from webapp.models import Photo, PhotoKind, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
DISPLAY_EDGE = 1600
THUMB_EDGE = 400
JPEG_QUALITY = 82
THUMB_QUALITY = 78
DEFAULT_MAX_PHOTO_BYTES = 12 * 1024 * 1024

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Magic numbers of what we accept, and of what people commonly send instead (so the
# refusal can name it). Checked against the bytes, never the file name or Content-Type.
_ACCEPTED_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
_KNOWN_OTHERS = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif")
# Markup that makes a file a web page as well as a picture (a polyglot). A camera never
# writes these; XMP metadata uses other tags, so a real photo does not match.
_HIDDEN_MARKUP = re.compile(
    rb"<(?:script|html|body|iframe|object|embed|svg|!doctype\s+html)[\s>/]", re.IGNORECASE
)
_SRGB = ImageCms.createProfile("sRGB")


@dataclass
class ProcessedPhoto:
    """A photo ready to store: two JPEG derivatives and what was learned from it."""

    sha256: str
    width: int
    height: int
    display: bytes
    thumbnail: bytes
    gps: tuple[float, float] | None = None


def _refuse(message: str, reason: str, status: int = 422) -> DomainError:
    """A refusal of the photo field with a plain message and a machine reason."""
    return DomainError(message, field="photos", status=status, details={"reason": reason})


def sniff(data: bytes) -> str:
    """The real type of an upload from its first bytes: JPEG, PNG or WEBP, else refuse."""
    for magic, kind in _ACCEPTED_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    other = next((kind for magic, kind in _KNOWN_OTHERS if data.startswith(magic)), None)
    if other is None and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        other = "HEIC"
    if other is None and re.match(rb"\s*(?:<\?xml[^>]*>\s*)?<svg", data[:512], re.IGNORECASE):
        other = "SVG"
    if other == "GIF":
        raise _refuse(
            _(
                "GIFs and animated pictures are not accepted. Please send a JPEG, PNG or WebP photo."
            ),
            "unsupported_type",
        )
    if other is not None:
        raise _refuse(
            _(
                "We cannot take %(kind)s files. Please send a JPEG, PNG or WebP photo.",
                kind=other,
            ),
            "unsupported_type",
        )
    raise _refuse(
        _("That file is not a photo. Please send a JPEG, PNG or WebP photo."), "not_a_photo"
    )


def _markup_zones(data: bytes, kind: str) -> list[bytes]:
    """The parts of an upload where markup could hide.

    For a JPEG that is everything before the first scan (APPn and COM segments) and
    everything after the last end-of-image marker; the entropy-coded scan data between
    them is pixels (the pipeline re-encodes it anyway) and is not worth scanning. Other
    formats are scanned whole.
    """
    if kind != "JPEG":
        return [data]
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:
            break
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 1 if marker == 0xFF else 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    else:
        return [data]
    end = data.rfind(b"\xff\xd9")
    return [data[:position], data[end:] if end > position else b""]


def _max_bytes() -> int:
    """The largest single photo accepted, in bytes (``MAX_PHOTO_MB``)."""
    return int(current_app.config.get("MAX_PHOTO_MB", 12) * 1024 * 1024)


def _check_bytes(data: bytes) -> str:
    """Refuse empty, oversized, mistyped or markup-carrying uploads before decoding."""
    if not data:
        raise _refuse(_("That photo is empty. Please choose it again."), "empty")
    if len(data) > _max_bytes():
        raise _refuse(
            _(
                "That photo is too large (%(size)s MB). Please send one under %(limit)s MB.",
                size=round(len(data) / 1024 / 1024, 1),
                limit=_max_bytes() // (1024 * 1024),
            ),
            "too_large",
            status=413,
        )
    kind = sniff(data)
    if any(_HIDDEN_MARKUP.search(part) for part in _markup_zones(data, kind)):
        raise _refuse(
            _("That file has web page code hidden inside it. Please send the photo itself."),
            "hidden_markup",
        )
    return kind


def _too_many_pixels() -> DomainError:
    """The refusal for decompression bombs and oversized pictures."""
    return _refuse(
        _("That picture has too many pixels to be a photo. Please send a smaller one."),
        "too_many_pixels",
    )


def _unreadable() -> DomainError:
    """The refusal for truncated or damaged files."""
    return _refuse(
        _("That photo is damaged or incomplete. Please take or choose it again."), "unreadable"
    )


def _open(data: bytes, kind: str) -> Image.Image:
    """Open only the sniffed format, refusing bombs before any pixel is decoded."""
    max_pixels = current_app.config.get("MAX_PHOTO_PIXELS", 50_000_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _unreadable() from None
    if image.width * image.height > max_pixels:
        raise _too_many_pixels()
    # A JPEG with several frames is an MPO from a phone camera: a still photo (frame 1).
    if kind != "JPEG" and getattr(image, "is_animated", False):
        raise _refuse(_("That picture is animated. Please send a still photo."), "animated")
    return image


def _rational(value) -> float:
    """An EXIF rational (a Pillow IFDRational or a (numerator, denominator) pair) as float."""
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def read_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, long) from the EXIF GPS block, or None when absent, malformed or 0,0."""
    try:
        gps = image.getexif().get_ifd(EXIF_GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        degrees = [
            sum(_rational(part) / 60**index for index, part in enumerate(gps[tag][:3]))
            for tag in (2, 4)
        ]
        lat = -degrees[0] if str(gps.get(1, "N")).upper().startswith("S") else degrees[0]
        long = -degrees[1] if str(gps.get(3, "E")).upper().startswith("W") else degrees[1]
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, OSError):
        return None
    if not (math.isfinite(lat) and math.isfinite(long)):
        return None
    if not (-90 <= lat <= 90 and -180 <= long <= 180) or (lat == 0 and long == 0):
        return None
    return round(lat, 7), round(long, 7)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1–8), 1 when absent or nonsense."""
    try:
        value = int(image.getexif().get(EXIF_ORIENTATION, 1))
    except (TypeError, ValueError, OSError):
        return 1
    return value if value in ORIENTATION_TRANSPOSE else 1


def _draft_size(width: int, height: int, edge: int) -> tuple[int, int]:
    """The smallest size, with the photo's own aspect, whose long edge still covers ``edge``."""
    scale = edge / max(width, height)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """8-bit RGB in sRGB: flatten transparency on white, scale 16-bit, convert CMYK/ICC."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in (ImageCms.getProfileDescription(source) or "").lower():
                converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
                if converted is not None:
                    image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def _encode(image: Image.Image, quality: int) -> bytes:
    """Baseline JPEG with no EXIF, ICC, comment or other metadata."""
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _fit(image: Image.Image, edge: int) -> Image.Image:
    """Resize so the long edge is at most ``edge`` (never enlarge).

    Only ever a reduction, so Pillow's BOX filter is area averaging (what image
    editors call "area" resampling): no ringing, no aliasing worth seeing, and the
    cheapest of Pillow's antialiasing filters. ``reducing_gap`` lets big reductions
    start with a fast integer ``reduce``.
    """
    if max(image.size) <= edge:
        return image
    scale = edge / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX, reducing_gap=1.0)


def process(data: bytes) -> ProcessedPhoto:
    """Turn uploaded bytes into sanitized derivatives, or refuse with a clear message.

    JPEGs are decoded in draft mode at the smallest DCT scale (1/2, 1/4, 1/8) whose
    long edge still covers 1600 px, so a 12-megapixel photo is never fully decoded.
    Pixel-level work (resize before colour conversion, orientation last) is done on the
    smallest image possible; the thumbnail is made from the display image.
    """
    kind = _check_bytes(data)
    image = _open(data, kind)
    gps = read_gps(image)
    orientation = _orientation(image)
    icc = image.info.get("icc_profile")
    try:
        if kind == "JPEG":
            image.draft("RGB", _draft_size(image.width, image.height, DISPLAY_EDGE))
        image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _unreadable() from None
    if image.mode in ("RGB", "L", "CMYK"):
        display_image = _to_srgb(_fit(image, DISPLAY_EDGE), icc)
    else:
        display_image = _fit(_to_srgb(image, icc), DISPLAY_EDGE)
    if orientation in ORIENTATION_TRANSPOSE:
        display_image = display_image.transpose(ORIENTATION_TRANSPOSE[orientation])
    display = _encode(display_image, JPEG_QUALITY)
    thumbnail = _encode(_fit(display_image, THUMB_EDGE), THUMB_QUALITY)
    return ProcessedPhoto(
        hashlib.sha256(display).hexdigest(),
        display_image.width,
        display_image.height,
        display,
        thumbnail,
        gps,
    )


def keys_for(sha256: str) -> tuple[str, str]:
    """Storage keys of the display and thumbnail derivatives of a photo."""
    prefix = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
    return f"{prefix}-display.jpg", f"{prefix}-thumb.jpg"


def attach(
    request: ServiceRequest,
    photo: ProcessedPhoto,
    *,
    kind: str = PhotoKind.REPORT,
    event: RequestEvent | None = None,
) -> list[str]:
    """Store a processed photo's files and add its row; returns keys newly written.

    The caller commits, and on failure passes the returned keys to ``discard`` so no
    file outlives a rolled-back transaction. Files already stored (the same photo sent
    before) are shared and are not returned, so a rollback never removes them.
    """
    display_key, thumb_key = keys_for(photo.sha256)
    store = photo_store()
    written: list[str] = []
    try:
        for key, data in ((display_key, photo.display), (thumb_key, photo.thumbnail)):
            if store.put(key, data):
                written.append(key)
    except BaseException:
        discard(written)
        raise
    db.session.add(
        Photo(
            request=request,
            kind=kind,
            sha256=photo.sha256,
            width=photo.width,
            height=photo.height,
            display_key=display_key,
            thumb_key=thumb_key,
            event_id=event.id if event else None,
        )
    )
    return written


def discard(keys: list[str]) -> None:
    """Remove files written for a transaction that did not commit."""
    store = photo_store()
    for key in keys:
        store.delete(key)
