"""The emulated EZSP NCP (harness/emulator/ezsp): our host-side ASH link and EZSP codecs reset
it, read its version and run energy and active scans against the radio world; once over
its ``socket://`` port too."""

from __future__ import annotations

import socket
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.domain.types import DeviceType
from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.ezsp.server import EzspNcpServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld
from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.ash import AckFrame, DataFrame, RstFrame, encode_frame
from harness.protocols.ezsp.ash_link import AshLink, LinkReset, Received
from harness.protocols.ezsp.ash_reader import AshReader, BadFrame
from harness.protocols.ezsp.host import Callback, EzspHost, HostReady, HostState, Response

EUI = "000D6F0000ABCDEF"
FRAMES = [encode_frame(RstFrame(), cancel=True),
          *(encode_frame(DataFrame(n, 0, False, payload)) for n, payload in enumerate([
              c.version_command(8),
              c.build("startScan", c.StartScan(0, 0x07FFF800, 0), sequence=1, version=8),
              c.build("getNeighbor", c.Index(0), sequence=2, version=8),
              bytes.fromhex("03 00 01 FF FF 00")]))]


def world() -> tuple[RadioWorld, dict[str, EmulatedDevice]]:
    """An ESME and a hub, powered and booted."""
    clock = ManualClock()
    devices = {"esme": create_device("esme", DeviceType.ESME, seed=1, clock=clock),
               "ch": create_device("ch", DeviceType.CHF, seed=3, clock=clock)}
    for device in devices.values():
        device.supply(device.nominal_voltage)
    clock.advance(1.0)
    return RadioWorld(devices, seed=0), devices


class Host:
    """Our host side, wired to an engine without a socket: a clock we move by hand."""

    def __init__(self, engine: EzspNcpEngine) -> None:
        self.engine, self.link, self.now, self.seq = engine, AshLink(), 0.0, 0
        self.version = 4

    def pump(self, until: float | None = None) -> list[tuple[str, c.Message]]:
        """Move bytes both ways (and time, up to ``until``), parsing what the NCP sends."""
        got: list[tuple[str, c.Message]] = []
        end = self.now if until is None else until
        while True:
            out = self.link.outgoing()
            back = self.engine.receive(out, self.now) + self.engine.due(self.now)
            for event in self.link.receive(back, self.now):
                if isinstance(event, Received):
                    if self.version == 4 and event.payload[2] == 0x00:
                        got.append(("version", c.version_reply(event.payload)))
                    else:
                        _frame, name, msg = c.parse(event.payload, version=self.version)
                        got.append((name, msg))
            if out or back:
                continue
            if self.now >= end:
                return got
            self.now = min(end, self.now + 0.01)

    def call(self, name: str, message: c.Message) -> None:
        """Send a command in the NCP's version's header."""
        self.seq = (self.seq + 1) % 256
        self.link.send(c.build(name, message, sequence=self.seq, version=self.version), self.now)


def test_reset_version_and_extended_version() -> None:
    """RST -> RSTACK(software); legacy version 4 -> the NCP says 8 in the legacy form; then the
    extended ``version`` 8 is answered in the extended form."""
    radio, _ = world()
    host = Host(EzspNcpEngine(radio, EUI, protocol_version=8, stack_version=0x6780))
    host.link.connect(0.0)
    assert host.link.receive(host.engine.receive(host.link.outgoing(), 0.0), 0.0) == [
        LinkReset(reset_code=0x0B)]
    host.link.send(c.version_command(4), 0.0)
    assert host.pump() == [("version", c.VersionResponse(8, 2, 0x6780))]
    host.version = 8
    host.call("version", c.Version(8))
    assert host.pump() == [("version", c.VersionResponse(8, 2, 0x6780))]


