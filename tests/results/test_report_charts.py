"""The report's charts, read through their matplotlib axes: whole-device ticks, a legend that
covers no bar, and a current axis with no negative decades that holds the limit line."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator

import matplotlib
import pytest
from _results_sample import T0, sample

from harness.results.charts import (
    category_figure,
    duration_figure,
    trace_figure,
    verdict_figure,
)
from harness.results.rfi import rfi_figures
from harness.results.store import DeviceRow, MeasurementRow
from harness.triage.current_trace import CurrentTrace

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _row(i: int, **changes: object) -> DeviceRow:
    record, verdict = sample(i)
    row = DeviceRow(id=i + 1, campaign_id=1, item_key=record.key, slot=None,
                    device_id=f"{i:016X}", device_type=record.device_type, model="M",
                    label_id=None, verdict=verdict.kind.value, category=verdict.category,
                    duis_return_reason=None, reset=verdict.reset, why=verdict.why, started=T0,
                    finished=T0, duration_s=3.0 + i, operator="ann", role="Supplier",
                    bench="b", transcript=None, evidence={})
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


ROWS = [_row(i) for i in range(3)]  # one device per type: counts of 0 and 1 only


def _whole(ticks: Iterable[float]) -> bool:
    return all(float(t).is_integer() for t in ticks)


def test_count_axes_tick_at_whole_devices() -> None:
    figures = rfi_figures(ROWS)
    assert _whole(verdict_figure(ROWS, figures).axes[0].get_yticks())
    faulty = [dataclasses.replace(r, verdict="FAULT", category="HAN") for r in ROWS[:1]]
    assert _whole(category_figure(rfi_figures(faulty)).axes[0].get_xticks())
    assert _whole(duration_figure(ROWS).axes[0].get_yticks())


def test_verdict_legend_covers_no_bar() -> None:
    rows = [_row(i) for i in range(9)]
    fig = verdict_figure(rows, rfi_figures(rows))
    fig.canvas.draw()
    [ax] = fig.axes
    legend = ax.get_legend().get_window_extent()
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0]
    assert bars and not any(legend.overlaps(bar) for bar in bars)
    assert legend.x0 >= ax.get_window_extent().x1  # beside the plot, not on it
    ticks = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert len(ticks) == 3  # group names apart, with a clear gap between them
    assert all(b.x0 - a.x1 > 10 for a, b in itertools.pairwise(ticks))
    # only the verdicts present are listed
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "no fault found", "fault", "inconclusive"]


def _traced(samples: tuple[tuple[float, float], ...], limit: float | None,
            envelope: tuple[float, float] | None = None) -> DeviceRow:
    measurements = () if envelope is None else (MeasurementRow(
        "TRI-PWR-02", "standby_current", "0.001", 0.001, "A", *envelope, None, True),)
    return _row(0, current_trace=CurrentTrace(samples, "TRI-PWR-01", limit),
                measurements=measurements)


def test_current_axis_has_no_negative_decades_and_holds_the_limit() -> None:
    row = _traced(((0.0, 0.0), (0.02, 0.31), (0.3, 0.05), (0.8, 0.0121)), 0.5,
                  envelope=(0.004, 0.03))
    fig = trace_figure(row)
    assert fig is not None
    [ax] = fig.axes
    low, high = ax.get_ylim()
    assert ax.get_yscale() == "log" and low > 0
    assert low < 0.004 and high > 0.5  # the envelope's floor and the limit line inside
    assert high / low < 10 ** 3.5  # tight: no decades of nothing (0.004 A .. 0.5 A)
    limit = [line for line in ax.get_lines() if "current limit" in str(line.get_label())]
    assert [line.get_ydata()[0] for line in limit] == [0.5]
    zero = [line for line in ax.get_lines() if str(line.get_label()).startswith("0 A")]
    assert len(zero) == 1 and list(zero[0].get_ydata()) == [low]  # on the floor, visible


def test_limit_far_above_the_draw_stays_on_the_chart() -> None:
    fig = trace_figure(_traced(((0.01, 0.0002), (0.5, 0.0001)), 3.0))
    assert fig is not None
    low, high = fig.axes[0].get_ylim()
    assert low < 0.0001 and high > 3.0


def test_no_trace_no_chart() -> None:
    assert trace_figure(_row(0)) is None
