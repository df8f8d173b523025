"""Stage 2b, standby: the idle current sits in the envelope the manufacturer declared.

Measured on the supply alone: it needs nothing from the device's port, so a meter whose
optical port is dead still has its standby current judged (issue 14 §2)."""

from __future__ import annotations

import pytest

from harness.plugin.device import Dut
from harness.triage.spec import default_spec

from .steps import declared_manifest, fact, median_current

SPEC = default_spec()


@pytest.mark.spec("TRI-PWR-02")
def test_standby_current_in_the_model_envelope(dut: Dut, measure) -> None:
    """The median of the spec's samples (15, 0.05 s apart): robust to a healthy device's
    radio bursts."""
    low, high = fact(dut, "idle_current_a", "TRI-PWR-02", declared_manifest(dut))
    clause = SPEC.clause("TRI-PWR-02")
    dut.power_up()
    measure("standby_current", median_current(dut, int(clause.number("samples")),
                                              clause.number("sample_every_s")),
            "A", low=low, high=high, category="power")
