"""Small helpers for the panels' inline SVG: fixed number formatting, escaping, linear
scales with round ticks, and thinning of long step lines to what a pixel column can show.

Every number that reaches the markup goes through :func:`num` (one decimal, no exponent,
no ``-0.0``), so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape


def num(v: float) -> str:
    """A coordinate: one decimal place, never ``-0.0`` or an exponent."""
    s = f"{v:.1f}"
    return "0.0" if s == "-0.0" else s


def esc(text: object) -> str:
    """Text or an attribute value, escaped for HTML (quotes included)."""
    return escape(str(text), quote=True)


def seconds(t: float) -> str:
    """A virtual time for a label: milliseconds under a second, else seconds."""
    return f"{t * 1000:.3f} ms" if abs(t) < 1 else f"{t:.6f} s"


def attrs(pairs: Iterable[tuple[str, object | None]]) -> str:
    """`` name="value"`` for each pair whose value is not None, in the order given."""
    return "".join(f' {k}="{esc(v)}"' for k, v in pairs if v is not None)


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear map from a data interval onto a pixel interval (``p0`` may exceed ``p1``:
    an upward y axis)."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0
        if span == 0:
            return self.p0
        return self.p0 + (v - self.d0) * (self.p1 - self.p0) / span

    def clamp(self, v: float) -> float:
        lo, hi = min(self.p0, self.p1), max(self.p0, self.p1)
        return min(max(self(v), lo), hi)


def ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """About ``n`` round values (1, 2 or 5 × 10^k apart) between ``lo`` and ``hi``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out: list[float] = []
    v = first
    while v <= hi + step * 1e-9:
        out.append(round(v, 12))
        v += step
    return out


def tick_label(v: float, step_hint: float) -> str:
    """A tick's text: integers as such, otherwise as many decimals as the step needs."""
    if step_hint >= 1 and float(v).is_integer():
        return f"{int(v):,}"
    decimals = max(0, min(6, -math.floor(math.log10(step_hint)) if step_hint > 0 else 0))
    return f"{v:.{decimals}f}"


def _labelled_ticks(lo: float, hi: float, n: int) -> list[tuple[float, str]]:
    values = ticks(lo, hi, n)
    step = values[1] - values[0] if len(values) > 1 else 1.0
    return [(v, tick_label(v, step)) for v in values]


def _grid(x1: str, y1: str, x2: str, y2: str, tx: str, ty: str, anchor: str, label: str) -> str:
    """A grid line and its tick label."""
    return (
        f'<line class="mp-grid" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'
        f'<text class="mp-tick" x="{tx}" y="{ty}" text-anchor="{anchor}">{esc(label)}</text>'
    )


def axes(
    x: Scale, y: Scale, *, x_label: str, y_label: str, y_ticks: int = 5, x_ticks: int = 8
) -> str:
    """Grid, ticks and labels of a plot: ``x`` maps time, ``y`` its value."""
    out: list[str] = ['<g class="mp-axes">']
    left, right = min(x.p0, x.p1), max(x.p0, x.p1)
    top, bottom = min(y.p0, y.p1), max(y.p0, y.p1)
    for v, label in _labelled_ticks(x.d0, x.d1, x_ticks):
        px = num(x(v))
        out.append(_grid(px, num(top), px, num(bottom), px, num(bottom + 12), "middle", label))
    for v, label in _labelled_ticks(y.d0, y.d1, y_ticks):
        py, ty = num(y(v)), num(y(v) + 3)
        out.append(_grid(num(left), py, num(right), py, num(left - 4), ty, "end", label))
    out.append(
        f'<rect class="mp-frame" x="{num(left)}" y="{num(top)}" width="{num(right - left)}" '
        f'height="{num(bottom - top)}"/>'
    )
    out.append(
        f'<text class="mp-axis-label" x="{num((left + right) / 2)}" y="{num(bottom + 26)}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
    )
    out.append(
        f'<text class="mp-axis-label" x="{num(left)}" y="{num(top - 6)}" text-anchor="start">'
        f"{esc(y_label)}</text>"
    )
    out.append("</g>")
    return "".join(out)


def step_points(
    points: Sequence[tuple[float, float]], x: Scale, y: Scale, *, limit: int
) -> list[tuple[float, float]]:
    """The pixel vertices of a step line through ``points`` (time order): the value holds
    until the next point. Past ``limit`` points, each pixel column keeps only its first,
    lowest, highest and last vertex, which draws the same picture at this width."""
    verts: list[tuple[float, float]] = []
    prev: float | None = None
    for t, v in points:
        px, py = x(t), y.clamp(v)
        if prev is not None:
            verts.append((px, prev))
        verts.append((px, py))
        prev = py
    if len(points) <= limit:
        return _dedupe(verts)
    out: list[tuple[float, float]] = []
    col: list[tuple[float, float]] = []
    for vx in verts:
        if col and round(col[0][0]) != round(vx[0]):
            out += _column(col)
            col = []
        col.append(vx)
    out += _column(col)
    return _dedupe(out)


def _column(col: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(col) <= 4:
        return col
    lo = min(col, key=lambda p: p[1])
    hi = max(col, key=lambda p: p[1])
    keep = sorted({0, col.index(lo), col.index(hi), len(col) - 1})
    return [col[i] for i in keep]


def _dedupe(verts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    last = ("", "")
    for px, py in verts:
        key = (num(px), num(py))
        if key != last:
            out.append((px, py))
            last = key
    return out


def svg_open(cls: str, width: int, height: int, *extra: tuple[str, object | None]) -> str:
    """The opening ``<svg>`` tag of a plot ``width`` × ``height`` pixels."""
    return (
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img"{attrs(extra)}>'
    )


def polyline(verts: Sequence[tuple[float, float]], cls: str, extra: str = "") -> str:
    if not verts:
        return ""
    pts = " ".join(f"{num(a)},{num(b)}" for a, b in verts)
    return f'<polyline class="{cls}" points="{pts}"{extra}/>'
