"""Server-side SVG charts: geometry here, markup in ``templates/partials/*.svg.html``.

No chart library and no script: the page gets plain SVG (autoescaped labels), which
prints, scales and reads out to screen readers through its title and a data table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarChart", "Interval", "IntervalChart", "bar_chart", "interval_chart"]

WIDTH = 640
HEIGHT = 220
LEFT = 48
BOTTOM = 36
TOP = 12


@dataclass(frozen=True)
class Bar:
    """One bar: position and size in SVG units, with its labels."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str


@dataclass(frozen=True)
class BarChart:
    """A vertical bar chart (e.g. labels per day)."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    """``(y, text)`` of the horizontal grid lines."""
    baseline: float
    left: int


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def bar_chart(points: Sequence[tuple[str, float]], *, digits: int = 0) -> BarChart:
    """Lay out ``(label, value)`` points as bars on a 0-based axis."""
    top_value = _nice_max(max((value for _, value in points), default=0.0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - 8) / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * (value / top_value)
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=TOP + plot_height - height,
                width=slot * 0.7,
                height=height,
                label=label,
                value_text=f"{value:,.{digits}f}",
            )
        )
    ticks = tuple(
        (TOP + plot_height * (1 - share), f"{top_value * share:,.0f}") for share in (0.0, 0.5, 1.0)
    )
    return BarChart(WIDTH, HEIGHT, tuple(bars), ticks, TOP + plot_height, LEFT)


@dataclass(frozen=True)
class Interval:
    """One estimate with its interval, as a dot and a whisker on a -1..1 axis."""

    y: float
    x: float
    x_low: float | None
    x_high: float | None
    label: str
    value_text: str


@dataclass(frozen=True)
class IntervalChart:
    """Agreement statistics with confidence intervals (horizontal, -1 to 1)."""

    width: int
    height: int
    rows: tuple[Interval, ...]
    zero_x: float
    left: int
    right: int
    ticks: tuple[tuple[float, str], ...]


def interval_chart(
    rows: Sequence[tuple[str, float, float | None, float | None]],
) -> IntervalChart:
    """Lay out ``(label, value, ci_low, ci_high)`` rows on a -1..1 axis."""
    left, right, row_height = 180, WIDTH - 20, 28

    def x_of(value: float) -> float:
        clipped = max(-1.0, min(1.0, value))
        return left + (clipped + 1) / 2 * (right - left)

    laid = tuple(
        Interval(
            y=TOP + index * row_height + row_height / 2,
            x=x_of(value),
            x_low=x_of(low) if low is not None else None,
            x_high=x_of(high) if high is not None else None,
            label=label,
            value_text=f"{value:.3f}",
        )
        for index, (label, value, low, high) in enumerate(rows)
    )
    height = TOP + len(rows) * row_height + BOTTOM
    ticks = tuple((x_of(v), f"{v:g}") for v in (-1.0, -0.5, 0.0, 0.5, 1.0))
    return IntervalChart(WIDTH, height, laid, x_of(0.0), left, right, ticks)
