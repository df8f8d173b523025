"""An EmberZNet network co-processor as the emulator plays it: ASH bytes in, ASH bytes out.

No I/O: :meth:`EzspNcpEngine.receive` takes the bytes the host wrote and returns the bytes
the NCP writes back at once (RSTACK, ACKs, responses); :meth:`EzspNcpEngine.due` returns
the callbacks whose time has come (scan results).  The server
(``harness.emulator.ezsp.server``) puts both on a loopback ``socket://`` port.

What it answers, with the codecs of ``harness.protocols.ezsp``: RST with RSTACK (software
reset); ``version`` in the legacy header (then, for version 8+, in the extended one);
``startScan`` for energy (one energyScanResultHandler per channel from the radio world's
energy, then scanCompleteHandler) and active scans (a networkFoundHandler, with LQI and RSSI,
for every beacon heard on the scanned channels: hubs, ESMEs in their network); ``networkInit``
(NOT_JOINED), ``formNetwork`` (after ``setInitialSecurityState``), ``joinNetwork`` (the NCP
joins a hub's network as a router, ``harness.emulator.zigbee.hub_join``) and ``leaveNetwork``
with their stackStatusHandler;
``getEui64``, ``getNetworkParameters``; and the trust centre's side of joining
(``harness.emulator.ezsp.joins``): transient link keys, ``permitJoining``, the neighbour and
child tables, ``removeDevice``.  Any other frame id is answered invalidCommand
(EZSP_ERROR_INVALID_FRAME_ID), as an NCP does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from harness.emulator.ezsp.joins import TrustCentre
from harness.emulator.zigbee.hub_join import HubJoin, join_hub
from harness.emulator.zigbee.radio import CHANNELS, RadioWorld
from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp import messages_node as n
from harness.protocols.ezsp.ash_link import AshLink, LinkState, Received
from harness.protocols.ezsp.errors import AshStateError, EzspFrameError
from harness.protocols.ezsp.frame import EzspFrame, encode_ezsp
from harness.protocols.ezsp.messages_mfg import (
    MFG_INSTALLATION_CODE,
    MfgToken,
    TokenId,
    installation_code_token,
)
from harness.protocols.ezsp.types import NetworkParameters, ZigbeeNetwork
from harness.protocols.installcode import InstallCode, LinkKey

STACK_TYPE = 2
"""stackType of an EmberZNet NCP in the version response."""
SCAN_SLOT_S = 0.01536
"""One 802.15.4 superframe slot (15.36 ms): a scan stays (2**duration + 1) slots a channel."""
ZIGBEE_PRO = 2
JOIN_STATUS = {HubJoin.NO_BEACONS: 0xAB, HubJoin.NO_NETWORK_KEY: 0xAD,
               HubJoin.JOIN_FAILED: 0x94}
"""The stackStatusHandler status of a failed join: NO_BEACONS, NO_NETWORK_KEY_RECEIVED,
JOIN_FAILED (EmberStatus)."""


@dataclass
class _Callback:
    at: float
    name: str
    message: c.Message


class EzspNcpEngine:
    """The NCP's state: its ASH link, its EZSP version, its network and pending callbacks."""

    def __init__(self, world: RadioWorld, eui64: str, *, protocol_version: int = 8,
                 stack_version: int = 0x6780, time_scale: float = 1.0,
                 install_code: InstallCode | None = None) -> None:
        c.check_version(protocol_version)
        self.install_code = install_code  # its MFG_INSTALLATION_CODE token (None: erased)
        self.world = world
        self.eui64 = eui64.upper()
        self.protocol_version = protocol_version
        self.stack_version = stack_version
        self.time_scale = time_scale
        self.link = AshLink(role="ncp")
        self.network: NetworkParameters | None = None
        self.security: n.InitialSecurityState | None = None
        self.node_type = c.NODE_COORDINATOR  # or a router, once joined to a hub's network
        self.trust_centre = TrustCentre(world, self.eui64, self._later)
        self._pending: list[_Callback] = []
        self._lock = threading.Lock()
        self._seq = 0
        self.dropped = 0
        """Frames the NCP could not queue (the host stopped acking)."""

    # --- bytes in and out -----------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> bytes:
        """The bytes the NCP writes back at once for ``data`` from the host."""
        with self._lock:
            for event in self.link.receive(data, now):
                if isinstance(event, Received):
                    self._answer(event.payload, now)
                else:  # a reset: forget what was pending, as a rebooted NCP does
                    self._pending.clear()
            return self.link.outgoing()

    def due(self, now: float) -> bytes:
        """The callbacks due by ``now``, on the wire (and any retransmission the link owes)."""
        with self._lock:
            self.link.poll(now)
            if self.network is not None and self.link.state is LinkState.CONNECTED:
                self.trust_centre.joins(now)
            while self._pending and self._pending[0].at <= now:
                if self.link.state is not LinkState.CONNECTED:
                    self._pending.clear()
                    break
                cb = self._pending.pop(0)
                self._send(cb.name, cb.message, now, callback=True)
            return self.link.outgoing()

    def _send(self, name: str, message: c.Message, now: float, *, sequence: int | None = None,
              callback: bool = False, legacy: bool = False) -> None:
        seq = self._seq if sequence is None else sequence
        if legacy:
            frame = EzspFrame(sequence=seq, frame_id=c.MESSAGES[name].frame_id, is_response=True,
                              parameters=message.encode(self.protocol_version))
            data = encode_ezsp(frame)
        else:
            data = c.build(name, message, sequence=seq, version=self.protocol_version,
                           response=True, callback_type=2 if callback else 0)
        try:
            self.link.send(data, now)
        except AshStateError:
            self.dropped += 1  # a host that never acks: the NCP's queue is full, as on a chip

    # --- EZSP ------------------------------------------------------------------------------

    def _answer(self, data: bytes, now: float) -> None:
        if len(data) == 4 and data[2] == 0x00 and not data[1] & 0x80:
            # The host's first ``version`` is always legacy: answer in kind with our version.
            self._seq = data[0]
            reply = c.VersionResponse(self.protocol_version, STACK_TYPE, self.stack_version)
            self._send("version", reply, now, sequence=data[0], legacy=True)
            return
        try:
            frame, name, message = c.parse(data, version=self.protocol_version)
        except EzspFrameError:
            self._invalid(data, now)
            return
        self._seq = frame.sequence
        handlers: dict[str, Callable[[c.Message, float], None]] = {
            "version": self._version, "startScan": self._start_scan,
            "networkInit": self._network_init, "formNetwork": self._form,
            "joinNetwork": self._join,
            "leaveNetwork": self._leave, "getEui64": self._eui64,
            "getNetworkParameters": self._parameters,
            "setInitialSecurityState": self._security, "getMfgToken": self._mfg_token,
        }
        handler = handlers.get(name)
        if handler is None and self.network is not None:
            handler = self._joining_frame(name)
        if handler is None or frame.is_response:
            self._invalid(data, now)
            return
        handler(message, now)

    def _invalid(self, data: bytes, now: float) -> None:
        seq = data[0] if data else 0
        self._send("invalidCommand", c.Status(c.EZSP_ERROR_INVALID_FRAME_ID), now, sequence=seq)

    def _version(self, message: c.Message, now: float) -> None:
        reply = c.VersionResponse(self.protocol_version, STACK_TYPE, self.stack_version)
        self._send("version", reply, now)

    def _network_init(self, message: c.Message, now: float) -> None:
        status = 0x00 if self.network is not None else 0x93  # NOT_JOINED
        self._send("networkInit", c.Status(status), now)
        if self.network is not None:
            self._later(now, "stackStatusHandler", c.Status(0x90))

    def _eui64(self, message: c.Message, now: float) -> None:
        self._send("getEui64", n.Eui64Value(self.eui64), now)

    def _parameters(self, message: c.Message, now: float) -> None:
        if self.network is None:
            empty = NetworkParameters("0000000000000000", 0, 0, 0)
            self._send("getNetworkParameters",
                       n.NetworkParametersResponse(0x93, 0, empty), now)  # NOT_JOINED
            return
        self._send("getNetworkParameters",
                   n.NetworkParametersResponse(0x00, self.node_type, self.network), now)

    def _mfg_token(self, message: c.Message, now: float) -> None:
        """The install code token (or erased); any other token reads as empty."""
        assert isinstance(message, TokenId)
        data = (installation_code_token(self.install_code)
                if message.token_id == MFG_INSTALLATION_CODE else b"")
        self._send("getMfgToken", MfgToken(data), now)

    def _security(self, message: c.Message, now: float) -> None:
        assert isinstance(message, n.InitialSecurityState)
        if self.network is not None:
            self._send("setInitialSecurityState", c.Status(0x70), now)  # INVALID_CALL
            return
        self.security = message
        self._send("setInitialSecurityState", c.Status(0x00), now)

    def _joining_frame(self, name: str) -> Callable[[c.Message, float], None] | None:
        """The trust centre's handler of ``name`` (only while in a network)."""
        handler = self.trust_centre.handler(name)
        if handler is None:
            return None

        def answer(message: c.Message, now: float) -> None:
            reply_name, reply = handler(message, now, self.protocol_version)
            self._send(reply_name, reply, now)
        return answer

    def _form(self, message: c.Message, now: float) -> None:
        assert isinstance(message, c.FormNetwork)
        if self.network is not None:
            self._send("formNetwork", c.Status(0x70), now)  # INVALID_CALL: already up
            return
        if self.security is None:
            self._send("formNetwork", c.Status(0xA8), now)  # SECURITY_STATE_NOT_SET
            return
        self.network = message.parameters
        self.node_type = c.NODE_COORDINATOR
        self.trust_centre.start(message.parameters, self.security)
        self._send("formNetwork", c.Status(0x00), now)
        self._later(now, "stackStatusHandler", c.Status(0x90))  # NETWORK_UP

    def _join(self, message: c.Message, now: float) -> None:
        """joinNetwork: associate with the hub heard on the channel and open its Transport-Key
        frame with the preconfigured key of the security state; the outcome follows in
        stackStatusHandler (NETWORK_UP, or why not)."""
        assert isinstance(message, c.JoinNetwork)
        if self.network is not None:
            self._send("joinNetwork", c.Status(0x70), now)  # INVALID_CALL: already in one
            return
        if self.security is None:
            self._send("joinNetwork", c.Status(0xA8), now)  # SECURITY_STATE_NOT_SET
            return
        self._send("joinNetwork", c.Status(0x00), now)
        wanted = message.parameters
        key = LinkKey(self.security.preconfigured_key)
        outcome, hub = join_hub(self.world, self.eui64, key, wanted.radio_channel,
                                wanted.pan_id)
        if outcome is not HubJoin.JOINED or hub is None:
            self.security = None
            self._later(now + self.trust_centre.join_delay_s / self.time_scale,
                        "stackStatusHandler", c.Status(JOIN_STATUS.get(outcome, 0x94)))
            return
        self.network = NetworkParameters(hub.device.eui64, wanted.pan_id,
                                         wanted.radio_tx_power, wanted.radio_channel)
        self.node_type = message.node_type
        self._later(now, "stackStatusHandler", c.Status(0x90))  # NETWORK_UP

    def _leave(self, message: c.Message, now: float) -> None:
        if self.network is None:
            self._send("leaveNetwork", c.Status(0x70), now)
            return
        self.network = None
        self.security = None
        self.trust_centre.stop()
        self._send("leaveNetwork", c.Status(0x00), now)
        self._later(now, "stackStatusHandler", c.Status(0x91))  # NETWORK_DOWN

    def _later(self, at: float, name: str, message: c.Message) -> None:
        self._pending.append(_Callback(at, name, message))
        self._pending.sort(key=lambda cb: cb.at)

    def _start_scan(self, message: c.Message, now: float) -> None:
        assert isinstance(message, c.StartScan)
        channels = [ch for ch in CHANNELS if message.channel_mask >> ch & 1]
        if not channels or message.duration > 14:
            self._send("startScan", c.Status(0x35 if not channels else 0x02), now)
            return
        self._send("startScan", c.Status(0x00), now)
        dwell = (2 ** message.duration + 1) * SCAN_SLOT_S / self.time_scale
        at = now
        for channel in channels:
            at += dwell
            if message.scan_type == c.ENERGY_SCAN:
                rssi = max(-128, min(127, round(self.world.energy_dbm(channel))))
                self._later(at, "energyScanResultHandler", c.EnergyScanResult(channel, rssi))
            else:
                for found in self._beacons(channel):
                    self._later(at, "networkFoundHandler", found)
        self._later(at, "scanCompleteHandler", c.ScanComplete(0, 0x00))

    def _beacons(self, channel: int) -> list[c.NetworkFound]:
        out = []
        for b in self.world.beacons(channel):
            network = ZigbeeNetwork(channel, b.pan_id, b.extended_pan_id, False, ZIGBEE_PRO, 0)
            rssi = max(-128, min(127, round(b.rssi_dbm)))
            out.append(c.NetworkFound(network, b.lqi, rssi))
        return out
