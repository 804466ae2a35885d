"""How many SMS segments a text costs: GSM-7 when every character is in the GSM 03.38
alphabet, else UCS-2.

A carrier bills (and a provider charges) per segment. One GSM-7 segment holds 160
characters, or 153 per segment once the text is split (the split header takes room);
the extension characters (``^{}\\[~]|€`` and form feed) take two places each. A text
with any other character (an accent outside the alphabet, an emoji, Arabic or Hebrew)
is sent as UCS-2: 70 UTF-16 units in one segment, 67 per segment when split, and an
emoji outside the Basic Multilingual Plane takes two units. Replies are written to stay
within ``TARGET_SEGMENTS``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)
TARGET_SEGMENTS = 2


@dataclass(frozen=True)
class Measure:
    """A text's encoding, its length in that encoding's units, and its segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM-7 alphabet (with extension)."""
    return all(ch in _BASIC or ch in _EXTENSION for ch in text)


def measure(text: str) -> Measure:
    """The encoding, units and segment count of ``text`` (an empty text is one segment)."""
    if is_gsm7(text):
        units = sum(2 if ch in _EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return Measure(encoding, units, 1)
    return Measure(encoding, units, -(-units // multi))


def segments(text: str) -> int:
    """How many segments ``text`` is sent as."""
    return measure(text).segments


def shorten(text: str, max_segments: int = TARGET_SEGMENTS) -> str:
    """``text`` cut (at a word, with "…") to fit in ``max_segments`` segments.

    The ellipsis is not GSM-7, so a cut GSM-7 text ends in "..." instead and keeps its
    cheaper encoding."""
    if segments(text) <= max_segments:
        return text
    mark = "..." if is_gsm7(text) else "…"
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words).rstrip(" ,.;:") + mark
        if segments(candidate) <= max_segments:
            return candidate
    cut = text
    while cut and segments(cut + mark) > max_segments:
        cut = cut[:-1]
    return cut + mark


def fold_to_gsm7(text: str) -> str:
    """Letters outside GSM-7 replaced by their unaccented form when that is in it ("á"
    → "a", "ó" → "o"; "é", "ñ", "ü" are GSM-7 and stay), as providers' "smart encoding"
    does, so a Spanish reply is not sent at the UCS-2 rate for one accent. Anything
    else (an emoji, another script) is kept: the text then stays UCS-2."""
    out = []
    for ch in text:
        if ch in _BASIC or ch in _EXTENSION:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch)[0]
        out.append(
            base if base in _BASIC else {"’": "'", "“": '"', "”": '"', "…": "..."}.get(ch, ch)
        )
    return "".join(out)
