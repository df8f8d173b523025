"""The optical probe's DLMS/COSEM client against the emulated meter, on the wire (socket://
and rfc2217://): mode E and direct HDLC, public and LLS reads, blocks, range reads, SET,
ACTION under a permit, masked transcripts and recovery from lost frames; HLS-GMAC with the
meter's keys, a wrong key and an impostor meter refused."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.drivers.optical.dlms import DlmsAccessError, DlmsAuthenticationError, HlsKeys
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.permit import OPTICAL, Permit, holding
from harness.drivers.silence import Silence
from harness.emulator.optical.cosem_security import AssociationSecurity
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.registers import PortBehaviour
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.errors import (
    AccessDeniedError,
    BenchConfigError,
    InstrumentTimeoutError,
    OperationError,
)
from harness.protocols.dlms import CosemDateTime, Data, DataType, hls_gmac_proof


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(clock: ManualClock) -> EmulatedDevice:
    device = create_device("esme", "ESME", clock=clock, seed=11)
    device.supply(230.0)
    clock.advance(5.0)  # booted
    return device


@pytest.fixture
def registers(device: EmulatedDevice) -> DeviceRegisters:
    return registers_for_device(device)


@pytest.fixture
def server(registers: DeviceRegisters, clock: ManualClock) -> Iterator[OpticalPortServer]:
    srv = OpticalPortServer(registers, clock)
    srv.start()
    yield srv
    srv.stop()


def probe(address: str, **options: object) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=0.4, options=options)
    return SerialOpticalProbe("probe", config, sleep=lambda s: None)


@pytest.mark.parametrize("transport", ["socket", "rfc2217"])
def test_public_reads_after_mode_e_switch_over(server: OpticalPortServer, transport: str,
                                              registers: DeviceRegisters) -> None:
    with probe(server.addresses[transport]) as p, p.dlms() as dlms:
        assert p.framing == "8N1" and p.baud == 9600
        serial = dlms.get(1, "0.0.96.1.0.255", 2)
        assert serial.value.decode() == registers.read("0.0.1")
        clock = dlms.get(8, "0.0.1.0.0.255", 2)
        when = CosemDateTime.from_bytes(clock.value).to_datetime()
        assert abs((when - registers.device.clock_time()).total_seconds()) < 2
        assert dlms.get(3, "1.0.1.8.0.255", 3).plain() == [0, 30]
        with pytest.raises(DlmsAccessError) as refused:
            dlms.get(7, "0.0.99.98.0.255", 2)  # the public client may not read the logs
        assert refused.value.context["result"] == 3
    assert (p.baud, p.framing) == (300, "7E1")
    assert server.engine.state.value == "idle"


def test_direct_hdlc_over_rfc2217_at_9600_8n1(server: OpticalPortServer,
                                              registers: DeviceRegisters) -> None:
    with probe(server.addresses["rfc2217"]) as p, p.dlms(mode_e=False) as dlms:
        assert dlms.get(1, "0.0.96.1.0.255", 2).value.decode() == registers.read("0.0.1")


def test_lls_reads_logs_by_range_sets_clock_and_resets_under_a_permit(
        server: OpticalPortServer, registers: DeviceRegisters) -> None:
    device = registers.device
    device.commission_with_consumer_data(days=2)
    with probe(server.addresses["socket"]) as p, p.dlms(client=0x01,
                                                        password=registers.password) as dlms:
        entries = device.read_log("security")
        rows = dlms.buffer("0.0.99.98.1.255", entries[0].timestamp,
                           entries[-1].timestamp + datetime.timedelta(seconds=1))
        assert [row.value[1].value for row in rows][:len(entries)] == [e.code for e in entries]
        later = device.clock_time() + datetime.timedelta(seconds=3)
        stamp = Data(DataType.OCTET_STRING, CosemDateTime.from_datetime(later).to_bytes())
        with pytest.raises(AccessDeniedError):
            dlms.set(8, "0.0.1.0.0.255", 2, stamp)  # no permit: nothing sent
        with holding(Permit(frozenset({OPTICAL}))):
            dlms.set(8, "0.0.1.0.0.255", 2, stamp)
            dlms.action(9, "0.0.10.0.0.255", 1, Data(DataType.LONG_UNSIGNED, 1))
        assert device.consumer_data().mpxn is None
        with pytest.raises(DlmsAccessError), holding(Permit(frozenset({OPTICAL}))):
            dlms.action(9, "0.0.10.0.0.255", 1, Data(DataType.LONG_UNSIGNED, 99))
    text = p.transcript.render()
    assert registers.password not in text
    assert registers.password.encode().hex(" ") not in text
    assert "# > AARQ(" in text and "authentication_value=b'********'" in text
    assert "# < GetResponse" in text


def test_wrong_password_is_an_operation_error(server: OpticalPortServer,
                                              registers: DeviceRegisters) -> None:
    wrong = "x" + registers.password[1:]
    with (probe(server.addresses["socket"]) as p,
          pytest.raises(OperationError, match="password refused"),
          p.dlms(client=0x01, password=wrong)):
        pass
    server.engine.failed_passwords = 0


def test_lost_frames_are_recovered_by_polling(server: OpticalPortServer,
                                              registers: DeviceRegisters,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registers, "behaviour",
                        lambda: PortBehaviour(drop_fraction=0.3, corrupt_fraction=0.1))
    with probe(server.addresses["socket"], retries=8) as p, p.dlms(mode_e=False) as dlms:
        for _ in range(5):
            assert dlms.get(1, "0.0.96.1.0.255", 2).value.decode() == registers.read("0.0.1")
    assert p.link_errors > 0


def test_mode_e_over_an_emulated_ble_head(registers: DeviceRegisters, clock: ManualClock) -> None:
    pytest.importorskip("bleak")
    pytest.importorskip("bumble")
    from harness.drivers.optical.ble_probe import BleOpticalProbe
    from harness.emulator.optical.ble_peripheral import BleOpticalPortServer

    server = BleOpticalPortServer(registers, clock)
    server.start()
    try:
        config = InstrumentConfig(kind="optical_probe", backend="ble", address=server.resource,
                                  timeout_s=0.5)
        with BleOpticalProbe("probe", config, sleep=lambda s: None) as p, p.dlms() as dlms:
            assert dlms.get(1, "0.0.96.1.0.255", 2).value.decode() == registers.read("0.0.1")
            line = server.line
            assert line is not None and (line.baudrate, line.bytesize, line.parity) == (
                9600, 8, "N")  # the head was told 8N1 for HDLC
        line = server.line  # and back to 300 Bd 7E1 on the way out
        assert line is not None and (line.baudrate, line.bytesize, line.parity) == (300, 7, "E")
    finally:
        server.stop()


def hls_keys(registers: DeviceRegisters) -> HlsKeys:
    keys = registers.dlms_keys
    return HlsKeys(keys.encryption_key, keys.authentication_key)


@pytest.mark.parametrize(("transport", "ciphered"), [("socket", False), ("rfc2217", False),
                                                     ("socket", True)])
def test_hls_gmac_association_reads_management_objects(server: OpticalPortServer,
                                                       registers: DeviceRegisters,
                                                       transport: str, ciphered: bool) -> None:
    keys = hls_keys(registers)
    with (probe(server.addresses[transport]) as p,
          p.dlms(client=0x01, hls=keys, ciphered=ciphered) as dlms):
        assert dlms.server_title == registers.dlms_keys.system_title
        count = dlms.get(7, "0.0.99.98.0.255", 7)  # the public client may not read it
        assert count.value == len(registers.device.read_log("event"))
    text = p.transcript.render()
    assert "mechanism=<Mechanism.HIGH_GMAC: 5>" in text and "# < ActionResponse(result=0" in text
    plain_get = "c0 01 c1 00 07 00 00 63 62 00 ff 07 00"  # GET 7/0.0.99.98.0.255/7 in clear
    assert (plain_get in text.lower()) != ciphered
    assert ("[glo-ciphered]" in text) == ciphered
    assert ("context=<ApplicationContext.LN_CIPHERED: 3>" in text) == ciphered
    for secret in (keys.encryption_key, keys.authentication_key):
        assert secret.hex() not in text.replace(" ", "").lower()
        assert secret.hex().upper() not in text
    assert server.engine.state.value == "idle"


def test_hls_with_a_wrong_key_is_refused_with_a_clear_error(server: OpticalPortServer,
                                                            registers: DeviceRegisters) -> None:
    right = hls_keys(registers)
    wrong = HlsKeys(right.encryption_key, bytes(16))
    with probe(server.addresses["socket"]) as p:
        with (pytest.raises(DlmsAuthenticationError, match="did not accept our answer") as error,
              p.dlms(client=0x01, hls=wrong)):
            pytest.fail("associated with a wrong key")
        assert "dlms_authentication_key" in str(error.value)
        assert bytes(16).hex() not in str(error.value)
        assert (p.baud, p.framing) == (300, "7E1")  # released, back at 300 Bd
        with p.dlms(client=0x01, hls=right) as dlms:  # one wrong try does not lock the port
            assert dlms.get(1, "0.0.96.1.0.255", 2).value.decode() == registers.read("0.0.1")


def test_a_meter_answering_our_challenge_wrongly_is_refused(
        server: OpticalPortServer, registers: DeviceRegisters,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An impostor that accepts any f(StoC) and answers over another challenge."""
    keys = registers.dlms_keys

    def impostor(self: AssociationSecurity, _proof: bytes) -> bytes:
        self.authenticated = True
        return hls_gmac_proof(b"not-your-challenge", key=keys.encryption_key,
                              auth_key=keys.authentication_key, system_title=keys.system_title,
                              invocation_counter=7)

    monkeypatch.setattr(AssociationSecurity, "reply_to_hls", impostor)
    with probe(server.addresses["socket"]) as p:
        with (pytest.raises(DlmsAuthenticationError, match="answer to our challenge is wrong"),
              p.dlms(client=0x01, hls=hls_keys(registers))):
            pytest.fail("trusted a meter that does not hold the keys")
        assert "GetRequest" not in p.transcript.render()  # nothing more was asked of it


