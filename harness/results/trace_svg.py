"""A device's current draw from power-on as inline SVG, for the report's device pages.

The report draws one chart per device: at 10,000 devices a matplotlib PNG (about 0.2 s each)
alone would take over half an hour, so the page gets the same chart (the same log current axis
from ``charts.current_span``, idle envelope, supply current limit, 0 A samples on the floor)
written directly as SVG text in about a millisecond. It stays self-contained: the page opens
offline, mailed or archived, with nothing beside it. The console keeps its PNG (``charts``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from markupsafe import Markup, escape

from harness.results.charts import current_span, idle_envelope
from harness.results.store import DeviceRow

WIDTH, HEIGHT = 990, 324
LEFT, RIGHT, TOP, BOTTOM = 64, 250, 10, 44  # margins: the legend sits right of the plot
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
LINE, ENVELOPE, LIMIT, ZERO = "#48c", "#4a4", "#c33", "#666"


def _num(value: float) -> str:
    """A coordinate, short (0.1 px is finer than any screen shows)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _x_ticks(low: float, high: float) -> Iterator[float]:
    """Round seconds from ``low`` to ``high``: steps of 1, 2 or 5 times a power of ten, at
    most about eight of them."""
    span = high - low
    base = 10 ** math.floor(math.log10(span / 8))
    step = next(m * base for m in (1, 2, 5, 10) if span / (m * base) <= 8)
    tick = math.ceil(low / step) * step
    while tick <= high + step * 1e-9:
        yield 0.0 if abs(tick) < step * 1e-9 else tick
        tick += step


def trace_svg(row: DeviceRow) -> Markup | None:
    """The device's current draw from power-on with its limits as an ``<svg>`` element, or
    None if no trace was captured. The axis range is ``data-floor``/``data-top`` on the root."""
    trace = row.current_trace
    if trace is None or not trace.samples:
        return None
    envelope = idle_envelope(row)
    floor, top = current_span(trace, envelope)
    times = [t for t, _ in trace.samples]
    x0, x1 = min(0.0, times[0]), times[-1]
    if x1 <= x0:
        x1 = x0 + 1.0
    decades = math.log10(top) - math.log10(floor)

    def x(t: float) -> float:
        return LEFT + (t - x0) / (x1 - x0) * PLOT_W

    def y(amps: float) -> float:
        return TOP + (math.log10(top) - math.log10(max(amps, floor))) / decades * PLOT_H

    out = [f'<svg class="trace" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
           f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="Current draw from power-on" data-floor="{floor:.6g}" '
           f'data-top="{top:.6g}" font-family="sans-serif" font-size="11">']
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="none" '
               'stroke="#333"/>')
    legend: list[tuple[str, str]] = [
        (f'<line x1="0" y1="0" x2="18" y2="0" stroke="{LINE}" stroke-width="1.5"/>',
         "supply current")]
    if envelope is not None:
        band_low, band_high = max(envelope[0], floor), min(envelope[1], top)
        out.append(f'<rect class="envelope" x="{LEFT}" y="{_num(y(band_high))}" '
                   f'width="{PLOT_W}" height="{_num(y(band_low) - y(band_high))}" '
                   f'fill="{ENVELOPE}" fill-opacity="0.2"/>')
        legend.append((f'<rect x="0" y="-5" width="18" height="10" fill="{ENVELOPE}" '
                       'fill-opacity="0.2"/>',
                       f"idle envelope {envelope[0]:.4g}\u2013{envelope[1]:.4g} A"))
    for k in range(math.ceil(math.log10(floor) - 1e-9), math.floor(math.log10(top)) + 1):
        at = _num(y(10.0 ** k))
        out.append(f'<line x1="{LEFT}" y1="{at}" x2="{LEFT + PLOT_W}" y2="{at}" '
                   'stroke="#ccc" stroke-width="0.6"/>'
                   f'<text x="{LEFT - 4}" y="{at}" text-anchor="end" '
                   f'dominant-baseline="middle">{10.0 ** k:g}</text>')
    for t in _x_ticks(x0, x1):
        at = _num(x(t))
        out.append(f'<line x1="{at}" y1="{TOP + PLOT_H}" x2="{at}" y2="{TOP + PLOT_H + 4}" '
                   f'stroke="#333"/><text x="{at}" y="{TOP + PLOT_H + 15}" '
                   f'text-anchor="middle">{t:g}</text>')
    if trace.current_limit_a is not None:
        at = _num(y(trace.current_limit_a))
        out.append(f'<line class="limit" data-amps="{trace.current_limit_a:.6g}" '
                   f'x1="{LEFT}" y1="{at}" x2="{LEFT + PLOT_W}" y2="{at}" stroke="{LIMIT}" '
                   'stroke-dasharray="6 4" stroke-width="1.2"/>')
        legend.append((f'<line x1="0" y1="0" x2="18" y2="0" stroke="{LIMIT}" '
                       'stroke-dasharray="6 4"/>',
                       f"supply current limit {trace.current_limit_a:.4g} A"))
    points = " ".join(f"{_num(x(t))},{_num(y(a))}" for t, a in trace.samples)
    out.append(f'<polyline class="current" points="{points}" fill="none" stroke="{LINE}" '
               'stroke-width="1.2"/>')
    out.extend(f'<circle cx="{_num(x(t))}" cy="{_num(y(a))}" r="1.6" fill="{LINE}"/>'
               for t, a in trace.samples if a > 0)
    zeros = [(t, a) for t, a in trace.samples if a <= 0]
    for t, _ in zeros:
        cx, cy = x(t), TOP + PLOT_H
        out.append(f'<path class="zero" d="M{_num(cx - 4)},{_num(cy - 7)}h8l-4,7z" '
                   f'fill="{ZERO}"/>')
    if zeros:
        legend.append((f'<path d="M5,-4h8l-4,7z" fill="{ZERO}"/>', "0 A (drawn on the floor)"))
    for i, (mark, text) in enumerate(legend):
        ly = TOP + 8 + 18 * i
        out.append(f'<g transform="translate({LEFT + PLOT_W + 12},{ly})">{mark}'
                   f'<text x="24" y="0" dominant-baseline="middle">{escape(text)}</text></g>')
    out.append(f'<text x="{LEFT + PLOT_W / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle">'
               'seconds since power-on</text>'
               f'<text transform="translate(14,{TOP + PLOT_H / 2:.0f}) rotate(-90)" '
               'text-anchor="middle">current (A)</text></svg>')
    return Markup("".join(out))
