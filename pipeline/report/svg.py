"""Hand-written SVG primitives: scales, time ticks and escaped elements, no plotting library."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

# Tick steps people read easily, in seconds.
_TIME_STEPS_S = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
    3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
)  # fmt: skip


@dataclass(frozen=True)
class Scale:
    """Linear map from a data interval onto a pixel interval (either may be reversed)."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float

    def __call__(self, value: float) -> float:
        """Pixel position of ``value`` (the middle when the data interval is empty)."""
        span = self.hi - self.lo
        fraction = 0.5 if span == 0 else (value - self.lo) / span
        return round(self.px_lo + fraction * (self.px_hi - self.px_lo), 2)


def time_scale(start_at: datetime, stop_at: datetime, px_lo: float, px_hi: float) -> Scale:
    """A Scale over epoch seconds of [start_at, stop_at]."""
    return Scale(start_at.timestamp(), stop_at.timestamp(), px_lo, px_hi)


def padded_bounds(values: Iterable[float], pad_fraction: float = 0.08) -> tuple[float, float]:
    """(low, high) around every finite value, padded so lines do not touch the frame."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    lo, hi = min(finite), max(finite)
    pad = (hi - lo) * pad_fraction or max(abs(hi) * pad_fraction, 1.0)
    return (lo - pad, hi + pad)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def time_ticks(start_at: datetime, stop_at: datetime, count: int = 6) -> list[datetime]:
    """Tick times on round boundaries (whole minutes, hours, ...) within the range."""
    span_s = (stop_at - start_at).total_seconds()
    step_s = next((s for s in _TIME_STEPS_S if span_s / s <= count), _TIME_STEPS_S[-1])
    first_s = math.ceil(start_at.timestamp() / step_s) * step_s
    last_s = stop_at.timestamp()
    return [
        datetime.fromtimestamp(first_s + i * step_s, tz=UTC)
        for i in range(int((last_s - first_s) // step_s) + 1)
    ]


def time_label(moment: datetime, span: timedelta) -> str:
    """``HH:MM`` (``HH:MM:SS`` for short spans, ``MM-DD HH:MM`` for long ones), UTC."""
    moment = moment.astimezone(UTC)
    if span <= timedelta(minutes=5):
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%H:%M" if span <= timedelta(days=1) else "%m-%d %H:%M")


def value_label(value: float) -> str:
    """Short number: 3 significant digits, thousands as k/M."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


def attributes(**attrs: str | float) -> str:
    """`` name="value"`` pairs, XML-escaped (``stroke_width`` → ``stroke-width``, ``class_``)."""
    return "".join(
        f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}"
        for name, value in attrs.items()
    )


def element(tag: str, text: str | None = None, **attrs: str | float) -> str:
    """One SVG element; attribute values and text are XML-escaped."""
    if text is None:
        return f"<{tag}{attributes(**attrs)}/>"
    return f"<{tag}{attributes(**attrs)}>{escape(text)}</{tag}>"


def text_pair(first: str, second: str, second_fill: str, **attrs: str | float) -> str:
    """Two runs of text on one line, the second in its own colour right after the first."""
    tail = attributes(dx=10, font_weight="normal", fill=second_fill)
    return f"<text{attributes(**attrs)}>{escape(first)}<tspan{tail}>{escape(second)}</tspan></text>"


def polyline(points: Sequence[tuple[float, float]], **attrs: str | float) -> str:
    """A polyline through pixel points (nothing for fewer than two)."""
    if len(points) < 2:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f"<polyline{attributes(points=coords, fill='none', **attrs)}/>"


def polygon(points: Sequence[tuple[float, float]], **attrs: str | float) -> str:
    """A closed polygon through pixel points (nothing for fewer than three)."""
    if len(points) < 3:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f"<polygon{attributes(points=coords, **attrs)}/>"


def document(width: int, height: int, body: Iterable[str], label: str) -> str:
    """A standalone inline ``<svg>`` with an accessible label."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(label)} '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">'
    )
    return head + "".join(body) + "</svg>"
