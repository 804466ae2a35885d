"""The small rules of the text door: segments (GSM-7 vs UCS-2), the carrier keywords and
commands, and the shared-location links phones send."""

from __future__ import annotations

import pytest

from webapp.domain import sms_segments as segments
from webapp.domain.texting import keywords, location


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # an extension character takes two places
        ("€" * 81, "GSM-7", 162, 2),
        ("ñandú", "UCS-2", 5, 1),  # "ú" is not in the GSM-7 alphabet
        ("é" * 160, "GSM-7", 160, 1),  # "é" is
        ("x" * 70 + "á", "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        ("🕳" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("🕳" * 36, "UCS-2", 72, 2),
        ("يوجد حفرة", "UCS-2", 9, 1),
    ],
)
def test_segments_follow_the_gsm7_and_ucs2_limits(text, encoding, units, count):
    assert segments.measure(text) == segments.Measure(encoding, units, count)


def test_shorten_keeps_a_text_within_its_segments_at_a_word():
    long = "word " * 100
    cut = segments.shorten(long, 2)
    assert segments.segments(cut) == 2 and cut.endswith("...") and "wor..." not in cut
    assert segments.shorten("short", 2) == "short"
    emoji = "🕳" * 200
    assert segments.segments(segments.shorten(emoji, 1)) == 1


def test_folding_keeps_spanish_at_the_gsm7_price():
    folded = segments.fold_to_gsm7("¿Dónde está? Envíe una foto. Año, niño, pingüino 🕳")
    assert folded == "¿Donde esta? Envie una foto. Año, niño, pingüino 🕳"
    assert segments.is_gsm7(segments.fold_to_gsm7("¿Dónde está el reporte?"))


@pytest.mark.parametrize(
    ("text", "kind", "public_id", "spanish"),
    [
        ("STOP", "stop", None, False),
        (" stop. ", "stop", None, False),
        ("Parar", "stop", None, True),
        ("UNSUBSCRIBE", "stop", None, False),
        ("start", "start", None, False),
        ("HELP", "help", None, False),
        ("ayuda", "help", None, True),
        ("Español", "spanish", None, True),
        ("english", "english", None, False),
        ("skip", "skip", None, False),
        ("STATUS 311-000123", "status", "311-000123", False),
        ("311-000123", "status", "311-000123", False),
        ("estado 311 000123", "status", "311-000123", True),
        ("311-000123 NOT FIXED", "not_fixed", "311-000123", False),
        ("311-000123 no está arreglado", "not_fixed", "311-000123", True),
        ("stop sign knocked down on Main", "text", None, False),
        ("the pothole from 311-000123 is back, 2 more", "text", None, False),
    ],
)
def test_commands(text, kind, public_id, spanish):
    command = keywords.read(text)
    assert (command.kind, command.public_id, command.spanish) == (kind, public_id, spanish)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("geo:35.0456,-85.3097", (35.0456, -85.3097)),
        ("https://maps.google.com/?q=35.0456,-85.3097", (35.0456, -85.3097)),
        (
            "My location: https://maps.apple.com/?ll=35.0456,-85.3097&q=Dropped+Pin",
            (35.0456, -85.3097),
        ),
        ("https://www.google.com/maps/@35.0456,-85.3097,17z", (35.0456, -85.3097)),
        ("https://www.google.com/maps/search/?api=1&query=35.0456,-85.3097", (35.0456, -85.3097)),
        ("geo:135.0,-85.3", None),
        ("101 East 11th Street", None),
    ],
)
def test_shared_locations(text, point):
    assert location.shared_point(text) == point
