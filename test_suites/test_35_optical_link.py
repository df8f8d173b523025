"""Stage 3b, the optical link over the whole diagnosis: a port whose frames fail again is faulty.

The client retries a lost or garbled frame (IEC 62056-21 lets the host repeat), so a flaky
port still gets read; this check makes the retries the evidence, once they repeat: a
diagnosis that needed retries is read again in a fresh session, and only a failure on that
second pass is held against the port (one garbled byte is the bench's, TRI-OPT-01).
"""

from __future__ import annotations

import pytest

from harness.devices.profile import Capability
from harness.drivers.optical.base import OpticalProbe
from harness.plugin.device import Dut
from harness.plugin.triage import withdraw_port_trouble

from .steps import LINK_ERRORS, diagnostics, observable


@pytest.mark.spec("TRI-OPT-01")
@pytest.mark.device_type("ESME", "GSME")
def test_optical_link_needed_no_retries(dut: Dut, measure) -> None:
    """Every frame of the diagnosis went through at the first attempt."""
    observable(dut, Capability.LOCAL_PORT, "TRI-OPT-01")
    diagnostics(dut)
    probe = dut.slot.instrument("optical")
    assert isinstance(probe, OpticalProbe)
    errors = probe.link_errors - dut.record.notes.get("link_errors_at_start", 0)
    measure("optical_link_errors", errors, "count", category="optical port")
    if errors == 0:
        return
    before = probe.link_errors
    profile = dut.profile()
    failed = 0
    try:
        with profile.session():  # a fresh session: the whole diagnosis read again
            profile.read_diagnostics()
    except LINK_ERRORS:  # the second pass failed outright, after its own retries
        failed = 1
    if not measure("optical_link_errors_repeated", probe.link_errors - before + failed, "count",
                   high=0, category="optical port").passed:
        withdraw_port_trouble(dut)  # what looked like the bench's was the port's
