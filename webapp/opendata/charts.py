"""Bar geometry for the accessible SVG charts of /stats (drawn by the template)."""

from __future__ import annotations

from dataclasses import dataclass

CHART_WIDTH = 640
CHART_HEIGHT = 180
GAP = 1


@dataclass
class Bar:
    """One bar: where it is drawn and the value it stands for (None: no data)."""

    x: float
    y: float
    width: float
    height: float
    value: float | None
    label: str


def column_bars(points: list[tuple[str, float | None]], top: float | None = None) -> list[Bar]:
    """Vertical bars across the chart's width, scaled to ``top`` (or the largest value)."""
    if not points:
        return []
    values = [v for _, v in points if v is not None]
    scale_top = top or (max(values) if values else 1) or 1
    step = CHART_WIDTH / len(points)
    bars = []
    for index, (label, value) in enumerate(points):
        height = 0.0 if value is None else CHART_HEIGHT * min(value / scale_top, 1)
        bars.append(
            Bar(
                x=round(index * step, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(max(step - GAP, 1), 2),
                height=round(height, 2),
                value=value,
                label=label,
            )
        )
    return bars


def row_bars(points: list[tuple[str, float]], row_height: float = 28) -> list[Bar]:
    """Horizontal bars, one per row, scaled to the largest value."""
    top = max((v for _, v in points), default=0) or 1
    return [
        Bar(
            x=0,
            y=index * row_height,
            width=round(CHART_WIDTH * 0.7 * value / top, 2),
            height=row_height - 8,
            value=value,
            label=label,
        )
        for index, (label, value) in enumerate(points)
    ]
