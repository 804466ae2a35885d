"""The city's colours: parsed from the pack and checked for WCAG AA contrast, so a
city cannot ship a header nobody can read."""

from __future__ import annotations

import re

HEX = re.compile(r"^#([0-9a-fA-F]{6})$")
AA_NORMAL_TEXT = 4.5


def parse_hex(value: object) -> tuple[int, int, int] | None:
    """(r, g, b) from ``#rrggbb``, or None."""
    match = HEX.match(value) if isinstance(value, str) else None
    if not match:
        return None
    raw = match.group(1)
    return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
