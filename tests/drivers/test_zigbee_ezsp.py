"""The EZSP dongle driver (EzspHost + AshLink on a serial URL) against the emulated NCP and
radio world, over ``socket://``: identity, scans with RSSI, forming, install-code joins with
the RSSI of the joined node, a wrong key, removal, and a dead NCP."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.domain.types import DeviceType
from harness.drivers.zigbee import JoinFailed, NodeJoined, NodeLeft
from harness.drivers.zigbee.ezsp import EzspCommandError, EzspDongle
from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.ezsp.server import EzspNcpServer
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld
from harness.errors import InstrumentConnectError
from harness.protocols.installcode import InstallCode
from harness.triage.han import JoinDiagnosis, join_test

NCP_EUI = "000D6F0000ABCDEF"


def powered(**slots: tuple[DeviceType, int, tuple[str, ...]]) -> dict[str, EmulatedDevice]:
    """Devices by slot, supplied and booted (on the real clock the server also uses)."""
    devices = {name: create_device(name, kind, seed=seed, faults=faults)
               for name, (kind, seed, faults) in slots.items()}
    for device in devices.values():
        device.supply(device.nominal_voltage)
    deadline = time.monotonic() + 5
    while not all(d.ready for d in devices.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return devices


def serve(devices: dict[str, EmulatedDevice], version: int = 8) -> EzspNcpServer:
    engine = EzspNcpEngine(RadioWorld(devices), NCP_EUI, protocol_version=version,
                           time_scale=20.0)
    engine.trust_centre.join_delay_s = 0.1
    server = EzspNcpServer(engine)
    server.start()
    return server


def dongle(address: str, **options: object) -> EzspDongle:
    config = InstrumentConfig(kind="zigbee", backend="ezsp", address=address, timeout_s=1.0,
                              options=options)
    return EzspDongle("ncp", config)


@pytest.fixture
def bench() -> Iterator[tuple[dict[str, EmulatedDevice], EzspNcpServer]]:
    devices = powered(esme=(DeviceType.ESME, 1, ()), gsme=(DeviceType.GSME, 2, ()),
                      ch=(DeviceType.CHF, 3, ()))
    server = serve(devices)
    yield devices, server
    server.stop()


def code_of(device: EmulatedDevice) -> InstallCode:
    """The install code on the device's label."""
    code = device.label.install_code
    return code if isinstance(code, InstallCode) else InstallCode.parse(code)


def test_identity_scans_and_network(bench: tuple[dict, EzspNcpServer]) -> None:
    """Reset and version over ASH; energy per channel in dBm; the hub's beacon with its RSSI;
    a network formed, read back, and left."""
    devices, server = bench
    world = server.engine.world
    with dongle(server.resource) as d:
        ident = d.identity()
        assert ident.eui64 == NCP_EUI and "EZSP 8" in ident.firmware
        energy = d.energy_scan()
        assert energy == {ch: round(world.energy_dbm(ch)) for ch in range(11, 27)}
        pans = d.pan_scan()
        hub = devices["ch"]
        assert [(p.channel, p.extended_pan_id) for p in pans] == [(hub.channel, hub.eui64)]
        assert pans[0].rssi_dbm == round(world.signal_dbm("ch", hub))
        assert d.network_info() is None
        info = d.form_network(15, pan_id=0x1A2B)
        assert (info.channel, info.pan_id, info.role) == (15, 0x1A2B, "COO")
        assert d.network_info() == info
        assert d.leave_network() is True and d.network_info() is None


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_install_code_join_gives_lqi_and_rssi(bench: tuple[dict, EzspNcpServer],
                                              slot: str) -> None:
    """A meter joins with the transient key of its install code: NodeJoined from its
    Device_annce, then the neighbour (ESME, router) or child (GSME, sleepy) table lists it
    with the LQI and the RSSI the radio world gives; removed, it leaves."""
    devices, server = bench
    device = devices[slot]
    device.reset_han()
    world = server.engine.world
    with dongle(server.resource) as d:
        result = join_test(d, device.eui64, code_of(device), 5.0, channel=25)
    assert result.diagnosis is JoinDiagnosis.JOINED, result.detail
    assert result.lqi == world.lqi(world.signal_dbm(slot, device), 25)
    assert result.rssi_dbm == round(world.signal_dbm(slot, device))
    assert result.unjoined and not device.han_status().joined


