"""Stage 2, identity: the device answers on its local port and is who its label says."""

from __future__ import annotations

import pytest

from harness.devices.profile import Capability, NotObservableError
from harness.errors import InstrumentTimeoutError
from harness.plugin.device import Dut

from .steps import fact, observable, reachable


@pytest.mark.spec("TRI-OPT-01")
def test_local_port_answers(dut: Dut, measure) -> None:
    """A sign-on gets an identification; the identity registers can be read."""
    dut.power_up()
    try:
        dut.record.identity = dut.profile().identify()
    except InstrumentTimeoutError as exc:
        dut.record.notes["unreachable"] = "the local port does not answer"
        category = "optical port" if dut.device_type in ("ESME", "GSME") else "hardware"
        dut.record.find("TRI-OPT-01", category, f"no answer to a sign-on: {exc}")
        pytest.fail(f"no answer to a sign-on: {exc}", pytrace=False)
    except NotObservableError as exc:  # its route (e.g. through the DCC) cannot reach it
        dut.record.notes["unreachable"] = str(exc)
        reachable(dut)
    identity = dut.record.identity
    assert identity is not None  # set by identify(); an unreachable device was skipped above
    dut.manifest = dut.catalogue_entry(identity.model)
    measure("device_type", identity.device_type.name, expected=dut.device_type,
            category="tamper/physical")
    observable(dut, Capability.LOCAL_PORT, "TRI-OPT-01")  # identified another way


@pytest.mark.spec("TRI-ID-01")
def test_identity_matches_the_label(dut: Dut, measure) -> None:
    """The EUI-64 and serial the device reports are the ones printed on its label."""
    reachable(dut)
    if dut.label.device_id is None:
        pytest.skip("not assessed: no label was scanned")
    identity = dut.record.identity
    assert identity is not None
    measure("device_id", identity.device_id, expected=dut.label.device_id,
            category="tamper/physical")
    if dut.label.serial is not None:
        observable(dut, Capability.SERIAL, "TRI-ID-01")
        measure("serial", identity.serial, expected=dut.label.serial, category="tamper/physical")


@pytest.mark.spec("TRI-ID-02")
def test_firmware_is_a_released_version(dut: Dut, measure) -> None:
    """The executing firmware is one the manufacturer released for this model."""
    released = fact(dut, "firmware_versions", "TRI-ID-02")
    identity = dut.record.identity
    assert identity is not None
    measure("firmware_version", identity.firmware_version, allowed=tuple(released),
            category="firmware")
