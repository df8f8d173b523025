"""Stage 1, power: the device draws current when powered (the first thing a bench checks)."""

from __future__ import annotations

import time

import pytest

from harness.plugin.device import Dut
from harness.triage.current_trace import capture


@pytest.mark.spec("TRI-PWR-01")
def test_power_on_draws_current(dut: Dut, measure) -> None:
    """Supply off, set nominal voltage and limit, output on: inrush, boot, then idle current."""
    supply = dut.power
    supply.off()
    supply.set_voltage(dut.config.supply_voltage)
    supply.set_current_limit(dut.config.current_limit)
    measure("off_current", supply.current(), "A", high=1e-6, category="power")
    scale = dut.slot.bench.time_scale  # the trace is in device seconds, also in fast mode

    def device_clock() -> float:
        return time.monotonic() * scale

    powered_at = device_clock()
    supply.on()
    # Kept with its sample times for the report's current-draw chart (before any verdict).
    dut.record.current_trace = capture(supply.current, dut.config.boot_s + 0.2,
                                       since=powered_at, clause="TRI-PWR-01",
                                       current_limit_a=dut.config.current_limit,
                                       clock=device_clock, sleep=dut.wait)
    samples = dut.record.current_trace.amps
    measure("peak_current", max(samples), "A", low=1e-4, high=dut.config.current_limit,
            category="power")
    measure("supply_voltage", supply.voltage(), "V", low=dut.config.supply_voltage * 0.98,
            high=dut.config.supply_voltage * 1.02, category="power")
    measure("running_current", samples[-1], "A", low=1e-5, category="power")
