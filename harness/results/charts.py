"""The report's charts (matplotlib, drawn off-screen): verdicts, fault categories, triage times
and a device's current draw from power-on.

Each chart is built as a ``Figure`` (so tests read its axes: integer ticks, the legend clear of
the bars, the current limit inside the plot) and turned into a base64 PNG by :func:`png`, which
the HTML embeds so the report opens offline with no file beside it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.results.rfi import ORDER, RfiFigures, group_of
from harness.results.store import DeviceRow
from harness.triage.current_trace import CurrentTrace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

VERDICTS = ("NO_FAULT_FOUND", "FAULT", "INCONCLUSIVE", "SKIPPED", "ABORTED")
COLOURS = {"NO_FAULT_FOUND": "#4a4", "FAULT": "#c33", "INCONCLUSIVE": "#e90",
           "SKIPPED": "#999", "ABORTED": "#636"}
IDLE_ENVELOPE_MEASUREMENT = "standby_current"
"""The measurement whose limits are the model's idle envelope (TRI-PWR-02, test_25_standby)."""
MARGIN = 2.0
"""How far (a factor) the current axis reaches beyond the lowest and highest current shown."""


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A new figure on the off-screen backend (a report is drawn where there is no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def _whole_devices(axis: Axis) -> None:
    """Ticks at whole devices only: a count axis never shows 0.5 of a device."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def png(fig: Figure) -> str:
    """The figure as a base64 PNG, and the figure closed (charts are made by the hundred)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def verdict_figure(rows: Sequence[DeviceRow], figures: RfiFigures) -> Figure:
    """Stacked verdicts per RFI group; the legend (verdicts present only) beside the plot."""
    fig, ax = _figure(6.8, 3.2)
    groups = [g for g in ORDER if g in figures.groups]
    labels = [g.replace(" ", "\n", 1) for g in groups]  # "Communications\nHubs": no overlap
    bottom = [0] * len(groups)
    for verdict in VERDICTS:
        counts = [sum(1 for r in rows if group_of(r.device_type) == g and r.verdict == verdict)
                  for g in groups]
        if not any(counts):
            continue
        ax.bar(labels, counts, bottom=bottom, label=verdict.replace("_", " ").lower(),
               color=COLOURS[verdict])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("devices")
    _whole_devices(ax.yaxis)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)  # hides no bar
    fig.tight_layout()
    return fig


def category_figure(figures: RfiFigures) -> Figure:
    """Devices found FAULT, by strongest fault category."""
    cats = figures.faults_by_category.most_common()
    fig, ax = _figure(6.8, max(2.0, 0.4 * len(cats) + 1))
    if cats:
        ax.barh([c for c, _ in reversed(cats)], [n for _, n in reversed(cats)], color="#c33")
    else:
        ax.text(0.5, 0.5, "no faults", ha="center", va="center")
    ax.set_xlabel("devices")
    _whole_devices(ax.xaxis)
    fig.tight_layout()
    return fig


def duration_figure(rows: Sequence[DeviceRow]) -> Figure:
    """How long each device took, as a histogram."""
    fig, ax = _figure(6.8, 3)
    ax.hist([r.duration_s for r in rows] or [0.0], bins=min(30, max(5, len(rows) // 5)),
            color="#48c")
    ax.set_xlabel("triage time per device (s)")
    ax.set_ylabel("devices")
    _whole_devices(ax.yaxis)
    fig.tight_layout()
    return fig


def idle_envelope(row: DeviceRow) -> tuple[float, float] | None:
    """The idle current envelope the device was held to, from its stored measurement."""
    for m in row.measurements:
        if m.name == IDLE_ENVELOPE_MEASUREMENT and m.low is not None and m.high is not None:
            return m.low, m.high
    return None


def current_span(trace: CurrentTrace, envelope: tuple[float, float] | None
                 ) -> tuple[float, float]:
    """The current axis (log) of a trace's chart: from a little below the smallest current
    drawn (or the envelope's floor) to a little above the peak, the envelope and the limit."""
    positive = [a for a in trace.amps if a > 0]
    lows = [*positive, *([envelope[0]] if envelope and envelope[0] > 0 else [])]
    highs = [*positive, *(envelope[1:] if envelope else ()),
             *([trace.current_limit_a] if trace.current_limit_a else [])]
    floor = min(lows) / MARGIN if lows else 1e-6
    top = max(highs) * MARGIN if highs else 1.0
    return floor, top


def trace_figure(row: DeviceRow) -> Figure | None:
    """The device's current draw from power-on with its limits, or None if not captured.

    A log current axis from a little below the smallest current drawn (or the idle envelope's
    floor) to a little above the largest of the peak, the envelope and the supply's current
    limit, so inrush, idle (down to 0.1 mA for a gas meter) and the limit line all sit inside
    the plot and no decade is spent on negative currents. A sample of 0 A (unpowered) is drawn
    on the floor of the axis with its own marker.
    """
    trace = row.current_trace
    if trace is None:
        return None
    times = [t for t, _ in trace.samples]
    amps = list(trace.amps)
    envelope = idle_envelope(row)
    floor, top = current_span(trace, envelope)
    fig, ax = _figure(11, 3.6)
    ax.plot(times, [a if a > floor else floor for a in amps], color="#48c", marker=".",
            markersize=3, linewidth=1, label="supply current")
    zeros = [(t, floor) for t, a in zip(times, amps, strict=True) if a <= 0]
    if zeros:
        ax.plot(*zip(*zeros, strict=True), linestyle="none", marker="v", color="#666",
                markersize=5, label="0 A (drawn on the floor)")
    if envelope is not None:
        ax.axhspan(max(envelope[0], floor), envelope[1], color="#4a4", alpha=0.2,
                   label=f"idle envelope {envelope[0]:.4g}–{envelope[1]:.4g} A")
    if trace.current_limit_a is not None:
        ax.axhline(trace.current_limit_a, color="#c33", linestyle="--",
                   label=f"supply current limit {trace.current_limit_a:.4g} A")
    ax.set_yscale("log")
    ax.set_ylim(floor, top)
    ax.set_xlim(left=min(0.0, times[0]))  # from power-on
    ax.set_xlabel("seconds since power-on")
    ax.set_ylabel("current (A)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def index_charts(rows: Sequence[DeviceRow], figures: RfiFigures) -> dict[str, str]:
    """The index's charts: title -> base64 PNG."""
    return {"Verdicts by device type": png(verdict_figure(rows, figures)),
            "Fault categories": png(category_figure(figures)),
            "Triage time distribution": png(duration_figure(rows))}