def test_wrong_install_code_fails_on_the_key(bench: tuple[dict, EzspNcpServer]) -> None:
    """With another code's key the meter associates but cannot open the network key: the
    trust centre's DEVICE_LEFT makes it a JoinFailed, diagnosed as the wrong key."""
    devices, server = bench
    device = devices["esme"]
    device.reset_han()
    wrong = code_of(devices["gsme"])
    seen: list[object] = []
    with dongle(server.resource) as d:
        d.add_listener(seen.append)
        result = join_test(d, device.eui64, wrong, 5.0, channel=25)
    assert result.diagnosis is JoinDiagnosis.WRONG_KEY
    assert any(isinstance(e, JoinFailed) and e.eui64 == device.eui64 for e in seen)
    assert not any(isinstance(e, NodeJoined) for e in seen)


def test_a_dead_radio_is_never_heard() -> None:
    devices = powered(esme=(DeviceType.ESME, 1, ("han_radio_dead",)))
    devices["esme"].reset_han()
    server = serve(devices)
    try:
        with dongle(server.resource) as d:
            result = join_test(d, devices["esme"].eui64, code_of(devices["esme"]), 1.0,
                               channel=25)
    finally:
        server.stop()
    assert result.diagnosis is JoinDiagnosis.NO_RADIO_ACTIVITY


def test_removing_an_unknown_node_and_a_refused_command(bench: tuple[dict, EzspNcpServer]
                                                        ) -> None:
    _, server = bench
    with dongle(server.resource) as d:
        d.form_network(20)
        with pytest.raises(Exception, match="not a node"):
            d.remove_node("0011223344556677")
        with pytest.raises(EzspCommandError, match="INVALID_CALL"):
            d._ok("setInitialSecurityState", server.engine.security)  # type: ignore[arg-type]
        d.leave_network()
    assert not [e for e in d.events() if isinstance(e, NodeLeft)]


def test_an_ncp_that_never_answers_rst_fails_open() -> None:
    """A port that takes bytes but never answers: open fails naming the address."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        address = f"socket://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(InstrumentConnectError, match="no EZSP session"):
            dongle(address, reset_timeout_s=0.5).open()
        assert time.monotonic() - start < 2


def test_a_version_13_ncp(bench: tuple[dict, EzspNcpServer]) -> None:
    """EZSP 13: the install code's key goes in importTransientKey; the join works the same."""
    devices = powered(esme=(DeviceType.ESME, 1, ()))
    devices["esme"].reset_han()
    server = serve(devices, version=13)
    try:
        with dongle(server.resource) as d:
            assert "EZSP 13" in d.identity().firmware
            result = join_test(d, devices["esme"].eui64, code_of(devices["esme"]), 5.0,
                               channel=25)
    finally:
        server.stop()
    assert result.joined


def test_no_install_code_or_key_in_transcript_or_log(bench: tuple[dict, EzspNcpServer],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The transcript names each frame and its fields but hides every key (the transient
    link key, the network and preconfigured keys); the ASH bytes are never recorded raw."""
    devices, server = bench
    esme = devices["esme"]
    esme.reset_han()
    code = code_of(esme)
    network_keys: list[bytes] = []
    caplog.set_level(logging.DEBUG)
    with dongle(server.resource) as d:
        d.form_network(11)
        assert server.engine.security is not None
        network_keys.append(bytes(server.engine.security.network_key))
        d.add_install_code(esme.label.eui64, code)
        d.permit_join(30)
        d.wait_for(lambda e: isinstance(e, NodeJoined) and e.eui64 == esme.eui64, 3)
        text = d.transcript.render()
    assert "key=<hidden>" in text and "keys=<hidden>" in text
    keys = [bytes(code.link_key()), network_keys[0], b"ZigBeeAlliance09"]
    secrets = [code.reveal(), code.reveal(with_crc=False), "ZigBeeAlliance09",
               *(key.hex() for key in keys), *(key.hex(" ") for key in keys)]
    for secret in secrets:
        for shown in (text, caplog.text):
            assert secret.lower() not in shown.lower()