@pytest.fixture
def ready() -> tuple[Host, RadioWorld, dict[str, EmulatedDevice]]:
    """A host past reset and version, speaking EZSP 8."""
    radio, devices = world()
    host = Host(EzspNcpEngine(radio, EUI, protocol_version=8))
    host.link.connect(0.0)
    host.link.receive(host.engine.receive(host.link.outgoing(), 0.0), 0.0)
    host.link.send(c.version_command(8), 0.0)
    host.pump()
    host.version = 8
    return host, radio, devices


def test_energy_scan_reports_each_channel_with_the_hub_loudest_on_its_own(
    ready: tuple[Host, RadioWorld, dict[str, EmulatedDevice]],
) -> None:
    """startScan(ENERGY) -> SUCCESS, 16 energyScanResultHandler (dBm), scanCompleteHandler."""
    host, radio, devices = ready
    host.call("startScan", c.StartScan(c.ENERGY_SCAN, 0x07FFF800, 1))
    got = host.pump(until=2.0)
    assert got[0] == ("startScan", c.Status(0))
    results = {m.channel: m.max_rssi for n, m in got if isinstance(m, c.EnergyScanResult)}
    assert sorted(results) == list(range(11, 27))
    assert got[-1] == ("scanCompleteHandler", c.ScanComplete(0, 0))
    hub_channel = devices["ch"].channel  # type: ignore[attr-defined]
    assert results[hub_channel] == round(radio.energy_dbm(hub_channel))
    assert results[hub_channel] > radio.noise_dbm[hub_channel] + 5


def test_active_scan_finds_the_hub_with_lqi_and_rssi(
    ready: tuple[Host, RadioWorld, dict[str, EmulatedDevice]],
) -> None:
    """startScan(ACTIVE) -> a networkFoundHandler for the hub: its channel, PAN, RSSI, LQI."""
    host, radio, devices = ready
    hub = devices["ch"]
    host.call("startScan", c.StartScan(c.ACTIVE_SCAN, 0x07FFF800, 2))
    found = [m for _, m in host.pump(until=3.0) if isinstance(m, c.NetworkFound)]
    assert len(found) == 1
    [net] = found
    rssi = radio.signal_dbm("ch", hub)
    assert net.network.channel == hub.channel  # type: ignore[attr-defined]
    assert net.network.pan_id == hub.pan_id  # type: ignore[attr-defined]
    assert net.last_hop_rssi == round(rssi)
    assert net.last_hop_lqi == radio.lqi(rssi, net.network.channel)


def test_form_leave_and_unknown_frames(
    ready: tuple[Host, RadioWorld, dict[str, EmulatedDevice]],
) -> None:
    """networkInit says NOT_JOINED; formNetwork needs the security state first
    (SECURITY_STATE_NOT_SET), then brings NETWORK_UP, leaveNetwork NETWORK_DOWN; a frame id
    the NCP does not know (or a trust centre frame outside a network) is answered
    invalidCommand(INVALID_FRAME_ID)."""
    host, _, _ = ready
    host.call("networkInit", c.NetworkInit())
    assert host.pump() == [("networkInit", c.Status(0x93))]
    params = c.NetworkParameters(EUI, 0x1A62, 8, 15)
    host.call("formNetwork", c.FormNetwork(params))
    assert host.pump() == [("formNetwork", c.Status(0xA8))]
    host.call("setInitialSecurityState", c.InitialSecurityState(
        0x0B04, b"ZigBeeAlliance09", bytes(16), 0, EUI))
    assert host.pump() == [("setInitialSecurityState", c.Status(0))]
    host.call("formNetwork", c.FormNetwork(params))
    assert host.pump(until=host.now + 0.1) == [("formNetwork", c.Status(0)),
                                               ("stackStatusHandler", c.Status(0x90))]
    host.call("leaveNetwork", c.NoParameters())
    assert host.pump(until=host.now + 0.1) == [("leaveNetwork", c.Status(0)),
                                               ("stackStatusHandler", c.Status(0x91))]
    host.call("getNeighbor", c.Index(0))
    assert host.pump() == [("invalidCommand", c.Status(c.EZSP_ERROR_INVALID_FRAME_ID))]


