"""Stage 2, identity: the device answers on its local port and is who its label says."""

from __future__ import annotations

import pytest

from harness.devices.profile import Capability, NotObservableError
from harness.devices.records import DeviceIdentity
from harness.plugin.device import Dut
from harness.plugin.triage import charge_link_error, port_answers

from .steps import LINK_ERRORS, fact, observable, reachable


@pytest.mark.spec("TRI-OPT-01")
def test_local_port_answers(dut: Dut, measure) -> None:
    """A sign-on gets an identification; the identity registers can be read."""
    dut.power_up()
    try:
        dut.record.identity = _identify(dut)
    except LINK_ERRORS as exc:
        dut.record.notes["unreachable"] = "the local port does not answer"
        if not charge_link_error(dut, "TRI-OPT-01", exc):  # the bench's trouble, not a fault
            pytest.skip(f"not assessed: bench or transport trouble: {exc}")
        pytest.fail(f"no answer to a sign-on, repeated: {exc}", pytrace=False)
    except NotObservableError as exc:  # its route (e.g. through the DCC) cannot reach it
        dut.record.notes["unreachable"] = str(exc)
        reachable(dut)
    identity = dut.record.identity
    assert identity is not None  # set by identify(); an unreachable device was skipped above
    dut.manifest = dut.catalogue_entry(identity.model)
    measure("device_type", identity.device_type.name, expected=dut.device_type,
            category="tamper/physical")
    observable(dut, Capability.LOCAL_PORT, "TRI-OPT-01")  # identified another way


def _identify(dut: Dut) -> DeviceIdentity:
    """The identity; a link error is retried once after the port answers a fresh readout
    (reading the identity changes nothing, so the retry is safe); what still fails is
    charged by :func:`charge_link_error` to the device or the bench."""
    try:
        return dut.profile().identify()
    except LINK_ERRORS:
        if not dut.power.is_on:
            raise
        again = port_answers(dut)
        if again is None:
            dut.record.notes["transport_recovered"] = "identity read again after a link error"
            try:
                return dut.profile().identify()
            except LINK_ERRORS:
                dut.record.notes["port_repeat"] = "the identity read failed again after a " \
                    "fresh readout answered"
                raise
        dut.record.notes["port_repeat"] = again  # charge_link_error need not ask again
        raise


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
