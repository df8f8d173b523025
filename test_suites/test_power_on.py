"""Power-on check: the DUT's supply current rises from nothing to its idle level, then stops.

A device that draws no current, or never settles, is not worth triaging further: this is
the first thing a returns bench checks for every slot.
"""

from __future__ import annotations

import time

import pytest

from harness.bench.bench import Slot

SETTLE_TIMEOUT_S = 5.0
# Idle envelope per device type, in amperes (refined by the triage specification later).
IDLE_ENVELOPE = {"ESME": (0.002, 0.05), "GSME": (0.00005, 0.005), "CHF": (0.002, 0.06)}


def wait_for_idle(slot: Slot, low: float, high: float, timeout: float) -> list[float]:
    """Sample the supply current until three samples in a row sit in the idle envelope."""
    samples: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples.append(slot.power.current())
        if len(samples) >= 3 and all(low <= s <= high for s in samples[-3:]):
            return samples
        time.sleep(0.05)
    return samples


@pytest.mark.device_type("ESME", "GSME", "CHF")
def test_power_on_reaches_idle_then_off(dut: Slot) -> None:
    """Power on at the slot's nominal voltage, see the current settle at idle, power off."""
    low, high = IDLE_ENVELOPE[dut.device_type]
    supply = dut.power
    supply.off()
    supply.set_voltage(dut.config.supply_voltage)
    supply.set_current_limit(dut.config.current_limit)
    assert supply.current() == pytest.approx(0.0, abs=1e-6), "current flows with output off"

    supply.on()
    samples = wait_for_idle(dut, low, high, SETTLE_TIMEOUT_S)
    assert len(samples) >= 3 and all(low <= s <= high for s in samples[-3:]), (
        f"{dut.name}: current did not settle in {low}..{high} A within {SETTLE_TIMEOUT_S} s; "
        f"samples: {[round(s, 6) for s in samples]}"
    )
    assert supply.voltage() == pytest.approx(dut.config.supply_voltage, rel=0.01)

    supply.off()
    assert not supply.is_on
    assert supply.current() == pytest.approx(0.0, abs=1e-6)