def test_over_the_socket() -> None:
    """The same reset and version exchange over ``socket://`` (loopback, our ASH link)."""
    radio, _ = world()
    server = EzspNcpServer(EzspNcpEngine(radio, EUI, protocol_version=8))
    server.start()
    try:
        host_port = server.resource.removeprefix("socket://").rsplit(":", 1)
        with socket.create_connection((host_port[0], int(host_port[1])), timeout=5) as sock:
            link = AshLink()
            link.connect(time.monotonic())
            sock.sendall(link.outgoing())
            events: list[object] = []
            deadline = time.monotonic() + 5
            sent_version = False
            while time.monotonic() < deadline and not any(
                    isinstance(e, Received) for e in events):
                sock.settimeout(0.2)
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    data = b""
                events += link.receive(data, time.monotonic())
                if not sent_version and any(isinstance(e, LinkReset) for e in events):
                    link.send(c.version_command(8), time.monotonic())
                    sent_version = True
                if out := link.outgoing():
                    sock.sendall(out)
            [reply] = [e for e in events if isinstance(e, Received)]
            assert c.version_reply(reply.payload) == c.VersionResponse(8, 2, 0x6780)
    finally:
        server.stop()


@given(st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(FRAMES)), max_size=30))
@settings(max_examples=100, deadline=None)
def test_hostile_bytes_never_break_the_engine(chunks: list[bytes]) -> None:
    """Random bytes mixed with valid ASH frames (RST, DATA of known and unknown EZSP frames)
    never raise out of the engine, and its answer is always well-formed ASH."""
    radio, _ = world()
    engine = EzspNcpEngine(radio, EUI, protocol_version=8)
    reader = AshReader()
    now = 0.0
    for chunk in chunks:
        out = engine.receive(chunk, now) + engine.due(now)
        assert not [f for f in reader.feed(out) if isinstance(f, BadFrame)]
        now += 0.05


def test_a_host_that_never_acks_fills_the_queue_without_breaking_the_ncp() -> None:
    """80 version commands in sequence, none of the NCP's replies acked: the NCP keeps its
    window (5) out, queues up to its limit, drops the rest and still answers ACKs."""
    radio, _ = world()
    engine = EzspNcpEngine(radio, EUI, protocol_version=8)
    engine.receive(encode_frame(RstFrame(), cancel=True), 0.0)
    for n in range(80):
        out = engine.receive(encode_frame(DataFrame(n % 8, 0, False, c.version_command(8))), 0.0)
        assert encode_frame(AckFrame((n + 1) % 8)) in out
    assert engine.link.unacked == 5 and engine.link.queued == 64
    assert engine.dropped == 80 - 5 - 64


def test_our_host_session_negotiates_and_scans_the_emulated_ncp() -> None:
    """EzspHost (desired 13) against an NCP of 8: legacy then extended version, ready at 8;
    an energy scan comes back as one Response then 16 Callbacks and scanComplete."""
    radio, _ = world()
    engine = EzspNcpEngine(radio, EUI, protocol_version=8)
    host = EzspHost(13)
    host.reset(0.0)
    now, events, seq = 0.0, [], None
    for _ in range(400):
        events += host.receive(engine.receive(host.outgoing(), now) + engine.due(now), now)
        if host.state is HostState.READY and seq is None:
            seq = host.request("startScan", c.StartScan(c.ENERGY_SCAN, 0x07FFF800, 0), now)
        now += 0.01
    assert events[0] == HostReady(c.VersionResponse(8, 2, 0x6780), reset_code=0x0B)
    assert seq == 3  # after the legacy (1) and the extended (2) version commands
    assert events[1] == Response("startScan", seq, c.Status(0))
    energy = [e for e in events if isinstance(e, Callback)
              and isinstance(e.message, c.EnergyScanResult)]
    assert len(energy) == 16
    assert events[-1] == Callback("scanCompleteHandler", c.ScanComplete(0, 0))
