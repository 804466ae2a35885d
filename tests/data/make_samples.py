"""Make the photo samples the tests send through the pipeline, with Pillow.

    python tests/data/make_samples.py            # the small samples, into tests/data/
    python tests/data/make_samples.py DIR --big  # also the big ones, into DIR

The small samples are committed; the big ones (a 20 MB file, a decompression bomb)
are made into a temporary folder by a session fixture instead of being committed.
``SAMPLES`` says what the pipeline must do with each one.
"""

from __future__ import annotations

import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
# Inside the test city of tests/factories.py (35.0–35.1 N, 85.25–85.35 W).
GPS_LAT = (35.0, 2.0, 42.0)  # 35.045 N
GPS_LONG = (85.0, 18.0, 36.0)  # 85.31 W
POLYGLOT_MARKUP = b"<html><body><script>alert(document.cookie)</script></body></html>"


@dataclass(frozen=True)
class Sample:
    """A sample file and what the pipeline must do with it.

    ``size`` is the expected display size when accepted; ``reason`` and ``status`` the
    expected refusal otherwise.
    """

    name: str
    size: tuple[int, int] | None = None
    reason: str | None = None
    status: int = 422
    big: bool = False


SAMPLES = [
    Sample("orientation6_gps.jpg", size=(600, 800)),
    Sample("cmyk.jpg", size=(640, 480)),
    Sample("gray16.png", size=(512, 256)),
    Sample("alpha.png", size=(300, 200)),
    Sample("progressive.jpg", size=(1600, 1200)),
    Sample("photo.webp", size=(400, 300)),
    Sample("tall_1x100000.png", size=(1, 1600)),
    Sample("text.jpg", reason="not_a_photo"),
    Sample("drawing.svg", reason="unsupported_type"),
    Sample("polyglot.jpg", reason="hidden_markup"),
    Sample("truncated.jpg", reason="unreadable"),
    Sample("empty.jpg", reason="empty"),
    Sample("animated.gif", reason="unsupported_type"),
    Sample("animated.png", reason="animated"),
    Sample("iphone.heic", reason="unsupported_type"),
    Sample("bomb.png", reason="too_many_pixels", big=True),
    Sample("big_20mb.jpg", reason="too_large", status=413, big=True),
]


def _jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def scene(size: tuple[int, int]) -> Image.Image:
    """A photo-like RGB picture: sky, road, a dark pothole and some noise."""
    width, height = size
    image = Image.new("RGB", size, (135, 170, 205))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height // 2, width, height), fill=(90, 90, 95))
    draw.ellipse((width // 3, height * 2 // 3, width // 2, height * 5 // 6), fill=(30, 28, 25))
    draw.rectangle((0, 0, width // 10, height // 10), fill=(220, 30, 30))
    noise = Image.effect_noise(size, 24).convert("RGB")
    return Image.blend(image, noise, 0.15)


def orientation6_gps() -> bytes:
    """Stored 800×600 (sideways) with EXIF orientation 6, GPS inside the city, a comment."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    exif[0x8825] = {1: "N", 2: GPS_LAT, 3: "W", 4: GPS_LONG}
    return _jpeg(scene((800, 600)), exif=exif.tobytes(), quality=85)


def cmyk() -> bytes:
    """A CMYK JPEG (as print workflows and some scanners write)."""
    return _jpeg(scene((640, 480)).convert("CMYK"), quality=85)


def gray16() -> bytes:
    """A 16-bit grayscale PNG: a left-to-right ramp over the full 0–65535 range."""
    image = Image.new("I;16", (512, 256))
    image.putdata([(x * 65535) // 511 for _ in range(256) for x in range(512)])
    return _png(image)


def alpha() -> bytes:
    """An RGBA PNG: a transparent frame around an opaque blue square."""
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 50, 200, 150), fill=(20, 60, 200, 255))
    return _png(image)


def progressive() -> bytes:
    """A 2000×1500 progressive JPEG."""
    return _jpeg(scene((2000, 1500)), quality=85, progressive=True)


def webp() -> bytes:
    """A small lossy WebP."""
    out = io.BytesIO()
    scene((400, 300)).save(out, "WEBP", quality=80)
    return out.getvalue()


def tall() -> bytes:
    """A 1×100000 PNG: absurdly thin, but few pixels."""
    return _png(Image.new("L", (1, 100_000), 128))


def text() -> bytes:
    """A text file named like a photo."""
    return b"This is not a photo, just some words in a file called text.jpg.\n"


def svg() -> bytes:
    """An SVG drawing with a script in it."""
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>\n'
    )


def polyglot() -> bytes:
    """A valid JPEG that is also a web page: HTML with a script in its comment segment."""
    return _jpeg(scene((320, 240)), quality=80, comment=POLYGLOT_MARKUP)


def truncated() -> bytes:
    """The first 40% of a JPEG: the header is fine, the picture data stops short."""
    data = _jpeg(scene((640, 480)), quality=85)
    return data[: len(data) * 2 // 5]


def animated_gif() -> bytes:
    """A two-frame animated GIF."""
    frames = [Image.new("P", (50, 50), colour) for colour in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def animated_png() -> bytes:
    """A two-frame animated PNG (APNG)."""
    frames = [Image.new("RGB", (50, 50), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def heic() -> bytes:
    """The start of an iPhone HEIC file (its ``ftyp`` box), which we do not decode."""
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)


def bomb() -> bytes:
    """A decompression bomb: a 20000×20000 (400 megapixel) 1-bit PNG of about 50 KB."""
    return _png(Image.new("1", (20_000, 20_000)), optimize=True)


def big_20mb() -> bytes:
    """A 20 MB file that starts as a real JPEG (a camera original, padded)."""
    head = _jpeg(scene((640, 480)), quality=90)
    return head + random.Random(20).randbytes(20 * 1024 * 1024 - len(head))


MAKERS = {
    "orientation6_gps.jpg": orientation6_gps,
    "cmyk.jpg": cmyk,
    "gray16.png": gray16,
    "alpha.png": alpha,
    "progressive.jpg": progressive,
    "photo.webp": webp,
    "tall_1x100000.png": tall,
    "text.jpg": text,
    "drawing.svg": svg,
    "polyglot.jpg": polyglot,
    "truncated.jpg": truncated,
    "empty.jpg": lambda: b"",
    "animated.gif": animated_gif,
    "animated.png": animated_png,
    "iphone.heic": heic,
    "bomb.png": bomb,
    "big_20mb.jpg": big_20mb,
}


def make(directory: Path, *, big: bool) -> list[Path]:
    """Write the small samples (and the big ones when asked) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in SAMPLES:
        if sample.big and not big:
            continue
        path = directory / sample.name
        path.write_bytes(MAKERS[sample.name]())
        written.append(path)
    return written


def make_big(directory: Path) -> dict[str, Path]:
    """Write only the big samples into ``directory``; returns them by name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for sample in SAMPLES:
        if sample.big:
            paths[sample.name] = directory / sample.name
            paths[sample.name].write_bytes(MAKERS[sample.name]())
    return paths


def main(argv: list[str]) -> None:
    """Command line: ``[DIR] [--big]``."""
    big = "--big" in argv
    args = [a for a in argv if a != "--big"]
    directory = Path(args[0]) if args else HERE
    for path in make(directory, big=big):
        print(f"{path.stat().st_size:>10}  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
