"""The photo pipeline without HTTP: sniffing, limits, draft decoding, metadata, storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, JpegImagePlugin

from tests.data import make_samples
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import photos
from webapp.domain.lifecycle.storage import FileStore

DATA = Path(make_samples.__file__).resolve().parent


@pytest.fixture
def ctx(app):
    """A request context, so refusals can be translated."""
    with app.test_request_context():
        yield app


def jpeg(size: tuple[int, int], **options) -> bytes:
    """A noisy JPEG of ``size``."""
    out = io.BytesIO()
    make_samples.scene(size).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"\xff\xd8\xff\xe0rest", "JPEG"),
        (b"\x89PNG\r\n\x1a\nrest", "PNG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
    ],
)
def test_sniff_names_accepted_types_from_their_bytes(ctx, head, kind):
    assert photos.sniff(head) == kind


@pytest.mark.parametrize(
    "head, reason, named",
    [
        (b"GIF89a....", "unsupported_type", "GIF"),
        (b"%PDF-1.7", "unsupported_type", "PDF"),
        (b"\x00\x00\x00\x18ftypheic", "unsupported_type", "HEIC"),
        (b'  <?xml version="1.0"?><svg>', "unsupported_type", "SVG"),
        (b"BM\x00\x00", "unsupported_type", "BMP"),
        (b"<html><body>hi</body></html>", "not_a_photo", "JPEG, PNG or WebP"),
        (b"hello", "not_a_photo", "JPEG, PNG or WebP"),
    ],
)
def test_sniff_refuses_everything_else_by_name(ctx, head, reason, named):
    with pytest.raises(DomainError) as refused:
        photos.sniff(head)
    assert refused.value.details["reason"] == reason
    assert named in refused.value.message


def test_twelve_megapixel_jpeg_is_decoded_at_half_scale(ctx, monkeypatch):
    decoded = []
    original = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    result = photos.process(jpeg((4000, 3000)))
    assert decoded[0] == (2000, 1500)
    assert (result.width, result.height) == (1600, 1200)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (400, 300)


@pytest.mark.parametrize(
    "size, draft",
    [((4000, 3000), (1600, 1200)), ((3000, 4000), (1200, 1600)), ((1000, 10), (1600, 16))],
)
def test_draft_size_keeps_the_aspect_and_covers_the_display_edge(size, draft):
    assert photos._draft_size(*size, 1600) == draft


def test_small_photos_are_never_enlarged(ctx):
    result = photos.process(jpeg((320, 200)))
    assert (result.width, result.height) == (320, 200)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (320, 200)


def test_pixel_limit_comes_from_configuration(ctx):
    ctx.config["MAX_PHOTO_PIXELS"] = 1_000_000
    with pytest.raises(DomainError) as refused:
        photos.process((DATA / "progressive.jpg").read_bytes())
    assert refused.value.details["reason"] == "too_many_pixels"


def test_pillow_bomb_warning_is_an_error(ctx):
    ctx.config["MAX_PHOTO_PIXELS"] = 10**9
    out = io.BytesIO()
    Image.new("1", (10_000, 9_500)).save(out, "PNG")  # over Pillow's warning threshold
    with pytest.raises(DomainError) as refused:
        photos.process(out.getvalue())
    assert refused.value.details["reason"] == "too_many_pixels"


def test_photo_size_limit_comes_from_configuration(ctx):
    ctx.config["MAX_PHOTO_MB"] = 0
    with pytest.raises(DomainError) as refused:
        photos.process((DATA / "cmyk.jpg").read_bytes())
    assert refused.value.status == 413


def test_gps_is_read_then_every_piece_of_metadata_is_dropped(ctx):
    source = (DATA / "orientation6_gps.jpg").read_bytes()
    assert b"TestCam" in source
    result = photos.process(source)
    assert result.gps == (35.045, -85.31)
    for derivative in (result.display, result.thumbnail):
        assert b"TestCam" not in derivative and b"Exif" not in derivative
        image = Image.open(io.BytesIO(derivative))
        assert not image.getexif() and "icc_profile" not in image.info


def _with_gps(gps: dict) -> Image.Image:
    exif = Image.Exif()
    exif[0x8825] = gps
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif.tobytes())
    return Image.open(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize(
    "gps, expected",
    [
        ({1: "S", 2: (33.0, 52.0, 4.8), 3: "E", 4: (151.0, 12.0, 36.0)}, (-33.868, 151.21)),
        ({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}, None),
        ({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)}, None),
        ({1: "N", 3: "W"}, None),
    ],
)
def test_read_gps_handles_hemispheres_and_junk(gps, expected):
    assert photos.read_gps(_with_gps(gps)) == expected


def test_same_photo_twice_has_the_same_content_hash(ctx):
    data = (DATA / "cmyk.jpg").read_bytes()
    assert photos.process(data).sha256 == photos.process(data).sha256


def test_deleting_the_last_file_removes_its_empty_folders(tmp_path):
    store = FileStore(tmp_path)
    assert store.put("ab/cd/one.jpg", b"1") and store.put("ab/ef/two.jpg", b"2")
    assert not store.put("ab/cd/one.jpg", b"1")
    store.delete("ab/cd/one.jpg")
    assert not (tmp_path / "ab" / "cd").exists() and (tmp_path / "ab" / "ef").exists()
    store.delete("ab/ef/two.jpg")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        store.put("../escape.jpg", b"x")


@pytest.mark.parametrize(
    "build",
    [
        lambda: jpeg((64, 48), comment=b"<script>alert(1)</script>"),
        lambda: jpeg((64, 48)) + b"<!DOCTYPE html><html><body>hi</body></html>",
        lambda: jpeg((64, 48), progressive=True) + b"<SVG onload=alert(1)>",
    ],
    ids=["comment", "after-end", "after-end-progressive"],
)
def test_markup_hidden_in_a_jpeg_is_refused(ctx, build):
    with pytest.raises(DomainError) as refused:
        photos.process(build())
    assert refused.value.details["reason"] == "hidden_markup"
