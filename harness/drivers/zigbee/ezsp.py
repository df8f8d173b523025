"""A Silicon Labs EmberZNet network co-processor spoken to over EZSP/ASH, as the test CH.

pyserial's ``serial_for_url`` opens ``/dev/ttyACM0``, ``rfc2217://`` or ``socket://`` (the
emulated NCP) at 115200 8N1 by default (bench option ``baudrate``; RTS/CTS with option
``rtscts = true``).  The session is :class:`~harness.protocols.ezsp.host.EzspHost` (ASH reset,
version negotiation, acks and retransmission) driven by a reader thread with the real clock:
each command waits for its response within the bench ``timeout_s``, callbacks become
:class:`~harness.drivers.zigbee.base.DongleEvent` objects.

What the stack reports and the contract needs:

- energy scan: ``startScan(ENERGY_SCAN)``'s energyScanResultHandler gives the max RSSI
  (dBm) per channel; PAN scan: networkFoundHandler gives each beacon's LQI *and* RSSI;
- joins: trustCenterJoinHandler (UNSECURED_JOIN) says a node associated; its ZDO
  Device_annce (incomingMessageHandler, profile 0, cluster 0x0013) says it opened the network
  key and joined (``NodeJoined``); a node that associated and then left (DEVICE_LEFT) or stayed
  silent for ``auth_timeout_s`` without announcing failed authentication (``JoinFailed``);
- link quality: every incomingMessageHandler carries the last hop's LQI and RSSI, kept per
  node; :meth:`neighbours` lists the neighbour table (routers, their averaged LQI) and the
  child table (end devices) with the RSSI last heard from each, so TRI-HAN-03 has an RSSI;
- install codes: the AES-MMO link key of the code installed as a transient link key
  (addTransientLinkKey, or importTransientKey from EZSP 13): one key per EUI-64;
- as joiner (a hub's network): the stick's own install code from its MFG_INSTALLATION_CODE
  token (getMfgToken), its key as the preconfigured link key (setInitialSecurityState), then
  joinNetwork as a router and the stackStatusHandler that says how it went.

The transcript records each frame by name and its non-secret fields (never a key: the ASH
bytes are only randomised, not encrypted, so they are not recorded raw).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import serial

from harness.drivers.serial_url import open_port, serial_port
from harness.drivers.zigbee.base import (
    CHANNELS,
    DongleEvent,
    DongleIdentity,
    JoinFailed,
    JoinStatus,
    Neighbour,
    NetworkDown,
    NetworkInfo,
    NetworkJoin,
    NetworkUp,
    NodeJoined,
    NodeLeft,
    OtherEvent,
    PanInfo,
    ZigbeeDongle,
)
from harness.errors import InstrumentConnectError, InstrumentTimeoutError, OperationError
from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp import messages_node as n
from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.host import (
    Callback,
    EzspHost,
    HostEvent,
    HostFailed,
    HostReady,
    HostState,
    Response,
    Unreadable,
)
from harness.protocols.ezsp.messages_mfg import (
    MFG_INSTALLATION_CODE,
    MfgToken,
    TokenId,
    install_code_from_token,
)
from harness.protocols.installcode import InstallCode

DEFAULT_BAUD = 115200
WELL_KNOWN_TC_KEY = b"ZigBeeAlliance09"
"""The default global trust-centre link key of ZigBee stacks."""
ZDO_PROFILE = 0x0000
DEVICE_ANNCE = 0x0013
STATUS_NETWORK_UP, STATUS_NETWORK_DOWN, STATUS_NOT_JOINED = 0x90, 0x91, 0x93
ALL_CHANNELS_MASK = sum(1 << ch for ch in CHANNELS)
MAX_TABLE = 64  # table indices read at most (a stick's child table is 6..64 entries)
JOIN_STATUS = {0xAB: JoinStatus.NO_NETWORK, 0xAD: JoinStatus.NO_NETWORK_KEY,
               0xAE: JoinStatus.NO_NETWORK_KEY, 0xAF: JoinStatus.NO_NETWORK_KEY,
               0x94: JoinStatus.REFUSED, 0x98: JoinStatus.REFUSED}
"""stackStatusHandler statuses that end a join the NCP was asked for (EmberStatus)."""
NO_EPAN = "0000000000000000"
_ROLES = {c.NODE_COORDINATOR: "COO", c.NODE_ROUTER: "FFD", c.NODE_END_DEVICE: "ZED",
          c.NODE_SLEEPY_END_DEVICE: "SED"}


class EzspCommandError(OperationError):
    """The NCP answered a command with a failure status (``status`` and ``name`` say which)."""


@dataclass
class _Pending:
    """The command in flight: its name and sequence, and its response when it comes."""

    name: str
    sequence: int = -1
    done: threading.Event = field(default_factory=threading.Event)
    message: c.Message | None = None
    error: str | None = None


@dataclass
class _Scan:
    """A scan in flight: what its callbacks reported, and its end."""

    energy: dict[int, int] = field(default_factory=dict)
    found: list[c.NetworkFound] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    status: int = 0


@dataclass
class _Heard:
    """A node as the stack last reported it: id, EUI-64, last hop LQI and RSSI."""

    node_id: int
    eui64: str = ""
    lqi: int | None = None
    rssi: int | None = None
    joined: bool = False
    auth_deadline: float | None = None  # associated, not yet announced: fails after this


class EzspDongle(ZigbeeDongle):
    """EZSP over ASH on pyserial; options ``baudrate``, ``rtscts``, ``protocol_version``
    (the version hoped for, default 13), ``scan_duration`` (exponent, default 3),
    ``scan_timeout_s`` (default 10 s), ``tx_power_dbm`` (default 8), ``auth_timeout_s``
    (an associated node that does not announce within it failed its key, default 10 s),
    ``reset_timeout_s`` (for RSTACK and the version, default the larger of 4 s and
    ``timeout_s``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._port: serial.Serial | None = None
        self._reader_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._io = threading.Lock()  # around the host session and the port's writes
        self._command_lock = threading.Lock()
        self._host = EzspHost(self._desired_version())
        self._pending: _Pending | None = None
        self._scan: _Scan | None = None
        self._ready = threading.Event()
        self._failure: str | None = None
        self._heard: dict[int, _Heard] = {}
        self._eui64: str | None = None

    # -- options ----------------------------------------------------------------------------

    def _desired_version(self) -> int:
        try:
            return c.check_version(int(self.config.options.get("protocol_version",
                                                               c.MAX_VERSION)))
        except (EzspFrameError, ValueError, TypeError) as exc:
            raise OperationError(f"{self.name}: option protocol_version: {exc}",
                                 instrument=self.name) from None

    def _option(self, key: str, default: float) -> float:
        return float(self.config.options.get(key, default))

    @property
    def scan_timeout_s(self) -> float:
        """How long a scan may take."""
        return self._option("scan_timeout_s", 10.0)

    # -- link -------------------------------------------------------------------------------

    def _open_internal(self) -> None:
        try:
            port = serial_port(self.address, emulated=self.config.emulated)
            port.baudrate = int(self.config.options.get("baudrate", DEFAULT_BAUD))
            port.bytesize, port.parity = serial.EIGHTBITS, serial.PARITY_NONE
            port.stopbits = serial.STOPBITS_ONE
            port.rtscts = bool(self.config.options.get("rtscts", False))
            port.timeout = 0.02
            open_port(port)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise InstrumentConnectError(f"{self.name}: cannot open {self.address}: {exc}",
                                         instrument=self.name, address=self.address) from None
        self._port = port
        self._stop.clear()
        self._ready.clear()
        self._failure = None
        self._heard.clear()
        self._host = EzspHost(self._desired_version())
        self._reader_thread = threading.Thread(target=self._read_loop, daemon=True,
                                               name=f"ezsp-{self.name}")
        self._reader_thread.start()
        try:
            self._reset()
        except Exception:
            self._close_internal()
            raise

    def _reset(self) -> None:
        """RST, RSTACK and the version agreed, within the bench timeout (at least 4 s: an NCP
        answers RST within T_RSTACK_MAX, 3.2 s)."""
        self._ready.clear()
        with self._io:
            self._host.reset(time.monotonic())
            self._flush_locked()
        self.transcript.record(">", b"RST")
        wait = self._option("reset_timeout_s", max(4.0, self.config.timeout_s))
        if not self._ready.wait(wait) or self._host.state is not HostState.READY:
            raise InstrumentConnectError(
                f"{self.name}: no EZSP session with the NCP at {self.address} within {wait:g} s"
                f"{': ' + self._failure if self._failure else ''}",
                instrument=self.name, address=self.address)

    def _close_internal(self) -> None:
        self._stop.set()
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                self.log.debug("ignoring error while closing", exc_info=True)
        reader = self._reader_thread
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1.0)
        self._reader_thread = None
        self._fail_pending("port closed")

    def _flush_locked(self) -> None:
        """Write what the session owes the NCP (call with ``_io`` held)."""
        data = self._host.outgoing()
        port = self._port
        if data and port is not None:
            try:
                port.write(data)
                port.flush()
            except (serial.SerialException, OSError) as exc:
                raise OperationError(f"{self.name}: write failed: {exc}",
                                     instrument=self.name) from None

    def _read_loop(self) -> None:
        """Reader thread: bytes and timeouts -> the session -> responses and events."""
        while not self._stop.is_set():
            port = self._port
            try:
                if port is None:
                    return
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) as exc:
                if not self._stop.is_set():
                    self.log.warning("read failed, no more answers will arrive: %s", exc)
                    self._failure = f"read failed: {exc}"
                    self._fail_pending(self._failure)
                return
            now = time.monotonic()
            try:
                with self._io:
                    events = self._host.receive(data, now) if data else []
                    events += self._host.poll(now)
                    self._flush_locked()
            except OperationError as exc:
                self._failure = str(exc)
                self._fail_pending(str(exc))
                return
            for event in events:
                self._handle(event, now)
            self._expire_auth(now)

    def _fail_pending(self, reason: str) -> None:
        pending = self._pending
        if pending is not None:
            pending.error = reason
            pending.done.set()
        scan = self._scan
        if scan is not None:
            scan.status = -1
            scan.done.set()

    def _handle(self, event: HostEvent, now: float) -> None:
        if isinstance(event, HostReady):
            self.transcript.record("<", f"RSTACK, EZSP version {event.version.protocol_version}"
                                   .encode())
            self._ready.set()
        elif isinstance(event, HostFailed):
            self.log.warning("EZSP session failed: %s", event.reason)
            self._failure = event.reason
            self._fail_pending(event.reason)
        elif isinstance(event, Unreadable):
            self.log.warning("unreadable frame from the NCP: %s", event.reason)
        elif isinstance(event, Response):
            self.transcript.record("<", _summary(event.name, event.message).encode())
            pending = self._pending
            if pending is not None and pending.sequence == event.sequence:
                if event.name == "invalidCommand":
                    pending.error = f"the NCP does not know {pending.name} ({event.message})"
                pending.message = event.message
                pending.done.set()
        elif isinstance(event, Callback):
            self.transcript.record("<", _summary(event.name, event.message).encode())
            self._callback(event.name, event.message, now)

    # -- commands ---------------------------------------------------------------------------

    def _command(self, name: str, message: c.Message, timeout: float | None = None
                 ) -> c.Message:
        """Send one command and wait for its response."""
        self._require_open()
        wait = timeout if timeout is not None else self.config.timeout_s
        with self._command_lock:
            pending = _Pending(name)
            self._pending = pending
            try:
                self.transcript.record(">", _summary(name, message).encode())
                with self._io:
                    if self._host.state is not HostState.READY:
                        raise OperationError(
                            f"{self.name}: EZSP session not ready ({self._host.state.value}"
                            f"{': ' + self._failure if self._failure else ''})",
                            instrument=self.name)
                    try:
                        pending.sequence = self._host.request(name, message, time.monotonic())
                    except EzspFrameError as exc:
                        raise OperationError(f"{self.name}: {name}: {exc}",
                                             instrument=self.name) from None
                    self._flush_locked()
                if not pending.done.wait(wait):
                    raise InstrumentTimeoutError(
                        f"{self.name}: no response to {name} within {wait:g} s",
                        instrument=self.name, command=name)
            finally:
                self._pending = None
        if pending.error is not None:
            raise OperationError(f"{self.name}: {name}: {pending.error}", instrument=self.name)
        assert pending.message is not None
        return pending.message

    def _ok(self, name: str, message: c.Message, timeout: float | None = None) -> None:
        """A command whose response is a status that must be SUCCESS."""
        reply = self._command(name, message, timeout)
        status = getattr(reply, "status", 0)
        if status != 0:
            raise EzspCommandError(
                f"{self.name}: {name} answered {c.status_name(status)}",
                instrument=self.name, status=status, name=c.status_name(status))

    # -- callbacks --------------------------------------------------------------------------

    def _callback(self, name: str, message: c.Message, now: float) -> None:
        scan = self._scan
        if isinstance(message, c.EnergyScanResult):
            if scan is not None:
                scan.energy[message.channel] = message.max_rssi
        elif isinstance(message, c.NetworkFound):
            if scan is not None:
                scan.found.append(message)
        elif isinstance(message, c.ScanComplete):
            if scan is not None:
                scan.status = message.status
                scan.done.set()
        elif name == "stackStatusHandler" and isinstance(message, c.Status):
            if message.status == STATUS_NETWORK_UP:
                self._dispatch(NetworkUp(raw=message))
            elif message.status == STATUS_NETWORK_DOWN:
                self._dispatch(NetworkDown(raw=message))
            else:
                self._dispatch(OtherEvent(raw=message))
        elif isinstance(message, c.TrustCenterJoin):
            self._trust_center(message, now)
        elif isinstance(message, c.IncomingMessage):
            self._incoming(message)
        else:
            self._dispatch(OtherEvent(raw=message))

    def _trust_center(self, message: c.TrustCenterJoin, now: float) -> None:
        node = self._heard.get(message.new_node_id) or _Heard(message.new_node_id)
        node.eui64 = message.eui64
        if message.status == n.DEVICE_LEFT:
            self._heard.pop(message.new_node_id, None)
            if node.joined:
                self._dispatch(NodeLeft(raw=message, node_id=node.node_id, eui64=node.eui64))
            else:  # associated, never announced: it could not open the network key
                self._dispatch(JoinFailed(raw=message, node_id=node.node_id, eui64=node.eui64))
            return
        self._heard[message.new_node_id] = node
        if message.decision == n.DENY_JOIN:
            self._dispatch(JoinFailed(raw=message, node_id=node.node_id, eui64=node.eui64))
            return
        if message.status in (n.UNSECURED_JOIN, n.UNSECURED_REJOIN) and not node.joined:
            node.auth_deadline = now + self._option("auth_timeout_s", 10.0)
        self._dispatch(OtherEvent(raw=message))  # heard: evidence about the node

    def _incoming(self, message: c.IncomingMessage) -> None:
        node = self._heard.setdefault(message.sender, _Heard(message.sender))
        node.lqi, node.rssi = message.last_hop_lqi, message.last_hop_rssi
        aps = message.aps
        if aps.profile_id == ZDO_PROFILE and aps.cluster_id == DEVICE_ANNCE and \
                len(message.message) >= 11:
            payload = message.message  # sequence, nwkAddr, IEEE address (LSB first), capability
            node.node_id = int.from_bytes(payload[1:3], "little")
            node.eui64 = payload[3:11][::-1].hex().upper()
            node.auth_deadline = None
            if not node.joined:
                node.joined = True
                self._dispatch(NodeJoined(raw=message, node_id=node.node_id, eui64=node.eui64))
                return
        self._dispatch(OtherEvent(raw=message))

    def _expire_auth(self, now: float) -> None:
        for node in list(self._heard.values()):
            if node.auth_deadline is not None and now >= node.auth_deadline:
                node.auth_deadline = None
                self._heard.pop(node.node_id, None)
                self._dispatch(JoinFailed(raw=None, node_id=node.node_id, eui64=node.eui64))

    # -- the contract's hooks ---------------------------------------------------------------

    def _identity_internal(self) -> DongleIdentity:
        version = self._host.version
        assert version is not None  # open() waited for it
        reply = self._command("getEui64", c.NoParameters())
        assert isinstance(reply, n.Eui64Value)
        self._eui64 = reply.eui64
        stack = version.stack_version
        firmware = (f"EmberZNet {stack >> 12 & 0xF}.{stack >> 8 & 0xF}.{stack >> 4 & 0xF}."
                    f"{stack & 0xF} (EZSP {version.protocol_version})")
        return DongleIdentity("Silicon Labs EZSP NCP", firmware, reply.eui64)

    def _run_scan(self, scan_type: int, mask: int) -> _Scan:
        scan = _Scan()
        self._scan = scan
        try:
            duration = int(self.config.options.get("scan_duration", 3))
            self._ok("startScan", c.StartScan(scan_type, mask, duration))
            if not scan.done.wait(self.scan_timeout_s):
                raise InstrumentTimeoutError(
                    f"{self.name}: scan not complete within {self.scan_timeout_s:g} s",
                    instrument=self.name)
        finally:
            self._scan = None
        if scan.status != 0:
            raise OperationError(f"{self.name}: scan failed: "
                                 f"{self._failure or c.status_name(scan.status)}",
                                 instrument=self.name)
        return scan

    def _energy_scan_internal(self) -> dict[int, int]:
        return dict(sorted(self._run_scan(c.ENERGY_SCAN, ALL_CHANNELS_MASK).energy.items()))

    def _pan_scan_internal(self) -> list[PanInfo]:
        found = self._run_scan(c.ACTIVE_SCAN, ALL_CHANNELS_MASK).found
        return [PanInfo(f.network.channel, f.network.pan_id, f.network.extended_pan_id,
                        f.network.allowing_join, f.last_hop_rssi, f.last_hop_lqi)
                for f in found]

    def _network_info_internal(self) -> NetworkInfo | None:
        reply = self._command("getNetworkParameters", c.NoParameters())
        assert isinstance(reply, n.NetworkParametersResponse)
        if reply.status != 0:
            return None
        p = reply.parameters
        return NetworkInfo(p.radio_channel, p.pan_id, p.extended_pan_id,
                           _ROLES.get(reply.node_type, str(reply.node_type)), p.radio_tx_power)

    def _form_network_internal(self, channel: int, pan_id: int | None,
                               extended_pan_id: str | None) -> NetworkInfo:
        rng = random.SystemRandom()
        own = self._eui64 or self._identity_internal().eui64
        self._ok("setInitialSecurityState", n.InitialSecurityState(
            n.TRUST_CENTER_GLOBAL_LINK_KEY | n.HAVE_PRECONFIGURED_KEY | n.HAVE_NETWORK_KEY
            | n.REQUIRE_ENCRYPTED_KEY, WELL_KNOWN_TC_KEY, os.urandom(16), 0, own))
        params = c.NetworkParameters(
            extended_pan_id or own, pan_id or rng.randint(0x0001, 0xFFFE),
            int(self._option("tx_power_dbm", 8)), channel, channels=1 << channel)
        mark = self.mark()
        self._ok("formNetwork", c.FormNetwork(params), self.scan_timeout_s)
        self.wait_for(NetworkUp, self.config.timeout_s, since=mark)
        info = self._network_info_internal()
        if info is None:
            raise OperationError(f"{self.name}: formNetwork answered but the NCP is in no "
                                 "network", instrument=self.name)
        return info

    def _permit_join_internal(self, seconds: int) -> None:
        self._ok("permitJoining", n.Duration(seconds))

    def _install_code_internal(self) -> InstallCode | None:
        # The code the stick was made with: its MFG_INSTALLATION_CODE token (erased: none).
        reply = self._command("getMfgToken", TokenId(MFG_INSTALLATION_CODE))
        assert isinstance(reply, MfgToken)
        try:
            return install_code_from_token(reply.data)
        except EzspFrameError as exc:
            raise OperationError(f"{self.name}: {exc}", instrument=self.name) from None

    def _join_network_internal(self, channel: int, pan_id: int, install_code: InstallCode,
                               timeout: float) -> NetworkJoin:
        # The joiner's preconfigured link key is the one derived from the install code; the
        # trust centre sends the network key under it (REQUIRE_ENCRYPTED_KEY: never in clear).
        self._ok("setInitialSecurityState", n.InitialSecurityState(
            n.HAVE_PRECONFIGURED_KEY | n.REQUIRE_ENCRYPTED_KEY, bytes(install_code.link_key()),
            bytes(16), 0, NO_EPAN))
        params = c.NetworkParameters(NO_EPAN, pan_id, int(self._option("tx_power_dbm", 8)),
                                     channel)

        def verdict(event: DongleEvent) -> bool:
            return isinstance(event, NetworkUp) or (
                isinstance(event, OtherEvent) and isinstance(event.raw, c.Status)
                and event.raw.status in JOIN_STATUS)

        mark = self.mark()
        self._ok("joinNetwork", c.JoinNetwork(c.NODE_ROUTER, params), timeout)
        event = self.wait_for(verdict, max(timeout, self.config.timeout_s), since=mark)
        if isinstance(event, NetworkUp):
            info = self._network_info_internal()
            if info is None:
                raise OperationError(f"{self.name}: NETWORK_UP after joinNetwork but the NCP "
                                     "is in no network", instrument=self.name)
            return NetworkJoin(JoinStatus.JOINED, info, "NETWORK_UP")
        status = event.raw.status
        return NetworkJoin(JOIN_STATUS[status], None, c.status_name(status))

    def _add_install_code_internal(self, eui64: str, install_code: InstallCode) -> None:
        version = self._host.protocol_version
        name, message = c.install_code_key(install_code, eui64, version)
        self._ok(name, message)

    def _neighbours_internal(self) -> list[Neighbour]:
        found: list[Neighbour] = []
        count = self._command("neighborCount", c.NoParameters())
        assert isinstance(count, n.Count)
        for index in range(min(count.value, MAX_TABLE)):
            reply = self._command("getNeighbor", c.Index(index))
            assert isinstance(reply, c.NeighborResponse)
            if reply.status != 0:
                continue
            entry = reply.entry
            heard = self._heard.get(entry.short_id)
            found.append(Neighbour(entry.long_id, entry.short_id, entry.average_lqi, "FFD",
                                   heard.rssi if heard else None))
        for index in range(MAX_TABLE):
            child = self._command("getChildData", c.Index(index))
            assert isinstance(child, c.ChildDataResponse)
            if child.status == STATUS_NOT_JOINED:
                continue  # an empty slot
            if child.status != 0:
                break  # past the end of the table
            data = child.child
            heard = self._heard.get(data.node_id)
            found.append(Neighbour(data.eui64, data.node_id,
                                   heard.lqi if heard and heard.lqi is not None else 0,
                                   _ROLES.get(data.node_type, str(data.node_type)),
                                   heard.rssi if heard else None))
        return found

    def _remove_node_internal(self, eui64: str) -> None:
        # a copy: the reader thread adds and drops nodes meanwhile
        node = next((h for h in list(self._heard.values()) if h.eui64 == eui64 and h.joined),
                    None)
        if node is None:
            raise OperationError(f"{self.name}: {eui64} is not a node of this network",
                                 instrument=self.name)
        self._ok("removeDevice", n.RemoveDevice(node.node_id, eui64, eui64))

    def _leave_network_internal(self) -> None:
        mark = self.mark()
        self._ok("leaveNetwork", c.NoParameters())
        self.wait_for(NetworkDown, self.config.timeout_s, since=mark)
        self._heard.clear()


def _summary(name: str, message: c.Message) -> str:
    """A frame for the transcript: its name and fields, keys left out."""
    if isinstance(message, c.TransientKey):
        return f"{name} {message.eui64} key=<hidden>"
    if isinstance(message, n.InitialSecurityState):
        return f"{name} bitmask=0x{message.bitmask:04X} keys=<hidden>"
    return f"{name} {message}"
