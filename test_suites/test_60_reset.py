"""Stage 6, reset (destructive): only a device diagnostics found reusable is reset.

Certificates back to the model's original state, consumer data unavailable, HAN set to
rejoin with its install code, SMI-relevant state cleared (SECMP0010/0013's minimum reset).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.devices.profile import Capability, DeviceProfile, NotObservableError
from harness.errors import AccessDeniedError, MeterbenchError
from harness.plugin.device import Dut
from harness.triage.spec import Stage, default_spec

from .steps import observable, reachable

pytestmark = pytest.mark.destructive
SPEC = default_spec()


def _reset(dut: Dut, clause: str, step: Callable[[DeviceProfile], None]) -> None:
    reachable(dut)
    checks = [c.id for c in SPEC.clauses_for(dut.device_type, stage=Stage.DIAGNOSTICS,
                                             destructive=False)]
    missing = [c for c in checks if c not in dut.record.notes.get("clauses_run", ())]
    if missing:  # e.g. this stage run on its own with -k: not known to be reusable
        pytest.skip(f"not reset: the diagnostics did not run on this device "
                    f"({', '.join(missing)} not run)")
    if not dut.record.reusable:
        categories = sorted({f.category for f in dut.record.findings})
        reason = f"diagnostics found {', '.join(categories)}" if categories else "bench errors"
        pytest.skip(f"not reset: {reason}")
    observable(dut, Capability.RESET, clause)
    dut.power_up()  # run on its own (-k), the stage still finds its device powered
    try:
        step(dut.profile())
    except AccessDeniedError as exc:
        if getattr(exc, "response", None) is not None:  # the DCC refused: a failed step
            dut.record.verify_failures.append(f"{clause}: {exc}")
            raise
        dut.record.refused.append(clause)  # the gate refused before anything was sent
        pytest.skip(f"refused: {exc}")
    except MeterbenchError as exc:
        dut.record.verify_failures.append(f"{clause}: {exc}")
        raise
    dut.record.reset_steps.append(clause)


@pytest.mark.spec("TRI-RST-01")
def test_reset_certificates(dut: Dut) -> None:
    """Trust anchors back to the model's original state."""
    _reset(dut, "TRI-RST-01", lambda p: p.reset_certificates())


@pytest.mark.spec("TRI-RST-02")
def test_clear_consumer_data(dut: Dut) -> None:
    """Every consumer datum made unavailable; a meter's cumulative registers (legal
    metrology, MID) are read first, for the verification to find them unchanged."""

    def clear(profile: DeviceProfile) -> None:
        with profile.session():  # the read and the clear in one sign-on (~1 s at 300 Bd)
            if dut.device_type in ("ESME", "GSME"):
                try:
                    dut.record.notes["metrology_before"] = profile.read_metrology()
                except NotObservableError as exc:
                    dut.record.notes["metrology_unread"] = str(exc)
            profile.clear_consumer_data()

    _reset(dut, "TRI-RST-02", clear)


@pytest.mark.spec("TRI-RST-03")
def test_han_rejoins_with_install_code(dut: Dut) -> None:
    """Leave the HAN; the device waits to rejoin with its install code."""
    _reset(dut, "TRI-RST-03", lambda p: p.reset_han())


@pytest.mark.spec("TRI-RST-04")
def test_lifecycle_cleared(dut: Dut) -> None:
    """SMI-relevant state cleared (the event log with it)."""
    _reset(dut, "TRI-RST-04", lambda p: p.reset_lifecycle())