@pytest.mark.parametrize(("encryption", "authentication", "message"), [
    ("00" * 16, "zz", "not hex"), ("00" * 8, "00" * 16, "8 bytes")])
def test_bad_hls_keys(encryption: str, authentication: str, message: str) -> None:
    with pytest.raises(BenchConfigError, match=message):
        HlsKeys.from_hex(encryption, authentication)


def test_the_ciphered_context_needs_the_keys(server: OpticalPortServer) -> None:
    with (probe(server.addresses["socket"]) as p,
          pytest.raises(BenchConfigError, match="keys"),
          p.dlms(client=0x01, ciphered=True)):
        pytest.fail("ciphered without keys")


def test_an_hdlc_frame_already_in_is_taken_without_judging_a_silence(
        registers: DeviceRegisters, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the probe's own receive: a silence is judged from the first wait on, so a frame an
    in-process meter answered within the write starts none (starting one read the host's
    figures, which widened every fast-bench clock read); a dead meter still times out."""
    server = OpticalPortServer(registers, clock, transport="inprocess")
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=0.4)
    p = SerialOpticalProbe("probe", config, sleep=lambda s: None)
    p.time_scale = 100.0
    judged: list[Silence] = []
    silence = p.silence
    monkeypatch.setattr(p, "silence", lambda: judged.append(silence()) or judged[-1])
    before = 0
    try:
        with p, pytest.raises(InstrumentTimeoutError, match="no HDLC frame"), \
                p.dlms() as dlms:
            before = len(judged)
            when = CosemDateTime.from_bytes(dlms.get(8, "0.0.1.0.0.255", 2).value)
            assert when.to_datetime() is not None
            assert len(judged) == before
            registers.device.supply(0.0)  # unpowered: its port answers nothing
            dlms.get(8, "0.0.1.0.0.255", 2)
    finally:
        server.stop()
    assert len(judged) > before


def test_a_meter_that_stops_answering_leaves_the_release_unconfirmed_not_raised(
        server: OpticalPortServer, registers: DeviceRegisters) -> None:
    """The release is best effort: a meter gone silent after the last read ends the session
    without an error of the release's own (it used to raise the RLRQ's timeout)."""
    with probe(server.addresses["socket"]) as p:
        with p.dlms() as dlms:
            assert dlms.get(1, "0.0.96.1.0.255", 2).value
            registers.device.supply(0.0)  # unpowered: its port answers nothing
        assert (p.baud, p.framing) == (300, "7E1")  # back at the sign-on line all the same
        assert any("RLRQ" in str(e.data) for e in p.transcript.entries)
