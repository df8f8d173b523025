"""The device page's current-draw chart drawn as SVG: the PNG's current axis (no negative
decades, the envelope and the limit inside), 0 A samples on the floor, nothing without a trace."""

from __future__ import annotations

import dataclasses
from xml.etree import ElementTree

import matplotlib
import pytest
from _results_sample import T0, sample

from harness.results.charts import trace_figure
from harness.results.store import DeviceRow, MeasurementRow
from harness.results.trace_svg import HEIGHT, PLOT_H, TOP, trace_svg
from harness.triage.current_trace import CurrentTrace

matplotlib.use("Agg")
SVG = "{http://www.w3.org/2000/svg}"


def _row(samples: tuple[tuple[float, float], ...] | None, limit: float | None = None,
         envelope: tuple[float, float] | None = None) -> DeviceRow:
    record, verdict = sample(0)
    measurements = () if envelope is None else (MeasurementRow(
        "TRI-PWR-02", "standby_current", "0.001", 0.001, "A", *envelope, None, True),)
    return DeviceRow(id=1, campaign_id=1, item_key=record.key, slot=None, device_id="00",
                     device_type=record.device_type, model="M", label_id=None,
                     verdict=verdict.kind.value, category=None, duis_return_reason=None,
                     reset=False, why="", started=T0, finished=T0, duration_s=1.0,
                     operator="ann", role="Supplier", bench="b", transcript=None,
                     evidence={}, measurements=measurements,
                     current_trace=None if samples is None
                     else CurrentTrace(samples, "TRI-PWR-01", limit))


def _svg(row: DeviceRow) -> ElementTree.Element:
    markup = trace_svg(row)
    assert markup is not None
    return ElementTree.fromstring(str(markup))


def test_current_axis_holds_envelope_and_limit_like_the_png() -> None:
    row = _row(((0.0, 0.0), (0.02, 0.31), (0.3, 0.05), (0.8, 0.0121)), 0.5, (0.004, 0.03))
    root = _svg(row)
    low, high = float(root.get("data-floor", "0")), float(root.get("data-top", "0"))
    assert 0 < low < 0.004 and high > 0.5 and high / low < 10 ** 3.5
    fig = trace_figure(row)
    assert fig is not None
    assert fig.axes[0].get_ylim() == pytest.approx((low, high), rel=1e-5)  # the same axis
    matplotlib.pyplot.close(fig)
    [limit] = [e for e in root.iter(f"{SVG}line") if e.get("class") == "limit"]
    assert float(limit.get("data-amps", "0")) == 0.5
    assert TOP < float(limit.get("y1", "0")) < TOP + PLOT_H  # inside the plot
    [band] = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "envelope"]
    assert TOP < float(band.get("y", "0")) < TOP + PLOT_H
    [zero] = [e for e in root.iter(f"{SVG}path") if e.get("class") == "zero"]
    assert f",{TOP + PLOT_H - 7}h" in zero.get("d", "")  # drawn on the floor, visible
    points = root.find(f"{SVG}polyline")
    assert points is not None and len(points.get("points", "").split()) == 4
    assert all(0 <= float(p.split(",")[1]) <= HEIGHT for p in points.get("points", "").split())
    legend = "".join(root.itertext())
    assert "supply current limit 0.5 A" in legend and "idle envelope 0.004" in legend


def test_limit_far_above_the_draw_stays_on_the_chart() -> None:
    root = _svg(_row(((0.01, 0.0002), (0.5, 0.0001)), 3.0))
    assert float(root.get("data-floor", "1")) < 0.0001 and float(root.get("data-top", "0")) > 3
    assert not [e for e in root.iter(f"{SVG}path") if e.get("class") == "zero"]


def test_no_trace_no_chart() -> None:
    assert trace_svg(_row(None)) is None
    assert trace_svg(dataclasses.replace(_row(((0.0, 0.1),)), current_trace=None)) is None
