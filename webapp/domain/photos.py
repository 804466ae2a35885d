"""The photo pipeline (Pillow): sniff, check, orient, strip, derive, store.

Only sanitized derivatives are kept: a display image (long edge ≤ 1600 px) and a
thumbnail (≤ 400 px), both JPEG without metadata, stored under their content hash.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps

from webapp.domain.errors import DomainError
from webapp.domain.storage import photo_store
from webapp.extensions import db
from webapp.models import Photo, PhotoKind, RequestEvent, ServiceRequest

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
DISPLAY_EDGE = 1600
THUMB_EDGE = 400
JPEG_QUALITY = 82


@dataclass
class ProcessedPhoto:
    """A photo ready to store: two JPEG derivatives and what was learned from it."""

    sha256: str
    width: int
    height: int
    display: bytes
    thumbnail: bytes
    gps: tuple[float, float] | None = None


def _refuse(message: str) -> DomainError:
    return DomainError(message, field="photos", status=422)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def process(data: bytes) -> ProcessedPhoto:
    """Turn uploaded bytes into sanitized derivatives, or refuse with a clear message."""
    if not data:
        raise _refuse(_("That photo is empty. Please choose it again."))
    max_pixels = current_app.config.get("MAX_PHOTO_PIXELS", 50_000_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = max_pixels
            try:
                image = Image.open(io.BytesIO(data))
                if image.format not in ACCEPTED_FORMATS:
                    raise _refuse(_("Please send a JPEG, PNG or WebP photo."))
                if image.width * image.height > max_pixels:
                    raise _refuse(_("That photo has too many pixels. Please send a smaller one."))
                image.draft("RGB", (DISPLAY_EDGE, DISPLAY_EDGE))
                image.load()
            finally:
                Image.MAX_IMAGE_PIXELS = previous_limit
    except DomainError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _refuse(_("That photo has too many pixels. Please send a smaller one.")) from None
    except (OSError, SyntaxError, ValueError):
        raise _refuse(_("That file is not a photo we can read, or it is incomplete.")) from None
    image = ImageOps.exif_transpose(image)
    image = _to_rgb(image)
    image.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE))
    display = _encode(image)
    image.thumbnail((THUMB_EDGE, THUMB_EDGE))
    thumbnail = _encode(image)
    width, height = Image.open(io.BytesIO(display)).size
    return ProcessedPhoto(hashlib.sha256(display).hexdigest(), width, height, display, thumbnail)


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
    """Store a processed photo's files and add its row; returns keys newly written."""
    display_key, thumb_key = keys_for(photo.sha256)
    store = photo_store()
    written = [
        key
        for key, data in ((display_key, photo.display), (thumb_key, photo.thumbnail))
        if store.put(key, data)
    ]
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
