"""Stage 1, power: the device draws current when powered (the first thing a bench checks)."""

from __future__ import annotations

import time

import pytest

from harness.plugin.device import Dut
from harness.triage.current_trace import capture
from harness.triage.spec import default_spec

SPEC = default_spec()


@pytest.mark.spec("TRI-PWR-01")
def test_power_on_draws_current(dut: Dut, measure) -> None:
    """Supply off, set nominal voltage and a limit above the model's peak envelope, output on:
    inrush, boot, then idle current; the peak is judged against the envelope (TRI-PWR-01)."""
    supply = dut.power
    supply.off()
    supply.set_voltage(dut.config.supply_voltage)
    envelope = _peak_envelope(dut)
    limit = dut.config.current_limit if envelope is None else \
        envelope * SPEC.clause("TRI-PWR-01").number("limit_above_peak")
    supply.set_current_limit(limit)
    measure("off_current", supply.current(), "A", high=1e-6, category="power")
    scale = dut.slot.bench.time_scale  # the trace is in device seconds, also in fast mode

    def device_clock() -> float:
        return time.monotonic() * scale

    powered_at = device_clock()
    supply.on()
    try:
        # Kept with its sample times for the report's current-draw chart (before any verdict).
        dut.record.current_trace = capture(supply.current, dut.config.boot_s + 0.2,
                                           since=powered_at, clause="TRI-PWR-01",
                                           current_limit_a=limit,
                                           clock=device_clock, sleep=dut.wait)
    finally:
        supply.set_current_limit(dut.config.current_limit)  # the slot's own, once it is up
    samples = dut.record.current_trace.amps
    measure("peak_current", max(samples), "A", low=1e-4, high=envelope, category="power")
    if envelope is None:
        dut.record.not_assessed.append("TRI-PWR-01: the model's manifest declares no peak "
                                       "current envelope (peak_current_a): peak recorded only")
    measure("supply_voltage", supply.voltage(), "V", low=dut.config.supply_voltage * 0.98,
            high=dut.config.supply_voltage * 1.02, category="power")
    measure("running_current", samples[-1], "A", low=1e-5, category="power")


def _peak_envelope(dut: Dut) -> float | None:
    """The model's declared peak (from its identity if known, else its label's model)."""
    model = dut.record.identity.model if dut.record.identity else \
        dut.row.model if dut.row is not None else None
    declared = dut.manifests.for_model(model) if model else None
    return declared.peak_current_a if declared is not None else None
