"""Stage 5, WAN (Communications Hub): modem, SIM and signal, to rule WAN issues in or out."""

from __future__ import annotations

import pytest

from harness.plugin.device import Dut

from .steps import diagnostics, manifest

pytestmark = pytest.mark.device_type("CHF")


@pytest.mark.spec("TRI-WAN-01")
def test_modem_registers(dut: Dut, measure) -> None:
    """The hub's modem starts and registers on the SM WAN."""
    wan = diagnostics(dut).wan
    measure("modem_state", wan.modem if wan else None, expected="registered", category="WAN")


@pytest.mark.spec("TRI-WAN-02")
def test_sim_present(dut: Dut, measure) -> None:
    """The SIM is present and readable."""
    wan = diagnostics(dut).wan
    measure("sim_present", bool(wan and wan.sim_present), expected=True, category="WAN")


@pytest.mark.spec("TRI-WAN-03")
def test_signal_strength(dut: Dut, measure) -> None:
    """The WAN signal at the bench is above the model's minimum."""
    minimum = manifest(dut).min_rssi_dbm
    wan = diagnostics(dut).wan
    measure("rssi", wan.rssi_dbm if wan else None, "dBm", low=minimum, category="WAN")
